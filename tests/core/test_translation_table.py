"""Every spec field x every backend: it reaches the backend, pipetune honours it, or it is
refused at validation (naming a field) or flagged by lint. A new spec field without a row in
pipetune.translation.FIELDS fails here."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest

from pipetune.errors import SpecError
from pipetune.lint import lint
from pipetune.spec import load_spec
from pipetune.translation import BACKENDS, FIELDS, field_paths, untranslated

BASE: dict[str, dict[str, Any]] = {
    "local": {
        "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1}],
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "metrics": [{"name": "auc", "regex": r"auc=([0-9.]+)"}],
        "trial": {"command": ["python", "train.py"]},
        "budget": {"max_trials": 8},
    },
    "sagemaker": {
        "backend": "sagemaker",
        "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1}],
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "metrics": [{"name": "auc", "regex": r"auc=([0-9.]+)"}],
        "trial": {"command": ["python", "train.py"], "contract": "sagemaker"},
        "budget": {"max_trials": 8},
        "sagemaker": {"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/R",
                      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                      "output_path": "s3://bucket/out"},
    },
    "vertex": {
        "backend": "vertex",
        "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1}],
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "trial": {"command": ["python", "train.py"], "contract": "vertex"},
        "budget": {"max_trials": 8},
        "vertex": {"project": "demo-proj", "location": "us-central1",
                   "container": {"image_uri": "us-docker.pkg.dev/demo-proj/t:1"}},
    },
}

HYPERBAND = {"strategy": "hyperband", "early_stopping": {"type": "hyperband", "max_resource": 9}}

# path -> (the value, or {backend: value}; context applied with and without it)
SAMPLES: dict[str, tuple[Any, dict[str, Any]]] = {
    "parameters": ([{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1},
                    {"name": "depth", "type": "integer", "min": 2, "max": 6}], {}),
    "static": ({"epochs": 5}, {}),
    "objectives": ([{"metric": "auc", "goal": "minimize"}], {}),
    "metrics": ({"local": [{"name": "auc", "regex": r"auc=([0-9.]+)"},
                           {"name": "aux", "regex": r"aux=([0-9.]+)"}],
                 "sagemaker": [{"name": "auc", "regex": r"auc=([0-9.]+)"},
                               {"name": "aux", "regex": r"aux=([0-9.]+)"}],
                 "vertex": [{"name": "auc", "regex": r"auc=([0-9.]+)"}]}, {}),
    "measurement": ("best", {}),
    "strategy": ("random", {}),
    "seed": (11, {}),
    "budget.max_trials": (5, {}),
    "budget.max_parallel": (2, {}),
    "budget.max_failed": (1, {}),
    "budget.trial_timeout": (600, {}),
    "budget.timeout": (3600, {}),
    "budget.target_value": (0.9, {}),
    "budget.no_improvement_trials": (5, {}),
    "budget.max_cost_usd": (10.0, {}),
    "early_stopping.type": ("median", {}),
    "early_stopping.warmup_steps": (3, {"early_stopping": {"type": "median"}}),
    "early_stopping.startup_trials": (2, {"early_stopping": {"type": "median"}}),
    "early_stopping.min_resource": (3, HYPERBAND),
    "early_stopping.max_resource": (27, HYPERBAND),
    "early_stopping.reduction_factor": (2, HYPERBAND),
    "warm_start.parents": (["parent-job"], {}),
    "warm_start.type": ("transfer_learning", {"warm_start": {"parents": ["parent-job"]}}),
    "trial.command": (["python", "other.py"], {}),
    "trial.callable": ("pkg.mod:fn", {}),
    "trial.workdir": ("/some/checkout", {}),
    "trial.env": ({"LOG_LEVEL": "debug"}, {}),
    "trial.secret_env": (["DB_USER"], {"trial": {"command": ["python", "train.py"],
                                                 "env": {"DB_USER": "ml"}}}),
    "trial.contract": ("env", {}),
    "trial.metric_source": ({"local": "hypertune", "sagemaker": "hypertune",
                             "vertex": "regex"}, {}),
    "trial.channels": ({"local": {"train": "data/train"}, "sagemaker": {"train": "s3://b/train/"},
                        "vertex": {"train": "gs://b/train/"}}, {}),
    "trial.grace_period": (3.0, {}),
    "storage": ("sqlite:///jobs.db", {}),
    "local.prefetch": (False, {}),
    "sagemaker": ({"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/R",
                   "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                   "output_path": "s3://bucket/out", "instance_type": "ml.c5.xlarge"}, {}),
    "vertex": ({"project": "demo-proj", "location": "us-central1", "machine_type": "n1-highmem-8",
                "container": {"image_uri": "us-docker.pkg.dev/demo-proj/t:1"}}, {}),
}


def test_every_spec_field_has_a_row_for_every_backend():
    assert sorted(FIELDS) == sorted(field_paths()), "add the new field to pipetune.translation"
    for path, row in FIELDS.items():
        assert set(row) == set(BACKENDS), path
        for backend, t in row.items():
            if t.verdict in ("ignored", "option", "refused", "pipetune"):
                assert t.note, f"{path} on {backend}: say why"


def _merge(body: dict, changes: dict) -> dict:
    out = copy.deepcopy(body)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _set(body: dict, path: str, value: Any) -> dict:
    out = copy.deepcopy(body)
    head, _, rest = path.partition(".")
    if rest:
        inner = dict(out.get(head) or {})
        inner[rest] = value
        if path == "trial.callable":
            inner.pop("command", None)
        out[head] = inner
    else:
        out[head] = value
    return out


def _request(backend: str, spec) -> dict:
    """What the backend would be sent, without pipetune's identity tags and labels."""
    if backend == "sagemaker":
        from pipetune.backends.sagemaker.backend import SageMakerBackend

        req = SageMakerBackend(region="us-east-1").request(spec, "job")
        req.pop("Tags")
        return req
    from google.cloud.aiplatform_v1.types import HyperparameterTuningJob

    from pipetune.backends.vertex import hp_job
    from pipetune.backends.vertex.backend import VertexBackend

    be = VertexBackend()
    be.validate(spec)
    job = HyperparameterTuningJob.to_dict(hp_job.build_hp_job(spec, be.options(spec), "job"))
    job.pop("labels")
    return job


# refusals that name the field the user has to change rather than the one set
NAMED_INSTEAD = {
    "metrics": ("trial.metric_source",),
    "trial.callable": ("trial.metric_source", "vertex.container.command"),
    "trial.metric_source": ("objectives[0].metric",),
    "trial.contract": ("objectives[0].metric",),  # env without metrics: no regex to read
    "early_stopping.min_resource": ("strategy", "early_stopping.type"),
    "early_stopping.max_resource": ("strategy", "early_stopping.type"),
    "early_stopping.reduction_factor": ("strategy", "early_stopping.type"),
}

CASES = [(p, b) for p in FIELDS for b in BACKENDS
         if FIELDS[p][b].verdict not in ("pipetune", "other")]


@pytest.mark.parametrize("path, backend", CASES, ids=[f"{p}-{b}" for p, b in CASES])
def test_field_translates_or_is_refused_or_flagged(path, backend):
    verdict = FIELDS[path][backend].verdict
    value, context = SAMPLES[path]
    if isinstance(value, dict) and set(value) == set(BACKENDS):
        value = value[backend]
    without = _merge(BASE[backend], context)
    with_field = _set(without, path, value)
    if verdict == "refused":
        with pytest.raises(SpecError) as err:
            spec = load_spec(with_field)  # some refusals come from the spec itself
            if backend != "local":
                _request(backend, spec)
        named = [f for f, _ in err.value.problems]
        assert any(f.startswith(path) or path.startswith(f) or f in NAMED_INSTEAD.get(path, ())
                   for f in named), f"the refusal of {path} names {named}"
        warned = [w.field for w in lint(load_spec(with_field))] if _loads(with_field) else None
        assert warned is None or warned, "lint must not say 'no warnings'"
        return
    spec = load_spec(with_field)
    warned = [w.field for w in lint(spec)]
    if verdict == "ignored":
        assert path in warned, f"lint must flag {path} on {backend}"
        assert _request(backend, spec) == _request(backend, load_spec(without)), \
            "the field changes the request: call it sent"
        return
    assert not [f for f, _ in untranslated(spec) if f.startswith(path)]
    if backend == "local" or verdict == "option":
        return
    assert verdict == "sent"
    assert _request(backend, spec) != _request(backend, load_spec(without)), \
        f"{path} does not reach {backend}'s request"


def _loads(body: dict) -> bool:
    try:
        load_spec(body)
        return True
    except SpecError:
        return False


def test_lint_no_longer_says_nothing_when_a_channel_cannot_reach_sagemaker():
    body = _set(BASE["sagemaker"], "trial.channels", {"train": "data/train"})
    assert [w.field for w in lint(load_spec(body))] == ["trial.channels.train"]
    assert lint(load_spec(BASE["sagemaker"])) == []


def test_lint_command_names_what_will_not_translate(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    exe = str(Path(sys.executable).parent / "pipetune")

    def lint_strict(body: dict) -> subprocess.CompletedProcess:
        (tmp_path / "spec.yaml").write_text(yaml.safe_dump(body))
        return subprocess.run([exe, "lint", "spec.yaml", "--strict"], cwd=tmp_path, text=True,
                              capture_output=True, timeout=120)

    # a field the backend ignores: a warning (exit 1 with --strict), never "no warnings"
    body = _set(BASE["sagemaker"], "trial.grace_period", 30)
    proc = lint_strict(body)
    assert proc.returncode == 1, proc.stderr
    assert "no warnings" not in proc.stdout and "trial.grace_period" in proc.stdout
    # a field the backend refuses: lint refuses it as launch does (exit 2), naming it
    body["trial"]["channels"] = {"train": "data/train"}
    proc = lint_strict(body)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "trial.channels.train" in proc.stderr and "s3:// URI" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("backend", ["sagemaker", "vertex"])
def test_a_secret_in_trial_env_is_refused_where_the_job_description_would_show_it(backend):
    body = _set(BASE[backend], "trial.env", {"HF_TOKEN": "hf_live_value", "MODE": "fast"})
    with pytest.raises(SpecError) as err:
        _request(backend, load_spec(body))
    assert [f for f, _ in err.value.problems] == ["trial.env.HF_TOKEN"]
    assert "hf_live_value" not in str(err.value)
    local = _set(BASE["local"], "trial.env", {"HF_TOKEN": "hf_live_value"})
    assert load_spec(local).trial.env["HF_TOKEN"] == "hf_live_value"  # local keeps it, unstored


def test_early_stopping_auto_asks_each_service_for_its_own_automatic_stopping():
    """``early_stopping: auto`` is AMT's ``Auto`` and Vertex's median automated stopping (the
    local engine's successive halving is tested in tests/core/test_early_stopping_auto.py)."""
    sm = _request("sagemaker", load_spec(_merge(BASE["sagemaker"],
                                                {"early_stopping": {"type": "auto"}})))
    assert sm["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == "Auto"
    vx = _request("vertex", load_spec(_merge(BASE["vertex"], {"early_stopping": {"type": "auto"}})))
    assert vx == _request("vertex", load_spec(_merge(BASE["vertex"],
                                                     {"early_stopping": {"type": "median"}})))
    assert "median_automated_stopping_spec" in vx["study_spec"]
