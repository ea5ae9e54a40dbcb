"""`make demo`: the quickstart end to end on the local engine, through the CLI a user types.

Runs ``pipetune tune``, prints the best parameters as JSON, and writes the report.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "pipetune"


def run(*argv: str) -> None:
    print("$ pipetune " + " ".join(argv), flush=True)
    subprocess.run([str(BIN), *argv], check=True, cwd=ROOT, env=ENV)


ENV = dict(os.environ, PIPETUNE_HOME=str(ROOT / "demo-output" / ".pipetune"),
           PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")

if __name__ == "__main__":
    shutil.rmtree(ROOT / "demo-output", ignore_errors=True)
    run("lint", "examples/quickstart/spec.yaml")
    run("tune", "examples/quickstart/spec.yaml", "--name", "quickstart")
    run("best", "quickstart", "--format", "json")
    run("report", "quickstart", "--out", "demo-output/report")
    print(f"\nReport: {ROOT / 'demo-output' / 'report' / 'report.html'}")
