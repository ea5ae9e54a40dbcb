"""Metric sources: where a trial's numbers come from.

- :class:`RegexScanner` reads log files incrementally (bounded memory, however long the
  log) and applies the spec's regexes: every match is an intermediate value, the last is
  the final value, as SageMaker does.
- :class:`HypertuneStream` follows the JSON lines ``cloudml-hypertune`` writes (a file it
  rewrites on every report, keeping its last 100 entries); ``global_step`` is the step of
  each value.
- :func:`scored` applies the spec's scoring rule (``measurement: final | best``).
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
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
        >>> _ = s.poll(); s.final()
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
        """The last value scanned for each metric that has one."""
        return {name: vals[-1] for name, vals in self.series.items() if vals}


_HYPERTUNE_META = ("timestamp", "trial", "global_step", "checkpoint_path")


def _hypertune_entry(line: str) -> tuple[float, int, dict[str, float]] | None:
    """``(timestamp, global_step, {tag: value})`` of one complete JSON line, else None."""
    try:
        body = json.loads(line)
    except json.JSONDecodeError:
        return None  # a line cut short by a rewrite in progress
    if not isinstance(body, dict):
        return None
    try:
        step = int(float(body.get("global_step", 0) or 0))
    except (TypeError, ValueError):
        step = 0
    try:
        stamp = float(body.get("timestamp", 0.0) or 0.0)
    except (TypeError, ValueError):
        stamp = 0.0
    values: dict[str, float] = {}
    for key, value in body.items():
        if key in _HYPERTUNE_META:
            continue
        try:
            values[key] = float(value)
        except (TypeError, ValueError):
            continue
    return stamp, step, values


class HypertuneStream:
    """Every value a trial reports through ``cloudml-hypertune``, however many.

    cloudml-hypertune keeps only its last 100 entries and rewrites the whole file on every
    report, so a reader cannot index new entries by line count. This one follows the
    entries' order (their ``timestamp``, then ``global_step``): on each :meth:`poll` it
    takes the complete lines newer than the newest it has seen. A file caught mid-rewrite
    (truncated, or its last line half written) only holds entries already seen or an
    unfinished line, which is skipped and read on the next poll. Values are lost only when
    more than 100 reports happen between two polls; :attr:`overwritten` then says so.

    Example:
        >>> import json, tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "output.metrics"
        >>> stream = HypertuneStream(f)
        >>> rows = [{"timestamp": 1.0 + i, "loss": str(1 / (i + 1)), "global_step": str(i)}
        ...         for i in range(150)]
        >>> _ = f.write_text("".join(json.dumps(r) + "\\n" for r in rows[:100]))
        >>> len(stream.poll()["loss"])
        100
        >>> _ = f.write_text("".join(json.dumps(r) + "\\n" for r in rows[50:]))  # only the last 100
        >>> stream.poll()["loss"][-1], len(stream.series["loss"])
        ((149, 0.006666666666666667), 150)
    """

    #: cloudml-hypertune's ``_MAX_NUM_METRIC_ENTRIES_TO_PRESERVE``
    KEPT = 100

    def __init__(self, path: Path):
        self.path = Path(path)
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.overwritten = False
        self._last: tuple[float, int] | None = None
        self._seen_at_last: set[str] = set()
        self._previous: set[str] = set()
        self._stat: tuple[int, int, int] | None = None
        self._pending: dict[str, list[tuple[int, float]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, interval: float = 0.005) -> None:
        """Poll in a background thread every ``interval`` seconds until :meth:`stop`, so a
        slow consumer of :meth:`take` (a pruner, a Vizier call per value) loses nothing."""
        def loop() -> None:
            while not self._stop.wait(interval):
                self.poll()

        self._thread = threading.Thread(target=loop, name="hypertune-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End :meth:`follow` and read the file one last time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._stat = None
        self.poll()

    def take(self) -> dict[str, list[tuple[int, float]]]:
        """The pairs read since the last :meth:`take`, per tag."""
        with self._lock:
            out, self._pending = self._pending, {}
        return out

    def poll(self) -> dict[str, list[tuple[int, float]]]:
        """Read the file; return the ``(global_step, value)`` pairs new since the last poll."""
        with self._lock:
            new = self._read()
            for tag, pairs in new.items():
                self._pending.setdefault(tag, []).extend(pairs)
        return new

    def _read(self) -> dict[str, list[tuple[int, float]]]:
        new: dict[str, list[tuple[int, float]]] = {}
        try:
            st = os.stat(self.path)
            stat = (st.st_ino, st.st_size, st.st_mtime_ns)
            if stat == self._stat:
                return new  # not rewritten since the last read
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError):
            return new
        if text.endswith("\n"):
            self._stat = stat  # complete: no need to read it again until it changes
        complete = text.split("\n")[:-1]  # the part after the last newline may be unfinished
        if self._last is not None and len(complete) >= self.KEPT:
            oldest = _hypertune_entry(complete[0])
            if oldest is not None and oldest[:2] > self._last:
                self.overwritten = True  # the oldest entry kept is newer than the newest read
        for line in complete:
            if line in self._previous:
                continue  # read already (a cheap test: most of a rewritten file is old)
            entry = _hypertune_entry(line)
            if entry is None:
                continue
            stamp, step, values = entry
            key = (stamp, step)
            if self._last is not None and (key < self._last or (
                    key == self._last and line in self._seen_at_last)):
                continue
            if self._last is None or key > self._last:
                self._last, self._seen_at_last = key, set()
            self._seen_at_last.add(line)
            for tag, value in values.items():
                new.setdefault(tag, []).append((step, value))
                self.series.setdefault(tag, []).append((step, value))
        self._previous = set(complete)
        return new

    def final(self) -> dict[str, float]:
        """The last value reported for each tag."""
        return {tag: pairs[-1][1] for tag, pairs in self.series.items() if pairs}


def read_hypertune(path: Path) -> dict[str, list[tuple[int, float]]]:
    """The ``(global_step, value)`` pairs per metric tag in a hypertune metrics file now
    (at most its last 100 entries; follow a running trial with :class:`HypertuneStream`)."""
    stream = HypertuneStream(path)
    stream.poll()
    return stream.series


def scored(pairs: list[tuple[int, float]], goal: str, rule: str) -> tuple[int, float] | None:
    """The ``(step, value)`` that counts among a trial's reported values of its objective.

    ``rule`` is the spec's ``measurement``: ``final`` takes the last value reported (as
    SageMaker does with the last regex match), ``best`` the best finite one for ``goal``
    (as Vertex's ``BEST_MEASUREMENT``; the earliest on a tie). None when nothing was reported.

    Example:
        >>> scored([(0, 0.2), (1, 0.9), (2, 0.7)], "maximize", "final")
        (2, 0.7)
        >>> scored([(0, 0.2), (1, 0.9), (2, 0.7)], "maximize", "best")
        (1, 0.9)
    """
    if not pairs:
        return None
    if rule == "final":
        return pairs[-1]
    finite = [p for p in pairs if is_finite(p[1])]
    if not finite:
        return pairs[-1]
    pick = max if goal == "maximize" else min
    return pick(finite, key=lambda p: p[1])


def is_finite(value: float) -> bool:
    """False for NaN and for positive or negative infinity, True for any other float."""
    return not (math.isnan(value) or math.isinf(value))
