"""KFP components (imported as pipetune.components).

Lightweight Python components that run on the pipetune component image (``make image``;
one setting, ``$PIPETUNE_IMAGE``: see :mod:`pipetune.components._image`) and call its core.
:func:`compile_pipeline` compiles a pipeline to YAML that loads back.

Example:
    >>> from pipetune.components import launch_tuning, wait_for_tuning, get_best_hyperparameters
"""

from pipetune.components._compile import compile_pipeline
from pipetune.components._image import IMAGE, pipetune_component
from pipetune.components.get_best_hyperparameters import get_best_hyperparameters
from pipetune.components.is_improvement import is_improvement
from pipetune.components.launch_tuning import launch_tuning
from pipetune.components.prepare_shared_study import prepare_shared_study
from pipetune.components.sample_dataset import sample_dataset
from pipetune.components.tuning_worker import tuning_worker
from pipetune.components.vertex_tuning_results import vertex_tuning_results
from pipetune.components.wait_for_tuning import wait_for_tuning

#: The components, by name.
COMPONENTS = (
    "get_best_hyperparameters", "is_improvement", "launch_tuning", "prepare_shared_study",
    "sample_dataset", "tuning_worker", "vertex_tuning_results", "wait_for_tuning",
)

__all__ = [*COMPONENTS, "COMPONENTS", "IMAGE", "compile_pipeline", "pipetune_component"]
