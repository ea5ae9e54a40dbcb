"""pipetune: hyperparameter tuning as an ordinary pipeline step.

Example:
    >>> import pipetune
    >>> spec = pipetune.load_spec({
    ...     "parameters": [{"name": "x", "type": "continuous", "min": -3, "max": 3}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "trial": {"callable": "math:fabs"},
    ... })
    >>> spec.backend
    'local'
"""

from pipetune import runtime
from pipetune.backends import get_backend
from pipetune.errors import JobFailed, JobStopped, PipetuneError, SpecError
from pipetune.job import JobRef, JobState, JobStatus
from pipetune.results import BestResult, TrialRecord, cast_params
from pipetune.spec import TuningSpec, load_spec
from pipetune.trials import TrialContext, TrialPruned

__version__ = "0.1.0"

__all__ = [
    "BestResult", "JobFailed", "JobRef", "JobState", "JobStatus", "JobStopped", "PipetuneError",
    "SpecError", "TrialContext", "TrialPruned", "TrialRecord", "TuningSpec", "cast_params",
    "get_backend", "load_spec", "runtime",
]
