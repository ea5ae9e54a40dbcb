"""``pipetune github ...``: the commands the GitHub Action runs.

- ``run``: tune, compare with the baseline, write the summary and outputs, comment;
- ``comment``: post or update pipetune's marked comment with any markdown file;
- ``open-pr``: propose a file (the new tuned-parameters file) as a pull request.

Every option of ``run`` can also come from a ``PIPETUNE_GH_*`` environment variable: the
action passes its inputs that way (through ``env:``, never pasted into the script). The
token is read from ``GITHUB_TOKEN`` only, never from an option, so it cannot end up in a
process list or a log. Exit codes are those of ``pipetune`` plus 6: a regression with
``--fail-on-regression``.

An invalid input (exit code 2: a bad option or spec, a missing extra) is also reported to
the workflow run: an ``::error title=pipetune::`` annotation and a section in the step
summary (``$GITHUB_STEP_SUMMARY``), as a failed job or a regression is.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import typer
from typer.core import TyperGroup

from pipetune.cli._common import handle_errors, print_json
from pipetune.errors import PipetuneError, UsageError

if TYPE_CHECKING:
    from pipetune.github.api import GitHubClient
    from pipetune.github.env import GitHubEnv

F = TypeVar("F", bound=Callable[..., Any])


def _report_input_error(message: str) -> None:
    from pipetune.github.step import report_error

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    report_error(message, Path(summary) if summary else None)


def reported(fn: F) -> F:
    """An invalid input (a PipetuneError with exit code 2) is reported to the workflow run
    too, then raised on to :func:`handle_errors` for the message and the exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PipetuneError as exc:
            if exc.exit_code == 2:
                _report_input_error(str(exc))
            raise

    return wrapper  # type: ignore[return-value]


class _WorkflowGroup(TyperGroup):
    """``pipetune github``: an option click refuses (``--max-trials 0``, an unknown option)
    is reported to the workflow run as well."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:  # the command line's usage errors exit 2
            if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
                _report_input_error(exc.format_message())
            raise


gh = typer.Typer(name="github", cls=_WorkflowGroup, no_args_is_help=True, add_completion=False,
                 help="GitHub Actions: re-tune on a pull request, comment, propose results.")


def _env(name: str) -> str:
    return f"PIPETUNE_GH_{name}"


@gh.command("run")
@handle_errors
@reported
def run_command(
    spec: str = typer.Option(..., "--spec", envvar=_env("SPEC"), help="path to the tuning spec"),
    backend: Optional[str] = typer.Option(None, envvar=_env("BACKEND"),
                                          help="local, sagemaker or vertex (default: the spec's)"),
    job_name: Optional[str] = typer.Option(None, envvar=_env("JOB_NAME"),
                                           help="job name (default gh-<run id>-<spec hash>)"),
    max_trials: Optional[int] = typer.Option(None, envvar=_env("MAX_TRIALS"), min=1,
                                             help="override budget.max_trials"),
    results_file: Optional[str] = typer.Option(
        None, envvar=_env("RESULTS_FILE"),
        help="the committed tuned-parameters file (repository path): the baseline, and where "
             "--write-results writes"),
    baseline: Optional[str] = typer.Option(None, envvar=_env("BASELINE"),
                                           help="a baseline results file to use instead"),
    threshold: str = typer.Option("0", envvar=_env("THRESHOLD"),
                                  help="change that counts: absolute (0.01) or relative (1%)"),
    fail_on_regression: bool = typer.Option(False, envvar=_env("FAIL_ON_REGRESSION"),
                                            help="exit 6 when the objective regressed"),
    comment: str = typer.Option("auto", envvar=_env("COMMENT"),
                                help="auto (same-repository pull requests), always, never"),
    comment_key: Optional[str] = typer.Option(None, envvar=_env("COMMENT_KEY"),
                                              help="tells several reports in one PR apart "
                                                   "(default: the spec path)"),
    write_results: bool = typer.Option(False, envvar=_env("WRITE_RESULTS"),
                                       help="write the new best to --results-file"),
    warm_start: bool = typer.Option(False, envvar=_env("WARM_START"),
                                    help="warm-start from the job named in the baseline"),
    warm_start_type: str = typer.Option("transfer_learning", envvar=_env("WARM_START_TYPE"),
                                        help="transfer_learning or identical_data_and_algorithm"),
    timeout: Optional[float] = typer.Option(None, envvar=_env("TIMEOUT"), min=1,
                                            help="seconds to wait for a cloud job (local: budget.timeout)"),
    poll: float = typer.Option(30.0, envvar=_env("POLL_SECONDS"), min=0.1,
                               help="seconds between status polls of a cloud job"),
    report_file: Optional[str] = typer.Option(None, envvar=_env("REPORT_FILE"),
                                              help="where to write the markdown report"),
    trial_env: str = typer.Option(
        "", envvar=_env("TRIAL_ENV"),
        help="comma-separated names of runner variables the trials may see, beyond the "
             "allowlist (PATH, HOME, locale, proxies...); never GITHUB_TOKEN or ACTIONS_*"),
    as_json: bool = typer.Option(False, "--json", help="print the outputs as JSON on stdout"),
) -> None:
    """Tune, compare with the baseline, report to the job summary and the pull request."""
    from pipetune.github.compare import Threshold
    from pipetune.github.env import GitHubEnv, isolated_trials
    from pipetune.github.step import StepOptions, run

    opts = StepOptions(
        spec=spec, backend=backend, job_name=job_name, max_trials=max_trials,
        results_file=results_file, baseline=baseline, threshold=Threshold.parse(threshold),
        fail_on_regression=fail_on_regression, comment=comment, comment_key=comment_key,
        write_results=write_results, warm_start=warm_start, warm_start_type=warm_start_type,
        wait_timeout=timeout, poll_seconds=poll, report_file=report_file)
    env = GitHubEnv.from_environ()  # holds the token; then it leaves the environment
    with isolated_trials([n.strip() for n in trial_env.split(",") if n.strip()]):
        outcome = run(opts, env)
    if as_json:
        print_json(outcome.outputs)


@gh.command("comment")
@handle_errors
@reported
def comment_command(
    body_file: Path = typer.Argument(..., help="markdown file to post"),
    key: str = typer.Option("default", help="which pipetune comment to create or update"),
    pr: Optional[int] = typer.Option(None, help="pull request number (default: the event's)"),
) -> None:
    """Create pipetune's comment on the pull request, or update the one already there."""
    from pipetune.github.comments import marker_for, upsert_comment
    from pipetune.github.env import GitHubEnv

    env = GitHubEnv.from_environ()
    number = pr or env.pr_number
    if number is None:
        raise UsageError("no pull request: pass --pr NUMBER, or run on a pull_request event")
    repo, client = _client(env)
    try:
        body = body_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {body_file}: {exc}") from None
    result = upsert_comment(client, repo, number, body, marker_for(key))
    print_json({"action": result.action, "id": result.id, "url": result.url,
                "removed": result.removed})


@gh.command("open-pr")
@handle_errors
@reported
def open_pr_command(
    file: str = typer.Option(..., "--file", help="repository path of the file to propose"),
    branch: str = typer.Option("pipetune/retune", help="branch the pull request comes from"),
    base: Optional[str] = typer.Option(None, help="base branch (default: the repository's default)"),
    title: str = typer.Option("pipetune: update tuned hyperparameters", help="pull request title"),
    body_file: Optional[Path] = typer.Option(None, help="markdown file for the description"),
    message: str = typer.Option("pipetune: update tuned hyperparameters", help="commit message"),
) -> None:
    """Propose the checkout's version of --file as a pull request (opened or updated)."""
    from pipetune.github.baseline import local_path
    from pipetune.github.env import GitHubEnv
    from pipetune.github.pull_request import propose_file

    env = GitHubEnv.from_environ()
    repo, client = _client(env)
    base_branch = base or env.default_branch
    if not base_branch:
        raise UsageError("no base branch: pass --base BRANCH (the event does not name the "
                         "repository's default branch)")
    path = local_path(env, file)
    try:
        content = path.read_bytes()
        body = body_file.read_text(encoding="utf-8") if body_file else ""
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from None
    result = propose_file(client, repo, path=file, content=content, base=base_branch,
                          branch=branch, title=title, body=body, message=message)
    print_json({"action": result.action, "number": result.number, "url": result.url})


def _client(env: "GitHubEnv") -> "tuple[str, GitHubClient]":
    from pipetune.github.api import GitHubClient

    if not env.repository:
        raise UsageError("GITHUB_REPOSITORY is not set (owner/name of the repository)")
    if not env.token:
        raise UsageError("GITHUB_TOKEN is not set: pass the action's github-token input, or "
                         "export a token with the needed permissions")
    return env.repository, GitHubClient(env.api_url, env.token)


def register(app: typer.Typer) -> None:
    """Add ``pipetune github ...`` to the main command."""
    app.add_typer(gh, name="github")
