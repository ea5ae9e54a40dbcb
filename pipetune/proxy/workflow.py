"""The proxy workflow: sample -> tune on the sample -> verify the top k on the full data.

The trial learns where its data is from one place the spec names (see
:class:`~pipetune.spec.ProxySettings`): the hyperparameter ``static[data_param]`` or the
input channel ``data_channel``. While tuning, that place holds the sample; while verifying,
the full data. The verified winner is the best of the top ``verify_top_k`` proxy
configurations on the full data; the Spearman correlation of their proxy and full-data
scores says whether the sample ranked them as the full data does.

Example:
    >>> from pipetune.proxy import run_proxy_tuning           # doctest: +SKIP
    >>> result = run_proxy_tuning("spec.yaml", "nightly")     # doctest: +SKIP
    >>> result.best.params, result.correlation                # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
from pydantic import BaseModel, Field

from pipetune.backends.base import Backend, TrainingOutcome, TrainingRunner
from pipetune.backends.local.jobstore import check_job_name, home
from pipetune.errors import JobFailed, SpecError
from pipetune.job import JobRef
from pipetune.proxy.errors import SamplingError
from pipetune.proxy.fidelity import ProxyFidelityWarning, check_fidelity
from pipetune.proxy.sampling import SampleManifest, read_manifest, sample_dataset
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import ProxySettings, TuningSpec, load_spec
from pipetune.trials.runner import TrialOutcome, run_trial

log = logging.getLogger(__name__)


class Candidate(BaseModel):
    """One of the proxy's top configurations, and how it did on the full data."""

    rank: int = Field(description="1 = the proxy's best")
    trial: str = Field(description="the proxy trial's id")
    params: dict[str, Any]
    proxy_value: float
    full_value: float | None = None
    full_state: str | None = None
    full_reason: str | None = None
    full_metrics: dict[str, float] = Field(default_factory=dict)
    full_seconds: float | None = None
    full_job: str | None = Field(
        default=None, description="where the full-data run ran when not on this machine: the "
        "SageMaker training job's ARN; None for a local trial")


class ProxyResult(BaseModel):
    """The outcome of :func:`run_proxy_tuning`. ``best`` is what to hand on."""

    job: str
    proxy_job: JobRef
    objective: str
    goal: str
    full_data: str
    sample: SampleManifest
    proxy_winner: Candidate
    verified_winner: Candidate | None = Field(
        description="best on the full data among the candidates; None when verify_top_k is 0")
    candidates: list[Candidate]
    correlation: float | None = Field(
        description="Spearman correlation of proxy and full-data scores (3+ candidates)")
    fidelity_low: bool = False
    winner_changed: bool = False
    warnings: list[str] = Field(default_factory=list)
    tuning_seconds: float = Field(description="sum of the proxy trials' durations")
    verify_seconds: float = Field(description="sum of the verification trials' durations")
    best: BestResult = Field(description="the winner, with static values pointing at the full data")


def run_proxy_tuning(spec: "TuningSpec | str | Path | dict[str, Any]", name: str,
                     backend: Backend | None = None, *,
                     storage_options: dict[str, Any] | None = None) -> ProxyResult:
    """Tune on a sample of the data, verify the best on all of it, and return the winner.

    ``spec`` needs a ``proxy`` section with one objective. ``backend`` runs the tuning on
    the sample (default: the local engine, in this process). Verification runs through the
    same backend when it can run a single training (a
    :class:`~pipetune.backends.base.TrainingRunner`, e.g. SageMaker: one training job per
    candidate), else here through :func:`pipetune.trials.runner.run_trial` (the local
    engine, Vertex AI). Calling it again with the same name
    attaches to the finished tuning job, reuses the sample when its manifest and checksum
    still match, and skips verifications already done: a retried pipeline step is cheap.

    Raises :class:`~pipetune.errors.SpecError` or :class:`SamplingError` for bad input
    (nothing is written), :class:`~pipetune.errors.JobFailed` when no verification completes.
    """
    spec = load_spec(spec)
    settings = _check(spec, name)
    full_data = _full_data(spec, settings)
    out_dir = (settings.output or str(home() / "proxy" / name)).rstrip("/")
    sample_uri = f"{out_dir}/sample/{full_data.rstrip('/').rsplit('/', 1)[-1]}"
    if backend is None:
        from pipetune.backends.local import LocalBackend

        backend = LocalBackend()
    tune_spec = _pointed_at(spec, settings, sample_uri, sample=True)
    runner = backend if isinstance(backend, TrainingRunner) else None
    if runner is not None:  # first: it names the proxy field that puts data out of reach
        _check_remote(runner, spec, settings, full_data, sample_uri)
    backend.validate(tune_spec)  # a trial that cannot run is reported before any sampling
    verify_spec = _pointed_at(spec, settings, full_data, sample=False)
    if runner is not None:
        if settings.verify_top_k > 0:
            runner.check_training(verify_spec)
    elif settings.verify_top_k > 0:
        log.info("%s: the %s backend cannot run a single training; verification runs here",
                 name, backend.name or type(backend).__name__)
    manifest = _sample(full_data, sample_uri, f"{out_dir}/manifest.json", settings,
                       storage_options)
    ref = _tune(backend, tune_spec, name)
    records = backend.trials(ref)
    ranked = _top_configurations(spec, records, max(settings.verify_top_k, 1))
    if not ranked:
        backend.best(ref)  # raises JobFailed with the trials' reasons
    candidates = [Candidate(rank=i + 1, trial=r.id, params=r.params,
                            proxy_value=r.metrics[spec.primary.metric])
                  for i, r in enumerate(ranked)]
    if settings.verify_top_k > 0:
        _verify(verify_spec, candidates, home() / "proxy" / name / "verify", runner=runner,
                name=name)
    return _assemble(spec, settings, name, ref, full_data, manifest, records, candidates,
                     verify_spec)


# ---- inputs ---------------------------------------------------------------------------------

def _check(spec: TuningSpec, name: str) -> ProxySettings:
    check_job_name(name)
    if spec.proxy is None:
        raise SpecError("proxy tuning needs a proxy section, e.g. "
                        "proxy: {fraction: 0.1, verify_top_k: 3}", field="proxy")
    if spec.multi_objective:
        raise SpecError("proxy tuning ranks configurations by one objective; keep one in "
                        "objectives, or tune without proxy", field="objectives")
    settings = spec.proxy
    if settings.data_channel is not None and spec.trial.contract != "sagemaker":
        raise SpecError(f"input channels exist under the sagemaker contract only (trial.contract "
                        f"is {spec.trial.contract!r}); use proxy.data_param instead",
                        field="proxy.data_channel")
    if settings.data_channel is not None and settings.data_channel not in spec.trial.channels:
        raise SpecError(f"no channel {settings.data_channel!r} in trial.channels (channels: "
                        f"{sorted(spec.trial.channels) or 'none'}); the full data's directory "
                        "goes there", field="proxy.data_channel")
    return settings


def _full_data(spec: TuningSpec, settings: ProxySettings) -> str:
    """The full data set's file, absolute when local (trials run in trial.workdir)."""
    if settings.data is not None:
        where, value = "proxy.data", settings.data
    elif settings.data_channel is not None:
        where = f"trial.channels.{settings.data_channel}"
        value = spec.trial.channels.get(settings.data_channel)  # type: ignore[assignment]
        if value is None:
            raise SpecError(f"no channel {settings.data_channel!r} (channels: "
                            f"{sorted(spec.trial.channels) or 'none'}); add it, or set proxy.data",
                            field="proxy.data_channel")
    else:
        value = spec.static.get(settings.data_param)  # type: ignore[assignment]
        if not isinstance(value, str):
            raise SpecError(f"where is the full data? set proxy.data, or static.{settings.data_param} "
                            "to its path (the trial reads its data from that hyperparameter)",
                            field="proxy.data")
    if "://" in value or os.path.isabs(value):
        return value
    return os.path.abspath(os.path.join(spec.trial.workdir or ".", value))


def _check_remote(runner: TrainingRunner, spec: TuningSpec, settings: ProxySettings,
                  full_data: str, sample_uri: str) -> None:
    """Trials of a remote backend read their data from where it can reach (e.g. S3): the
    sample always, the full data when it verifies there."""
    schemes = tuple(runner.data_schemes)
    where = getattr(runner, "name", "the backend")
    problems = []
    if not sample_uri.startswith(schemes):
        problems.append(("proxy.output", f"{where} trials read the sample from "
                         f"{' or '.join(schemes)} only; set proxy.output to such a URI "
                         f"(the sample would be {sample_uri!r})"))
    if settings.data_channel is not None:
        field, value = f"trial.channels.{settings.data_channel}", \
            spec.trial.channels[settings.data_channel]
        if settings.data_channel in ((spec.sagemaker or {}).get("channels") or {}):
            problems.append((f"sagemaker.channels.{settings.data_channel}", "the proxy's data "
                             "channel must be given in trial.channels only: the workflow points "
                             "it at the sample, then at the full data, and sagemaker.channels "
                             "would override both"))
    else:
        field, value = ("proxy.data" if settings.data is not None
                        else f"static.{settings.data_param}"), full_data
    if settings.verify_top_k > 0 and not value.startswith(schemes):
        problems.append((field, f"{where} training jobs read the full data from "
                         f"{' or '.join(schemes)} only, got {value!r}"))
    if problems:
        raise SpecError(problems)


def _sample(full_data: str, dest: str, manifest_uri: str, settings: ProxySettings,
            storage_options: dict[str, Any] | None) -> SampleManifest:
    wanted = dict(source=full_data, fraction=settings.effective_fraction, rows=settings.rows,
                  stratify=settings.stratify, seed=settings.seed)
    previous = _reusable(manifest_uri, dest, wanted, storage_options)
    if previous is not None:
        log.info("reusing the sample %s (manifest and checksum match)", dest)
        return previous
    try:
        return sample_dataset(dest=dest, manifest=manifest_uri, storage_options=storage_options,
                              field_prefix="proxy.", **wanted)
    except SamplingError as exc:
        if exc.field == "proxy.source":
            raise SamplingError(exc.message, field="proxy.data") from None
        raise


def _reusable(manifest_uri, dest, wanted, storage_options) -> SampleManifest | None:
    import hashlib

    try:
        old = read_manifest(manifest_uri, storage_options)
    except Exception:
        return None
    if old.sample != dest or any(getattr(old, k) != v for k, v in wanted.items()):
        return None
    h = hashlib.sha256()
    try:
        with fsspec.open(dest, "rb", **(storage_options or {})) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except Exception:
        return None
    return old if h.hexdigest() == old.sha256 else None


def _pointed_at(spec: TuningSpec, settings: ProxySettings, data: str, *, sample: bool) -> TuningSpec:
    """The spec without its proxy section, its data place pointing at ``data``."""
    if settings.data_channel is not None:
        # a channel is a directory: the sample is alone in its directory
        target = data.rsplit("/", 1)[0] if sample else spec.trial.channels[settings.data_channel]
        channels = {**spec.trial.channels, settings.data_channel: target}
        return spec.with_overrides(proxy=None, trial={"channels": channels})
    return spec.with_overrides(proxy=None, static={settings.data_param: data})


# ---- tuning and verification ---------------------------------------------------------------

def _tune(backend: Backend, spec: TuningSpec, name: str) -> JobRef:
    """Run the tuning job to its end (the step runtime: the local engine runs it here, a
    cloud job is waited for with the guards); raises JobFailed / JobStopped."""
    from pipetune import runtime

    return runtime.run(spec, job_name=name, using=backend)


def _top_configurations(spec: TuningSpec, records: list[TrialRecord], k: int) -> list[TrialRecord]:
    metric, maximize = spec.primary.metric, spec.primary.goal == "maximize"
    done = [r for r in records if r.state == "complete" and metric in r.metrics]
    done.sort(key=lambda r: (-r.metrics[metric] if maximize else r.metrics[metric], r.number))
    seen, out = set(), []
    for r in done:
        key = json.dumps(r.params, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out[:k]


def _verify(spec: TuningSpec, candidates: list[Candidate], trial_root: Path, *,
            runner: TrainingRunner | None = None, name: str = "") -> None:
    """Run each candidate on the full data (in parallel up to budget.max_parallel), reusing
    results a previous attempt stored for the same spec. With a ``runner`` each candidate
    runs there (a training job named after ``name`` and its rank), else here."""
    cache_file = trial_root / "results.json"
    fingerprint = spec.fingerprint()
    cache: dict[str, Any] = {}
    if cache_file.is_file():
        stored = json.loads(cache_file.read_text())
        if stored.get("fingerprint") == fingerprint:
            cache = stored.get("results", {})
    todo = []
    for c in candidates:
        key = json.dumps(c.params, sort_keys=True, default=str)
        if key in cache:
            for f, v in cache[key].items():
                setattr(c, f, v)
        else:
            todo.append((key, c))

    def run(item: tuple[str, Candidate]) -> None:
        _, c = item
        outcome: TrainingOutcome | TrialOutcome
        if runner is not None:
            job = runner.training_name(spec, name, c.rank, c.params)
            log.info("%s: verifying configuration #%d as %s training job %s", name, c.rank,
                     getattr(runner, "name", "remote"), job)
            outcome = runner.run_training(spec, c.params, job)
            c.full_job = outcome.where or job
        else:
            outcome = run_trial(spec, {**c.params, **spec.static}, number=c.rank,
                                trial_dir=trial_root / f"{c.rank:03d}")
        c.full_state, c.full_reason = outcome.state, outcome.reason
        c.full_metrics, c.full_seconds = dict(outcome.metrics), outcome.duration
        if outcome.state == "complete":
            c.full_value = outcome.metrics[spec.primary.metric]

    if todo:
        trial_root.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=min(len(todo), spec.budget.max_parallel)) as pool:
            list(pool.map(run, todo))
        fields = ("full_value", "full_state", "full_reason", "full_metrics", "full_seconds",
                  "full_job")
        for key, c in todo:
            if c.full_state == "complete":
                cache[key] = {f: getattr(c, f) for f in fields}
        cache_file.write_text(json.dumps({"fingerprint": fingerprint, "results": cache}, indent=1))


# ---- the result -----------------------------------------------------------------------------

def _assemble(spec, settings, name, ref, full_data, manifest, records, candidates,
              verify_spec) -> ProxyResult:
    maximize = spec.primary.goal == "maximize"
    notes: list[str] = []
    verified = [c for c in candidates if c.full_value is not None]
    winner: Candidate | None = None
    correlation, low = None, False
    if settings.verify_top_k > 0:
        if not verified:
            reasons = sorted({c.full_reason or "?" for c in candidates})[:3]
            raise JobFailed(name, f"none of the {len(candidates)} configurations completed on "
                            f"the full data {full_data!r}; reasons: {reasons}")
        winner = (max if maximize else min)(verified, key=lambda c: c.full_value)
        fidelity = check_fidelity([c.proxy_value for c in verified],
                                  [c.full_value for c in verified],  # type: ignore[misc]
                                  min_correlation=settings.min_correlation)
        correlation, low = fidelity.correlation, fidelity.low
        if fidelity.message:
            notes.append(fidelity.message)
        failed = [c for c in candidates if c.full_value is None]
        if failed:
            notes.append(f"{len(failed)} of {len(candidates)} configurations did not complete "
                         f"on the full data: " + "; ".join(
                             f"#{c.rank} {c.full_state}: {c.full_reason}" for c in failed))
    proxy_winner = candidates[0]
    changed = winner is not None and winner.rank != 1
    if changed:
        notes.append(
            f"the full data picked the proxy's #{winner.rank} configuration "  # type: ignore[union-attr]
            f"({winner.full_value:.6g} on full data) over the proxy winner "  # type: ignore[union-attr]
            f"({'failed' if proxy_winner.full_value is None else f'{proxy_winner.full_value:.6g}'})")
    for note in notes:
        if note.startswith("proxy fidelity is low"):
            warnings.warn(note, ProxyFidelityWarning, stacklevel=3)
        log.warning("%s: %s", name, note)
    chosen = winner or proxy_winner
    best = BestResult(
        job=name, backend=ref.backend, params=chosen.params, static=dict(verify_spec.static),
        metrics=chosen.full_metrics if winner else _record_of(records, chosen.trial).metrics,
        objective=spec.primary.metric, goal=spec.primary.goal,
        value=chosen.full_value if winner else chosen.proxy_value,
        trial=chosen.trial, trial_number=_record_of(records, chosen.trial).number,
        trials_total=len(records),
        trials_complete=sum(r.state == "complete" for r in records),
        trials_failed=sum(r.state == "failed" for r in records),
        trials_pruned=sum(r.state == "pruned" for r in records),
        trials_infeasible=sum(r.state == "infeasible" for r in records),
    )
    return ProxyResult(
        job=name, proxy_job=ref, objective=spec.primary.metric, goal=spec.primary.goal,
        full_data=full_data, sample=manifest, proxy_winner=proxy_winner, verified_winner=winner,
        candidates=candidates, correlation=correlation, fidelity_low=low, winner_changed=changed,
        warnings=notes,
        tuning_seconds=sum(r.duration_seconds or 0.0 for r in records),
        verify_seconds=sum(c.full_seconds or 0.0 for c in candidates),
        best=best,
    )


def _record_of(records: list[TrialRecord], trial_id: str) -> TrialRecord:
    return next(r for r in records if r.id == trial_id)
