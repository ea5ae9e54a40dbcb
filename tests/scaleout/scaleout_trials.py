"""In-process trial functions for the scale-out and reliability tests (imported by workers)."""

from __future__ import annotations

import json
import os
import time


def _ledger(params: dict, ctx, value: float) -> None:
    """Append what this trial computed to the ledger named by PIPETUNE_TEST_LEDGER."""
    path = os.environ.get("PIPETUNE_TEST_LEDGER")
    if path:
        line = json.dumps({"number": ctx.number, "x": params["x"], "k": params["k"],
                           "value": value, "pid": os.getpid()}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def quick(params: dict, ctx) -> dict:
    """A fast deterministic trial: (x - 1)^2 + k / 10."""
    time.sleep(float(os.environ.get("PIPETUNE_TEST_SLEEP", "0.002")))
    value = (params["x"] - 1.0) ** 2 + params["k"] / 10
    _ledger(params, ctx, value)
    return {"loss": value}


def slow_when_marked(params: dict, ctx) -> dict:
    """Like quick, but trial 3 runs for long (a worker is killed or frozen while in it)."""
    if ctx.number == 3:
        time.sleep(float(os.environ.get("PIPETUNE_TEST_LONG", "30")))
    return quick(params, ctx)
