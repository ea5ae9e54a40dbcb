"""Shared by every CLI module: error handling, JSON output, exit codes.

Exit codes: 0 ok; 1 unexpected error; 2 invalid input (spec, arguments, unknown job);
3 the job failed; 4 the job was stopped; 5 waiting timed out; 6 (github) the result regressed.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pipetune.errors import PipetuneError

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=True)
out = Console()


def handle_errors(fn: F) -> F:
    """Turn pipetune's own errors into a one-paragraph message and its exit code, with no
    traceback: a user mistake is not a crash."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PipetuneError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                          markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, nothing else there."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
