"""``pipetune proxy sample`` and ``pipetune proxy tune``: proxy-data tuning on the command line."""

from __future__ import annotations

import json
from typing import Optional

import typer

from pipetune.cli._common import console, handle_errors, print_json, warning_text
from pipetune.errors import UsageError

proxy_app = typer.Typer(no_args_is_help=True, help="Tune on a sample of the data, verify on all of it.")


def _storage_options(raw: Optional[str]) -> dict | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--storage-options must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--storage-options must be a JSON object, e.g. "
                         '\'{"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}\'')
    return value


@proxy_app.command("sample")
@handle_errors
def sample(
    source: str = typer.Argument(..., help="CSV or Parquet file: a path or an fsspec URI (s3://, gs://)"),
    dest: str = typer.Argument(..., help="where to write the sample (same format)"),
    fraction: Optional[float] = typer.Option(None, help="share of rows, in (0, 1]"),
    rows: Optional[int] = typer.Option(None, help="number of rows, instead of --fraction"),
    stratify: Optional[str] = typer.Option(None, help="column whose class proportions are kept"),
    seed: int = typer.Option(0, help="same source and seed give a byte-identical sample"),
    format: Optional[str] = typer.Option(None, "--format", help="csv or parquet (default: from the name)"),
    manifest: Optional[str] = typer.Option(None, help="manifest path (default: DEST.manifest.json)"),
    storage_options: Optional[str] = typer.Option(None, help="fsspec options as a JSON object"),
    as_json: bool = typer.Option(False, "--json", help="print the manifest as JSON"),
) -> None:
    """Write a seeded, exact sample of SOURCE to DEST, with a manifest."""
    from pipetune.proxy import sample_dataset

    m = sample_dataset(source, dest, fraction=fraction, rows=rows, stratify=stratify, seed=seed,
                       format=format, manifest=manifest,
                       storage_options=_storage_options(storage_options))
    if as_json:
        print_json(m.model_dump(mode="json"))
        return
    console.print(f"sampled {m.rows_out} of {m.rows_in} rows to {m.sample} (sha256 {m.sha256[:12]})",
                  highlight=False)
    if m.class_counts_out:
        console.print("per class: " + ", ".join(
            f"{k} {m.class_counts_out[k]}/{m.class_counts_in[k]}"  # type: ignore[index]
            for k in m.class_counts_out), highlight=False)


@proxy_app.command("tune")
@handle_errors
def tune(
    spec: str = typer.Argument(..., help="tuning spec (YAML/JSON) with a proxy section"),
    name: str = typer.Option(..., "--name", help="job name; running again attaches to it"),
    storage_options: Optional[str] = typer.Option(None, help="fsspec options as a JSON object"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Sample, tune on the sample, verify the top k on the full data, print the winner."""
    import warnings

    from pipetune.proxy import ProxyFidelityWarning, run_proxy_tuning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProxyFidelityWarning)  # printed below, from the result
        result = run_proxy_tuning(spec, name, storage_options=_storage_options(storage_options))
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        s = result.sample
        console.print(f"sample: {s.rows_out} of {s.rows_in} rows ({s.realised_fraction:.1%})",
                      highlight=False)
        for c in result.candidates:
            full = "-" if c.full_value is None else f"{c.full_value:.6g}"
            console.print(f"  #{c.rank} proxy {c.proxy_value:.6g}  full {full}  {c.params}",
                          highlight=False)
        if result.correlation is not None:
            console.print(f"rank correlation (Spearman): {result.correlation:.2f}", highlight=False)
        console.print(f"winner: {result.best.params} ({result.objective} {result.best.value:.6g})",
                      highlight=False)
    for note in result.warnings:
        console.print(warning_text(note), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``proxy`` command group (``proxy sample``, ``proxy tune``) to ``app``."""
    app.add_typer(proxy_app, name="proxy")
