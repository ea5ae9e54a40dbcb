"""The files and commands a step uses to talk back to GitHub Actions.

- Step outputs go to the file named by ``$GITHUB_OUTPUT``. Every value is written with
  the multi-line form ``name<<DELIMITER`` ... ``DELIMITER`` and a random delimiter that is
  checked not to occur in the value, so a value (JSON, markdown, a hostile parameter
  value) can never end early and inject another output.
- The job summary is markdown appended to ``$GITHUB_STEP_SUMMARY``.
- Annotations (``::error::``...) are printed to stdout with GitHub's escaping, so a
  message holding newlines or ``::`` cannot start a workflow command of its own.

Example:
    >>> format_output("improved", True, delimiter="EOF_1")
    'improved<<EOF_1\\ntrue\\nEOF_1\\n'
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from pathlib import Path
from typing import Any, Mapping, TextIO

from pipetune.errors import UsageError

OUTPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary above 1 MiB


def output_text(value: Any) -> str:
    """How a Python value reads as a step output: booleans ``true``/``false`` (what
    ``if: steps.x.outputs.y == 'true'`` compares), ``None`` empty, containers as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


def new_delimiter(value: str) -> str:
    """A random delimiter that appears nowhere in ``value``."""
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


def format_output(name: str, value: Any, *, delimiter: str | None = None) -> str:
    """One output in the multi-line-safe form GitHub documents."""
    if not OUTPUT_NAME_RE.match(name):
        raise UsageError(f"invalid output name {name!r}: use letters, digits, '_' and '-', "
                         "starting with a letter or '_'")
    text = output_text(value)
    delimiter = delimiter or new_delimiter(text)
    if delimiter in text or "\n" in delimiter or "\r" in delimiter:
        raise UsageError(f"delimiter {delimiter!r} occurs in the value of output {name!r}")
    return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"


def write_outputs(path: Path | None, outputs: Mapping[str, Any]) -> None:
    """Append outputs to ``$GITHUB_OUTPUT``; without one (a laptop run) do nothing."""
    if path is None:
        return
    body = "".join(format_output(name, value) for name, value in outputs.items())
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(body)


def parse_outputs(text: str) -> dict[str, str]:
    """Read a ``$GITHUB_OUTPUT`` file back as the runner does (both the ``name=value`` and
    the ``name<<DELIMITER`` forms). Used by tests and by ``pipetune github`` itself to
    check what it wrote."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"output {name!r}: delimiter {delimiter!r} never closes")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ValueError(f"malformed output line {line!r}")
    return out


def append_summary(path: Path | None, markdown: str) -> bool:
    """Append markdown to ``$GITHUB_STEP_SUMMARY``. Returns False when there is no summary
    file or the text would pass GitHub's 1 MiB limit (then a short note is written)."""
    if path is None:
        return False
    used = path.stat().st_size if path.exists() else 0
    data = markdown.rstrip("\n") + "\n"
    if used + len(data.encode("utf-8")) > SUMMARY_LIMIT:
        data = "_pipetune: the report is larger than GitHub's step-summary limit; " \
               "see the pull-request comment or the report-file output._\n"
        if used + len(data) > SUMMARY_LIMIT:
            return False
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(data)
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(data)
    return True


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, *, stream: TextIO | None = None,
                     **properties: str) -> str:
    """Print ``::command key=value::message`` (``error``, ``warning``, ``notice``) with
    GitHub's escaping, and return the line."""
    props = ",".join(f"{k}={_escape_property(str(v))}" for k, v in properties.items() if v)
    line = f"::{command}{' ' + props if props else ''}::{_escape_data(message)}"
    print(line, file=stream or sys.stdout, flush=True)
    return line
