"""Interop with google-cloud-pipeline-components (gcpc).

gcpc 2.x's ``HyperparameterTuningJobRunOp`` outputs only ``gcp_resources`` (a JSON
document naming the Vertex AI ``HyperparameterTuningJob``), and gcpc removed its
GetBestHyperparameters/GetTrials/IsMetricBeyondThreshold ops. :func:`attach_hp_job` turns
that output into a pipetune job handle: the job's study spec becomes a pipetune spec (so
integers come back as integers), and the Vertex backend reads trials and the best result.

Example:
    >>> parse_gcp_resources('{"resources": [{"resourceType": "HyperparameterTuningJob", '
    ...   '"resourceUri": "https://us-central1-aiplatform.googleapis.com/v1/projects/p/'
    ...   'locations/us-central1/hyperparameterTuningJobs/42"}]}')
    ('projects/p/locations/us-central1/hyperparameterTuningJobs/42', 'p', 'us-central1')
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipetune.errors import UsageError
from pipetune.job import JobRef
from pipetune.secrets import redact_spec_dict
from pipetune.spec import TuningSpec, load_spec

_RESOURCE_RE = re.compile(
    r"(projects/([^/]+)/locations/([^/]+)/hyperparameterTuningJobs/[^/?#\s]+)")


def parse_gcp_resources(text: str) -> tuple[str, str, str]:
    """``(resource name, project, location)`` of the tuning job in a ``gcp_resources`` JSON."""
    try:
        body = json.loads(text)
        uris = [r.get("resourceUri", "") for r in body.get("resources", [])
                if r.get("resourceType", "HyperparameterTuningJob") == "HyperparameterTuningJob"]
    except (TypeError, ValueError, AttributeError):
        uris = [text or ""]
    for uri in uris:
        found = _RESOURCE_RE.search(uri)
        if found:
            return found.group(1), found.group(2), found.group(3)
    raise UsageError("gcp_resources: no HyperparameterTuningJob in it; pass the "
                     "`gcp_resources` output of HyperparameterTuningJobRunOp "
                     f"(got {str(text)[:120]!r})")


def spec_from_hp_job(job: Any) -> TuningSpec:
    """A pipetune spec that reads a Vertex ``HyperparameterTuningJob`` (parameters with their
    types, objectives, budget); its trial is Vertex's, so it is only used to read results."""
    from pipetune.extras import require

    StudySpec = require("google.cloud.aiplatform_v1.types", feature="reading a Vertex tuning job",
                        extra="gcp", package="google-cloud-aiplatform").StudySpec

    PS = StudySpec.ParameterSpec
    scales = {PS.ScaleType.UNIT_LOG_SCALE: "log",
              PS.ScaleType.UNIT_REVERSE_LOG_SCALE: "reverse_log"}
    params: list[dict[str, Any]] = []

    def visit(ps: Any, condition: dict[str, Any] | None) -> None:
        entry: dict[str, Any] = {"name": ps.parameter_id}
        if "double_value_spec" in ps:
            entry.update(type="continuous", min=ps.double_value_spec.min_value,
                         max=ps.double_value_spec.max_value,
                         scaling=scales.get(ps.scale_type, "linear"))
        elif "integer_value_spec" in ps:
            entry.update(type="integer", min=int(ps.integer_value_spec.min_value),
                         max=int(ps.integer_value_spec.max_value),
                         scaling=scales.get(ps.scale_type, "linear"))
        elif "categorical_value_spec" in ps:
            entry.update(type="categorical", values=list(ps.categorical_value_spec.values))
        elif "discrete_value_spec" in ps:
            values = list(ps.discrete_value_spec.values)
            if all(float(v).is_integer() for v in values):
                values = [int(v) for v in values]  # Vertex stores [16, 32] as doubles
            entry.update(type="discrete", values=values)
        else:
            raise UsageError(f"gcp_resources: parameter {ps.parameter_id!r} has no value spec")
        if condition:
            entry["condition"] = condition
        params.append(entry)
        for child in ps.conditional_parameter_specs:
            if "parent_int_values" in child:
                values = [int(v) for v in child.parent_int_values.values]
            elif "parent_categorical_values" in child:
                values = list(child.parent_categorical_values.values)
            else:
                values = list(child.parent_discrete_values.values)
                parent = params[[p["name"] for p in params].index(ps.parameter_id)]
                if parent.get("type") == "discrete" and all(isinstance(v, int)
                                                            for v in parent["values"]):
                    values = [int(v) for v in values]
            visit(child.parameter_spec, {"parent": ps.parameter_id, "values": values})

    for ps in job.study_spec.parameters:
        visit(ps, None)
    goals = {StudySpec.MetricSpec.GoalType.MINIMIZE: "minimize"}
    objectives = [{"metric": m.metric_id, "goal": goals.get(m.goal, "maximize")}
                  for m in job.study_spec.metrics]
    max_trials = max(1, int(job.max_trial_count or 1))
    budget: dict[str, Any] = {"max_trials": max_trials,
                              "max_parallel": max(1, min(int(job.parallel_trial_count or 1),
                                                         max_trials))}
    if job.max_failed_trial_count:
        budget["max_failed"] = int(job.max_failed_trial_count)
    _, project, location = parse_gcp_resources(job.name)
    return load_spec({
        "name": job.display_name or None, "backend": "vertex", "parameters": params,
        "objectives": objectives, "budget": budget,
        # Vertex treats an unspecified selection as the last measurement
        "measurement": "best" if job.study_spec.measurement_selection_type ==
        StudySpec.MeasurementSelectionType.BEST_MEASUREMENT else "final",
        "trial": {"command": ["vertex-managed-trial"], "contract": "vertex"},
        "vertex": {"project": project, "location": location},
    })


def attach_hp_job(backend: Any, gcp_resources: str) -> JobRef:
    """A pipetune handle on the tuning job named by ``gcp_resources``; ``backend`` is a
    :class:`~pipetune.backends.vertex.VertexBackend` (its clients and credentials)."""
    from pipetune.backends.vertex.backend import MODE_HP_JOB
    from pipetune.backends.vertex.clients import api_errors

    resource, project, location = parse_gcp_resources(gcp_resources)
    with api_errors(f"tuning job {resource}"):
        job = backend.jobs(location).get_hyperparameter_tuning_job(name=resource)
    spec = spec_from_hp_job(job)
    created = job.create_time.timestamp() if "create_time" in job else None
    return JobRef(backend="vertex", id=resource, name=job.display_name or resource, extra={
        "mode": MODE_HP_JOB, "project": project, "location": location, "resource": resource,
        "fingerprint": spec.fingerprint(), "created": created,
        "spec": redact_spec_dict(spec.to_dict())})


__all__ = ["attach_hp_job", "parse_gcp_resources", "spec_from_hp_job"]
