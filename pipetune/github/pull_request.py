"""Propose a file update as a pull request, through the REST API only.

Used by the monthly retune to propose the new tuned-parameters file. No ``git push``
from the runner and no third-party action: the branch is created (or reset) at the base
branch's head, the file is committed with the contents API (GitHub signs that commit),
and the one open pull request from that branch is updated or a new one opened. Running
it again never opens a second pull request.

Needs ``contents: write`` and ``pull-requests: write``, and for ``GITHUB_TOKEN`` the
repository setting "Allow GitHub Actions to create and approve pull requests".
"""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from pipetune.github.api import GitHubAPIError, GitHubClient
from pipetune.github.baseline import fetch_file

CONTENTS = "contents: write"
PULLS = "pull-requests: write"


@dataclass
class PullRequestResult:
    """What proposing a file did (``created``, ``updated`` or ``unchanged``), and the pull
    request's number and link."""

    action: Literal["created", "updated", "unchanged"]
    number: int | None
    url: str | None


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="/")


def propose_file(client: GitHubClient, repo: str, *, path: str, content: bytes, base: str,
                 branch: str, title: str, body: str, message: str) -> PullRequestResult:
    """Open or update the pull request that sets ``path`` to ``content`` on ``base``."""
    if branch == base:
        raise GitHubAPIError(f"the pull-request branch must differ from the base branch ({base!r})")
    ref = client.json("GET", f"/repos/{repo}/git/ref/heads/{_q(base)}",
                      what=f"find base branch {base!r} in {repo}", permission="contents: read")
    base_sha = ref["object"]["sha"]
    current = fetch_file(client, repo, path, base_sha)
    if current == content:
        return PullRequestResult("unchanged", None, None)
    existing = client.request("GET", f"/repos/{repo}/git/ref/heads/{_q(branch)}", ok=(404,),
                              what=f"look up branch {branch!r}", permission="contents: read")
    if existing.status == 404:
        client.request("POST", f"/repos/{repo}/git/refs",
                       json_body={"ref": f"refs/heads/{branch}", "sha": base_sha},
                       what=f"create branch {branch!r}", permission=CONTENTS)
    else:
        client.request("PATCH", f"/repos/{repo}/git/refs/heads/{_q(branch)}",
                       json_body={"sha": base_sha, "force": True},
                       what=f"reset branch {branch!r} to {base!r}", permission=CONTENTS)
    put: dict[str, object] = {"message": message, "branch": branch,
                              "content": base64.b64encode(content).decode("ascii")}
    blob = _blob_sha(client, repo, path, base_sha)
    if blob:
        put["sha"] = blob
    client.request("PUT", f"/repos/{repo}/contents/{urllib.parse.quote(path, safe='/')}",
                   json_body=put, what=f"commit {path} on branch {branch!r}", permission=CONTENTS)
    owner = repo.split("/", 1)[0]
    open_prs = list(client.paginate(
        f"/repos/{repo}/pulls", params={"head": f"{owner}:{branch}", "base": base, "state": "open"},
        what=f"list pull requests from {branch!r}", permission=PULLS))
    if open_prs:
        pr = client.json("PATCH", f"/repos/{repo}/pulls/{open_prs[0]['number']}",
                         json_body={"title": title, "body": body},
                         what=f"update pull request #{open_prs[0]['number']}", permission=PULLS)
        return PullRequestResult("updated", pr["number"], pr.get("html_url"))
    pr = client.json("POST", f"/repos/{repo}/pulls",
                     json_body={"title": title, "head": branch, "base": base, "body": body},
                     what=f"open a pull request from {branch!r} "
                          "(for GITHUB_TOKEN also allow it in Settings > Actions > General: "
                          "'Allow GitHub Actions to create and approve pull requests')",
                     permission=PULLS)
    return PullRequestResult("created", pr["number"], pr.get("html_url"))


def _blob_sha(client: GitHubClient, repo: str, path: str, ref: str) -> str | None:
    resp = client.request("GET", f"/repos/{repo}/contents/{urllib.parse.quote(path, safe='/')}",
                          params={"ref": ref}, ok=(404,), what=f"look up {path}",
                          permission="contents: read")
    return None if resp.status == 404 else resp.json().get("sha")
