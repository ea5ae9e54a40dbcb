"""Shared by the test DAGs: the fast quadratic trial and a failure recorder."""

from __future__ import annotations

import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def quad_spec(max_trials: int = 3, **static) -> dict:
    return {
        "parameters": [
            {"name": "x", "type": "continuous", "min": -2.0, "max": 3.0},
            {"name": "y", "type": "integer", "min": -4, "max": 1},
        ],
        "static": static,
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}],
        "strategy": "random",
        "seed": 1,
        "budget": {"max_trials": max_trials, "max_parallel": 1},
        "trial": {"command": ["python", "quad.py"], "workdir": str(ASSETS), "grace_period": 1},
    }


def record_failure(context) -> None:
    """on_failure_callback: keep the exception's text where the test can read it."""
    out = Path(os.environ["PIPETUNE_HOME"]) / "failures"
    out.mkdir(parents=True, exist_ok=True)
    ti = context["ti"]
    (out / f"{ti.task_id}.txt").write_text(f"{type(context.get('exception')).__name__}: "
                                           f"{context.get('exception')}")
