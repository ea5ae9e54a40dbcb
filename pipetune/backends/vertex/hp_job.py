"""Mode 1: a Vertex AI ``HyperparameterTuningJob`` built from a spec. Vertex runs the trials.

Vertex appends each trial's hyperparameters to the worker's args as ``--name=value``;
static hyperparameters are appended here the same way, so the script sees one contract.
``trial.env`` and the input channels (``trial.channels``, gs:// URIs, as
``PIPETUNE_CHANNEL_<NAME>`` and Vertex's ``AIP_*_DATA_URI``) go to the container's env.
The trial script reports its metric with ``cloudml-hypertune``.

Example:
    >>> from pipetune.spec import load_spec
    >>> from pipetune.backends.vertex.options import parse_options
    >>> spec = load_spec({"parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1}],
    ...                   "objectives": [{"metric": "auc"}], "static": {"epochs": 3},
    ...                   "trial": {"command": ["python", "train.py"], "contract": "vertex"}})
    >>> opts = parse_options({"project": "my-proj", "location": "us-central1",
    ...                       "container": {"image_uri": "gcr.io/my-proj/train:1"}})
    >>> job = build_hp_job(spec, opts, "nightly")
    >>> list(job.trial_job_spec.worker_pool_specs[0].container_spec.args)
    ['--epochs=3']
"""

from __future__ import annotations

from google.cloud.aiplatform_v1.types import (
    ContainerSpec,
    CustomJobSpec,
    EncryptionSpec,
    EnvVar,
    HyperparameterTuningJob,
    MachineSpec,
    PythonPackageSpec,
    Scheduling,
    WorkerPoolSpec,
)

from pipetune.backends.vertex.options import VertexOptions
from pipetune.backends.vertex.study_spec import build_study_spec
from pipetune.errors import SpecError
from pipetune.spec import TuningSpec
from pipetune.trials.contracts import channel_env, env_name, render_value

LABEL_MANAGED = "pipetune-managed"
LABEL_FINGERPRINT = "pipetune-fingerprint"


def check(spec: TuningSpec, opts: VertexOptions) -> None:
    """What only mode 1 refuses: Vertex runs the trial, so it must be a container command
    reporting through hypertune."""
    from pipetune.secrets import described_secrets

    problems = described_secrets(spec, "a Vertex AI custom job's container env", "Secret Manager")
    if opts.container is None and opts.python_package is None:
        problems.append(("vertex.container", "mode hyperparameter_tuning_job needs "
                         "vertex.container (image_uri) or vertex.python_package"))
    if opts.container is not None and opts.python_package is not None:
        problems.append(("vertex.python_package", "give vertex.container or "
                         "vertex.python_package, not both"))
    if spec.trial.callable is not None and opts.container is not None and not opts.container.command:
        problems.append(("vertex.container.command", "trial.callable cannot run in a Vertex "
                         "container; give the container's command"))
    if spec.resolved_metric_source() != "hypertune":
        problems.append(("trial.metric_source", "Vertex reads trial metrics only from "
                         "cloudml-hypertune; use metric_source: hypertune (and contract: "
                         "vertex), or vertex.mode: vizier to scrape logs on your own workers"))
    if spec.trial.contract not in ("vertex", "args"):
        problems.append(("trial.contract", f"Vertex passes --name=value arguments; "
                         f"{spec.trial.contract!r} cannot be honoured, use vertex"))
    for name, where in spec.trial.channels.items():
        if not where.startswith("gs://"):
            problems.append((f"trial.channels.{name}", f"Vertex AI trials read data from Cloud "
                             f"Storage; {where!r} is not a gs:// URI: give one (the trial gets "
                             f"it as PIPETUNE_CHANNEL_{env_name(name)})"))
    if spec.warm_start is not None:
        problems.append(("warm_start", "a HyperparameterTuningJob cannot be seeded with earlier "
                         "trials; use vertex.mode: vizier"))
    for field in ("target_value", "no_improvement_trials", "timeout", "max_cost_usd"):
        if getattr(spec.budget, field) is not None:
            problems.append((f"budget.{field}", "a HyperparameterTuningJob has no such stopping "
                             "rule; remove it or use vertex.mode: vizier"))
    if problems:
        raise SpecError(problems)


def labels(spec: TuningSpec, opts: VertexOptions) -> dict[str, str]:
    """The tuning job's labels: the user's ``vertex.labels``, then pipetune's managed marker
    and the spec's fingerprint (``launch`` finds and checks a job by them), which win."""
    return {**opts.labels, LABEL_MANAGED: "true", LABEL_FINGERPRINT: spec.fingerprint()}


def build_hp_job(spec: TuningSpec, opts: VertexOptions, display_name: str) -> HyperparameterTuningJob:
    """The job to create; validation has already happened."""
    static_args = [f"--{k}={render_value(v)}" for k, v in spec.static.items()]
    machine = MachineSpec(machine_type=opts.machine_type)
    if opts.accelerator_type:
        machine.accelerator_type = opts.accelerator_type
        machine.accelerator_count = opts.accelerator_count
    pool = WorkerPoolSpec(machine_spec=machine, replica_count=opts.replica_count)
    trial_env = {**spec.trial.env, **channel_env(spec.trial.channels)}
    if opts.container is not None:
        c = opts.container
        pool.container_spec = ContainerSpec(
            image_uri=c.image_uri, command=list(c.command or spec.trial.command or []),
            args=[*c.args, *static_args], env=_env({**trial_env, **c.env}))
    else:
        p = opts.python_package
        assert p is not None
        pool.python_package_spec = PythonPackageSpec(
            executor_image_uri=p.executor_image_uri, package_uris=list(p.package_uris),
            python_module=p.python_module, args=[*p.args, *static_args],
            env=_env({**trial_env, **p.env}))
    job_spec = CustomJobSpec(worker_pool_specs=[pool])
    if opts.service_account:
        job_spec.service_account = opts.service_account
    if opts.network:
        job_spec.network = opts.network
    if opts.base_output_directory:
        job_spec.base_output_directory = {"output_uri_prefix": opts.base_output_directory}
    if spec.budget.trial_timeout or opts.spot:
        job_spec.scheduling = Scheduling(
            timeout={"seconds": int(spec.budget.trial_timeout)} if spec.budget.trial_timeout else None,
            strategy=Scheduling.Strategy.SPOT if opts.spot else Scheduling.Strategy.STRATEGY_UNSPECIFIED)
    job = HyperparameterTuningJob(
        display_name=display_name,
        study_spec=build_study_spec(spec, opts),
        max_trial_count=spec.budget.max_trials,
        parallel_trial_count=spec.budget.max_parallel,
        max_failed_trial_count=spec.budget.effective_max_failed,
        trial_job_spec=job_spec,
        labels=labels(spec, opts),
    )
    if opts.encryption_key:
        job.encryption_spec = EncryptionSpec(kms_key_name=opts.encryption_key)
    return job


def _env(values: dict[str, str]) -> list[EnvVar]:
    return [EnvVar(name=k, value=v) for k, v in values.items()]
