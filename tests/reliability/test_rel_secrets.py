"""Secrets in the environment and in the storage URL never appear in pipetune's outputs:
CLI output, job handles, best results, status, reports, logs (every file is grepped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scaleout_fixtures import callable_spec

CANARIES = {
    "AWS_ACCESS_KEY_ID": "AKIACANARY7777777777",
    "AWS_SECRET_ACCESS_KEY": "canary/aws/secret/Key0000000000000000000",
    "AWS_SESSION_TOKEN": "canary-aws-session-token-123",
    "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.canary-gcp-token",
    "GITHUB_TOKEN": "ghp_canaryGithubToken00000000000000000",
}
PG_PASSWORD = "canary-pg-Pa55word"
# state the job needs to run (it must know where its database is); not an output
STATE_FILES = {"job.json", "journal.log"}


def _run(*args: str, env: dict) -> str:
    proc = subprocess.run([sys.executable, "-m", "pipetune", *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_no_secret_in_any_output(home, pg_url, tmp_path):
    import json

    url = pg_url.replace("postgres:@", f"postgres:{PG_PASSWORD}@")  # trust auth ignores it
    env = {**os.environ, **CANARIES}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(callable_spec("quick", max_trials=4, storage=url)))
    outputs = [_run("launch", str(spec_file), "--name", "s3cret-job", env=env)]
    outputs.append(_run("worker", "s3cret-job", "--storage", url,
                        env={**env, "PIPETUNE_HOME": str(tmp_path / "other")}))
    outputs.append(_run("wait", "s3cret-job", env=env))
    for cmd in (["status", "s3cret-job", "--json"], ["trials", "s3cret-job", "--json"],
                ["best", "s3cret-job"], ["report", "s3cret-job"]):
        outputs.append(_run(*cmd, env=env))
    assert "***" in outputs[1]  # the worker's summary shows the URL, masked
    texts = {"<cli>": "\n".join(outputs)}
    for root in (Path(home) / "home", tmp_path / "other"):
        for path in root.rglob("*"):
            if path.is_file() and path.name not in STATE_FILES:
                texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert len(texts) > 5
    for where, text in texts.items():
        for secret in [*CANARIES.values(), PG_PASSWORD]:
            assert secret not in text, f"{secret[:12]}... leaked into {where}"
    for root in (Path(home) / "home", tmp_path / "other"):
        for meta in root.rglob("job.json"):
            assert meta.stat().st_mode & 0o077 == 0  # it holds the URL: owner-only
