"""The Vertex AI backend: ``HyperparameterTuningJob`` (Vertex runs the trials) or a Vizier
study served by ``pipetune vertex-worker`` processes. Needs ``pipetune[gcp]``."""

from pipetune.backends.vertex.backend import VertexBackend

__all__ = ["VertexBackend"]
