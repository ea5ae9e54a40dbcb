"""What each spec field becomes on each backend: nothing is dropped in translation.

Every field of :class:`~pipetune.spec.TuningSpec` (the sub-fields of ``budget``,
``early_stopping``, ``trial``, ``warm_start`` and ``local`` one by one) has a row in
:data:`FIELDS` saying, per backend, one of:

- ``sent``: the backend receives it (the local engine uses it; SageMaker's or Vertex's
  request carries it);
- ``pipetune``: pipetune itself honours it, whatever the backend (a guard checked on every
  poll, the proxy workflow, the cost estimate, the default job name...);
- ``option``: the backend's own section says it instead (e.g. SageMaker runs
  ``sagemaker.image``/``entry_point``, not ``trial.command``);
- ``refused``: validation refuses a spec that sets it, naming the field and what the
  backend needs, before any call;
- ``ignored``: the backend has no such thing; :func:`untranslated` (and so ``pipetune
  lint``) warns when the spec sets it;
- ``other``: the section of another backend, read only there.

Some rows depend on the value: a ``trial.channels`` entry is sent to SageMaker when it is
an ``s3://`` URI and refused otherwise; the note says so.

Example:
    >>> FIELDS["budget.trial_timeout"]["sagemaker"].verdict
    'refused'
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"backend": "vertex", "seed": 3,
    ...     "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...     "objectives": [{"metric": "auc"}],
    ...     "trial": {"command": ["python", "train.py"], "contract": "vertex"}})
    >>> [w[0] for w in ignored_fields(spec)]
    ['seed']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from pipetune.spec import TuningSpec

Verdict = Literal["sent", "pipetune", "option", "refused", "ignored", "other"]
BACKENDS = ("local", "sagemaker", "vertex")
#: top-level fields whose sub-fields have rows of their own
EXPANDED = ("budget", "early_stopping", "trial", "warm_start", "local")


@dataclass(frozen=True)
class Translation:
    """One field on one backend: the verdict and, where it helps, what happens or why."""

    verdict: Verdict
    note: str = ""


def _t(verdict: Verdict, note: str = "") -> Translation:
    return Translation(verdict, note)


SENT, PIPETUNE, OTHER = _t("sent"), _t("pipetune"), _t("other")


def _all(t: Translation) -> dict[str, Translation]:
    return {b: t for b in BACKENDS}


_NO_AMT_KNOB = "SageMaker AMT has no such setting (its early stopping is automatic)"
_NO_VERTEX_KNOB = "Vertex AI's automated stopping has no such setting"
_VERTEX_JOB_RULES = ("a HyperparameterTuningJob has no such stopping rule (vertex.mode: "
                     "vizier has)")
_VERTEX_NO_SUCH_RULE = _t("refused", _VERTEX_JOB_RULES)
_VERTEX_NO_HYPERBAND = _t("refused", "Vertex AI cannot run hyperband")
_VERTEX_NOT_SEEDED = _t("refused", "a HyperparameterTuningJob cannot be seeded (vertex.mode: "
                        "vizier can)")

FIELDS: dict[str, dict[str, Translation]] = {
    "name": _all(_t("pipetune", "the default job name")),
    "backend": _all(_t("pipetune", "chooses the backend")),
    "parameters": _all(SENT),
    "static": _all(SENT),
    "objectives": {**_all(SENT), "sagemaker": _t("sent", "one objective; several are refused")},
    "metrics": {"local": SENT, "sagemaker": _t("sent", "MetricDefinitions"),
                "vertex": _t("refused", "a HyperparameterTuningJob reads hypertune only "
                             "(vertex.mode: vizier scrapes logs)")},
    "measurement": {"local": SENT, "sagemaker": _t("refused", "best: SageMaker scores the "
                    "last regex match"), "vertex": _t("sent", "measurement_selection_type")},
    "strategy": _all(SENT),
    "seed": {"local": SENT, "sagemaker": _t("sent", "RandomSeed"),
             "vertex": _t("ignored", "Vertex AI's study spec has no random seed: runs are not "
                          "reproducible")},
    "budget.max_trials": _all(SENT),
    "budget.max_parallel": _all(SENT),
    "budget.max_failed": {"local": SENT, "vertex": _t("sent", "max_failed_trial_count"),
                          "sagemaker": _t("pipetune", "AMT has no such limit: every poll "
                                          "(wait, sensor, trigger) counts the failed training "
                                          "jobs and stops the job past it")},
    "budget.trial_timeout": {"local": SENT, "vertex": _t("sent", "Scheduling.timeout"),
                             "sagemaker": _t("refused", "the local limit; SageMaker's is "
                                             "sagemaker.max_runtime_seconds (accepted when that "
                                             "is set too)")},
    "budget.timeout": {"local": SENT, "sagemaker": _t("sent", "ResourceLimits.MaxRuntimeInSeconds"),
                       "vertex": _VERTEX_NO_SUCH_RULE},
    "budget.target_value": {"local": SENT, "sagemaker": _t("sent", "TargetObjectiveMetricValue"),
                            "vertex": _VERTEX_NO_SUCH_RULE},
    "budget.no_improvement_trials": {"local": SENT, "sagemaker": _t("sent", "BestObjectiveNotImproving"),
                                     "vertex": _VERTEX_NO_SUCH_RULE},
    "budget.max_cost_usd": {"local": _t("pipetune", "the coordinator's guard"),
                            "sagemaker": _t("pipetune", "checked on every poll, from the "
                                            "training jobs' billable time and sagemaker.prices"),
                            "vertex": _VERTEX_NO_SUCH_RULE},
    "early_stopping.type": {"local": SENT, "sagemaker": _t("sent", "TrainingJobEarlyStoppingType"),
                            "vertex": _t("sent", "median automated stopping (for median, "
                                         "and for auto with one objective); hyperband and "
                                         "successive_halving are refused")},
    "early_stopping.warmup_steps": {"local": SENT, "sagemaker": _t("ignored", _NO_AMT_KNOB),
                                    "vertex": _t("ignored", _NO_VERTEX_KNOB)},
    "early_stopping.startup_trials": {"local": SENT, "sagemaker": _t("ignored", _NO_AMT_KNOB),
                                      "vertex": _t("ignored", _NO_VERTEX_KNOB)},
    "early_stopping.min_resource": {"local": SENT, "sagemaker": _t("sent", "Hyperband MinResource"),
                                    "vertex": _VERTEX_NO_HYPERBAND},
    "early_stopping.max_resource": {"local": SENT, "sagemaker": _t("sent", "Hyperband MaxResource"),
                                    "vertex": _VERTEX_NO_HYPERBAND},
    "early_stopping.reduction_factor": {"local": SENT,
                                        "sagemaker": _t("ignored", "AMT's Hyperband has a fixed "
                                                        "reduction factor"),
                                        "vertex": _VERTEX_NO_HYPERBAND},
    "warm_start.parents": {"local": SENT, "sagemaker": _t("sent", "WarmStartConfig"),
                           "vertex": _VERTEX_NOT_SEEDED},
    "warm_start.type": {"local": SENT, "sagemaker": _t("sent", "WarmStartType"),
                        "vertex": _VERTEX_NOT_SEEDED},
    "trial.command": {"local": SENT, "vertex": _t("sent", "the container's command (unless "
                                                  "vertex.container.command)"),
                      "sagemaker": _t("option", "SageMaker runs sagemaker.image, or "
                                      "sagemaker.entry_point from sagemaker.source_dir")},
    "trial.callable": {"local": SENT, "sagemaker": _t("refused", "a training job runs a "
                                                      "script that logs its metrics"),
                       "vertex": _t("refused", "a Vertex container runs a command")},
    "trial.workdir": {"local": SENT, "sagemaker": _t("option", "locates a relative "
                                                     "sagemaker.source_dir"),
                      "vertex": _t("option", "where the spec lies; not part of the job")},
    "trial.env": {"local": SENT, "sagemaker": _t("sent", "Environment of the training "
                                                 "definition"),
                  "vertex": _t("sent", "the container's env")},
    "trial.secret_env": {"local": _t("pipetune", "kept out of the stored spec; the trial "
                                     "gets the values from the job's 0600 secrets file"),
                         "sagemaker": _t("refused", "the training job's Environment is shown "
                                         "to anyone who can describe it: read secrets from "
                                         "AWS Secrets Manager in the script"),
                         "vertex": _t("refused", "a custom job's container env is shown to "
                                      "anyone who can describe it: read secrets from Secret "
                                      "Manager in the script (vertex.mode: vizier runs trials "
                                      "on your workers, where they are allowed)")},
    "trial.contract": {"local": SENT, "sagemaker": _t("refused", "env and vertex: SageMaker "
                                                      "gives script mode's arguments and SM_*"),
                       "vertex": _t("refused", "env and sagemaker: Vertex passes --name=value")},
    "trial.metric_source": {"local": SENT, "sagemaker": _t("refused", "SageMaker reads regex "
                                                           "metrics only"),
                            "vertex": _t("refused", "a HyperparameterTuningJob reads "
                                         "hypertune only")},
    "trial.channels": {"local": SENT, "sagemaker": _t("sent", "InputDataConfig; a path that is "
                                                      "not s3:// is refused"),
                       "vertex": _t("sent", "the container's env PIPETUNE_CHANNEL_<NAME> (and "
                                    "AIP_*_DATA_URI); a path that is not gs:// is refused")},
    "trial.grace_period": {"local": SENT, "sagemaker": _t("ignored", "SageMaker gives a "
                                                          "stopped training job 120 s"),
                           "vertex": _t("ignored", "Vertex AI decides how a trial is stopped")},
    "proxy": _all(_t("pipetune", "the proxy workflow samples, tunes, then verifies")),
    "storage": {"local": SENT, "sagemaker": _t("ignored", "SageMaker keeps the trials itself"),
                "vertex": _t("ignored", "Vertex AI keeps the trials itself")},
    "local.prefetch": {"local": SENT, "sagemaker": _t("ignored", "the local engine's option"),
                       "vertex": _t("ignored", "the local engine's option")},
    "sagemaker": {"local": OTHER, "sagemaker": SENT, "vertex": OTHER},
    "vertex": {"local": OTHER, "sagemaker": OTHER, "vertex": SENT},
    "convergence": _all(_t("pipetune", "judged from the trials, in status and the guards")),
    "cost": _all(_t("pipetune", "the cost estimate")),
    "profiles": _all(_t("pipetune", "resolved into the spec before launch")),
    "profile": _all(_t("pipetune", "resolved into the spec before launch")),
}

#: ``vertex.mode: vizier`` runs trials on your workers through pipetune's runner: trial and
#: budget fields are honoured as by the local engine, apart from these
VIZIER: dict[str, Translation] = {
    "seed": FIELDS["seed"]["vertex"], "storage": FIELDS["storage"]["vertex"],
    "local.prefetch": FIELDS["local.prefetch"]["vertex"],
    "measurement": _t("sent", "measurement_selection_type"),
    "early_stopping.warmup_steps": _t("ignored", _NO_VERTEX_KNOB),
    "early_stopping.startup_trials": _t("ignored", _NO_VERTEX_KNOB),
}


def field_paths(model: type[BaseModel] = TuningSpec) -> list[str]:
    """Every row :data:`FIELDS` must have: the spec's fields, those in :data:`EXPANDED`
    replaced by their sub-fields."""
    out = []
    for name, info in model.model_fields.items():
        sub = _model_of(info.annotation)
        if name in EXPANDED and sub is not None:
            out += [f"{name}.{s}" for s in sub.model_fields]
        else:
            out.append(name)
    return out


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
    return None


def translation(spec: TuningSpec, path: str) -> Translation:
    """What field ``path`` becomes on ``spec``'s backend (and mode)."""
    row = FIELDS[path]
    if spec.backend == "vertex" and _vertex_mode(spec) == "vizier":
        return VIZIER.get(path, row["local"])
    return row[spec.backend]


def _vertex_mode(spec: TuningSpec) -> str:
    return str((spec.vertex or {}).get("mode") or "hyperparameter_tuning_job")


def _value(spec: BaseModel | None, path: str) -> tuple[bool, Any]:
    """(set to something other than its default, value) of field ``path``."""
    head, _, rest = path.partition(".")
    if spec is None:
        return False, None
    info = type(spec).model_fields[head]
    value = getattr(spec, head)
    if rest:
        return _value(value, rest) if isinstance(value, BaseModel) else (False, None)
    default = info.get_default(call_default_factory=True)
    if isinstance(default, BaseModel) and isinstance(value, BaseModel):
        return value.model_dump() != default.model_dump(), value
    return value != default, value


def ignored_fields(spec: TuningSpec) -> list[tuple[str, str]]:
    """``(field, message)`` for each field the spec sets that its backend ignores."""
    out = []
    for path in FIELDS:
        t = translation(spec, path)
        if t.verdict != "ignored":
            continue
        is_set, _ = _value(spec, path)
        if is_set:
            out.append((path, f"has no effect on {spec.backend}: {t.note}"))
    return out


def refusals(spec: TuningSpec) -> list[tuple[str, str]]:
    """``(field, message)`` for what the spec's cloud backend would refuse at launch (no
    call is made; nothing when the backend's extra is not installed)."""
    from pipetune.errors import MissingExtra, SpecError

    try:
        if spec.backend == "sagemaker":
            from pipetune.backends.sagemaker.checks import validated_options

            validated_options(spec)
        elif spec.backend == "vertex":
            from pipetune.backends.vertex.backend import VertexBackend

            VertexBackend().validate(spec)
    except (ImportError, MissingExtra):
        return []  # without the backend's extra, launch says so itself
    except SpecError as exc:
        return [(f, f"{spec.backend} refuses it: {m}") for f, m in exc.problems]
    return []


def untranslated(spec: TuningSpec) -> list[tuple[str, str]]:
    """Fields that will not reach the spec's backend as written: refused or ignored."""
    return refusals(spec) + ignored_fields(spec)
