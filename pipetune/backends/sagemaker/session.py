"""AWS sessions and clients for the SageMaker backend, built in one place.

Here, and only here, the ``aws`` extra and the credentials are checked: a missing boto3 is a
:class:`~pipetune.errors.MissingExtra`, missing or unloadable credentials a
:class:`~pipetune.errors.CredentialsError` that says how to provide them. Both exit 2 on
the CLI with one line, before any call reaches AWS.

Example::

    from pipetune.backends.sagemaker.session import aws_client

    sm = aws_client(None, "sagemaker", region="us-east-1")   # the standard credential chain
"""

from __future__ import annotations

from typing import Any, Callable

from pipetune.errors import CredentialsError
from pipetune.extras import require

#: How to give pipetune AWS credentials; ends every credentials error.
AWS_CREDENTIALS_HELP = ("set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                        "or run `aws configure` (`aws sso login` for an SSO profile)")

#: botocore's errors that mean "the credentials could not be found or loaded".
_CREDENTIAL_ERRORS = (
    "NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
    "TokenRetrievalError", "SSOError", "SSOTokenLoadError", "UnauthorizedSSOTokenError",
    "RefreshWithMFAUnsupportedError", "MetadataRetrievalError", "NoAuthTokenError",
    "UnknownCredentialError", "LoginTokenLoadError", "ProfileNotFound", "ConfigNotFound",
    "ConfigParseError", "InvalidConfigError",
)


def require_aws(feature: str = "the SageMaker backend") -> None:
    """Raise :class:`~pipetune.errors.MissingExtra` unless boto3 and botocore import."""
    for module in ("boto3", "botocore"):
        require(module, feature=feature, extra="aws")


def credential_errors() -> tuple[type[Exception], ...]:
    """The botocore exception classes that mean missing or unloadable credentials."""
    import botocore.exceptions as bexc

    return tuple(getattr(bexc, n) for n in _CREDENTIAL_ERRORS if hasattr(bexc, n))


def as_credentials_error(exc: Exception) -> CredentialsError:
    """One line for a botocore credentials error, naming the fix."""
    detail = " ".join(str(exc).split())
    if type(exc).__name__ == "NoCredentialsError":
        return CredentialsError(f"no AWS credentials found: {AWS_CREDENTIALS_HELP}")
    return CredentialsError(f"AWS credentials could not be loaded ({detail}): {AWS_CREDENTIALS_HELP}")


def default_session(session: Any = None) -> Any:
    """``session``, or a new ``boto3.Session`` on the standard chain (``AWS_PROFILE``...)."""
    require_aws()
    if session is not None:
        return session
    import boto3

    try:
        return boto3.Session()
    except credential_errors() as exc:  # e.g. AWS_PROFILE names a profile that is not there
        raise as_credentials_error(exc) from None


def frozen_credentials(session: Any) -> Any:
    """The session's current credentials (refreshed if due), or :class:`CredentialsError`."""
    try:
        creds = session.get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except credential_errors() as exc:
        raise as_credentials_error(exc) from None
    if frozen is None or not frozen.access_key:
        raise CredentialsError(f"no AWS credentials found: {AWS_CREDENTIALS_HELP}")
    return frozen


def aws_client(session: Any, service: str, *, region: str, endpoint_url: str | None = None,
               config: Any = None) -> Any:
    """A boto3 client of ``service`` whose credentials were found before it is returned, and
    whose credential refreshes (an SSO token or assumed role expiring during a long wait)
    fail with :class:`CredentialsError` too."""
    session = default_session(session)
    frozen_credentials(session)
    client = session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
    client.meta.events.register("before-sign", _refresh_check(session))
    return client


def _refresh_check(session: Any) -> Callable[..., None]:
    def check(**_: Any) -> None:
        frozen_credentials(session)

    return check


__all__ = ["AWS_CREDENTIALS_HELP", "as_credentials_error", "aws_client", "credential_errors",
           "default_session", "frozen_credentials", "require_aws"]
