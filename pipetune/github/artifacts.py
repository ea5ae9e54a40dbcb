"""Bring last run's local job back onto a fresh runner, so a local job can warm-start.

A local job lives in ``$PIPETUNE_HOME/jobs/<name>/`` on the machine that ran it. A
workflow keeps it by uploading ``job.json`` and ``journal.log`` as the artifact
``pipetune-job-<name>`` (the monthly workflow does); a later run finds that artifact by
name through the REST API (``actions: read``), downloads it (the redirect to blob storage
is followed without the token) and unpacks those two files, nothing else, back in place.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from pipetune.backends.local.jobstore import JobDir
from pipetune.github.api import GitHubAPIError, GitHubClient

ARTIFACT_PREFIX = "pipetune-job-"
JOB_FILES = ("job.json", "journal.log")
MAX_UNPACKED = 256 * 1024 * 1024
PERMISSION = "actions: read"


def artifact_name(job: str) -> str:
    """The artifact that holds local job ``job``."""
    return ARTIFACT_PREFIX + job


def restore_local_job(client: GitHubClient, repo: str, job: str,
                      root: Path | None = None) -> tuple[bool, str]:
    """Download and unpack job ``job``. Returns ``(restored, what happened)``; a missing or
    expired artifact is not an error (the run goes on without warm start)."""
    target = JobDir(job, root)
    if target.exists():
        return True, f"local job {job!r} is already present"
    name = artifact_name(job)
    try:
        found = list(client.paginate(
            f"/repos/{repo}/actions/artifacts", params={"name": name},
            items_key="artifacts", what=f"find artifact {name} in {repo}", permission=PERMISSION))
        live = [a for a in found if not a.get("expired") and a.get("archive_download_url")]
        if not live:
            why = "has expired" if found else "was not found"
            return False, f"artifact {name!r} {why}"
        live.sort(key=lambda a: a.get("created_at") or "", reverse=True)
        data = client.download(live[0]["archive_download_url"],
                               what=f"download artifact {name}", permission=PERMISSION)
    except GitHubAPIError as exc:
        return False, str(exc)
    try:
        unpack(data, target)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return False, f"artifact {name!r} is not a pipetune job: {exc}"
    return True, f"restored local job {job!r} from artifact {name!r}"


def unpack(data: bytes, target: JobDir) -> None:
    """Write ``job.json`` and ``journal.log`` from a zip into the job's directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {Path(i.filename).name: i for i in zf.infolist()
                   if not i.is_dir() and Path(i.filename).name in JOB_FILES}
        if "job.json" not in members:
            raise ValueError("no job.json in it")
        if sum(i.file_size for i in members.values()) > MAX_UNPACKED:
            raise ValueError(f"more than {MAX_UNPACKED >> 20} MiB unpacked")
        meta = json.loads(zf.read(members["job.json"]))
        if not isinstance(meta, dict) or meta.get("name") != target.name:
            raise ValueError(f"its job.json is for {meta.get('name') if isinstance(meta, dict) else '?'!r}, "
                             f"not {target.name!r}")
        target.path.mkdir(parents=True, exist_ok=True)
        (target.path / "trials").mkdir(exist_ok=True)
        if "journal.log" in members:
            (target.path / "journal.log").write_bytes(zf.read(members["journal.log"]))
    storage = str(meta.get("storage") or "")
    if storage.startswith("journal://") and storage.endswith("/journal.log"):
        # the default journal sits beside job.json; the checkout may be elsewhere now
        meta["storage"] = f"journal://{target.path / 'journal.log'}"
    target.meta_file.write_text(json.dumps(meta, indent=1, sort_keys=True))
