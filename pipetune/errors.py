"""Exceptions pipetune raises. Each user-facing error says what to change."""

from __future__ import annotations


class PipetuneError(Exception):
    """Base class of every error pipetune raises on purpose."""

    exit_code = 1


class SpecError(PipetuneError):
    """The tuning spec (or a CLI argument standing for part of it) is invalid.

    ``problems`` is a list of ``(field, message)`` pairs; ``field`` is a dotted path such as
    ``parameters[1].max``.
    """

    exit_code = 2

    def __init__(self, problems: list[tuple[str, str]] | str, field: str | None = None):
        if isinstance(problems, str):
            problems = [(field or "spec", problems)]
        self.problems = problems
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            field, msg = self.problems[0]
            return f"invalid spec: {field}: {msg}"
        lines = [f"invalid spec ({len(self.problems)} problems):"]
        lines += [f"  - {field}: {msg}" for field, msg in self.problems]
        return "\n".join(lines)


class UsageError(PipetuneError):
    """A command was called in a way that cannot work (unknown job, wrong backend...)."""

    exit_code = 2


class JobNotFound(UsageError):
    """No job of that name exists for the backend."""


class JobConflict(UsageError):
    """A job of that name exists already with a different spec."""


class JobFailed(PipetuneError):
    """The tuning job ended in failure; ``reason`` carries the backend's words."""

    exit_code = 3

    def __init__(self, job: str, reason: str):
        self.job, self.reason = job, reason
        super().__init__(f"tuning job {job!r} failed: {reason}")


class JobStopped(PipetuneError):
    """The tuning job was stopped before it completed. Never a silent success."""

    exit_code = 4

    def __init__(self, job: str, reason: str = "stopped"):
        self.job, self.reason = job, reason
        super().__init__(f"tuning job {job!r} was stopped: {reason}")


class WaitTimeout(PipetuneError):
    """Waiting for a job took longer than the caller allowed; the job goes on."""

    exit_code = 5


class CredentialsError(UsageError):
    """A cloud backend found no credentials, or its SDK could not load them. The message
    names how to provide them (``aws configure``, ``gcloud auth application-default login``,
    the environment variables)."""


class MissingExtra(PipetuneError, ImportError):
    """An optional dependency is needed for what was asked; the message is the pip command.

    Raised by :func:`pipetune.extras.require`. It is also an :class:`ImportError`, so code
    that falls back when an import fails keeps working.
    """

    exit_code = 2

    def __init__(self, what: str, extra: str, module: str | None = None):
        self.what, self.extra, self.module = what, extra, module
        missing = module or "an optional dependency"
        super().__init__(f"missing {missing} for {what}: pip install 'pipetune[{extra}]'")
