"""One worker of a ParallelFor fan-out on a shared study."""

from pipetune.components.tuning_worker.component import tuning_worker

__all__ = ["tuning_worker"]
