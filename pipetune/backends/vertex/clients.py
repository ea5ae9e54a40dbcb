"""The Vertex AI API clients (GAPIC, gRPC over TLS) and their errors as pipetune's.

Credentials are resolved here before any call: Application Default Credentials unless the
caller passed some. None found, or credentials that cannot be
refreshed, is a :class:`~pipetune.errors.CredentialsError` that says how to log in.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exc
from google.cloud.aiplatform_v1.services.job_service import JobServiceAsyncClient, JobServiceClient
from google.cloud.aiplatform_v1.services.vizier_service import VizierServiceClient

from pipetune.errors import CredentialsError, JobNotFound, PipetuneError

#: How to give pipetune Google Cloud credentials; ends every credentials error.
GCP_CREDENTIALS_HELP = ("run `gcloud auth application-default login`, or set "
                        "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run "
                        "on Google Cloud with a service account attached")
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_PLUGIN_FAILED = "Getting metadata from plugin failed"  # gRPC's words when a refresh fails


class VertexAPIError(PipetuneError):
    """Vertex AI refused a call (permissions, quota, ...); the message is Vertex's own."""


def endpoint(location: str, api_endpoint: str | None) -> str:
    """The Vertex AI API endpoint: ``api_endpoint`` when given (a test server, a private
    endpoint), else the regional ``{location}-aiplatform.googleapis.com``."""
    return api_endpoint or f"{location}-aiplatform.googleapis.com"


def resolve_credentials(credentials: Any = None) -> Any:
    """``credentials``, or Application Default Credentials; :class:`CredentialsError` when
    there are none (no key file, no ``gcloud`` login, no metadata server)."""
    if credentials is not None:
        return credentials
    import google.auth

    try:
        found, _project = google.auth.default(default_scopes=_SCOPES)  # as the GAPIC client would
    except auth_exc.DefaultCredentialsError as exc:
        detail = " ".join(str(exc).split())
        if "default credentials were not found" in detail.lower():  # google.auth's generic text
            detail = "no key file, no gcloud login, no metadata server"
        raise CredentialsError(f"no Google Cloud credentials found ({detail}): "
                               f"{GCP_CREDENTIALS_HELP}") from None
    return found


def job_client(location: str, credentials: Any, api_endpoint: str | None) -> JobServiceClient:
    """A ``JobServiceClient`` for ``location`` at :func:`endpoint`.

    Raises:
        CredentialsError: no ``credentials`` given and none found by Application Default
            Credentials.
    """
    return JobServiceClient(credentials=resolve_credentials(credentials),
                            client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


def job_async_client(location: str, credentials: Any, api_endpoint: str | None) -> JobServiceAsyncClient:
    """A ``JobServiceAsyncClient`` for ``location`` at :func:`endpoint`.

    Raises:
        CredentialsError: no ``credentials`` given and none found by Application Default
            Credentials.
    """
    return JobServiceAsyncClient(
        credentials=resolve_credentials(credentials),
        client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


def vizier_client(location: str, credentials: Any, api_endpoint: str | None) -> VizierServiceClient:
    """A ``VizierServiceClient`` for ``location`` at :func:`endpoint`.

    Raises:
        CredentialsError: no ``credentials`` given and none found by Application Default
            Credentials.
    """
    return VizierServiceClient(credentials=resolve_credentials(credentials),
                               client_options=ClientOptions(api_endpoint=endpoint(location, api_endpoint)))


@contextlib.contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Vertex's errors as pipetune's: not found -> JobNotFound, credentials that cannot be
    refreshed -> CredentialsError, the rest -> VertexAPIError."""
    try:
        yield
    except auth_exc.RefreshError as exc:
        raise _refresh_failed(exc) from None
    except gexc.NotFound as exc:
        raise JobNotFound(f"{what}: not found on Vertex AI ({exc.message})") from None
    except gexc.GoogleAPICallError as exc:
        if _PLUGIN_FAILED in (exc.message or ""):
            raise _refresh_failed(exc) from None
        raise VertexAPIError(f"{what}: Vertex AI said {exc.code.name if exc.code else ''} "
                             f"{exc.message}") from None


def _refresh_failed(exc: Exception) -> CredentialsError:
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())
    return CredentialsError(f"Google Cloud credentials could not be refreshed ({detail}): "
                            f"{GCP_CREDENTIALS_HELP}")
