"""Running the real ``pipetune`` CLI in a subprocess, with or without the extras, and
asserting that a failure is one line with its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
RUNNER = HERE / "without_extras.py"
REPO = HERE.parents[1]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            extras: bool = True, block: str | None = None, timeout: float = 120) -> Run:
    """``pipetune ARGS`` in ``cwd``; ``extras=False`` runs it as a core-only install would
    (every extra's packages unimportable; ``block`` names them instead of the default)."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": "200", "NO_COLOR": "1"}
    full_env.pop("PIPETUNE_BLOCK", None)
    if block is not None:
        full_env["PIPETUNE_BLOCK"] = block
    if extras and block is None:
        cmd = [sys.executable, "-m", "pipetune.cli", *args]
    else:
        cmd = [sys.executable, str(RUNNER), "cli", *args]
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_py(code: str, *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """Python ``code`` with every extra's packages unimportable."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PIPETUNE_BLOCK", None)
    proc = subprocess.run([sys.executable, str(RUNNER), "py", code], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(run: Run, *must_contain: str) -> str:
    """Exit 2, nothing on stdout, and stderr exactly one ``error: ...`` line holding each of
    ``must_contain``; no traceback. Returns the line."""
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    assert run.stdout == "", run.stdout
    return lines[0]
