"""Core commands: tune, launch, status, wait, stop, resume, trials, best, report, lint, schema.

A job is named by ``--name`` at launch; the other commands take that name. Local jobs are
found under ``.pipetune/`` (``PIPETUNE_HOME``); for cloud jobs the launch records the job
handle in ``.pipetune/refs/NAME.json``. Any command also accepts the handle's JSON itself.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipetune import runtime
from pipetune.backends import get_backend
from pipetune.backends.base import Backend
from pipetune.cli._common import (console, handle_errors, json_on_one_line, out, print_json,
                                  print_json_models, warning_text)
from pipetune.errors import JobFailed, JobStopped, UsageError, WaitTimeout
from pipetune.job import JobRef, JobStatus, parse_job_ref
from pipetune.spec import TuningSpec, json_schema, load_spec


class BestFormat(str, Enum):
    """How ``pipetune best`` prints the winner: a table, JSON, ``KEY=value`` lines for a
    shell, or ``--key value`` arguments for a training command."""
    json = "json"
    env = "env"
    args = "args"
    table = "table"


# ---- job handles ------------------------------------------------------------------------------
def _refs_dir() -> Path:
    from pipetune.backends.local.jobstore import home

    return home() / "refs"


def save_ref(be: Backend, ref: JobRef) -> None:
    """Record the handle of a job its backend cannot find by name alone (a cloud job), so
    the other commands take its name."""
    if be.find(ref.name) is not None:
        return
    _refs_dir().mkdir(parents=True, exist_ok=True)
    (_refs_dir() / f"{ref.name}.json").write_text(ref.to_json())


def resolve_ref(job: str) -> JobRef:
    """A job name (local job, or a recorded cloud handle) or a JobRef's JSON."""
    if job.lstrip().startswith("{"):
        return parse_job_ref(job)
    from pipetune.backends.local.jobstore import JobDir, check_job_name

    check_job_name(job)
    recorded = _refs_dir() / f"{job}.json"
    if recorded.is_file():
        return parse_job_ref(recorded.read_text(), field=str(recorded))
    found = get_backend("local").find(job)
    if found is not None:
        return found
    raise UsageError(f"no job named {job!r}: no local job under {JobDir(job).root / 'jobs'} "
                     f"and no recorded handle in {_refs_dir()}; pass the job handle JSON instead")


def backend_for(ref: JobRef) -> Backend:
    """The backend that owns ``ref`` (built from the environment's credentials)."""
    return runtime.backend_for(ref.backend)


def _spec_and_name(spec_path: str, name: Optional[str], backend: Optional[str],
                   profile: Optional[str] = None) -> tuple[TuningSpec, str]:
    from pipetune.observability.tiers import select_profile

    spec = load_spec(Path(spec_path) if not spec_path.lstrip().startswith("{") else spec_path)
    spec = select_profile(spec, profile)  # --profile, else $PIPETUNE_PROFILE, else spec.profile
    if backend:
        spec = spec.with_overrides(backend=backend)
    job_name = name or spec.name
    if not job_name:
        raise UsageError("give the job a name: --name NAME (or `name:` in the spec)")
    return spec, job_name


# ---- progress ---------------------------------------------------------------------------------
@contextmanager
def progress_bar(enabled: bool, total: Optional[int]) -> Iterator:
    """An ``update(status)`` callable drawing a progress bar on stderr. The bar appears with
    the first status, so an error before the job runs (bad credentials, say) prints alone."""
    if not enabled:
        yield lambda st: None
        return
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("best {task.fields[best]}"), TimeRemainingColumn(), console=console,
                   transient=False)
    task: list = []

    def update(st: JobStatus) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("tuning", total=total, best="—"))
        best = "—" if st.best_value is None else f"{st.best_value:.6g}"
        bar.update(task[0], completed=st.trials.finished, total=st.max_trials or total, best=best,
                   description=st.state.value)

    try:
        yield update
    finally:
        if task:
            bar.stop()


def _status_line(st: JobStatus) -> str:
    t = st.trials
    best = "—" if st.best_value is None else f"{st.best_value:.6g}"
    line = (f"{st.ref.name}: {st.state.value} · {t.finished}/{st.max_trials or '?'} trials "
            f"({t.complete} complete, {t.failed} failed, {t.pruned} pruned, {t.infeasible} "
            f"infeasible, {t.running} running) · best {best}")
    if st.cost_usd is not None:
        line += f" · cost ≈ ${st.cost_usd:,.2f}"
    if st.warm_start is not None:
        seeded = sum(st.warm_start.get("seeded", {}).values())
        left = sum(st.warm_start.get("left_out", {}).values())
        line += f"\n  warm start: {seeded} parent trials seeded the sampler (not counted here)"
        if left:
            line += f"; {left} left out, outside this spec's ranges"
    if st.converging is not None:
        line += " · converging" if st.converging else " · NOT converging"
    if st.reason:
        line += f"\n  {st.reason}"
    if st.converging is False and st.convergence_reason:
        line += f"\n  {st.convergence_reason}"
    if st.sampler:
        line += f"\n  sampler: {st.sampler}" + (f" ({st.sampler_reason})" if st.sampler_reason
                                                else "")
    if st.pruner and st.pruner != "none":
        line += f"\n  early stopping: {st.pruner}" + (f" ({st.pruner_reason})"
                                                       if st.pruner_reason else "")
    return line


# ---- commands ---------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    """Add the core commands (tune, launch, status, wait, stop, resume, trials, best,
    report, lint, schema) to ``app``."""
    @app.command()
    @handle_errors
    def tune(
        spec: str = typer.Argument(..., help="path to the spec (YAML or JSON)"),
        name: Optional[str] = typer.Option(None, "--name", "-n", help="job name (default: spec name)"),
        backend: Optional[str] = typer.Option(None, help="override the spec's backend"),
        profile: Optional[str] = typer.Option(
            None, "--profile", help="tiered budget: a profile of the spec's profiles section "
            "(default: $PIPETUNE_PROFILE, else the spec's profile)"),
        as_json: bool = typer.Option(False, "--json", help="print the best result as JSON"),
        no_progress: bool = typer.Option(False, "--no-progress"),
    ) -> None:
        """Run a tuning job to its end (or attach to it) and print the best parameters."""
        tuning, job_name = _spec_and_name(spec, name, backend, profile)
        be = get_backend(tuning.backend)
        show = not no_progress and not as_json
        with progress_bar(show, tuning.budget.max_trials) as update:
            ref = runtime.run(tuning, job_name=job_name, using=be, poll_seconds=10.0,
                              on_status=update, on_launched=lambda r: save_ref(be, r))
        _print_best(be, ref, BestFormat.json if as_json else BestFormat.table)

    @app.command()
    @handle_errors
    def launch(
        spec: str = typer.Argument(..., help="path to the spec (YAML or JSON)"),
        name: Optional[str] = typer.Option(None, "--name", "-n"),
        backend: Optional[str] = typer.Option(None, help="override the spec's backend"),
        profile: Optional[str] = typer.Option(
            None, "--profile", help="tiered budget: a profile of the spec's profiles section "
            "(default: $PIPETUNE_PROFILE, else the spec's profile)"),
    ) -> None:
        """Start a job in the background (or attach to it) and print its handle as JSON."""
        tuning, job_name = _spec_and_name(spec, name, backend, profile)
        be = get_backend(tuning.backend)
        ref = runtime.launch(tuning, job_name=job_name, using=be)
        save_ref(be, ref)
        st = be.status(ref)
        if st.state.terminal:  # attached to a job that has ended: nothing new runs
            why = f" ({st.reason})" if st.reason else ""
            console.print(f"{ref.name} exists and has ended: {st.state.value}{why}; launch under "
                          "a new name to tune again", soft_wrap=True)
        print_json(json.loads(ref.to_json()))

    @app.command()
    @handle_errors
    def status(job: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """Show a job's state, trial counts, estimated cost and convergence."""
        ref = resolve_ref(job)
        be = backend_for(ref)
        st = be.status(ref)
        ranges: list[dict] = []
        try:  # cost, convergence and ranges (pipetune.observability) need the trials
            from pipetune.observability.snapshot import observed_status

            st, ranges = observed_status(ref, be, st)
        except Exception as exc:
            console.print(f"cost and convergence unavailable: {exc}", highlight=False)
        if as_json:
            print_json({**json.loads(st.model_dump_json()), "range_warnings": ranges})
        else:
            out.print(_status_line(st), highlight=False)
            for w in ranges:
                out.print(warning_text(w["message"], "warning"), soft_wrap=True)

    @app.command()
    @handle_errors
    def wait(
        job: str,
        timeout: Optional[float] = typer.Option(None, help="seconds; the job goes on after"),
        poll: float = typer.Option(5.0, help="seconds between polls (with backoff from 1s)"),
        as_json: bool = typer.Option(False, "--json"),
        no_progress: bool = typer.Option(False, "--no-progress"),
    ) -> None:
        """Wait for a job to end. Exit 0 completed, 3 failed, 4 stopped, 5 timed out.

        An interrupted local job (its coordinator died) is resumed here, as every pipetune
        wait does."""
        ref = resolve_ref(job)
        be = backend_for(ref)
        try:
            with progress_bar(not no_progress and not as_json, None) as update:
                st = runtime.wait(ref, using=be, poll_seconds=poll, timeout=timeout,
                                  on_status=update)
        except (JobFailed, JobStopped, WaitTimeout):
            if as_json:  # the status on stdout whatever the outcome; the exit code says it
                print_json(json.loads(be.status(ref).model_dump_json()))
            raise
        if as_json:
            print_json(json.loads(st.model_dump_json()))
        else:
            out.print(_status_line(st), highlight=False)

    @app.command()
    @handle_errors
    def stop(job: str) -> None:
        """Stop a job: running trials get SIGTERM, then SIGKILL after the grace period.

        A job that has ended already is left alone: exit 0, saying how it ended."""
        ref = resolve_ref(job)
        st = runtime.stop(ref, using=backend_for(ref))
        if st.state.terminal:
            why = f" ({st.reason})" if st.reason else ""
            console.print(f"{ref.name} has already ended: {st.state.value}{why}; nothing to stop",
                          soft_wrap=True)
        else:
            console.print(f"stop requested for {ref.name}")

    @app.command()
    @handle_errors
    def resume(job: str, foreground: bool = typer.Option(False, help="run here, not detached")) -> None:
        """Continue an interrupted local job (its coordinator died).

        Exit 2 for a job that has ended (completed, failed, stopped): nothing can resume it;
        a running job is left as it is (exit 0)."""
        ref = resolve_ref(job)
        st = runtime.resume(ref, detach=not foreground, using=backend_for(ref))
        out.print(_status_line(st), highlight=False)

    @app.command()
    @handle_errors
    def trials(job: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """List a job's trials with state, metrics, parameters and the reason of failures."""
        ref = resolve_ref(job)
        be = backend_for(ref)
        if as_json and json_on_one_line():  # the text print_json_models would write
            sys.stdout.write(be.trials_json(ref) + "\n")
            return
        records = be.trials(ref)
        if as_json:
            print_json_models(records)
            return
        table = Table("#", "state", "metrics", "params", "reason")
        for r in records:
            table.add_row(str(r.number), r.state,
                          ", ".join(f"{k}={v:.6g}" for k, v in r.metrics.items()),
                          ", ".join(f"{k}={v}" for k, v in r.params.items()), r.reason or "")
        out.print(table)

    @app.command()
    @handle_errors
    def best(
        job: str,
        fmt: BestFormat = typer.Option(BestFormat.table, "--format", "-f",
                                       help="json | env (NAME=value lines) | args (--name=value) | table"),
    ) -> None:
        """Print the best parameters, typed as the spec declares them."""
        ref = resolve_ref(job)
        _print_best(backend_for(ref), ref, fmt)

    @app.command()
    @handle_errors
    def report(
        job: str,
        out_dir: Optional[Path] = typer.Option(None, "--out", help="default: .pipetune/reports/JOB"),
    ) -> None:
        """Write report.md, report.html and PNG plots for a job."""
        from pipetune.backends.local.jobstore import home
        from pipetune.report import write_report

        ref = resolve_ref(job)
        be = backend_for(ref)
        spec = be.spec_of(ref)
        records = be.trials(ref)
        try:
            best_result = be.best(ref)
        except JobFailed:
            best_result = None
        files = write_report(spec, best_result, records, out_dir or home() / "reports" / ref.name,
                             title=ref.name, status=be.status(ref))
        console.print(f"wrote {files.markdown} and {files.html}")
        print_json({"markdown": str(files.markdown), "html": str(files.html),
                    "images": {k: str(v) for k, v in files.images.items()}})

    @app.command()
    @handle_errors
    def lint(spec: Optional[Path] = typer.Argument(None, help="path to the spec (YAML or JSON)"),
             job: Optional[str] = typer.Option(
                 None, "--job", help="a job (name or handle): its spec, and after a run, "
                 "whether the best trials sit at a range's edge or the objective is flat"),
             as_json: bool = typer.Option(False, "--json"),
             strict: bool = typer.Option(False, help="exit 1 when there are warnings"),
             profile: Optional[str] = typer.Option(
                 None, "--profile", help="check this profile of the spec's profiles section "
                 "(default: $PIPETUNE_PROFILE, else the spec's profile)")) -> None:
        """Validate a spec as `launch` does (exit 2 on an error), then warn about its traps.

        Traps of the search space: linear ranges over decades, powers of two, ... With
        `--job`, the job's spec, and whether its best trials sit at a range's edge."""
        from pipetune.lint import lint as run_lint
        from pipetune.observability.tiers import select_profile

        if (spec is None) == (job is None):
            raise UsageError("give a spec file or --job NAME (one of them)")
        if job is not None:
            from pipetune.observability.goldilocks import check_ranges
            from pipetune.observability.snapshot import spec_of

            ref = resolve_ref(job)
            be = backend_for(ref)
            job_spec = spec_of(be, ref)
            warnings = run_lint(job_spec) + check_ranges(job_spec, be.trials(ref))
        else:
            tuning = select_profile(load_spec(spec), profile)
            get_backend(tuning.backend).validate(tuning)  # what launch checks before any call
            warnings = run_lint(tuning)
        if as_json:
            print_json([{"field": w.field, "message": w.message} for w in warnings])
        elif not warnings:
            out.print("no warnings")
        else:
            for w in warnings:
                out.print(warning_text(f"{w.field}: {w.message}", "warning"), soft_wrap=True)
        if strict and warnings:
            raise typer.Exit(1)

    @app.command()
    @handle_errors
    def schema(output: Optional[Path] = typer.Option(None, "--out")) -> None:
        """Print the JSON Schema of a tuning spec (for editors and CI validation)."""
        text = json.dumps(json_schema(), indent=2)
        if output:
            output.write_text(text + "\n")
        else:
            sys.stdout.write(text + "\n")


def _print_best(be: Backend, ref: JobRef, fmt: BestFormat) -> None:
    result = be.best(ref)
    if fmt == BestFormat.json:
        print_json(json.loads(result.model_dump_json(exclude_none=True)))
    elif fmt == BestFormat.env:
        sys.stdout.write(result.as_env() + "\n")
    elif fmt == BestFormat.args:
        import shlex

        sys.stdout.write(" ".join(shlex.quote(a) for a in result.as_args()) + "\n")
    else:
        table = Table("parameter", "value", title=f"best {result.objective} = {result.value:.6g} "
                      f"(trial {result.trial})")
        for k, v in result.params.items():
            table.add_row(k, repr(v))
        for k, v in result.static.items():
            table.add_row(f"{k} (static)", repr(v))
        out.print(table)
