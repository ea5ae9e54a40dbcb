"""Cross-study insights over real local jobs: the same model tuned on three "data sets"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from obs_helpers import script_spec

from pipetune import get_backend, load_spec
from pipetune.observability.insights import cross_study_insights, top_trials

PIPETUNE = str(Path(sys.executable).parent / "pipetune")
PARAMS = [
    {"name": "x", "type": "continuous", "min": 0.0, "max": 10.0},
    {"name": "lr", "type": "continuous", "min": 1e-5, "max": 1.0, "scaling": "log"},
    {"name": "depth", "type": "integer", "min": 1, "max": 20},
    {"name": "kind", "type": "categorical", "values": ["a", "b", "c"]},
]


@pytest.fixture(scope="module")
def jobs_home(tmp_path_factory):
    """Three finished jobs, run once for the module."""
    root = tmp_path_factory.mktemp("insights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPETUNE_HOME", str(root / ".pipetune"))
        be = get_backend("local")
        for i, shift in enumerate((3.0, 4.0, 5.0)):
            spec = load_spec(script_spec("obs_bowl.py", parameters=PARAMS,
                                         static={"shift": shift}, strategy="tpe", seed=i,
                                         budget={"max_trials": 14, "max_parallel": 2}))
            be.launch(spec, f"data{i}", detach=False)
    return root


@pytest.fixture
def three_jobs(jobs_home, monkeypatch):
    monkeypatch.setenv("PIPETUNE_HOME", str(jobs_home / ".pipetune"))
    monkeypatch.chdir(jobs_home)
    return get_backend("local"), ["data0", "data1", "data2"]


def test_top_trials_of_every_job_fit_a_narrower_space(three_jobs):
    be, names = three_jobs
    studies = [(n, be._job(n).spec(), be.trials(n)) for n in names]
    found = cross_study_insights(studies, top_fraction=0.2, min_top=3, margin=0.1)
    assert found.top_counts == {n: 3 for n in names}
    by_name = {p.name: p for p in found.parameters}
    for name, spec, trials in studies:
        top = top_trials(spec, trials, 0.2, 3)
        for p in ("x", "lr", "depth"):
            values = [t.params[p] for t in top]
            assert by_name[p].per_job[name] == (min(values), max(values))
            lo, hi = by_name[p].suggested
            assert all(lo <= v <= hi for v in values)  # every job's top trials fit
        assert set(t.params["kind"] for t in top) <= set(by_name["kind"].suggested)
    for p, spec_p in zip(("x", "lr", "depth"), PARAMS):
        lo, hi = by_name[p].suggested
        assert spec_p["min"] <= lo < hi <= spec_p["max"]
    assert by_name["x"].shrink < 1 and by_name["lr"].scaling == "log"
    # the suggestion is a valid search space for the next job
    nxt = load_spec(script_spec("obs_bowl.py", parameters=found.suggested_parameters(),
                                static={"shift": 4.0}))
    assert nxt.parameter("lr").scaling == "log" and isinstance(nxt.parameter("depth").min, int)
    table = found.table()
    assert "| `x` |" in table and "top of data2" in table


def test_insights_cli_writes_table_plot_and_space(three_jobs, jobs_home, tmp_path):
    home = tmp_path
    env = dict(os.environ, PIPETUNE_HOME=str(jobs_home / ".pipetune"), COLUMNS="200")
    run = subprocess.run([PIPETUNE, "insights", "data0", "data1", "data2", "--out", "ins",
                          "--json"], cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["jobs"] == ["data0", "data1", "data2"]
    assert (home / "ins/insights.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    space = yaml.safe_load((home / "ins/suggested_space.yaml").read_text())["parameters"]
    assert space == result["suggested_parameters"]
    assert [p["name"] for p in space] == ["x", "lr", "depth", "kind"]
    table = subprocess.run([PIPETUNE, "insights", "data0", "data1", "--out", "ins2"], cwd=home,
                           env=env, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "suggested" in table.stdout and "top of data1" in table.stdout
    bad = subprocess.run([PIPETUNE, "insights", "data0", "nope"], cwd=home, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no job named 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad_top = subprocess.run([PIPETUNE, "insights", "data0", "--top", "2"], cwd=home, env=env,
                             capture_output=True, text=True, timeout=120)
    assert bad_top.returncode == 2 and "top fraction" in bad_top.stderr


def test_the_plot_shades_only_the_suggested_categorical_values(three_jobs, tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    from pipetune.observability.insights import ParameterInsight, suggestion_bands

    skip_middle = ParameterInsight("kind", "categorical", "linear", ["a", "b", "c"],
                                   {"j": ["a", "c"]}, ["a", "c"], 2 / 3)
    bands = suggestion_bands(skip_middle)
    assert len(bands) == 2 and not any(lo <= 0.5 <= hi for lo, hi in bands)  # "b" not shaded
    assert bands[0][0] < 0 < bands[0][1] and bands[1][0] < 1 < bands[1][1]

    be, names = three_jobs
    found = cross_study_insights([(n, be._job(n).spec(), be.trials(n)) for n in names],
                                 top_fraction=0.2, min_top=3, margin=0.1)
    shaded: list[tuple[float, float]] = []
    real_axvspan = Axes.axvspan

    def record(ax, xmin, xmax, *args, **kwargs):
        shaded.append((xmin, xmax))
        return real_axvspan(ax, xmin, xmax, *args, **kwargs)

    monkeypatch.setattr(Axes, "axvspan", record)
    found.plot(tmp_path / "insights.png")
    assert (tmp_path / "insights.png").stat().st_size > 0
    assert shaded == [band for p in found.parameters for band in suggestion_bands(p)]
