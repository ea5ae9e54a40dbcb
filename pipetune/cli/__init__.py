"""The ``pipetune`` command line. Core commands live in :mod:`pipetune.cli.core`; each
integration adds its commands in its own module, listed in ``COMMAND_MODULES``: a module
exposes ``register(app: typer.Typer) -> None``."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = [
    "pipetune.cli.core",
    "pipetune.cli.proxy",
    "pipetune.cli.sagemaker",
    "pipetune.cli.vertex",
    "pipetune.cli.github",
    "pipetune.cli.worker",
    "pipetune.cli.observability",
]

app = typer.Typer(
    name="pipetune", no_args_is_help=True, add_completion=False,
    help="Hyperparameter tuning as an ordinary pipeline step.",
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    """Run the ``pipetune`` command line on ``sys.argv`` (the console script's entry point);
    exits with the command's exit code."""
    app()
