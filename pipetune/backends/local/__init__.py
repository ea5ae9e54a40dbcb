"""The embedded local engine: Optuna as the brain, trials as local processes."""

from pipetune.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
