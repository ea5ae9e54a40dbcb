"""Trial contracts: lay out what a training container would give the script.

- ``args``: ``--name=value`` arguments.
- ``env``: one variable per hyperparameter, ``HP_<NAME>`` (``learning_rate`` -> ``HP_LEARNING_RATE``).
- ``sagemaker``: the SageMaker training toolkit's script mode: ``--name value`` arguments, a
  per-trial directory that mirrors ``/opt/ml`` (``input/config/hyperparameters.json``,
  ``input/data/<channel>``, ``model``, ``output/data``, ``checkpoints``) and the ``SM_*``
  variables pointing into it.
- ``vertex``: ``--name=value`` arguments, ``CLOUD_ML_HP_METRIC_FILE`` (read by
  ``cloudml-hypertune``), ``CLOUD_ML_TRIAL_ID`` and the ``AIP_*`` directories.

Every contract also sets ``PIPETUNE_TRIAL_DIR`` and ``PIPETUNE_TRIAL_NUMBER``, and every
contract but ``sagemaker`` gives each input channel as ``PIPETUNE_CHANNEL_<NAME>`` (and as
Vertex's ``AIP_*_DATA_URI`` for train, validation, test), as the Vertex backend sends them.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipetune.secrets import REDACTED
from pipetune.spec import TuningSpec


_base_environment: dict[str, str] | None = None


def set_base_environment(env: "dict[str, str] | None") -> None:
    """Start every trial from ``env`` instead of this process's environment (``None``: back
    to ``os.environ``). The GitHub step uses it so pull-request code never sees the runner's
    token (:func:`pipetune.github.env.isolated_trials`)."""
    global _base_environment
    _base_environment = None if env is None else dict(env)


def base_environment() -> dict[str, str]:
    """The environment a trial starts from, before ``trial.env`` and the contract's variables."""
    return dict(os.environ if _base_environment is None else _base_environment)


@dataclass
class PreparedTrial:
    """What a trial's contract set up before it runs: the ``argv``, ``env`` and ``cwd`` to
    run it with, its directory, the file its hypertune metrics go to (if any), where its
    model is written, and contract-specific paths in ``extra``."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    trial_dir: Path
    metric_file: Path | None = None
    artifacts: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def contract_uses_channel_env(contract: str) -> bool:
    """Every contract but ``sagemaker`` (its channels are folders under ``/opt/ml``)."""
    return contract != "sagemaker"


def render_value(value: Any) -> str:
    """How a hyperparameter is written on a command line: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_name(name: str, prefix: str = "") -> str:
    """``name`` as an environment variable name: upper case, every character but letters and
    digits replaced by ``_``, after ``prefix``."""
    return prefix + "".join(c if c.isalnum() else "_" for c in name).upper()


#: channel names Vertex AI itself gives a variable (as it does for a managed dataset's splits)
AIP_DATA = {"train": "AIP_TRAINING_DATA_URI", "training": "AIP_TRAINING_DATA_URI",
            "validation": "AIP_VALIDATION_DATA_URI", "test": "AIP_TEST_DATA_URI"}


def channel_env(channels: dict[str, str]) -> dict[str, str]:
    """Input channels as environment variables, for every contract but ``sagemaker`` (which
    has ``SM_CHANNEL_<NAME>``) and for Vertex AI's container: ``PIPETUNE_CHANNEL_<NAME>``,
    and for the names train/training, validation, test also Vertex's own
    ``AIP_TRAINING_DATA_URI``, ``AIP_VALIDATION_DATA_URI``, ``AIP_TEST_DATA_URI``.

    Example:
        >>> channel_env({"train": "gs://b/train/", "extra-feats": "gs://b/f/"})
        {'PIPETUNE_CHANNEL_TRAIN': 'gs://b/train/', 'AIP_TRAINING_DATA_URI': 'gs://b/train/', \
'PIPETUNE_CHANNEL_EXTRA_FEATS': 'gs://b/f/'}
    """
    out: dict[str, str] = {}
    for name, where in channels.items():
        out[env_name(name, "PIPETUNE_CHANNEL_")] = where
        if name.lower() in AIP_DATA:
            out[AIP_DATA[name.lower()]] = where
    return out


def _local_channels(spec: TuningSpec, cwd: str) -> dict[str, str]:
    """``trial.channels`` with relative paths made absolute against the trial's workdir."""
    return {name: where if "://" in where or os.path.isabs(where) else os.path.join(cwd, where)
            for name, where in spec.trial.channels.items()}


def prepare(spec: TuningSpec, params: dict[str, Any], trial_dir: Path, number: int) -> PreparedTrial:
    """Lay out ``trial_dir`` for ``spec.trial.contract`` and build argv and environment.

    ``params`` holds the tuned values and the static ones, already typed.
    """
    assert spec.trial.command is not None
    trial = spec.trial
    cwd = os.path.abspath(trial.workdir or ".")
    env = base_environment()
    # a spec read back from storage or a handle holds REDACTED for its secrets: the trial
    # then inherits the variable from this process (pipetune.secrets)
    env.update({k: v for k, v in trial.env.items() if v != REDACTED})
    env["PIPETUNE_TRIAL_DIR"] = str(trial_dir)
    env["PIPETUNE_TRIAL_NUMBER"] = str(number)
    if contract_uses_channel_env(trial.contract):
        env.update(channel_env(_local_channels(spec, cwd)))
    argv = list(trial.command)
    if argv[0] in ("python", "python3"):
        # "python" means the interpreter running pipetune, so a trial sees the same packages
        # whether pipetune was started from an activated venv or by its full path.
        argv[0] = sys.executable
    contract = trial.contract
    if contract == "args":
        argv += [f"--{k}={render_value(v)}" for k, v in params.items()]
        return PreparedTrial(argv, env, cwd, trial_dir, artifacts=trial_dir)
    if contract == "env":
        env.update({env_name(k, "HP_"): render_value(v) for k, v in params.items()})
        return PreparedTrial(argv, env, cwd, trial_dir, artifacts=trial_dir)
    if contract == "sagemaker":
        return _sagemaker(spec, params, trial_dir, number, argv, env, cwd)
    if contract == "vertex":
        return _vertex(params, trial_dir, number, argv, env, cwd)
    raise ValueError(f"unknown contract {contract!r}")


def _sagemaker(spec, params, trial_dir, number, argv, env, cwd) -> PreparedTrial:
    ml = trial_dir / "opt_ml"
    config = ml / "input" / "config"
    model = ml / "model"
    output = ml / "output"
    output_data = output / "data"
    checkpoints = ml / "checkpoints"
    for d in (config, model, output_data, checkpoints, ml / "code"):
        d.mkdir(parents=True, exist_ok=True)
    # The CreateTrainingJob API carries hyperparameters as a map of strings.
    hps_strings = {k: render_value(v) for k, v in params.items()}
    (config / "hyperparameters.json").write_text(json.dumps(hps_strings, indent=1))
    channels: dict[str, str] = {}
    data_root = ml / "input" / "data"
    data_root.mkdir(parents=True, exist_ok=True)
    for name, source in spec.trial.channels.items():
        local = data_root / name
        target = Path(source if os.path.isabs(source) else os.path.join(cwd, source))
        if not local.exists():
            local.symlink_to(target.resolve(), target_is_directory=target.is_dir())
        channels[name] = str(local)
    input_data_config = {name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                                "RecordWrapperType": "None"} for name in channels}
    (config / "inputdataconfig.json").write_text(json.dumps(input_data_config, indent=1))
    resource = {"current_host": "algo-1", "hosts": ["algo-1"], "current_group_name": "homogeneousCluster",
                "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resource, indent=1))
    user_args = []
    for k, v in params.items():
        user_args += [f"--{k}", render_value(v)]
    module_name = Path(argv[-1]).stem if argv[-1].endswith(".py") else ""
    training_env = {
        "hyperparameters": params, "channel_input_dirs": channels, "model_dir": str(model),
        "output_data_dir": str(output_data), "output_dir": str(output), "input_dir": str(ml / "input"),
        "input_config_dir": str(config), "current_host": "algo-1", "hosts": ["algo-1"],
        "num_cpus": os.cpu_count() or 1, "num_gpus": 0, "job_name": f"trial-{number}",
        "input_data_config": input_data_config, "resource_config": resource, "log_level": 20,
        "network_interface_name": "eth0", "module_dir": str(ml / "code"),
        "module_name": module_name, "framework_module": None, "user_entry_point": argv[-1],
    }
    env.update({
        "SM_HPS": json.dumps(params),
        "SM_MODEL_DIR": str(model),
        "SM_OUTPUT_DIR": str(output),
        "SM_OUTPUT_DATA_DIR": str(output_data),
        "SM_INPUT_DIR": str(ml / "input"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_CHECKPOINT_DIR": str(checkpoints),
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_MODULE_DIR": str(ml / "code"),
        "SM_USER_ARGS": json.dumps(user_args),
        "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_FRAMEWORK_PARAMS": "{}",
        "SM_LOG_LEVEL": "20",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_MODULE_NAME": module_name,
    })
    # The training toolkit names these "SM_HP_" + name.upper(), keeping '-' and '.'.
    for k, v in params.items():
        env["SM_HP_" + k.upper()] = render_value(v)
    for name, path in channels.items():
        env["SM_CHANNEL_" + name.upper()] = path
    return PreparedTrial(argv + user_args, env, cwd, trial_dir, artifacts=model,
                         extra={"opt_ml": str(ml)})


def _vertex(params, trial_dir, number, argv, env, cwd) -> PreparedTrial:
    metric_file = trial_dir / "hypertune" / "output.metrics"
    metric_file.parent.mkdir(parents=True, exist_ok=True)
    model = trial_dir / "model"
    checkpoints = trial_dir / "checkpoints"
    tensorboard = trial_dir / "logs"
    for d in (model, checkpoints, tensorboard):
        d.mkdir(parents=True, exist_ok=True)
    env.update({
        "CLOUD_ML_HP_METRIC_FILE": str(metric_file),
        "CLOUD_ML_TRIAL_ID": str(number),
        "AIP_MODEL_DIR": str(model),
        "AIP_CHECKPOINT_DIR": str(checkpoints),
        "AIP_TENSORBOARD_LOG_DIR": str(tensorboard),
    })
    env.setdefault("AIP_TRAINING_DATA_URI", "")
    argv += [f"--{k}={render_value(v)}" for k, v in params.items()]
    return PreparedTrial(argv, env, cwd, trial_dir, metric_file=metric_file, artifacts=model)
