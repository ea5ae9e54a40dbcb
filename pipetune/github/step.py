"""The action's step, end to end: what ``pipetune github run`` does.

1. load the spec (with the action's overrides: backend, max trials);
2. find the baseline (:mod:`~pipetune.github.baseline`);
3. optionally warm-start from the job that produced it (:mod:`~pipetune.github.warm_start`);
4. run the job through the step runtime (:func:`pipetune.runtime.run`): launch or
   attach (a re-run of the workflow attaches to the same job name), the local engine runs
   it in this process, a cloud job is waited for with the guards, an interrupted job is
   resumed;
5. read the best result and the trials, compare with the baseline;
6. write the report to ``$GITHUB_STEP_SUMMARY`` and a file, the outputs to
   ``$GITHUB_OUTPUT``, optionally the new results file; post or update the PR comment;
7. fail (exit code 6) on a regression when asked to.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipetune import runtime
from pipetune.backends import get_backend
from pipetune.errors import JobFailed, JobStopped, PipetuneError, UsageError
from pipetune.github import baseline as baseline_mod
from pipetune.github import results_file, warm_start
from pipetune.github.api import GitHubAPIError, GitHubClient
from pipetune.github.commands import append_summary, workflow_command, write_outputs
from pipetune.github.comments import CommentResult, marker_for, upsert_comment
from pipetune.github.compare import Comparison, Threshold, compare
from pipetune.github.env import GitHubEnv
from pipetune.github.render import ReportInputs, render_error, render_failure, render_report
from pipetune.job import JobRef, JobStatus
from pipetune.results import BestResult
from pipetune.spec import TuningSpec, load_spec

COMMENT_MODES = ("auto", "always", "never")


class Regressed(PipetuneError):
    """The new best is worse than the baseline by more than the threshold."""

    exit_code = 6


@dataclass
class StepOptions:
    """The action's inputs, typed. See ``pipelines/github/README.md`` for each."""

    spec: str
    backend: str | None = None
    job_name: str | None = None
    max_trials: int | None = None
    results_file: str | None = None
    baseline: str | None = None
    threshold: Threshold = field(default_factory=Threshold)
    fail_on_regression: bool = False
    comment: str = "auto"
    comment_key: str | None = None
    write_results: bool = False
    warm_start: bool = False
    warm_start_type: str = "transfer_learning"
    wait_timeout: float | None = None
    poll_seconds: float = 30.0
    report_file: str | None = None


@dataclass
class StepOutcome:
    """What one run of the GitHub step produced: the job's handle, its best result, the
    comparison with the baseline, the report's Markdown, the step outputs, and the comment
    written (None when none was)."""

    ref: JobRef
    result: BestResult
    comparison: Comparison
    report: str
    outputs: dict[str, Any]
    comment: CommentResult | None = None


def log(message: str) -> None:
    """Progress for the workflow log (stderr; stdout carries workflow commands)."""
    print(f"pipetune: {message}", file=sys.stderr, flush=True)


def prepare_spec(opts: StepOptions) -> TuningSpec:
    """The step's spec: the file ``opts.spec``, with the step's ``backend`` and ``max_trials``
    inputs applied when given (``max_parallel`` lowered to ``max_trials`` if above).

    Raises:
        SpecError: the spec file is missing or invalid.
    """
    spec = load_spec(Path(opts.spec))
    changes: dict[str, Any] = {}
    if opts.backend:
        changes["backend"] = opts.backend
    if opts.max_trials is not None:
        changes["budget"] = {"max_trials": opts.max_trials,
                             "max_parallel": min(spec.budget.max_parallel, opts.max_trials)}
    return spec.with_overrides(**changes) if changes else spec


def default_job_name(env: GitHubEnv, spec: TuningSpec) -> str:
    """``gh-<run id>-<spec fingerprint>``: the same on a re-run of the workflow (so it
    attaches to the job already launched), different for another spec, and short enough
    for SageMaker's 32-character limit."""
    return f"gh-{env.run_id or 'local'}-{spec.fingerprint()[:8]}"


def comment_target(opts: StepOptions, env: GitHubEnv) -> tuple[int | None, str]:
    """The pull request to comment on, or None and why not."""
    if opts.comment not in COMMENT_MODES:
        raise UsageError(f"comment: got {opts.comment!r}; valid: {', '.join(COMMENT_MODES)}")
    if opts.comment == "never":
        return None, "comment is 'never'"
    reason = None
    if env.pr_number is None:
        reason = "this run is not for a pull request"
    elif not env.repository:
        reason = "GITHUB_REPOSITORY is not set"
    elif opts.comment == "auto" and env.from_fork:
        reason = "the pull request comes from a fork (its token is read-only)"
    elif not env.token:
        reason = "no token (pass github-token, or set GITHUB_TOKEN)"
    if reason is None:
        return env.pr_number, ""
    if opts.comment == "always":
        raise UsageError(f"comment is 'always' but {reason}")
    return None, reason


def _report_path(opts: StepOptions, env: GitHubEnv, name: str) -> Path:
    if opts.report_file:
        return Path(opts.report_file)
    return (env.runner_temp or Path(".pipetune")) / f"pipetune-report-{name}.md"


def run(opts: StepOptions, env: GitHubEnv) -> StepOutcome:
    """Run the step; raise a :class:`PipetuneError` subclass on failure (the CLI turns it
    into a message and an exit code)."""
    pr_number, no_comment = comment_target(opts, env)
    spec = prepare_spec(opts)
    client = GitHubClient(env.api_url, env.token) if env.token else None
    base = baseline_mod.resolve(env, client, baseline=opts.baseline, results_path=opts.results_file)
    log(f"baseline: {base.origin or base.note}")
    parent = None
    if opts.warm_start:
        spec, plan = warm_start.plan(spec, base.result, kind=opts.warm_start_type,
                                     client=client, repository=env.repository)
        parent = plan.parent
        workflow_command("notice", plan.note, title="pipetune warm start")

    name = opts.job_name or default_job_name(env, spec)
    backend = get_backend(spec.backend)
    existing = backend.find(name)  # the local engine knows its jobs by name
    if existing is not None:
        st = backend.status(existing)
        log(f"attaching to job {name!r} on {spec.backend}: it exists ({_progress_text(st)})")
    else:
        log(f"job {name!r} on {spec.backend} ({spec.budget.max_trials} trials)")
    step_started = time.time()

    def launched(ref: JobRef) -> None:
        write_outputs(env.output_path, {"job": ref.to_json(), "job-name": name,
                                        "backend": spec.backend,
                                        "warm-started-from": parent or ""})
        if existing is None:
            st = backend.status(ref)
            new = backend.find(name) is not None or not _existed_before(st, step_started)
            log(f"{'launched' if new else 'attached to'} job {name!r} on {spec.backend} "
                f"({_progress_text(st)})")

    marker = marker_for(opts.comment_key or opts.spec)
    try:  # the step runtime: launch or attach, run here or wait, resume, guards
        ref = runtime.run(spec, job_name=name, using=backend, poll_seconds=opts.poll_seconds,
                          timeout=opts.wait_timeout, on_status=_progress,
                          on_launched=launched)
    except (JobFailed, JobStopped) as exc:
        report = render_failure(name, spec.backend, exc.reason, run_url=env.run_url,
                                spec_path=opts.spec)
        append_summary(env.summary_path, report)
        write_outputs(env.output_path, {"verdict": "failed", "improved": False})
        if pr_number is not None and client is not None and env.repository:
            try:
                upsert_comment(client, env.repository, pr_number, report, marker)
            except GitHubAPIError as api_error:  # the job's failure is the news, not this
                workflow_command("warning", str(api_error), title="pipetune comment")
        raise

    from pipetune.observability.convergence import check_convergence
    from pipetune.observability.summary import convergence_line

    result, trials = runtime.best_outputs(ref, using=backend)
    comparison = compare(result, base.result, opts.threshold)
    report = render_report(result, ReportInputs(
        comparison=comparison, baseline=base.result, baseline_origin=base.origin,
        baseline_note=base.note, trials=trials, run_url=env.run_url, spec_path=opts.spec,
        job_name=name, warm_started_from=parent,
        convergence=convergence_line(check_convergence(spec, trials))))
    report_path = _report_path(opts, env, name)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report, encoding="utf-8")
    append_summary(env.summary_path, report)
    log(f"best {result.objective} = {result.value:.6g}: {comparison.verdict}")

    source = {"repository": env.repository, "run_id": env.run_id, "run_url": env.run_url,
              "sha": env.sha, "spec": opts.spec}
    if opts.write_results:
        if not opts.results_file:
            raise UsageError("write-results needs results-file: the path to write the results to")
        written = results_file.write(baseline_mod.local_path(env, opts.results_file), result, source)
        log(f"wrote {written}")

    outputs = {
        "best-params": result.params,
        "best-value": result.value,
        "objective": result.objective,
        "goal": result.goal,
        "baseline-value": comparison.baseline_value,
        "delta": comparison.delta,
        "verdict": comparison.verdict,
        "improved": comparison.improved,
        "trials": {"total": result.trials_total, "complete": result.trials_complete,
                   "failed": result.trials_failed, "pruned": result.trials_pruned,
                   "infeasible": result.trials_infeasible},
        "cost-usd": result.cost_usd,
        "result": results_file.to_document(result, source),
        "report-file": str(report_path),
    }
    write_outputs(env.output_path, outputs)

    comment = None
    if pr_number is not None and client is not None and env.repository:
        comment = upsert_comment(client, env.repository, pr_number, report, marker)
        write_outputs(env.output_path, {"comment-url": comment.url or ""})
        outputs["comment-url"] = comment.url
        log(f"comment {comment.action}: {comment.url}")
    else:
        log(f"no pull-request comment: {no_comment}")

    if comparison.verdict == "regressed" and opts.fail_on_regression:
        message = (f"{result.objective} regressed: {result.value:.6g} against "
                   f"{comparison.baseline_value:.6g} (threshold {comparison.threshold})")
        workflow_command("error", message, title="pipetune")
        raise Regressed(message)
    return StepOutcome(ref, result, comparison, report, outputs, comment)


#: seconds a job must predate the step to count as attached (clocks of the runner and of
#: the cloud service may differ a little)
CLOCK_SLACK = 30.0


def _existed_before(st: JobStatus, step_started: float) -> bool:
    """Whether a job just launched or attached by name (a cloud job) existed before this
    step began: it has ended, or finished trials, or is older than the step."""
    if st.state.terminal or st.trials.finished:
        return True
    step_age = time.time() - step_started
    return st.elapsed_seconds is not None and st.elapsed_seconds > step_age + CLOCK_SLACK


def report_error(message: str, summary_path: Path | None, *, run_url: str | None = None) -> None:
    """Tell the workflow run why the step stopped before tuning (an invalid input): an
    ``::error`` annotation (GitHub's escaping) and, where there is one, the step summary."""
    workflow_command("error", message, title="pipetune")
    append_summary(summary_path, render_error(message, run_url=run_url))


def _progress_text(st: JobStatus) -> str:
    t = st.trials
    return (f"{st.state.value}, {t.finished}/{st.max_trials or '?'} trials ({t.failed} failed), "
            f"best {st.best_value if st.best_value is not None else '–'}")


def _progress(st: JobStatus) -> None:
    log(f"{st.ref.name}: {_progress_text(st)}")
