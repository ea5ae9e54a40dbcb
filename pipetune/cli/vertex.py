"""``pipetune vertex-worker``: serve a Vizier study (``vertex.mode: vizier``) from this machine.

Start as many as you like, anywhere (a KFP ``ParallelFor``, Airflow dynamic task mapping,
a few VMs): each creates or finds the study named ``--name``, then runs trials until the
spec's budget is spent. Credentials: Application Default Credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipetune.cli._common import handle_errors, print_json


def register(app: typer.Typer) -> None:
    """Add the ``vertex-worker`` command to ``app``."""
    app.command("vertex-worker")(vertex_worker)


@handle_errors
def vertex_worker(
    spec_path: Path = typer.Argument(..., metavar="SPEC", help="the tuning spec (YAML or JSON)"),
    name: str = typer.Option(..., "--name", help="the study's display name"),
    project: Optional[str] = typer.Option(None, help="default: vertex.project in the spec"),
    location: Optional[str] = typer.Option(None, help="default: vertex.location in the spec"),
    worker_id: Optional[str] = typer.Option(
        None, help="Vizier client id; reuse it on a retry to resume this worker's trial "
        "(default: host-pid)"),
    trial_dir: Path = typer.Option(Path("vertex-trials"), help="where trial directories go"),
    api_endpoint: Optional[str] = typer.Option(
        None, "--api-endpoint", "--endpoint", envvar="PIPETUNE_VERTEX_ENDPOINT",
        help="the Vertex AI API endpoint, host[:port] (e.g. a Private Service Connect "
        "endpoint); default: {location}-aiplatform.googleapis.com. Every other command "
        "reads $PIPETUNE_VERTEX_ENDPOINT"),
) -> None:
    """Run trials of a Vizier study until its budget is spent; prints a JSON summary."""
    from pipetune.backends.vertex import VertexBackend
    from pipetune.backends.vertex.vizier_worker import default_worker_id, run_worker
    from pipetune.cli.core import save_ref
    from pipetune.errors import SpecError
    from pipetune.spec import load_spec

    spec = load_spec(spec_path)
    backend = VertexBackend(project=project, location=location, api_endpoint=api_endpoint)
    if backend.options(spec).mode != "vizier":
        raise SpecError("vertex-worker serves Vizier studies; set vertex.mode: vizier "
                        "(a hyperparameter_tuning_job runs its trials on Vertex)",
                        field="vertex.mode")
    ref = backend.launch(spec, name)
    save_ref(backend, ref)  # like every launch: status, wait, best... then take the study's name
    wid = worker_id or default_worker_id()
    summary = run_worker(backend.vizier(ref), ref.id, spec, worker_id=wid,
                         trial_root=trial_dir.absolute() / name / wid,
                         started=ref.extra.get("created"))
    print_json({"job": ref.model_dump(exclude={"extra": {"spec"}}), "worker_id": summary.worker_id,
                "trials": summary.outcomes, "ended_because": summary.ended_because})
