"""Specs and helpers shared by the observability tests (a unique module name: test
folders are not packages)."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"


def script_spec(script: str, *, metric: str = "loss", goal: str = "minimize", **overrides) -> dict:
    """A spec whose trial runs tests/observability/scripts/<script> with this Python."""
    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
        "objectives": [{"metric": metric, "goal": goal}],
        "metrics": [{"name": metric, "regex": metric + r"=([-+0-9.eE]+)"}],
        "trial": {"command": [sys.executable, str(SCRIPTS / script)], "grace_period": 1.0},
        "budget": {"max_trials": 6, "max_parallel": 1},
        "seed": 5,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body
