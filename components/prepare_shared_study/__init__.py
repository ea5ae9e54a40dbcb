"""Create a shared local-engine study before a fan-out of tuning workers."""

from pipetune.components.prepare_shared_study.component import prepare_shared_study

__all__ = ["prepare_shared_study"]
