"""Wait for a tuning job to end; fail the step unless it completed."""

from pipetune.components.wait_for_tuning.component import wait_for_tuning

__all__ = ["wait_for_tuning"]
