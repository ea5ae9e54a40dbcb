"""A long-lived process (an Airflow worker, a KFP wait step, a notebook) that launches jobs and
reads them over and over keeps a bounded number of file descriptors: a job's journal stays
open for the next read (so a poll reads only what is new), one per job, for at most the
most recently read jobs; reading more often or more jobs opens nothing more."""

from __future__ import annotations

import gc
import os
import time

import pytest

from pipetune import get_backend
from pipetune.backends.local.jobstore import _open_journals
from .conftest import inprocess_spec

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux /proc only")


def _open_fds() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def test_launching_and_reading_jobs_leaks_no_descriptors(home):
    backend = get_backend("local")
    spec = inprocess_spec(3)
    ref = backend.launch(spec, "fds-0", detach=False)
    backend.status(ref), backend.trials(ref), backend.best(ref)
    before = _open_fds()
    for _ in range(20):  # the same job read over and over: no new descriptor
        backend.status(ref), backend.trials(ref), backend.best(ref)
    assert _open_fds() - before <= 1  # (the fsync thread of a job just ended may hold one)
    jobs = _open_journals._size + 8
    for i in range(1, jobs):
        ref = backend.launch(spec, f"fds-{i}", detach=False)
        for _ in range(3):
            backend.status(ref), backend.trials(ref), backend.best(ref)
    # more jobs read than the process keeps open: only the most recent stay open; the others
    # close once let go (the background fsync thread of a job that just ended holds its
    # journal for a second)
    deadline = time.monotonic() + 10
    while _open_fds() - before > _open_journals._size and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _open_fds() - before <= _open_journals._size


def test_open_journals_are_bounded_by_their_trials_too(home):
    """A worker polling several large jobs keeps at most ``max_trials`` trials open (the
    most recent job always stays)."""
    from pipetune.backends.local.jobstore import JobDir, _OpenJournals

    backend = get_backend("local")
    for i in range(3):
        backend.launch(inprocess_spec(10), f"big-{i}", detach=False)
    cache = _OpenJournals(size=16, max_trials=25)
    for i in range(3):
        job = JobDir(f"big-{i}")
        cache.get(job.name, job.storage_url())
    assert [name for name, _ in cache._studies] == ["big-1", "big-2"]  # 20 trials: within 25
    assert cache._trials() == 20
    job = JobDir("big-0")
    cache.get(job.name, job.storage_url())
    assert [name for name, _ in cache._studies] == ["big-2", "big-0"]
