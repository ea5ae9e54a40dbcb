"""A Prometheus exporter for tuning jobs on any backend.

Per job (labels ``pipetune_job`` and ``backend``; ``job`` is Prometheus's own label):

=====================================  ====================================================
``pipetune_job_up``                    1 when the job could be read at this scrape, else 0
``pipetune_job_state{state}``          1 for the job's current state, 0 for the others
``pipetune_trials{state}``             trials by state: running, complete, failed, pruned,
                                       infeasible
``pipetune_max_trials``                the job's trial budget
``pipetune_best_objective``            best value so far (labels ``objective``, ``goal``)
``pipetune_estimated_cost_usd``        estimated cost so far (:mod:`.cost`)
``pipetune_compute_seconds{unit}``     instance-, machine- or CPU-seconds behind the cost
``pipetune_budget_usd``                ``budget.max_cost_usd`` when set
``pipetune_tuning_share_of_training``  cost / ``cost.training_cost_usd`` when set
``pipetune_seconds_since_improvement`` seconds since the best value last improved
``pipetune_not_converging``            1 when flagged by the rule in :mod:`.convergence`
``pipetune_convergence_progress``      the rule's measure (1 = recent trials as good as the
                                       best; flagged below ``convergence.fraction``)
=====================================  ====================================================

Served by ``pipetune exporter --job NAME ... --port 9464``, or from Python: :func:`serve`
for a long-lived process, :func:`render` for the text once, :func:`push` to a Pushgateway
from a short pipeline step.

Example:
    >>> from pipetune.observability.exporter import serve     # doctest: +SKIP
    >>> exporter = serve(["nightly"], port=0)                    # doctest: +SKIP
    >>> exporter.url                                             # doctest: +SKIP
    'http://127.0.0.1:40123/metrics'
    >>> exporter.close()                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Iterable, Iterator

from pipetune.job import JobRef, JobState
from pipetune.observability.snapshot import JobSnapshot, observe

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from pipetune.backends.base import Backend

log = logging.getLogger("pipetune.observability")

DEFAULT_PORT = 9464
TRIAL_STATES = ("running", "complete", "failed", "pruned", "infeasible")


def _prometheus():
    from pipetune.extras import require

    return require("prometheus_client", feature="the Prometheus exporter", extra="observability")


class JobsCollector:
    """A ``prometheus_client`` collector reading the watched jobs at every scrape.

    ``refresh_seconds`` reuses a job's last reading for that long (cloud APIs have quotas);
    ``backends`` maps a backend name to a ready instance (e.g. one with its own endpoint).
    """

    def __init__(self, jobs: Iterable["JobRef | str | dict"] = (), *,
                 backends: "dict[str, Backend] | None" = None, refresh_seconds: float = 0.0):
        self._refs: dict[str, JobRef] = {}
        self._backends = dict(backends or {})
        self._refresh = refresh_seconds
        self._cache: dict[str, tuple[float, JobSnapshot]] = {}
        self._lock = threading.Lock()
        for job in jobs:
            self.watch(job)

    def watch(self, job: "JobRef | str | dict") -> JobRef:
        """Add a job (a local job's name, or a handle)."""
        from pipetune.observability.snapshot import _local_ref

        ref = _local_ref(job) if isinstance(job, str) else JobRef.from_json(job)
        with self._lock:
            self._refs[ref.name] = ref
        return ref

    def _backend(self, ref: JobRef) -> "Backend":
        if ref.backend not in self._backends:
            from pipetune.backends import get_backend

            self._backends[ref.backend] = get_backend(ref.backend)
        return self._backends[ref.backend]

    def snapshot(self, ref: JobRef) -> JobSnapshot:
        """The job's :class:`~pipetune.observability.snapshot.JobSnapshot`, read afresh unless
        the last reading is younger than ``refresh_seconds``.

        Raises:
            Exception: whatever reading the job raised (:meth:`collect` reports such a job as
                down and goes on).
        """
        now = time.monotonic()
        cached = self._cache.get(ref.name)
        if cached and now - cached[0] < self._refresh:
            return cached[1]
        snap = observe(ref, self._backend(ref))
        self._cache[ref.name] = (now, snap)
        return snap

    def describe(self) -> list:
        """No metrics: which ones exist depends on the jobs, so nothing is read when the
        collector is registered."""
        return []  # metrics depend on the jobs: no describe-time reads

    def collect(self) -> Iterator:
        """The ``pipetune_*`` gauge families, one sample per watched job, read at this scrape.

        Every sample is labelled ``pipetune_job`` and ``backend`` (never ``job``, which
        Prometheus sets itself). A job that cannot be read gets ``pipetune_job_up 0`` and no
        other sample; the other jobs are still reported.
        """
        from prometheus_client.core import GaugeMetricFamily as G

        L = ["pipetune_job", "backend"]
        up = G("pipetune_job_up", "1 when the job could be read at this scrape", labels=L)
        state = G("pipetune_job_state", "1 for the job's current state", labels=L + ["state"])
        trials = G("pipetune_trials", "trials by state", labels=L + ["state"])
        max_trials = G("pipetune_max_trials", "the job's trial budget", labels=L)
        best = G("pipetune_best_objective", "best objective value so far",
                 labels=L + ["objective", "goal"])
        cost = G("pipetune_estimated_cost_usd", "estimated cost so far, USD", labels=L)
        compute = G("pipetune_compute_seconds", "compute behind the cost estimate",
                    labels=L + ["unit"])
        budget = G("pipetune_budget_usd", "budget.max_cost_usd", labels=L)
        share = G("pipetune_tuning_share_of_training",
                  "estimated cost / cost.training_cost_usd", labels=L)
        stale = G("pipetune_seconds_since_improvement",
                  "seconds since the best value last improved", labels=L)
        flag = G("pipetune_not_converging", "1 when the job is flagged not converging", labels=L)
        progress = G("pipetune_convergence_progress",
                     "best of the recent window on the baseline-to-best scale", labels=L)
        with self._lock:
            refs = list(self._refs.values())
        for ref in refs:
            lv = [ref.name, ref.backend]
            try:
                snap = self.snapshot(ref)
            except Exception as exc:  # one unreadable job must not hide the others
                log.warning("cannot read job %s: %s", ref.name, exc)
                up.add_metric(lv, 0)
                continue
            up.add_metric(lv, 1)
            st = snap.status
            for s in JobState:
                state.add_metric(lv + [s.value], 1 if st.state == s else 0)
            for s in TRIAL_STATES:
                trials.add_metric(lv + [s], getattr(st.trials, s))
            if st.max_trials is not None:
                max_trials.add_metric(lv, st.max_trials)
            conv = snap.convergence
            if conv.best is not None or st.best_value is not None:
                value = st.best_value if st.best_value is not None else conv.best
                best.add_metric(lv + [snap.spec.primary.metric, snap.spec.primary.goal], value)
            if snap.cost is not None:
                if snap.cost.usd is not None:
                    cost.add_metric(lv, snap.cost.usd)
                compute.add_metric(lv + [snap.cost.unit], snap.cost.compute_seconds)
                if snap.cost.share_of_training is not None:
                    share.add_metric(lv, snap.cost.share_of_training)
            if snap.spec.budget.max_cost_usd is not None:
                budget.add_metric(lv, snap.spec.budget.max_cost_usd)
            since = snap.seconds_since_improvement
            if since is not None:
                stale.add_metric(lv, since)
            flag.add_metric(lv, 1 if conv.not_converging else 0)
            if conv.progress is not None:
                progress.add_metric(lv, conv.progress)
        yield from (up, state, trials, max_trials, best, cost, compute, budget, share, stale,
                    flag, progress)


def registry_for(jobs: Iterable["JobRef | str | dict"] = (), **options) -> "CollectorRegistry":
    """A registry holding one :class:`JobsCollector` (``options`` go to it)."""
    prom = _prometheus()
    registry = prom.CollectorRegistry(auto_describe=False)
    registry.register(JobsCollector(jobs, **options))
    return registry


def render(jobs: Iterable["JobRef | str | dict"], **options) -> str:
    """The Prometheus text exposition of the jobs, once (for logs, files, tests)."""
    prom = _prometheus()
    return prom.generate_latest(registry_for(jobs, **options)).decode()


def push(jobs: Iterable["JobRef | str | dict"], gateway: str, *, grouping_job: str = "pipetune",
         **options) -> None:
    """Push the jobs' metrics to a Prometheus Pushgateway (short-lived pipeline steps)."""
    prom = _prometheus()
    prom.push_to_gateway(gateway, job=grouping_job, registry=registry_for(jobs, **options))


class Exporter:
    """A running exporter: ``url``, ``port``, ``collector`` (add jobs with ``watch``), ``close()``."""

    def __init__(self, server, thread, collector: JobsCollector, addr: str):
        self._server, self._thread, self.collector, self.addr = server, thread, collector, addr

    @property
    def port(self) -> int:
        """The port the server listens on (the one the OS chose when started with port 0)."""
        return self._server.server_port

    @property
    def url(self) -> str:
        """The ``/metrics`` URL to scrape, at the bound address and port."""
        return f"http://{self.addr}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and free the port; returns once the server thread has ended (or
        after 5 s)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Exporter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(jobs: Iterable["JobRef | str | dict"] = (), *, port: int = DEFAULT_PORT,
          addr: str = "127.0.0.1", **options) -> Exporter:
    """Serve ``/metrics`` on ``addr:port`` in a background thread (port 0: any free port)."""
    prom = _prometheus()
    collector = JobsCollector(jobs, **options)
    registry = prom.CollectorRegistry(auto_describe=False)
    registry.register(collector)
    try:
        server, thread = prom.start_http_server(port, addr=addr, registry=registry)
    except OSError as exc:
        from pipetune.errors import UsageError

        raise UsageError(f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}") from None
    return Exporter(server, thread, collector, addr)
