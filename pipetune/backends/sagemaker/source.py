"""Script mode's code: a local ``sagemaker.source_dir`` packed and uploaded as the SageMaker
SDK does.

The SDK tars ``source_dir`` into ``sourcedir.tar.gz``, uploads it to S3 and passes the
training toolkit two hyperparameters: ``sagemaker_submit_directory`` (the archive's S3 URI)
and ``sagemaker_program`` (the entry point inside it). pipetune does the same. The archive
is reproducible (sorted names, no timestamps or owners), and its key holds a hash of its
bytes, ``<output_path>/pipetune-source/<hash>/sourcedir.tar.gz``: the request can be built
(and shown in a dry run) without any AWS call, an upload happens only when the object is
missing, and a changed script never overwrites the code of a job that is running.

A relative ``source_dir`` is relative to ``trial.workdir`` (in a spec file, the file's
folder), like the trial's command.

Example (no AWS call):
    >>> import pathlib, tempfile
    >>> code = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (code / "train.py").write_text("print('auc=0.9')\\n")
    >>> package(code) == package(code)   # the same bytes every time
    True
    >>> submit_uri("s3://bucket/tuning/", package(code)).endswith("/sourcedir.tar.gz")
    True
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

from pipetune.backends.sagemaker.options import S3_RE
from pipetune.spec import TuningSpec

ARCHIVE = "sourcedir.tar.gz"
PREFIX = "pipetune-source"
#: what a source folder holds that a training job never needs
SKIPPED = ("__pycache__", ".git")


def is_local(source_dir: str | None) -> bool:
    """True for a folder on this machine (anything but an ``s3://`` URI)."""
    return source_dir is not None and not source_dir.startswith("s3://")


def local_path(spec: TuningSpec, source_dir: str) -> Path:
    """``source_dir`` resolved against ``trial.workdir`` (default: the current directory)."""
    path = Path(source_dir).expanduser()
    if not path.is_absolute():
        path = Path(spec.trial.workdir or ".") / path
    return path.resolve()


def package(folder: Path) -> bytes:
    """``folder`` as a reproducible gzipped tar, its files at the archive's root (packed
    once while its files stay the same: a launch builds the request, then uploads)."""
    files = sorted(_files(folder))
    signature = tuple((str(p), st.st_size, st.st_mtime_ns) for p in files
                      for st in [os.lstat(p)])
    return _packed(str(folder), signature)


@functools.lru_cache(maxsize=8)
def _packed(folder_name: str, signature: tuple) -> bytes:
    folder = Path(folder_name)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in (Path(name) for name, _, _ in signature):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if info.isreg():
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        found += [Path(root) / name for name in files]
    return found


def submit_uri(output_path: str, archive: bytes) -> str:
    """Where ``archive`` goes: under ``output_path``, keyed by a hash of its bytes."""
    digest = hashlib.sha256(archive).hexdigest()[:16]
    return f"{output_path.rstrip('/')}/{PREFIX}/{digest}/{ARCHIVE}"


def submit_directory(spec: TuningSpec, output_path: str, source_dir: str | None) -> str | None:
    """``sagemaker_submit_directory`` for ``source_dir``: an S3 URI as given, or where the
    packed local folder is uploaded."""
    if not is_local(source_dir):
        return source_dir
    assert source_dir is not None
    return submit_uri(output_path, package(local_path(spec, source_dir)))


def upload(s3: Any, spec: TuningSpec, output_path: str, source_dirs: list[str | None]) -> list[str]:
    """Pack and upload each local folder among ``source_dirs`` unless S3 holds it already;
    return the URIs written."""
    written = []
    for source_dir in source_dirs:
        if not is_local(source_dir):
            continue
        assert source_dir is not None
        archive = package(local_path(spec, source_dir))
        uri = submit_uri(output_path, archive)
        match = S3_RE.match(uri)
        assert match is not None
        bucket, key = match.group(1), match.group(2)
        try:
            s3.head_object(Bucket=bucket, Key=key)
            continue  # same bytes, same key: uploaded before
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") not in ("404", "NoSuchKey",
                                                                                 "NotFound"):
                raise
        s3.put_object(Bucket=bucket, Key=key, Body=archive, ContentType="application/gzip")
        written.append(uri)
    return written
