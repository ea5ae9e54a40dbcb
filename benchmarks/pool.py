"""A small process pool for benchmark runs (spawned workers, one BLAS thread each)."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from typing import Any, Callable, Iterable

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_env() -> None:
    """One BLAS/OpenMP thread per process: several workers share 2 cores (set before numpy)."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")


def _init() -> None:
    single_threaded_env()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)


def run_all(fn: Callable[..., Any], jobs: Iterable[tuple], workers: int,
            progress: str | None = None,
            on_result: Callable[[Any], None] | None = None) -> list[Any]:
    """``fn(*job)`` for every job, on ``workers`` processes (in this one when workers <= 1).

    ``on_result`` is called with each result as it arrives (in job order), e.g. to append it
    to a file so an interrupted run keeps what it finished.
    """
    jobs = list(jobs)
    out: list[Any] = []
    if workers <= 1:
        _init()
        for i, job in enumerate(jobs):
            out.append(fn(*job))
            if on_result is not None:
                on_result(out[-1])
            _tick(progress, i + 1, len(jobs))
        return out
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init) as pool:
        for i, res in enumerate(pool.imap(_star, [(fn, job) for job in jobs])):
            out.append(res)
            if on_result is not None:
                on_result(res)
            _tick(progress, i + 1, len(jobs))
    return out


def _star(item: tuple[Callable[..., Any], tuple]) -> Any:
    fn, job = item
    return fn(*job)


def _tick(label: str | None, done: int, total: int) -> None:
    if label and (done == total or done % max(1, total // 20) == 0):
        print(f"  [{label}] {done}/{total}", file=sys.stderr, flush=True)
