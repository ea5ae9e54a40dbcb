"""Observability commands: ``pipetune exporter`` (Prometheus metrics of jobs) and
``pipetune insights`` (where the top trials of several jobs fall; a narrower space)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Optional

import typer

from pipetune.cli._common import console, handle_errors, out, print_json


def register(app: typer.Typer) -> None:
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
        """Serve Prometheus metrics of tuning jobs: trials by state, best value, cost,
        seconds since the last improvement, the not-converging flag."""
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
