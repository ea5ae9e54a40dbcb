"""A stand-in for the GitHub REST API on pytest-httpserver, and shared fixtures.

``FakeGitHub`` keeps real state (comments, branches and commits, files, pull requests,
artifacts) and answers the endpoints pipetune uses the way GitHub documents them:
``per_page``/``page`` paging with a ``Link`` header, 401 without the token, 404 for what
does not exist, 422 for an invalid body, a 302 redirect for artifact downloads.
Errors can be injected per request to test how pipetune explains them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

TOKEN = "ghs_test_token_0123456789abcdefSECRET"
BOT = "github-actions[bot]"
REPO = "acme/models"
DATA = Path(__file__).parent / "data"


@dataclass
class Injected:
    method: str
    path_re: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeGitHub:
    """In-memory GitHub for one repository, served by pytest-httpserver."""

    def __init__(self, server: Any, repo: str = REPO, token: str = TOKEN):
        self.server = server
        self.repo = repo
        self.token = token
        self.page_size = 100  # the most GitHub returns per page
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.commits: dict[str, dict[str, bytes]] = {}
        self.branches: dict[str, str] = {}
        self.pulls: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.blobs: dict[int, bytes] = {}
        self.injected: list[Injected] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        # the token's account: None is an installation token (GITHUB_TOKEN), whose comments
        # GitHub signs github-actions[bot] and which gets 403 on GET /user; a login is a
        # personal token's user
        self.user_login: str | None = None
        self._ids = itertools.count(1000)
        self._clock = itertools.count(1)
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)

    # ---- setting the scene --------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _now(self) -> str:
        return f"2026-11-30T12:{next(self._clock):02d}:00Z"

    def add_comment(self, number: int, body: str, user: str = BOT) -> dict[str, Any]:
        cid = next(self._ids)
        c = {"id": cid, "body": body, "user": {"login": user}, "created_at": self._now(),
             "html_url": f"https://github.example/{self.repo}/pull/{number}#issuecomment-{cid}"}
        self.comments.setdefault(number, []).append(c)
        return c

    def commit(self, branch: str, files: dict[str, bytes], parent: str | None = None) -> str:
        base = dict(self.commits.get(parent or self.branches.get(branch, ""), {}))
        base.update(files)
        sha = hashlib.sha1(repr(sorted(base.items())).encode() + str(len(self.commits)).encode()).hexdigest()
        self.commits[sha] = base
        self.branches[branch] = sha
        return sha

    def add_artifact(self, name: str, data: bytes, expired: bool = False) -> dict[str, Any]:
        aid = next(self._ids)
        self.blobs[aid] = data
        a = {"id": aid, "name": name, "expired": expired, "created_at": self._now(),
             "archive_download_url": f"{self.api_url}/repos/{self.repo}/actions/artifacts/{aid}/zip"}
        self.artifacts.append(a)
        return a

    def inject(self, method: str, path_re: str, status: int, body: Any = None,
               headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.injected.append(Injected(method, path_re, status, body, headers or {}, times))

    def requests(self, method: str | None = None, path_re: str = "") -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.log if (method is None or r[0] == method) and re.search(path_re, r[1])]

    # ---- serving --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        query = request.query_string.decode()
        self.log.append((request.method, path + (f"?{query}" if query else ""),
                         dict(request.headers)))
        if path.startswith("/blob/"):
            return Response(self.blobs[int(path.rsplit("/", 1)[1])], 200,
                            content_type="application/zip")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"message": "Bad credentials"})
        for inj in self.injected:
            if inj.times and inj.method == request.method and re.search(inj.path_re, path):
                inj.times -= 1
                return self._json(inj.status, inj.body, inj.headers)
        if path == "/user" and request.method == "GET":
            if self.user_login is None:
                return self._json(403, {"message": "Resource not accessible by integration",
                                        "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
                                        "status": "403"})
            return self._json(200, {"login": self.user_login, "type": "User"})
        prefix = f"/repos/{self.repo}"
        if not path.startswith(prefix + "/"):
            return self._json(404, {"message": "Not Found"})
        rest = path[len(prefix):]
        for pattern, name in ROUTES:
            m = re.fullmatch(pattern, rest)
            if m and request.method == name.split()[0]:
                return getattr(self, name.split()[1])(request, *m.groups())
        return self._json(404, {"message": "Not Found"})

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response("" if body is None else json.dumps(body), status, headers=headers or {},
                        content_type="application/json")

    def _page(self, request: Request, items: list[Any], wrap: str | None = None) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), self.page_size)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items):
            args = dict(request.args)
            args.update(page=str(page + 1), per_page=str(per_page))
            nxt = self.server.url_for(request.path) + "?" + urllib.parse.urlencode(args)
            headers["Link"] = f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
        body = {wrap: chunk, "total_count": len(items)} if wrap else chunk
        return self._json(200, body, headers)

    # comments
    def list_comments(self, request: Request, number: str) -> Response:
        return self._page(request, self.comments.get(int(number), []))

    def create_comment(self, request: Request, number: str) -> Response:
        body = request.get_json()
        if not isinstance(body, dict) or not body.get("body"):
            return self._json(422, {"message": "Validation Failed",
                                    "errors": [{"resource": "IssueComment", "field": "body",
                                                "code": "missing_field"}]})
        if len(body["body"]) > 65536:
            return self._json(422, {"message": "Validation Failed", "errors": [
                {"message": "Body is too long (maximum is 65536 characters)"}]})
        return self._json(201, self.add_comment(int(number), body["body"], self.user_login or BOT))

    def _find_comment(self, cid: str) -> dict[str, Any] | None:
        for comments in self.comments.values():
            for c in comments:
                if c["id"] == int(cid):
                    return c
        return None

    def update_comment(self, request: Request, cid: str) -> Response:
        c = self._find_comment(cid)
        if c is None:
            return self._json(404, {"message": "Not Found"})
        c["body"] = request.get_json()["body"]
        return self._json(200, c)

    def delete_comment(self, request: Request, cid: str) -> Response:
        for comments in self.comments.values():
            for c in list(comments):
                if c["id"] == int(cid):
                    comments.remove(c)
                    return Response("", 204)
        return self._json(404, {"message": "Not Found"})

    # git data
    def _resolve(self, ref: str | None) -> str | None:
        if ref is None:
            ref = "main"
        return self.branches.get(ref, ref if ref in self.commits else None)

    def get_content(self, request: Request, path: str) -> Response:
        sha = self._resolve(request.args.get("ref"))
        files = self.commits.get(sha or "", {})
        path = urllib.parse.unquote(path)
        if path not in files:
            return self._json(404, {"message": "Not Found"})
        if "raw" in request.headers.get("Accept", ""):
            return Response(files[path], 200, content_type="application/octet-stream")
        return self._json(200, {"path": path, "sha": hashlib.sha1(files[path]).hexdigest(),
                                "encoding": "base64",
                                "content": base64.b64encode(files[path]).decode()})

    def put_content(self, request: Request, path: str) -> Response:
        body = request.get_json()
        branch = body.get("branch", "main")
        path = urllib.parse.unquote(path)
        current = self.commits.get(self.branches.get(branch, ""), {})
        if path in current and body.get("sha") != hashlib.sha1(current[path]).hexdigest():
            return self._json(422, {"message": f"Invalid request.\n\n\"sha\" wasn't supplied."})
        sha = self.commit(branch, {path: base64.b64decode(body["content"])})
        return self._json(200, {"commit": {"sha": sha, "message": body["message"]}})

    def get_ref(self, request: Request, branch: str) -> Response:
        sha = self.branches.get(urllib.parse.unquote(branch))
        if sha is None:
            return self._json(404, {"message": "Not Found"})
        return self._json(200, {"ref": f"refs/heads/{branch}", "object": {"sha": sha}})

    def create_ref(self, request: Request) -> Response:
        body = request.get_json()
        name = body["ref"].removeprefix("refs/heads/")
        if name in self.branches:
            return self._json(422, {"message": "Reference already exists"})
        self.branches[name] = body["sha"]
        return self._json(201, {"ref": body["ref"], "object": {"sha": body["sha"]}})

    def update_ref(self, request: Request, branch: str) -> Response:
        branch = urllib.parse.unquote(branch)
        if branch not in self.branches:
            return self._json(422, {"message": "Reference does not exist"})
        self.branches[branch] = request.get_json()["sha"]
        return self._json(200, {"object": {"sha": self.branches[branch]}})

    # pulls
    def list_pulls(self, request: Request) -> Response:
        head = request.args.get("head", "")
        owner = self.repo.split("/")[0]
        found = [p for p in self.pulls if p["state"] == request.args.get("state", "open")
                 and (not head or f"{owner}:{p['head']}" == head)]
        return self._page(request, found)

    def create_pull(self, request: Request) -> Response:
        body = request.get_json()
        if body["head"] not in self.branches:
            return self._json(422, {"message": "Validation Failed",
                                    "errors": [{"resource": "PullRequest", "field": "head",
                                                "code": "invalid"}]})
        number = len(self.pulls) + 1
        pr = {"number": number, "state": "open", "head": body["head"], "base": body["base"],
              "title": body["title"], "body": body.get("body", ""),
              "html_url": f"https://github.example/{self.repo}/pull/{number}"}
        self.pulls.append(pr)
        return self._json(201, pr)

    def update_pull(self, request: Request, number: str) -> Response:
        pr = self.pulls[int(number) - 1]
        pr.update({k: v for k, v in request.get_json().items() if k in ("title", "body")})
        return self._json(200, pr)

    # artifacts
    def list_artifacts(self, request: Request) -> Response:
        name = request.args.get("name")
        found = [a for a in reversed(self.artifacts) if not name or a["name"] == name]
        return self._page(request, found, wrap="artifacts")

    def download_artifact(self, request: Request, aid: str) -> Response:
        return Response("", 302, headers={"Location": self.server.url_for(f"/blob/{aid}")})


ROUTES = [
    (r"/issues/(\d+)/comments", "GET list_comments"),
    (r"/issues/(\d+)/comments", "POST create_comment"),
    (r"/issues/comments/(\d+)", "PATCH update_comment"),
    (r"/issues/comments/(\d+)", "DELETE delete_comment"),
    (r"/contents/(.+)", "GET get_content"),
    (r"/contents/(.+)", "PUT put_content"),
    (r"/git/ref/heads/(.+)", "GET get_ref"),
    (r"/git/refs", "POST create_ref"),
    (r"/git/refs/heads/(.+)", "PATCH update_ref"),
    (r"/pulls", "GET list_pulls"),
    (r"/pulls", "POST create_pull"),
    (r"/pulls/(\d+)", "PATCH update_pull"),
    (r"/actions/artifacts", "GET list_artifacts"),
    (r"/actions/artifacts/(\d+)/zip", "GET download_artifact"),
]


@pytest.fixture
def github(httpserver) -> FakeGitHub:
    """A fresh fake GitHub API for one test."""
    return FakeGitHub(httpserver)


@pytest.fixture
def client(github: FakeGitHub):
    from pipetune.github.api import GitHubClient

    return GitHubClient(github.api_url, TOKEN, retry_delay=0.0)


@pytest.fixture
def pipetune_home(tmp_path, monkeypatch) -> Path:
    """Local jobs land in a temporary directory, never in the repository."""
    home = tmp_path / "pipetune-home"
    monkeypatch.setenv("PIPETUNE_HOME", str(home))
    return home
