"""Launch a tuning job (any backend) and output its JSON handle."""

from pipetune.components.launch_tuning.component import launch_tuning

__all__ = ["launch_tuning"]
