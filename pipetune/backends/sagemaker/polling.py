"""How the SageMaker backend reads error codes and polls a job until it ends.

One convention for every wait (tuning jobs and single training jobs): the first poll
after ``min(poll_seconds, 5)`` seconds, then 1.5x longer each time up to ``poll_seconds``,
each sleep jittered by +-20 %; throttling errors are retried (up to 8 in a row, with
exponential backoff); any other error is raised.
"""

from __future__ import annotations

import random
import time
from typing import Callable, Iterator, TypeVar

from pipetune.errors import WaitTimeout

THROTTLING = {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
              "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException"}
NOT_FOUND = {"ResourceNotFound", "ResourceNotFoundException"}
MAX_THROTTLED = 8

T = TypeVar("T")


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def polled(fetch: Callable[[], T], *, poll_seconds: float, timeout: float | None,
           still: Callable[[T], str]) -> Iterator[T]:
    """Yield ``fetch()`` again and again with the backend's backoff and jitter.

    The caller stops iterating when it has seen enough; after ``timeout`` seconds
    :class:`WaitTimeout` is raised with ``still(last value)`` (e.g. "job 'x' still running").
    """
    start = time.monotonic()
    delay = min(poll_seconds, 5.0)
    throttled = 0
    while True:
        try:
            value = fetch()
        except Exception as exc:
            if error_code(exc) not in THROTTLING or throttled >= MAX_THROTTLED:
                raise
            throttled += 1
            time.sleep(min(poll_seconds, 0.5 * 2 ** throttled) * random.uniform(0.5, 1.0))
            continue
        throttled = 0
        yield value
        if timeout is not None and time.monotonic() - start > timeout:
            raise WaitTimeout(f"{still(value)} after {timeout:.0f}s")
        time.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(poll_seconds, delay * 1.5)

