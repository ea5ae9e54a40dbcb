"""A small client for the GitHub REST API (standard library only).

What it adds over a bare HTTP call:

- errors that say what failed and what to change (401 bad token, 403 missing permission or
  rate limit, 404 not found or not visible, 422 rejected), without ever showing the token;
- paging through long lists by the ``Link: <...>; rel="next"`` header, following only links
  on the same API host (the token is never sent elsewhere);
- redirects (artifact downloads) followed without the ``Authorization`` header;
- retries of idempotent requests (never ``POST``, which could create a duplicate) on
  502/503/504 and connection errors.

Example:
    >>> client = GitHubClient("https://api.github.com", token=None)
    >>> client.url("/repos/acme/models/issues/1/comments", {"per_page": 100})
    'https://api.github.com/repos/acme/models/issues/1/comments?per_page=100'
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Iterator, Mapping

from pipetune import __version__
from pipetune.errors import PipetuneError

LINK_NEXT_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
IDEMPOTENT = {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
RETRY_STATUSES = {502, 503, 504}
#: The author of comments written with a workflow's ``GITHUB_TOKEN``.
ACTIONS_BOT = "github-actions[bot]"


class GitHubAPIError(PipetuneError):
    """GitHub refused or failed a request. ``status`` is the HTTP status (0: no answer)."""

    exit_code = 1

    def __init__(self, message: str, status: int = 0, method: str = "", path: str = ""):
        self.status, self.method, self.path = status, method, path
        super().__init__(message)


@dataclass
class Response:
    """One HTTP answer of the GitHub API, error statuses included: status, headers, raw body."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; None for an empty body.

        Raises:
            ValueError: the body is not JSON (``json.JSONDecodeError``) or not UTF-8.
        """
        return json.loads(self.body.decode("utf-8")) if self.body else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None


@dataclass
class GitHubClient:
    """Talks to ``api_url`` (``GITHUB_API_URL``: github.com or GitHub Enterprise Server)."""

    api_url: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    retries: int = 2
    retry_delay: float = 1.0

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._identity: str | None = None

    # ---- plumbing ---------------------------------------------------------------------------
    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The absolute URL of ``path`` (an API path, or a full URL kept as is) with ``params``
        appended as a query string, parameters that are None left out."""
        base = path if path.startswith(("http://", "https://")) else self.api_url + path
        if params:
            base += ("&" if "?" in base else "?") + urllib.parse.urlencode(
                {k: v for k, v in params.items() if v is not None})
        return base

    def _headers(self, accept: str, with_auth: bool) -> dict[str, str]:
        headers = {
            "Accept": accept,
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"pipetune/{__version__}",
        }
        if self.token and with_auth:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, exc.headers, exc.read())

    def request(self, method: str, path: str, *, json_body: Any = None,
                params: Mapping[str, Any] | None = None, what: str = "",
                permission: str = "", accept: str = "application/vnd.github+json",
                ok: tuple[int, ...] = ()) -> Response:
        """Send one request. A status >= 400 (except those in ``ok``) raises
        :class:`GitHubAPIError` explaining ``what`` failed and which ``permission``
        the workflow's token needs."""
        method = method.upper()
        url = self.url(path, params)
        self._check_host(url)
        body = json.dumps(json_body).encode("utf-8") if json_body is not None else None
        headers = self._headers(accept, with_auth=True)
        if body is not None:
            headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                resp = self._send(method, url, body, headers)
            except (urllib.error.URLError, OSError) as exc:
                if attempt + 1 < attempts:
                    time.sleep(self.retry_delay * (2 ** attempt))
                    continue
                reason = getattr(exc, "reason", exc)
                raise GitHubAPIError(
                    f"could not {what or 'reach GitHub'}: no answer from {self.api_url} "
                    f"({reason}); check GITHUB_API_URL and the network", 0, method, path) from None
            if resp.status in RETRY_STATUSES and attempt + 1 < attempts:
                time.sleep(self.retry_delay * (2 ** attempt))
                continue
            if resp.status >= 400 and resp.status not in ok:
                raise self._error(resp, method, path, what, permission)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request (as :meth:`request`) and return its body parsed as JSON.

        Raises:
            GitHubAPIError: as :meth:`request`.
        """
        return self.request(method, path, **kwargs).json()

    def identity(self) -> str:
        """The login GitHub shows as the author of what this token writes.

        ``GET /user`` answers for a personal or user token. An installation token (the
        workflow's ``GITHUB_TOKEN``, or another GitHub App's) gets 403 "Resource not
        accessible by integration" there; its comments are authored by the app's bot,
        ``github-actions[bot]`` for ``GITHUB_TOKEN``. (Another app's bot, ``<slug>[bot]``,
        is learned from the comment it creates; see :func:`~pipetune.github.comments.upsert_comment`.)
        """
        if self._identity is None:
            resp = self.request("GET", "/user", what="identify the token's account",
                                ok=(403, 404))
            body = resp.json() if resp.status == 200 else None
            login = body.get("login") if isinstance(body, dict) else None
            self._identity = login if isinstance(login, str) and login else ACTIONS_BOT
        return self._identity

    def paginate(self, path: str, *, params: Mapping[str, Any] | None = None,
                 what: str = "", permission: str = "", items_key: str | None = None
                 ) -> Iterator[Any]:
        """Yield the items of every page, following ``Link: rel="next"``."""
        url: str | None = self.url(path, {"per_page": 100, **(params or {})})
        seen: set[str] = set()
        while url:
            if url in seen:
                raise GitHubAPIError(f"could not {what or 'list'}: the API's Link header "
                                     f"loops back to {url}", 0, "GET", path)
            seen.add(url)
            resp = self.request("GET", url, what=what, permission=permission)
            page = resp.json()
            if items_key is not None:
                page = (page or {}).get(items_key, [])
            yield from page or []
            url = next_link(resp.headers.get("Link"))

    def download(self, path: str, *, what: str = "", permission: str = "",
                 max_redirects: int = 3) -> bytes:
        """GET bytes, following redirects (to blob storage) without the token."""
        resp = self.request("GET", path, what=what, permission=permission, ok=(301, 302, 303, 307, 308))
        for _ in range(max_redirects):
            if resp.status not in (301, 302, 303, 307, 308):
                return resp.body
            location = resp.headers.get("Location")
            if not location:
                break
            resp = self._send("GET", location, None, self._headers("*/*", with_auth=False))
            if resp.status >= 400:
                raise GitHubAPIError(f"could not {what or 'download'}: the redirect target "
                                     f"answered {resp.status}", resp.status, "GET", path)
        if resp.status in (301, 302, 303, 307, 308):
            raise GitHubAPIError(f"could not {what or 'download'}: too many redirects",
                                 resp.status, "GET", path)
        return resp.body

    # ---- safety and errors ------------------------------------------------------------------
    def _check_host(self, url: str) -> None:
        api = urllib.parse.urlsplit(self.api_url)
        target = urllib.parse.urlsplit(url)
        if (target.scheme, target.netloc) != (api.scheme, api.netloc):
            raise GitHubAPIError(f"refusing to send the token to {target.scheme}://"
                                 f"{target.netloc}: it is not the API host {api.netloc}")

    def _error(self, resp: Response, method: str, path: str, what: str,
               permission: str) -> GitHubAPIError:
        shown = urllib.parse.urlsplit(path).path or path
        message, details = _github_message(resp)
        head = f"could not {what or method + ' ' + shown}: GitHub answered {resp.status} " \
               f"for {method} {shown}"
        if message:
            head += f" ({message}{'; ' + details if details else ''})"
        status = resp.status
        if status == 401:
            hint = "the token is missing, invalid or expired; pass github-token or set GITHUB_TOKEN"
        elif status == 403 and (resp.headers.get("X-RateLimit-Remaining") == "0"
                                or "rate limit" in message.lower()):
            reset = resp.headers.get("X-RateLimit-Reset")
            when = time.strftime("%H:%M:%S UTC", time.gmtime(int(reset))) if reset and \
                reset.isdigit() else "later"
            hint = f"the API rate limit is exhausted; it resets at {when}"
        elif status == 403:
            hint = ("the token lacks a permission" + (f": grant `{permission}` in the "
                    "workflow's `permissions:`" if permission else "") +
                    "; a pull request from a fork gets a read-only token")
        elif status == 404:
            hint = ("not found, or not visible to this token: check the repository name, "
                    "the number or path" + (f", and that the token has `{permission}`"
                                            if permission else ""))
        elif status == 422:
            hint = "GitHub rejected the request as invalid"
        else:
            hint = "GitHub had a problem; retry the job"
        return GitHubAPIError(f"{head}: {hint}", status, method, shown)


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or None on the last page."""
    if not header:
        return None
    for part in header.split(","):
        match = LINK_NEXT_RE.search(part)
        if match:
            return match.group(1)
    return None


def _github_message(resp: Response) -> tuple[str, str]:
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    message = str(body.get("message") or "")
    errors = body.get("errors") or []
    details = []
    for err in errors if isinstance(errors, list) else []:
        if isinstance(err, dict):
            details.append(err.get("message") or " ".join(
                str(err[k]) for k in ("resource", "field", "code") if err.get(k)))
        else:
            details.append(str(err))
    return message, "; ".join(d for d in details if d)
