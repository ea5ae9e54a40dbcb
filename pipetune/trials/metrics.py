"""Metric sources: where a trial's numbers come from.

- :class:`RegexScanner` reads log files incrementally (bounded memory, however long the
  log) and applies the spec's regexes: every match is an intermediate value, the last is
  the final value, as SageMaker does.
- :func:`read_hypertune` reads the JSON lines ``cloudml-hypertune`` writes; ``global_step``
  is the step of each value.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from pipetune.spec import MetricDefinition

_CHUNK = 1 << 16
_MAX_LINE = 1 << 16  # a longer "line" is cut: a progress bar without newlines must not eat memory


class RegexScanner:
    """Incremental regex scraping of one or more log files.

    Example:
        >>> import tempfile, pathlib
        >>> log = pathlib.Path(tempfile.mkdtemp()) / "out.log"
        >>> _ = log.write_text("loss=0.9\\nloss=0.5\\n")
        >>> s = RegexScanner([MetricDefinition(name="loss", regex=r"loss=([0-9.]+)")], [log])
        >>> s.poll(); s.final()
        {'loss': 0.5}
    """

    def __init__(self, definitions: list[MetricDefinition], files: list[Path]):
        self._defs = [(d.name, re.compile(d.regex)) for d in definitions]
        self._files = list(files)
        self._offsets = {f: 0 for f in self._files}
        self._partial = {f: b"" for f in self._files}
        self.series: dict[str, list[float]] = {name: [] for name, _ in self._defs}
        self.unparsed: dict[str, str] = {}

    def poll(self, final: bool = False) -> dict[str, list[float]]:
        """Read what was appended since the last call; return new values per metric."""
        new: dict[str, list[float]] = {name: [] for name, _ in self._defs}
        for f in self._files:
            try:
                with open(f, "rb") as fh:
                    fh.seek(self._offsets[f])
                    while True:
                        chunk = fh.read(_CHUNK)
                        if not chunk:
                            break
                        self._offsets[f] += len(chunk)
                        data = self._partial[f] + chunk
                        lines = data.split(b"\n")
                        self._partial[f] = lines.pop()[-_MAX_LINE:]
                        for line in lines:
                            self._scan(line, new)
            except FileNotFoundError:
                continue
            if final and self._partial[f]:
                self._scan(self._partial[f], new)
                self._partial[f] = b""
        for name, values in new.items():
            self.series[name].extend(values)
        return new

    def _scan(self, raw: bytes, new: dict[str, list[float]]) -> None:
        line = raw.decode("utf-8", errors="replace")
        for name, rx in self._defs:
            for m in rx.finditer(line):
                text = m.group(1)
                try:
                    new[name].append(float(text))
                except (TypeError, ValueError):
                    self.unparsed[name] = (text or "")[:80]

    def final(self) -> dict[str, float]:
        return {name: vals[-1] for name, vals in self.series.items() if vals}


def read_hypertune(path: Path) -> dict[str, list[tuple[int, float]]]:
    """All ``(global_step, value)`` pairs per metric tag in a hypertune metrics file."""
    out: dict[str, list[tuple[int, float]]] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        try:
            body = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(body, dict):
            continue
        try:
            step = int(float(body.get("global_step", 0) or 0))
        except (TypeError, ValueError):
            step = 0
        for key, value in body.items():
            if key in ("timestamp", "trial", "global_step", "checkpoint_path"):
                continue
            try:
                out.setdefault(key, []).append((step, float(value)))
            except (TypeError, ValueError):
                continue
    return out


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
