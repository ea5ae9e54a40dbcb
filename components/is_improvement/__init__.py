"""Compare a new objective value with a baseline; a bool for ``dsl.If``."""

from pipetune.components.is_improvement.component import is_improvement

__all__ = ["is_improvement"]
