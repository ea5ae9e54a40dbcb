"""Typed best hyperparameters, objective value, metrics and a report of a finished job."""

from pipetune.components.get_best_hyperparameters.component import get_best_hyperparameters

__all__ = ["get_best_hyperparameters"]
