"""Tiny in-process trials for the adapter-parity matrix (``trial.callable``)."""

from __future__ import annotations

import time


def quad(params, ctx):
    """loss = (x - 1)^2 (+0.5 for kind b): the best is x=1, kind=a, loss 0."""
    time.sleep(float(params.get("sleep", 0.0)))
    return (params["x"] - 1) ** 2 + (0.5 if params["kind"] == "b" else 0.0)


def boom(params, ctx):
    """Every trial fails, with the same words."""
    raise ValueError("boom")


def lucky(params, ctx):
    """The first trial is lucky, no later one comes close: "not converging"."""
    return 0.0 if ctx.number == 0 else 10.0 + ctx.number % 3
