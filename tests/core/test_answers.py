"""An ended local job's answers (status, trial records, best) are kept beside its
journal and read back by a new process without Optuna, equal to what the study says, and
only while the journal is unchanged (pipetune/backends/local/answers.py)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipetune import get_backend, load_spec
from pipetune.backends.local import answers
from pipetune.backends.local.jobstore import ATTR_REASON, ATTR_STATE, JobDir

OBJECTIVE = textwrap.dedent('''
    def objective(params, ctx):
        x = params["x"]
        for step in range(3):
            ctx.report(step, (x - 1) ** 2 + 1.0 / (step + 1))
        if params["kind"] == "c" and x > 1.5:
            raise RuntimeError("diverged")
        return {"loss": (x - 1) ** 2, "width": float(params["n"])}
''')

READ = textwrap.dedent('''
    import json, sys
    from pipetune.backends.local import LocalBackend
    from pipetune.observability.goldilocks import check_ranges
    from pipetune.observability.snapshot import observe

    be = LocalBackend()
    snap = observe("ans", be)
    out = {"status": json.loads(snap.status.model_dump_json()),
           "trials": [json.loads(r.model_dump_json()) for r in be.trials("ans")],
           "best": json.loads(be.best("ans").model_dump_json()),
           "ranges": [w.to_dict() for w in check_ranges(snap.spec, snap.trials)],
           "imported": sorted(m for m in ("optuna", "numpy") if m in sys.modules)}
    print(json.dumps(out))
''')


def _spec(home: Path, trials: int = 14):
    (home / "ans_trial.py").write_text(OBJECTIVE)
    return load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": -2.0, "max": 2.0},
                       {"name": "n", "type": "integer", "min": 1, "max": 5},
                       {"name": "kind", "type": "categorical", "values": ["a", "b", "c"]}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "ans_trial:objective", "workdir": str(home)},
        "strategy": "random", "seed": 7,
        "budget": {"max_trials": trials, "max_failed": trials},
    })


def _read(home: Path) -> dict:
    """Every read, in a new process as a CLI command or a sensor's first poke makes."""
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"))
    proc = subprocess.run([sys.executable, "-c", READ], env=env, cwd=home, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _answers_only(read: dict) -> dict:
    return {k: v for k, v in read.items() if k != "imported"}


def _commands(home: Path) -> dict[str, str]:
    """What the read commands print on a pipe (the form scripts and pipelines read)."""
    from tests.core.conftest import cli

    return {" ".join(c): cli(*c, home=home).stdout for c in (
        ("status", "ans", "--json"), ("status", "ans"), ("best", "ans", "-f", "json"),
        ("trials", "ans", "--json"), ("trials", "ans"))}


def test_an_ended_job_is_read_from_its_kept_answers_without_optuna_and_they_equal_the_study(home):
    get_backend("local").launch(_spec(home), "ans", detach=False)
    job = JobDir("ans")
    kept = sorted(p.name for p in (job.path / answers.FOLDER).iterdir())
    assert kept == ["best.json", "status.json", "trials.json"]  # by the coordinator, at the end

    from_answers = _read(home)
    assert from_answers["imported"] == []  # neither Optuna nor numpy: the study is not opened
    states = {t["state"] for t in from_answers["trials"]}
    assert {"complete", "failed"} <= states, states  # a mixed job, not only happy trials
    assert from_answers["status"]["state"] == "completed"

    printed = _commands(home)
    assert (job.path / answers.FOLDER / "remembered.observed-status.json").exists()

    for path in (job.path / answers.FOLDER).iterdir():
        path.unlink()
    from_study = _read(home)
    assert "optuna" in from_study["imported"]  # nothing kept: the study was read
    assert _answers_only(from_answers) == _answers_only(from_study)
    assert (job.path / answers.FOLDER / "trials.json").exists()  # kept again by that read
    for path in (job.path / answers.FOLDER).iterdir():
        path.unlink()
    assert _commands(home) == printed  # byte for byte, whether kept or built


def test_a_kept_answer_is_ignored_once_the_journal_changes(home):
    import optuna

    get_backend("local").launch(_spec(home, trials=6), "ans", detach=False)
    assert _read(home)["status"]["state"] == "completed"
    job = JobDir("ans")
    before = (job.path / answers.FOLDER / "status.json").read_text()

    study = optuna.load_study(study_name="ans", storage=job.storage())
    study.set_user_attr(ATTR_STATE, "failed")  # e.g. a worker on another machine writing late
    study.set_user_attr(ATTR_REASON, "marked failed by hand")

    after = _read(home)
    assert after["status"]["state"] == "failed"
    assert after["status"]["reason"] == "marked failed by hand"
    assert "optuna" in after["imported"]
    assert (job.path / answers.FOLDER / "status.json").read_text() != before


@pytest.mark.parametrize("tamper", ["other_stamp", "group_writable"])
def test_planted_or_stale_answer_files_are_not_read(home, tamper):
    get_backend("local").launch(_spec(home, trials=6), "ans", detach=False)
    job = JobDir("ans")
    path = job.path / answers.FOLDER / "status.json"
    stamp, body = path.read_text().split("\n", 1)
    forged = json.loads(body)
    forged["best_value"] = -123.0  # what a planted file would like a pipeline to believe
    if tamper == "other_stamp":
        path.write_text("1:2:3 4:5:6\n" + json.dumps(forged))
    else:
        path.write_text(stamp + "\n" + json.dumps(forged))
        os.chmod(path, 0o664)
    status = get_backend("local").status("ans")
    assert status.best_value != -123.0
    assert status.best_value == min(t.values[0] for t in get_backend("local").trials("ans")
                                    if t.state == "complete")


def test_a_running_job_keeps_nothing_and_a_job_that_cannot_keep_answers_still_reads(home):
    be = get_backend("local")
    job = JobDir("ans")
    seen = []

    def look(status):
        remembered = be.remember("ans", "probe", lambda: json.dumps(status.trials.finished))
        seen.append((be.status("ans").state.value, (job.path / answers.FOLDER).exists()))
        assert remembered == json.dumps(status.trials.finished)  # computed each time

    job_spec = _spec(home, trials=5)
    be.run_here(job_spec, "ans", on_status=look)
    assert seen and all(state == "running" and not kept for state, kept in seen), seen

    # a second job whose answers folder cannot be made: the job and its reads are unharmed
    other = JobDir("ans2")
    other.path.mkdir(parents=True)
    (other.path / answers.FOLDER).write_text("not a folder")
    be.launch(job_spec, "ans2", detach=False)
    assert be.status("ans2").state.value == "completed"
    assert len(be.trials("ans2")) == 5
    assert (other.path / answers.FOLDER).read_text() == "not a folder"


def test_records_that_would_not_read_back_equal_are_never_kept(home):
    (home / "nan_trial.py").write_text(textwrap.dedent('''
        def objective(params, ctx):
            return {"loss": float("nan") if params["x"] > 0 else params["x"] ** 2}
    '''))
    spec = load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": -2.0, "max": 2.0}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "nan_trial:objective", "workdir": str(home)},
        "strategy": "random", "seed": 1, "budget": {"max_trials": 8, "max_failed": 8},
    })
    be = get_backend("local")
    be.launch(spec, "nan", detach=False)
    records = be.trials("nan")
    assert any(r.state != "complete" for r in records)  # a NaN loss is no complete trial
    assert any(v != v for r in records for v in r.metrics.values())  # and its NaN is kept
    kept = sorted(p.name for p in (JobDir("nan").path / answers.FOLDER).iterdir())
    assert kept == ["best.json", "status.json"]  # JSON would make the NaN null: built each time
    assert [r.model_dump_json() for r in be.trials("nan")] == [r.model_dump_json() for r in records]


def test_a_job_with_no_complete_trial_keeps_no_best_and_says_so_each_time(home, caplog):
    from pipetune.errors import JobFailed

    (home / "bad_trial.py").write_text("def objective(params, ctx):\n    raise ValueError('bad')\n")
    spec = load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": -2.0, "max": 2.0}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "bad_trial:objective", "workdir": str(home)},
        "budget": {"max_trials": 3, "max_failed": 3},
    })
    be = get_backend("local")
    be.launch(spec, "bad", detach=False)
    assert "could not keep" not in caplog.text  # no best is no failure to keep one
    kept = sorted(p.name for p in (JobDir("bad").path / answers.FOLDER).iterdir())
    assert kept == ["status.json", "trials.json"]
    for _ in range(2):  # each time from the kept records: the same error, nothing kept for it
        with pytest.raises(JobFailed, match="no trial completed"):
            be.best("bad")


def test_remember_keeps_only_an_ended_jobs_answers_under_a_safe_name(home):
    be = get_backend("local")
    calls = []

    def compute():
        calls.append(1)
        return json.dumps({"n": len(calls)})

    with pytest.raises(ValueError, match="lowercase letters"):
        be.remember("ans", "../../escape", compute)
    be.launch(_spec(home, trials=4), "ans", detach=False)
    assert be.remember("ans", "summary", compute) == '{"n": 1}'
    assert be.remember("ans", "summary", compute) == '{"n": 1}'  # kept: not computed again
    assert len(calls) == 1


def test_a_polling_process_builds_a_finished_trials_record_once(home):
    """A process that keeps a job's study open (a sensor, a wait step) builds a finished
    trial's record once; a trial still running is built at each read, and once another
    process finishes it, its record is the finished one."""
    import optuna

    from pipetune.backends.local import space

    be = get_backend("local")
    spec = _spec(home, trials=6)
    be.launch(spec, "ans", detach=False)
    other = optuna.load_study(study_name="ans", storage=JobDir("ans").storage())  # another writer
    other.set_user_attr(ATTR_STATE, "running")  # not ended: nothing is kept, records are built
    trial = other.ask()
    space.suggest(spec, trial)

    first, again = be.trials("ans"), be.trials("ans")
    assert [r.state for r in again][-1] == "running" and len(again) == 7
    assert all(a is b for a, b in zip(first[:6], again[:6]))  # finished: built once
    assert first[6] is not again[6] and first[6] == again[6]  # running: built at each read

    other.tell(trial, 0.25)
    third, fourth = be.trials("ans"), be.trials("ans")
    assert third[6].state == "complete" and third[6].values == [0.25]
    assert third[6] is fourth[6] and all(a is b for a, b in zip(third[:6], again[:6]))
