"""Shared by every CLI module: error handling, JSON output, exit codes, plain printing.

Exit codes: 0 ok; 1 unexpected error; 2 invalid input (spec, arguments, unknown job) or a
file system that refuses (read-only, full, missing folder); 3 the job failed; 4 the job was
stopped; 5 waiting timed out; 6 (github) the result regressed.

Text that came from a user (job names, field names, values, error messages quoting them) is
never read as rich markup or emoji codes: both consoles print plain text, and the few
styled words (``error:``, ``warning``) are :class:`rich.text.Text` spans, not markup.

Example:
    >>> from rich.console import Console
    >>> c = Console(markup=False, emoji=False, highlight=False, width=80)
    >>> with c.capture() as cap:
    ...     c.print(error_text("e.g. [python, train.py] and [/x] :smile:"))
    >>> cap.get().strip()
    'error: e.g. [python, train.py] and [/x] :smile:'
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from pipetune.errors import PipetuneError

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=True, markup=False, emoji=False, highlight=False)
out = Console(markup=False, emoji=False, highlight=False)


def error_text(message: str) -> Text:
    """``error: message``, the word styled, the message printed literally."""
    return Text.assemble(("error:", "bold red"), " ", str(message))


def warning_text(message: str, label: str = "warning:") -> Text:
    """``warning: message``, the word styled, the message printed literally."""
    return Text.assemble((label, "bold yellow"), " ", str(message))


def filesystem_message(exc: OSError) -> str:
    """One line for a file system error: the path, what went wrong, what to do."""
    path = exc.filename or "a file"
    if exc.filename2:
        path = f"{path} -> {exc.filename2}"
    what = exc.strerror or str(exc)
    hint = ""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "; make it writable, or set PIPETUNE_HOME to a writable folder"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "; free some space (or raise the quota), then run the command again"
    elif exc.errno == errno.ENOENT:
        hint = "; create the folder or fix the path"
    home = os.environ.get("PIPETUNE_HOME")
    where = f" (PIPETUNE_HOME={home})" if home and str(path).startswith(home) else ""
    return f"cannot use {path}{where}: {what}{hint}"


def handle_errors(fn: F) -> F:
    """Turn pipetune's own errors, and a file system's refusals, into a one-paragraph
    message and their exit code, with no traceback: a user mistake is not a crash."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PipetuneError as exc:
            console.print(error_text(str(exc)), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if exc.errno is None and exc.filename is None:
                raise  # not the file system (e.g. a socket library's own error)
            console.print(error_text(filesystem_message(exc)), soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, nothing else there: indented for a person at a
    terminal, one line for a pipe or a file (``gh --json`` does the same; Python's fast JSON
    encoder only writes unindented text, which matters for 10,000 trials)."""
    sys.stdout.write(json.dumps(value, indent=_json_indent(), default=str) + "\n")


def print_json_models(models: list[Any]) -> None:
    """A list of pydantic models as :func:`print_json` prints it, serialised by pydantic's
    own JSON writer (10x faster than dumping dicts: ``trials --json`` of a 10,000-trial job)."""
    from pydantic import BaseModel, TypeAdapter

    text = TypeAdapter(list[BaseModel]).dump_json(models, indent=_json_indent(),
                                                  serialize_as_any=True).decode()
    sys.stdout.write(text + "\n")


def json_on_one_line() -> bool:
    """Whether JSON output is one line: on a pipe or into a file, not at a terminal."""
    return not sys.stdout.isatty()


def _json_indent() -> int | None:
    return None if json_on_one_line() else 2
