"""The committed tuned-parameters file: a :class:`~pipetune.results.BestResult` as JSON.

A repository commits it (e.g. ``tuning/tuned-params.json``); training code reads its
``params``; pull requests are compared with it; the monthly retune proposes a new one and
warm-starts from the job it names. It is the ``BestResult`` fields plus ``format`` and
``source`` (where it was produced), so ``BestResult.model_validate(json.load(f))`` reads it.

Example:
    >>> from pipetune.results import BestResult
    >>> best = BestResult(job="j", backend="local", params={"depth": 4}, metrics={"acc": 0.9},
    ...                   objective="acc", goal="maximize", value=0.9, trial="j#3")
    >>> loads(dumps(best)).params
    {'depth': 4}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipetune.errors import UsageError
from pipetune.results import BestResult

FORMAT = "pipetune.results/v1"


def to_document(best: BestResult, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document for ``best``: stable key order, no Pareto front (kept small)."""
    body = best.model_dump(mode="json", exclude={"pareto_front"})
    doc: dict[str, Any] = {"format": FORMAT, **body}
    if source:
        doc["source"] = {k: v for k, v in source.items() if v is not None}
    return doc


def dumps(best: BestResult, source: dict[str, Any] | None = None) -> str:
    """The results document of ``best`` (:func:`to_document`) as indented JSON with sorted
    keys and a final newline."""
    return json.dumps(to_document(best, source), indent=2, sort_keys=True) + "\n"


def write(path: str | Path, best: BestResult, source: dict[str, Any] | None = None) -> Path:
    """Write the results document of ``best`` to ``path`` (parent folders created); returns
    the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(best, source), encoding="utf-8")
    return path


def loads(text: str | bytes, origin: str = "results file") -> BestResult:
    """Parse a results document; errors name the file and the field."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(
            exc, json.JSONDecodeError) else ""
        raise UsageError(f"{origin} is not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{origin} must hold a JSON object (a pipetune result), "
                         f"not {type(data).__name__}")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise UsageError(f"{origin}: format {fmt!r} is not supported; this pipetune reads {FORMAT}")
    try:
        return BestResult.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg'].lower()}"
            for e in exc.errors())
        raise UsageError(f"{origin} is not a pipetune result ({problems}); write it with "
                         "`pipetune github run --write-results` or `pipetune best --json`") from None


def read(path: str | Path) -> BestResult:
    """The result kept in the results file at ``path``.

    Raises:
        UsageError: the file is missing or unreadable, or not a pipetune results document.
    """
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"results file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read results file {path}: {exc}") from None
    return loads(text, origin=str(path))


def source_of(path: str | Path) -> dict[str, Any]:
    """The ``source`` block of a results file (which run produced it), or ``{}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    src = data.get("source") if isinstance(data, dict) else None
    return src if isinstance(src, dict) else {}
