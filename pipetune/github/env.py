"""The GitHub Actions environment a step runs in: variables and the event payload.

Everything GitHub tells a step arrives as environment variables (``GITHUB_REPOSITORY``,
``GITHUB_RUN_ID``, ``GITHUB_OUTPUT``...) and one JSON file, ``GITHUB_EVENT_PATH``. This
module reads them once into a :class:`GitHubEnv`; nothing else in pipetune reads
``os.environ`` for GitHub values, so tests build a ``GitHubEnv`` from a plain dict.

Example:
    >>> env = GitHubEnv.from_environ({"GITHUB_REPOSITORY": "acme/models", "GITHUB_RUN_ID": "42"})
    >>> env.run_url
    'https://github.com/acme/models/actions/runs/42'
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from pipetune.errors import UsageError


@dataclass(frozen=True)
class GitHubEnv:
    """What a workflow step knows about its run. ``token`` is never shown in ``repr``."""

    repository: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str | None = None
    run_attempt: str | None = None
    sha: str | None = None
    event_name: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    output_path: Path | None = None
    summary_path: Path | None = None
    workspace: Path | None = None
    runner_temp: Path | None = None
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "GitHubEnv":
        """Read the variables GitHub sets; missing ones stay ``None`` (a laptop run)."""
        e = os.environ if environ is None else environ

        def path(name: str) -> Path | None:
            return Path(e[name]) if e.get(name) else None

        return cls(
            repository=e.get("GITHUB_REPOSITORY") or None,
            api_url=(e.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            server_url=(e.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
            run_id=e.get("GITHUB_RUN_ID") or None,
            run_attempt=e.get("GITHUB_RUN_ATTEMPT") or None,
            sha=e.get("GITHUB_SHA") or None,
            event_name=e.get("GITHUB_EVENT_NAME") or None,
            event=_read_event(e.get("GITHUB_EVENT_PATH")),
            output_path=path("GITHUB_OUTPUT"),
            summary_path=path("GITHUB_STEP_SUMMARY"),
            workspace=path("GITHUB_WORKSPACE"),
            runner_temp=path("RUNNER_TEMP"),
            token=e.get("GITHUB_TOKEN") or None,
        )

    # ---- the run ----------------------------------------------------------------------------
    @property
    def in_actions(self) -> bool:
        """True when this runs in a GitHub Actions workflow (a run id and a repository are set)."""
        return self.run_id is not None and self.repository is not None

    @property
    def run_url(self) -> str | None:
        """Link to this workflow run (the attempt, when there were several)."""
        if not self.in_actions:
            return None
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        if self.run_attempt and self.run_attempt != "1":
            url += f"/attempts/{self.run_attempt}"
        return url

    # ---- the pull request ---------------------------------------------------------------------
    @property
    def pull_request(self) -> dict[str, Any] | None:
        """The event's ``pull_request`` object; None when the run was not triggered by one."""
        pr = self.event.get("pull_request")
        return pr if isinstance(pr, dict) else None

    @property
    def pr_number(self) -> int | None:
        """The pull request's number; None when the run was not triggered by one."""
        pr = self.pull_request
        if pr is None:
            return None
        number = pr.get("number", self.event.get("number"))
        return int(number) if number is not None else None

    @property
    def base_sha(self) -> str | None:
        """The commit of the base branch the pull request targets."""
        pr = self.pull_request
        return ((pr or {}).get("base") or {}).get("sha")

    @property
    def base_ref(self) -> str | None:
        """The name of the branch the pull request targets; None outside a pull request."""
        pr = self.pull_request
        return ((pr or {}).get("base") or {}).get("ref")

    @property
    def head_repository(self) -> str | None:
        """``owner/name`` of the repository the pull request's head lives in (another one for a
        fork); None outside a pull request."""
        pr = self.pull_request
        return (((pr or {}).get("head") or {}).get("repo") or {}).get("full_name")

    @property
    def from_fork(self) -> bool:
        """True when the pull request's head lives in another repository. Such runs get a
        read-only token and no secrets, so pipetune does not try to comment."""
        return self.pull_request is not None and self.head_repository != self.repository

    @property
    def default_branch(self) -> str | None:
        """The repository's default branch, from the event; None when the event does not say."""
        return (self.event.get("repository") or {}).get("default_branch")


#: Variables a trial may inherit from the runner: what programs need to start and find
#: their tools, never credentials. Names ending in ``*`` are prefixes.
TRIAL_ENV_ALLOWLIST = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TZ", "TERM",
    "TMPDIR", "TEMP", "TMP", "PWD", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH",
    "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
    "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "CI", "GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITHUB_REPOSITORY", "GITHUB_SHA",
    "GITHUB_REF", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME",
    "RUNNER_OS", "RUNNER_ARCH", "RUNNER_TEMP", "PIPETUNE_HOME", "PIPETUNE_HEARTBEAT_*",
)
#: Never given to a trial nor left in this process's environment, even when listed: the
#: workflow's token and the runner's own credentials (cache, artifacts, OIDC requests).
NEVER_TO_TRIALS = ("GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_*", "INPUT_*", "RUNNER_TOKEN")


def _matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def trial_environment(environ: Mapping[str, str], extra: tuple[str, ...] | list[str] = ()
                      ) -> dict[str, str]:
    """The variables of ``environ`` a pull request's trial may see: the allowlist plus
    ``extra`` names the workflow chose to pass, minus :data:`NEVER_TO_TRIALS`.

    Example:
        >>> trial_environment({"PATH": "/bin", "GITHUB_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "s",
        ...                    "WANDB_MODE": "offline"}, extra=["WANDB_MODE", "GITHUB_TOKEN"])
        {'PATH': '/bin', 'WANDB_MODE': 'offline'}
    """
    allowed = (*TRIAL_ENV_ALLOWLIST, *extra)
    return {k: v for k, v in environ.items()
            if _matches(k, allowed) and not _matches(k, NEVER_TO_TRIALS)}


@contextmanager
def isolated_trials(extra: tuple[str, ...] | list[str] = ()) -> Iterator[dict[str, str]]:
    """While the step runs pull-request code: trials start from :func:`trial_environment`,
    never from the runner's environment, and the token and the runner's credentials leave
    this process's environment too (a trial given as a Python callable runs in this
    process). Enter it after :meth:`GitHubEnv.from_environ` has read the token; on exit
    the process's environment is as before. Yields the trials' base environment."""
    from pipetune.trials.contracts import set_base_environment

    base = trial_environment(os.environ, extra)
    removed = {k: os.environ.pop(k) for k in list(os.environ) if _matches(k, NEVER_TO_TRIALS)}
    set_base_environment(base)
    try:
        yield base
    finally:
        set_base_environment(None)
        os.environ.update(removed)


def _read_event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"GITHUB_EVENT_PATH names a file that does not exist: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH ({path}) is not a readable JSON event: {exc}") from None
    if not isinstance(body, dict):
        raise UsageError(f"GITHUB_EVENT_PATH ({path}) holds {type(body).__name__}, not an object")
    return body
