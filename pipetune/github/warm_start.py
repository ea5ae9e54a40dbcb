"""Warm-start a retune from the last results.

The committed results file names the job that produced it (``job``, ``backend``). When
the new run uses the same backend, that job becomes a warm-start parent of the new one:
SageMaker and Vertex find a parent by its name in the cloud; the local engine needs the
parent's files, which :mod:`~pipetune.github.artifacts` restores from last run's artifact.
When the parent cannot be reached, the run goes on cold and says why.

The default kind is ``transfer_learning``: a scheduled retune runs on newer data, which
is what SageMaker's ``TRANSFER_LEARNING`` warm start is meant for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipetune.backends.local.jobstore import JobDir
from pipetune.errors import SpecError
from pipetune.github.api import GitHubClient
from pipetune.github.artifacts import restore_local_job
from pipetune.results import BestResult
from pipetune.spec import TuningSpec

KINDS = ("identical_data_and_algorithm", "transfer_learning")


@dataclass
class WarmStartPlan:
    """The parent job (None: a cold start) and what happened, for the log and the report."""

    parent: str | None
    note: str


def plan(spec: TuningSpec, previous: BestResult | None, *, kind: str = "transfer_learning",
         client: GitHubClient | None = None, repository: str | None = None,
         local_root: Path | None = None) -> tuple[TuningSpec, WarmStartPlan]:
    """The spec to run (with the previous job added as a warm-start parent when it can be
    reached) and the plan."""
    if kind not in KINDS:
        raise SpecError(f"got {kind!r}; valid: {', '.join(KINDS)}", field="warm-start-type")
    if previous is None:
        return spec, WarmStartPlan(None, "no previous results: a cold start")
    if previous.backend != spec.backend:
        return spec, WarmStartPlan(None, f"the previous results came from the {previous.backend} "
                                         f"backend, this run uses {spec.backend}: a cold start")
    parent = previous.job
    from pipetune.backends import backend_class

    if backend_class(spec.backend).keeps_files:  # the parent's files must be on this machine
        if not JobDir(parent, local_root).exists():
            if client is None or repository is None:
                return spec, WarmStartPlan(None, f"local job {parent!r} is not on this machine "
                                                 "and there is no token to fetch it: a cold start")
            ok, what = restore_local_job(client, repository, parent, local_root)
            if not ok:
                return spec, WarmStartPlan(None, f"{what}: a cold start")
    parents = list(spec.warm_start.parents) if spec.warm_start else []
    if parent not in parents:
        parents.append(parent)
    new_spec = spec.with_overrides(warm_start={"parents": parents, "type": kind})
    return new_spec, WarmStartPlan(parent, f"warm-starting from job {parent!r} ({kind})")
