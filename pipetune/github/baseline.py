"""Where a run's baseline comes from.

In order of preference:

1. an explicit file (the action's ``baseline`` input);
2. on a pull request, the committed results file as it is on the *base* branch, read
   through the contents API at the base commit (the pull request may have changed its own
   copy; and a shallow checkout does not hold the base commit);
3. otherwise (a scheduled run), the results file in the checkout.

No baseline is not an error: the first run of a repository has none.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from pipetune.github import results_file
from pipetune.github.api import GitHubClient
from pipetune.github.env import GitHubEnv
from pipetune.results import BestResult


@dataclass
class Baseline:
    """The baseline result (or None), a human description of where it came from, and why
    there is none when there is none."""

    result: BestResult | None
    origin: str = ""
    note: str | None = None


def fetch_file(client: GitHubClient, repo: str, path: str, ref: str) -> bytes | None:
    """A file's bytes at ``ref`` through the contents API; None when it does not exist."""
    resp = client.request(
        "GET", f"/repos/{repo}/contents/{urllib.parse.quote(path.lstrip('/'), safe='/')}",
        params={"ref": ref}, accept="application/vnd.github.raw+json", ok=(404,),
        what=f"read {path} at {ref[:12]} in {repo}", permission="contents: read")
    return None if resp.status == 404 else resp.body


def local_path(env: GitHubEnv, path: str) -> Path:
    """A repository-relative path in the checkout (``GITHUB_WORKSPACE``), else in the cwd."""
    p = Path(path)
    return p if p.is_absolute() or env.workspace is None else env.workspace / p


def resolve(env: GitHubEnv, client: GitHubClient | None, *, baseline: str | None,
            results_path: str | None) -> Baseline:
    """Find the baseline for this run (see the module's docstring)."""
    if baseline:
        return Baseline(results_file.read(baseline), f"`{baseline}`")
    if not results_path:
        return Baseline(None, note="no results-file or baseline was given")
    if env.pull_request is not None and env.base_sha and env.repository and client is not None:
        where = env.base_ref or env.base_sha[:7]
        body = fetch_file(client, env.repository, results_path, env.base_sha)
        if body is None:
            return Baseline(None, note=f"`{results_path}` does not exist on `{where}` yet")
        origin = f"`{results_path}` on `{where}`"
        return Baseline(results_file.loads(body, origin=f"{results_path} on {where}"), origin)
    path = local_path(env, results_path)
    if not path.exists():
        return Baseline(None, note=f"`{results_path}` does not exist yet")
    note = None
    if env.pull_request is not None:
        note = "read from the pull request's checkout: no token to read the base branch"
    return Baseline(results_file.read(path), f"`{results_path}`", note)
