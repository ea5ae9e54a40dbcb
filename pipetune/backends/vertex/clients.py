"""The Vertex AI API clients (GAPIC, gRPC over TLS) and their errors as pipetune's."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.cloud.aiplatform_v1.services.job_service import JobServiceAsyncClient, JobServiceClient
from google.cloud.aiplatform_v1.services.vizier_service import VizierServiceClient

from pipetune.errors import JobNotFound, PipetuneError


class VertexAPIError(PipetuneError):
    """Vertex AI refused a call (permissions, quota, ...); the message is Vertex's own."""


def endpoint(location: str, api_endpoint: str | None) -> str:
    return api_endpoint or f"{location}-aiplatform.googleapis.com"


def job_client(location: str, credentials: Any, api_endpoint: str | None) -> JobServiceClient:
    return JobServiceClient(credentials=credentials,
                            client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


def job_async_client(location: str, credentials: Any, api_endpoint: str | None) -> JobServiceAsyncClient:
    return JobServiceAsyncClient(
        credentials=credentials,
        client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


def vizier_client(location: str, credentials: Any, api_endpoint: str | None) -> VizierServiceClient:
    return VizierServiceClient(credentials=credentials,
                               client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


@contextlib.contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Vertex's errors as pipetune's: not found -> JobNotFound, the rest -> VertexAPIError."""
    try:
        yield
    except gexc.NotFound as exc:
        raise JobNotFound(f"{what}: not found on Vertex AI ({exc.message})") from None
    except gexc.GoogleAPICallError as exc:
        raise VertexAPIError(f"{what}: Vertex AI said {exc.code.name if exc.code else ''} "
                             f"{exc.message}") from None
