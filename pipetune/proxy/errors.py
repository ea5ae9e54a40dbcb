"""The error a bad sampling request raises: it names the argument and what would be valid."""

from __future__ import annotations

from pipetune.errors import PipetuneError


class SamplingError(PipetuneError):
    """The sampling request cannot be met (bad fraction, missing column, unreadable file...).

    ``field`` names the argument (``fraction``, ``rows``, ``stratify``, ``source``, ``format``)
    or, when the request came from a spec, its path (``proxy.fraction``). Nothing is written
    when it is raised. Exit code 2 on the command line.
    """

    exit_code = 2

    def __init__(self, message: str, field: str):
        self.field = field
        self.message = message
        super().__init__(f"cannot sample: {field}: {message}")
