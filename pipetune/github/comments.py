"""Exactly one pipetune comment per pull request (and per report key).

The comment's body starts with a hidden marker, ``<!-- pipetune:KEY -->``. To post, the
client pages through every comment of the pull request, finds the ones that *start* with
the marker (a quote of it in someone's reply starts with ``>`` and does not count) **and**
were written by the token's own account (:meth:`GitHubClient.identity`), and updates the
oldest instead of adding a new one. A comment by anyone else that starts with the marker
is never edited nor deleted: the marker is public, the author is not forgeable. Should two
runs race and both create one, the next look-up (right after creating) keeps the oldest
and deletes the newer ones: there is never more than one.

Example:
    >>> marker_for("tuning/spec.yaml")
    '<!-- pipetune:tuning/spec.yaml -->'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pipetune.github.api import GitHubClient

PERMISSION = "pull-requests: write"
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/@+=-]")


def marker_for(key: str) -> str:
    """The hidden first line that identifies pipetune's comment for ``key``."""
    safe = _KEY_UNSAFE.sub("_", key.strip())[:120] or "default"
    return f"<!-- pipetune:{safe} -->"


def with_marker(body: str, marker: str) -> str:
    """``body`` starting with ``marker`` (added on a line of its own unless already there)."""
    return body if body.startswith(marker) else f"{marker}\n{body}"


@dataclass
class CommentResult:
    """What posting pipetune's comment did (``created``, ``updated`` or ``unchanged``), the
    comment's id and link, and the ids of duplicate pipetune comments it deleted."""

    action: Literal["created", "updated", "unchanged"]
    id: int
    url: str | None
    removed: list[int] = field(default_factory=list)


def find_marked(client: GitHubClient, repo: str, number: int, marker: str,
                author: str | None = None) -> list[dict[str, Any]]:
    """Every comment of issue/PR ``number`` whose body starts with ``marker`` (and, given
    ``author``, written by that login), oldest first."""
    found = [c for c in client.paginate(
        f"/repos/{repo}/issues/{number}/comments",
        what=f"list the comments of #{number} in {repo}", permission=PERMISSION)
        if (c.get("body") or "").startswith(marker)
        and (author is None or (c.get("user") or {}).get("login") == author)]
    return sorted(found, key=lambda c: (c.get("created_at") or "", c.get("id") or 0))


def upsert_comment(client: GitHubClient, repo: str, number: int, body: str,
                   marker: str, author: str | None = None) -> CommentResult:
    """Create pipetune's comment on ``number`` or update the one it wrote before.

    ``author``: the login of the token's account; default :meth:`GitHubClient.identity`.
    """
    body = with_marker(body, marker)
    author = author or client.identity()
    existing = find_marked(client, repo, number, marker, author)
    if not existing:
        created = client.json(
            "POST", f"/repos/{repo}/issues/{number}/comments", json_body={"body": body},
            what=f"comment on #{number} in {repo}", permission=PERMISSION)
        # GitHub names the author of what we just wrote: the token's identity, for sure
        author = (created.get("user") or {}).get("login") or author
        kept, removed = _dedupe(client, repo, number, marker, body, author)
        if kept is not None and kept["id"] != created["id"]:
            return CommentResult("updated", kept["id"], kept.get("html_url"), removed)
        return CommentResult("created", created["id"], created.get("html_url"), removed)
    keep = existing[0]
    removed = _delete_extra(client, repo, keep, existing[1:])
    if keep.get("body") == body:
        return CommentResult("unchanged", keep["id"], keep.get("html_url"), removed)
    updated = _update(client, repo, keep["id"], body)
    return CommentResult("updated", updated["id"], updated.get("html_url"), removed)


def _update(client: GitHubClient, repo: str, comment_id: int, body: str) -> dict[str, Any]:
    return client.json("PATCH", f"/repos/{repo}/issues/comments/{comment_id}",
                       json_body={"body": body}, what=f"update comment {comment_id} in {repo}",
                       permission=PERMISSION)


def _dedupe(client: GitHubClient, repo: str, number: int, marker: str,
            body: str, author: str) -> tuple[dict[str, Any] | None, list[int]]:
    """After creating: if another run created one too, keep the oldest (with our body)."""
    found = find_marked(client, repo, number, marker, author)
    if len(found) <= 1:
        return (found[0] if found else None), []
    keep = found[0]
    removed = _delete_extra(client, repo, keep, found[1:])
    if keep.get("body") != body:
        keep = _update(client, repo, keep["id"], body)
    return keep, removed


def _delete_extra(client: GitHubClient, repo: str, keep: dict[str, Any],
                  others: list[dict[str, Any]]) -> list[int]:
    """Delete the other marked comments written by the same account as ``keep``."""
    author = (keep.get("user") or {}).get("login")
    removed = []
    for c in others:
        if (c.get("user") or {}).get("login") != author:
            continue
        client.request("DELETE", f"/repos/{repo}/issues/comments/{c['id']}",
                       what=f"delete duplicate comment {c['id']} in {repo}",
                       permission=PERMISSION, ok=(404,))
        removed.append(c["id"])
    return removed
