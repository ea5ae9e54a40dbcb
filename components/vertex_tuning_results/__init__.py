"""gcpc interop: typed best parameters and trials from HyperparameterTuningJobRunOp."""

from pipetune.components.vertex_tuning_results.component import vertex_tuning_results

__all__ = ["vertex_tuning_results"]
