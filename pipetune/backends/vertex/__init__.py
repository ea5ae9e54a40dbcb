"""The Vertex AI backend: ``HyperparameterTuningJob`` (Vertex runs the trials) or a Vizier
study served by ``pipetune vertex-worker`` processes. Needs ``pipetune[gcp]``: importing
this package without it raises :class:`~pipetune.errors.MissingExtra`, whichever module of
it is asked for first."""

from pipetune.extras import require

require("google.cloud.aiplatform_v1", feature="the Vertex AI backend", extra="gcp",
        package="google-cloud-aiplatform")

from pipetune.backends.vertex.backend import VertexBackend  # noqa: E402

__all__ = ["VertexBackend"]
