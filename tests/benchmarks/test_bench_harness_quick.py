"""Smoke test of the benchmark harness: ``python -m benchmarks.run --quick`` end to end.

No timing assertions: the machine may be busy. It checks that every part ran through the
real engine and that the JSON and markdown outputs are well-formed and complete.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("overhead", "memory", "entry_points", "search_quality", "early_stopping",
            "parallelism")
ENTRY_POINTS = ("bare_spawn", "optuna_journal", "api", "cli_tune", "cli_launch_wait")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def test_quick_harness_writes_complete_results(tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert not out.with_suffix(".partial.json").exists()
    assert result["quick"] is True and all(s in result for s in SECTIONS)
    meta = result["meta"]
    assert meta["command"].startswith("python -m benchmarks.run") and meta["date"] and meta["machine"]

    o = result["overhead"]
    for part in ("subprocess", "in_process"):
        assert _finite(o[part]["ratio"]) and o[part]["ratio"] > 0 and o[part]["trials"] == 30
    assert _finite(result["memory"]["peak_rss_mb"]) and result["memory"]["trials"] == 100

    sq = result["search_quality"]
    contenders = sq["plan"]["contenders"]
    assert {"auto", "optuna_tpe", "optuna_gp", "random"} <= set(contenders)
    runs = sq["plan"]["runs_per_contender"]
    assert len(sq["runs"]) == runs * len(contenders)
    for run in sq["runs"]:
        assert all(_finite(v) for v in run["best"].values()), run
    summary = sq["summary"]
    for group in ("all", "bbob", "sklearn", "all@10", "all@20"):
        s = summary[group]
        assert set(s["mean_rank"]) == set(contenders)
        assert all(1 <= r <= len(contenders) for r in s["mean_rank"].values())
        assert all(_finite(v) and v >= 0 for v in s["mean_regret"].values())
        for a in contenders:
            for b in contenders:
                if a != b:
                    assert sum(s["win_tie_loss"][f"{a} vs {b}"]) == s["problems"]
    assert sum(len(v) for v in sq["auto_resolved"].values()) >= 1

    par = result["parallelism"]
    assert set(par["regret"]["mean_regret"]) == {"1", "4", "10"}
    assert all(_finite(v) and v > 0 for v in par["speedup"]["wall_seconds"].values())
    assert par["speedup"]["speedup"]["1"] == 1.0

    es = result["early_stopping"]
    assert set(es["summary"]) == {"none", "median", "hyperband", "successive_halving", "auto"}
    assert len(es["per_seed"]) == es["seeds"]
    for row in es["per_seed"]:
        for mode in ("none", "median", "hyperband", "successive_halving", "auto"):
            assert row[mode]["total_epochs"] > 0
        assert row["none"]["epochs_to_target"] is not None  # the reference reaches its own best

    ep = result["entry_points"]
    for size, figures in ep["paths"].items():
        if size.isdigit():
            assert set(figures) == set(ENTRY_POINTS)
            for f in figures.values():
                assert all(_finite(v) and v > 0 for v in f.values()), f
    assert _finite(ep["paths"]["airflow_operator"]["marginal_wall_ms_per_trial"])
    assert ep["flat"]["trials"] == 300 and _finite(ep["flat"]["last_vs_first"])
    assert {"random_100", "tpe_100"} <= set(ep["flat"])
    assert set(ep["reads"]) == {"status", "best", "trials --json", "start-up only (--help)",
                                "in_process"}
    assert all(0 < v["seconds"] < 60 for k, v in ep["reads"].items() if k != "in_process")
    assert set(ep["reads"]["in_process"]) == {"status", "best", "trials"}
    assert all(0 < v["again_s"] < 60 for v in ep["reads"]["in_process"].values())
    assert _finite(ep["polling"]["added"]) and _finite(ep["polling"]["cli_process_added"])
    assert ep["memory"]["peak_rss_mb"] > 10
    load = ep["under_load"]
    assert {"optuna_journal", "optuna_journal_script", "cli_tune", "api"} <= set(load)
    assert load["optuna_journal_script"]["wall_vs_optuna_journal_script"] == 1.0
    assert all(_finite(load[k]["wall_vs_optuna_journal_script"]) and load[k]["wall_ms_per_trial"] > 0
               for k in ("optuna_journal", "cli_tune", "api"))
    running = ep["running_reads"]
    assert running["state"] == "running" and running["trials_complete"] >= 300
    assert all(0 < running[k]["seconds"] < 60 for k in ("status", "best", "trials --json"))
    durability, start = ep["floors"]["durability"], ep["floors"]["start"]
    assert durability["trials"] == 100 and _finite(durability["ratio"]) and durability["ratio"] > 0
    assert set(start["seconds"]) == {"python -c pass", "python -c 'import optuna'", "pipetune --help",
                                     "pipetune tune, 1 trial"}
    assert all(0 < v < 60 for v in start["seconds"].values()) and _finite(start["import_optuna_vs_budget"])

    md = out.with_suffix(".md").read_text()
    for heading in ("### 1. Engine overhead", "### 2. Search quality", "### 3. Parallelism",
                    "### 4. Early stopping", "### 5. Coordinator memory", "### 6. Every entry point"):
        assert heading in md
    assert "nan" not in md.lower().replace("nanmean", "")
    assert md in proc.stdout
