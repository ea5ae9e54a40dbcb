"""Observability commands: ``pipetune exporter`` (Prometheus metrics of jobs) and
``pipetune insights`` (where the top trials of several jobs fall; a narrower space)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

from pipetune.cli._common import console, handle_errors, out, print_json


def register(app: typer.Typer) -> None:
    """Add the ``exporter`` and ``insights`` commands to ``app``."""
    from pipetune.observability.exporter import DEFAULT_PORT

    @app.command()
    @handle_errors
    def exporter(
        job: List[str] = typer.Option(..., "--job", "-j",
                                      help="job name or handle JSON; repeat for several jobs"),
        port: int = typer.Option(DEFAULT_PORT, help="port to serve /metrics on"),
        addr: str = typer.Option("127.0.0.1", help="address to bind; 0.0.0.0 for every interface"),
        refresh: float = typer.Option(15.0, help="seconds a job's reading is reused between "
                                      "scrapes (cloud API quotas)"),
    ) -> None:
        """Serve Prometheus metrics of tuning jobs.

        Trials by state, best value, cost, seconds since the last improvement, and the
        not-converging flag."""
        from pipetune.cli.core import resolve_ref
        from pipetune.errors import UsageError
        from pipetune.observability.exporter import serve

        if refresh < 0:
            raise UsageError("--refresh must be 0 or more seconds")
        refs = [resolve_ref(j) for j in job]
        running = serve(refs, port=port, addr=addr, refresh_seconds=refresh)
        console.print(f"serving metrics of {', '.join(r.name for r in refs)} on {running.url}",
                      highlight=False)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            running.close()

    @app.command()
    @handle_errors
    def insights(
        jobs: List[str] = typer.Argument(..., help="finished jobs to compare (names or handles)"),
        top: float = typer.Option(0.2, help="share of each job's complete trials counted as top"),
        min_top: int = typer.Option(3, help="at least this many top trials per job"),
        margin: float = typer.Option(0.1, help="widen the suggested range by this share of it"),
        out_dir: Optional[Path] = typer.Option(None, "--out",
                                               help="default: .pipetune/insights/<first job>"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Where the top trials of several jobs fall, and a narrower space for the next job.

        Writes a table, insights.png and suggested_space.yaml."""
        import yaml

        from pipetune.backends.local.jobstore import home
        from pipetune.cli.core import resolve_ref
        from pipetune.observability.insights import insights_for_jobs

        from pipetune.extras import require

        require("matplotlib", feature="the insights plot", extra="report")  # before any file
        refs = [resolve_ref(j) for j in jobs]
        found = insights_for_jobs(refs, top_fraction=top, min_top=min_top, margin=margin)
        folder = out_dir or home() / "insights" / refs[0].name
        folder.mkdir(parents=True, exist_ok=True)
        plot = found.plot(folder / "insights.png")
        space = folder / "suggested_space.yaml"
        space.write_text(yaml.safe_dump({"parameters": found.suggested_parameters()},
                                        sort_keys=False))
        (folder / "insights.md").write_text(found.table() + "\n")
        if as_json:
            print_json({**found.to_dict(), "plot": str(plot), "suggested_space": str(space)})
            return
        out.print(found.table(), highlight=False)
        console.print(f"wrote {plot} and {space}", highlight=False)
