"""The command list of ``pipetune --help`` (and of each command group) shows one clean line
per command: typer keeps a summary's line breaks there, and prints reST markup as it is."""

from __future__ import annotations

import subprocess
import sys

import click
import typer

from pipetune.cli import app


def _commands(group: click.Group, prefix: str = "pipetune") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        out.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix} {name}")
    return out


def test_every_commands_summary_is_one_line_without_rest_markup():
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 10
    for name, command in commands:
        summary = (command.help or "").strip().split("\n\n")[0]
        assert summary, f"{name}: no help"
        assert "\n" not in summary, f"{name}: its summary spans lines: {summary!r}"
        assert "``" not in (command.help or ""), f"{name}: reST double backticks in its help"


def test_the_rendered_command_list_has_no_broken_summaries():
    listing = subprocess.run([sys.executable, "-m", "pipetune.cli", "--help"], capture_output=True,
                             text=True, check=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout
    rows = [line for line in listing.splitlines() if line.startswith("│ ")]
    names = [row.split()[1] for row in rows if len(row.split()) > 1]
    assert {"tune", "resume", "lint", "exporter", "insights"} <= set(names)
    for row in rows:  # a continuation row (a wrapped summary) would start with blanks
        assert row[2] != " ", f"a summary runs onto a second row: {row!r}"
