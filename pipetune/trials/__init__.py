"""Running one trial: contracts (how hyperparameters reach the script), metric sources
(how results come back), process control (timeouts, stop, kill)."""

from pipetune.trials.runner import TrialContext, TrialOutcome, TrialPruned, run_trial

__all__ = ["TrialContext", "TrialOutcome", "TrialPruned", "run_trial"]
