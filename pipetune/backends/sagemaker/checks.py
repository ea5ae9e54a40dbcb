"""What SageMaker AMT would refuse, refused before any call, naming the field.

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"backend": "sagemaker",
    ...     "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "metrics": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
    ...     "trial": {"command": ["python", "train.py"]},
    ...     "budget": {"max_trials": 1000},
    ...     "sagemaker": {"role_arn": "arn:aws:iam::123456789012:role/R",
    ...                   "image": "img", "output_path": "s3://b/o"}})
    >>> try:
    ...     validated_options(spec)
    ... except Exception as exc:
    ...     print(exc)
    invalid spec: budget.max_trials: SageMaker runs at most 750 training jobs per tuning job, got 1000
"""

from __future__ import annotations

import re

from pipetune.backends.sagemaker.naming import check_exact_name, tuning_job_name
from pipetune.backends.sagemaker import source
from pipetune.backends.sagemaker.options import CHANNEL_RE, SageMakerOptions, parse_options
from pipetune.backends.sagemaker.translate import (
    channels,
    environment,
    grid_values,
    max_runtime,
    needs_categorical,
)
from pipetune.errors import SpecError
from pipetune.secrets import described_secrets
from pipetune.spec import TuningSpec

MAX_TUNED = 30
MAX_CATEGORICAL_VALUES = 30
MAX_TRAINING_JOBS = 750
MAX_PARALLEL = 100
MAX_METRICS = 40
MAX_REGEX = 500
MAX_STATIC = 100
MAX_PARENTS = 5
MAX_USER_TAGS = 47  # AMT allows 50; pipetune keeps three for itself
MIN_JOB_RUNTIME, MAX_JOB_RUNTIME = 120, 15_768_000
MAX_ENV, MAX_ENV_VALUE = 48, 512
ENV_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def validated_options(spec: TuningSpec) -> SageMakerOptions:
    """Parse ``spec.sagemaker`` and check the whole spec against AMT's rules."""
    opts = parse_options(spec.sagemaker)
    problems: list[tuple[str, str]] = []
    _objectives(spec, problems)
    _parameters(spec, opts, problems)
    _strategy(spec, opts, problems)
    _budget(spec, problems)
    _training(spec, opts, problems)
    _warm_start(spec, problems)
    problems += described_secrets(spec, "SageMaker's Environment", "AWS Secrets Manager")
    if problems:
        raise SpecError(problems)
    return opts


def _objectives(spec: TuningSpec, problems: list) -> None:
    if spec.multi_objective:
        problems.append(("objectives", f"SageMaker AMT tunes one objective, got {len(spec.objectives)}; "
                         "keep one, or use the local backend for several"))
    if spec.resolved_metric_source() != "regex":
        problems.append(("trial.metric_source", "SageMaker reads metrics from the training log by "
                         f"regex only (got {spec.resolved_metric_source()!r}); give metrics with a "
                         "regex and set trial.metric_source: regex"))
    if spec.measurement != "final":
        problems.append(("measurement", f"SageMaker scores a training job by the last match of "
                         f"its objective's regex; {spec.measurement!r} cannot be honoured, use "
                         "final (or the local or Vertex backend)"))
    if spec.trial.contract in ("env", "vertex"):
        problems.append(("trial.contract", f"SageMaker gives a training script script mode's "
                         f"arguments, hyperparameters.json and SM_* variables; "
                         f"{spec.trial.contract!r} cannot be honoured: use sagemaker (or args)"))
    if len(spec.metrics) > MAX_METRICS:
        problems.append(("metrics", f"SageMaker allows at most {MAX_METRICS} metric definitions, "
                         f"got {len(spec.metrics)}"))
    for i, m in enumerate(spec.metrics):
        if len(m.regex) > MAX_REGEX:
            problems.append((f"metrics[{i}].regex", f"SageMaker allows at most {MAX_REGEX} "
                             f"characters, got {len(m.regex)}"))


def _parameters(spec: TuningSpec, opts: SageMakerOptions, problems: list) -> None:
    if len(spec.parameters) > MAX_TUNED:
        problems.append(("parameters", f"SageMaker tunes at most {MAX_TUNED} hyperparameters, got "
                         f"{len(spec.parameters)}; move some to static"))
    for i, p in enumerate(spec.parameters):
        if p.condition is not None and opts.conditional_parameters == "error":
            problems.append((f"parameters[{i}].condition", "SageMaker AMT has no conditional "
                             "parameters; remove the condition, or set "
                             "sagemaker.conditional_parameters: flatten to tune it always and drop "
                             "it from results where its condition does not hold"))
        if needs_categorical(spec, p):
            values = grid_values(p)
            if values is None:
                problems.append((f"parameters[{i}].step", "grid search on SageMaker needs a step "
                                 "for a continuous parameter"))
            elif len(values) > MAX_CATEGORICAL_VALUES:
                problems.append((f"parameters[{i}]", f"becomes a categorical list of {len(values)} "
                                 f"values on SageMaker, which allows at most {MAX_CATEGORICAL_VALUES}; "
                                 "use a larger step or fewer values"))
    names = {p.name for p in spec.parameters}
    for j, d in enumerate(opts.definitions):
        unknown = sorted(set(d.parameters or []) - names)
        if unknown:
            problems.append((f"sagemaker.definitions[{j}].parameters",
                             f"{unknown} are not parameters; valid: {sorted(names)}"))
    if len(spec.static) + 2 > MAX_STATIC:
        problems.append(("static", f"SageMaker allows at most {MAX_STATIC} static hyperparameters "
                         "(two are taken by script mode)"))


def _strategy(spec: TuningSpec, opts: SageMakerOptions, problems: list) -> None:
    if spec.strategy in ("cmaes", "nsga2"):
        problems.append(("strategy", f"{spec.strategy!r} is not available on SageMaker; valid: "
                         "auto, tpe or gp (Bayesian), random, grid, hyperband"))
    if spec.strategy == "hyperband":
        if spec.early_stopping.max_resource == "auto":
            problems.append(("early_stopping.max_resource", "Hyperband on SageMaker needs an integer "
                             "max_resource (e.g. the number of epochs), not 'auto'"))
        elif spec.early_stopping.max_resource < spec.early_stopping.min_resource:
            problems.append(("early_stopping.max_resource", "must be >= early_stopping.min_resource"))
        if opts.early_stopping == "auto":
            problems.append(("sagemaker.early_stopping", "must be off with strategy hyperband, "
                             "which stops trials itself"))


def _budget(spec: TuningSpec, problems: list) -> None:
    b = spec.budget
    if b.max_trials > MAX_TRAINING_JOBS and spec.strategy != "grid":
        problems.append(("budget.max_trials", f"SageMaker runs at most {MAX_TRAINING_JOBS} training "
                         f"jobs per tuning job, got {b.max_trials}"))
    if b.max_parallel > MAX_PARALLEL:
        problems.append(("budget.max_parallel", f"SageMaker runs at most {MAX_PARALLEL} training jobs "
                         f"at once per tuning job, got {b.max_parallel}"))
    if b.timeout is not None and not (MIN_JOB_RUNTIME <= b.timeout <= MAX_JOB_RUNTIME):
        problems.append(("budget.timeout", f"SageMaker needs {MIN_JOB_RUNTIME}..{MAX_JOB_RUNTIME} "
                         f"seconds, got {b.timeout}"))
    if b.no_improvement_trials is not None and b.no_improvement_trials < 3:
        problems.append(("budget.no_improvement_trials", "SageMaker needs at least 3"))


def _training(spec: TuningSpec, opts: SageMakerOptions, problems: list) -> None:
    if opts.job_name is not None:
        try:
            check_exact_name(opts.job_name, "sagemaker.job_name")
        except SpecError as exc:
            problems.extend(exc.problems)
    runtime = max_runtime(spec, opts)
    if opts.spot and opts.max_wait_seconds is not None and opts.max_wait_seconds < runtime:
        problems.append(("sagemaker.max_wait_seconds", f"must be >= the training runtime ({runtime} s)"))
    if opts.spot and opts.keep_alive_seconds:
        problems.append(("sagemaker.keep_alive_seconds", "warm pools do not work with managed spot "
                         "training; drop one of them"))
    if spec.budget.trial_timeout is not None and opts.max_runtime_seconds is None:
        problems.append(("budget.trial_timeout", "is the local engine's limit and is not sent to "
                         "SageMaker; set sagemaker.max_runtime_seconds (MaxRuntimeInSeconds of "
                         "each training job, download and setup included), or remove it"))
    for name, uri in spec.trial.channels.items():
        if not uri.startswith("s3://") and name not in opts.channels:
            problems.append((f"trial.channels.{name}", f"SageMaker reads input channels from S3; "
                             f"{uri!r} is not an s3:// URI: give one, or set "
                             f"sagemaker.channels.{name} to one (the local path then stays for "
                             "local runs)"))
        elif not CHANNEL_RE.match(name):
            problems.append((f"trial.channels.{name}", "a SageMaker channel name holds 1-64 "
                             "letters, digits, '.', '-', '_'"))
    if len(channels(spec, opts)) > 20:
        problems.append(("sagemaker.channels", "SageMaker allows at most 20 input channels"))
    _environment(spec, opts, problems)
    for where, t in [("sagemaker", opts), *((f"sagemaker.definitions[{j}]", d)
                                            for j, d in enumerate(opts.definitions))]:
        _source_dir(spec, t, f"{where}.source_dir", problems)
    if len(opts.tags) > MAX_USER_TAGS:
        problems.append(("sagemaker.tags", f"at most {MAX_USER_TAGS} tags (pipetune adds 3)"))
    if any(k.startswith("pipetune:") for k in opts.tags):
        problems.append(("sagemaker.tags", "keys starting with 'pipetune:' are reserved"))
    if spec.budget.max_cost_usd is not None:
        from pipetune.backends.sagemaker.cost import price_for

        for itype in {opts.instance_type, *(d.instance_type for d in opts.definitions if d.instance_type)}:
            if price_for(itype, opts.prices) is None:
                problems.append(("sagemaker.prices", f"no price known for {itype!r}; budget.max_cost_usd "
                                 f"needs one: add {{{itype}: <USD per hour>}}"))


def _environment(spec: TuningSpec, opts: SageMakerOptions, problems: list) -> None:
    for key, value in spec.trial.env.items():
        if not ENV_NAME_RE.match(key):
            problems.append((f"trial.env.{key}", "SageMaker environment variable names hold "
                             "letters, digits and '_', not starting with a digit"))
        elif len(value) > MAX_ENV_VALUE:
            problems.append((f"trial.env.{key}", f"SageMaker allows values of at most "
                             f"{MAX_ENV_VALUE} characters, got {len(value)}"))
    for j, d in enumerate([None, *opts.definitions]):
        count = len(environment(spec, opts, d))
        if count > MAX_ENV:
            problems.append(("trial.env", f"SageMaker allows at most {MAX_ENV} environment "
                             f"variables; trial.env and sagemaker.environment make {count}"))
            break


def _source_dir(spec: TuningSpec, t, field: str, problems: list) -> None:
    if not source.is_local(t.source_dir):
        return
    folder = source.local_path(spec, t.source_dir)
    if not folder.is_dir():
        problems.append((field, f"{str(folder)!r} is not a folder; give the folder holding "
                         "the entry point (it is packed to sourcedir.tar.gz and uploaded) or "
                         "the s3:// URI of a sourcedir.tar.gz"))
    elif t.entry_point and not (folder / t.entry_point).is_file():
        problems.append((field, f"has no entry point {t.entry_point!r} (looked in {folder})"))


def _warm_start(spec: TuningSpec, problems: list) -> None:
    if spec.warm_start is None:
        return
    parents = spec.warm_start.parents
    if len(parents) > MAX_PARENTS:
        problems.append(("warm_start.parents", f"SageMaker warm-starts from at most {MAX_PARENTS} "
                         f"parent jobs, got {len(parents)}"))
    for i, p in enumerate(parents):
        try:
            tuning_job_name(p, field=f"warm_start.parents[{i}]")
        except SpecError as exc:
            problems.extend(exc.problems)
