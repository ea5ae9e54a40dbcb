"""The optimization history as a Mermaid ``xychart-beta``, which GitHub renders in
comments and job summaries: one bar per completed trial (its objective value) and a line
for the best value so far.

Long histories are thinned to ``max_points`` (always keeping the first, the last and the
best trial) so the chart stays readable and the comment small.

Example:
    >>> print(history_chart([(0, 3.0), (1, 1.0), (2, 2.0)], "loss", "minimize"))
    ```mermaid
    xychart-beta
        title "loss by trial (minimize)"
        x-axis "trial" ["0", "1", "2"]
        y-axis "loss"
        bar [3, 1, 2]
        line [3, 1, 1]
    ```
"""

from __future__ import annotations

import math
import re

from pipetune.results import TrialRecord

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/ +-]")


def history(trials: list[TrialRecord], metric: str) -> list[tuple[int, float]]:
    """``(trial number, value)`` of every completed trial with a finite value, in order."""
    points = [(t.number, t.metrics[metric]) for t in trials
              if t.state == "complete" and metric in t.metrics
              and math.isfinite(t.metrics[metric])]
    return sorted(points)


def best_so_far(values: list[float], goal: str) -> list[float]:
    """The running best of ``values``: item ``i`` is the best of ``values[:i + 1]`` for
    ``goal`` (``"maximize"`` or ``"minimize"``)."""
    out: list[float] = []
    for v in values:
        out.append(v if not out else (max(out[-1], v) if goal == "maximize" else min(out[-1], v)))
    return out


def thin(points: list[tuple[int, float]], max_points: int, goal: str) -> list[tuple[int, float]]:
    """At most ``max_points`` points, evenly spread, keeping first, last and best."""
    if len(points) <= max_points:
        return points
    pick = max if goal == "maximize" else min
    best_i = points.index(pick(points, key=lambda p: p[1]))
    step = (len(points) - 1) / (max_points - 1)
    keep = {round(i * step) for i in range(max_points)} | {best_i}
    if len(keep) > max_points:  # the best displaced an even pick: drop the nearest one
        nearest = min((i for i in keep if i not in (0, len(points) - 1, best_i)),
                      key=lambda i: abs(i - best_i))
        keep.discard(nearest)
    return [points[i] for i in sorted(keep)]


def _num(v: float) -> str:
    return format(v, ".6g")


def _label(text: str) -> str:
    return _LABEL_UNSAFE.sub("_", text)[:60]


def history_chart(points: list[tuple[int, float]], metric: str, goal: str,
                  *, max_points: int = 50) -> str | None:
    """The fenced Mermaid block, or None when fewer than two trials completed."""
    if len(points) < 2:
        return None
    full_best = best_so_far([v for _, v in points], goal)
    shown = thin(points, max_points, goal)
    index = {n: i for i, (n, _) in enumerate(points)}
    line = [full_best[index[n]] for n, _ in shown]
    name = _label(metric)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{name} by trial ({goal})"',
        '    x-axis "trial" [' + ", ".join(f'"{n}"' for n, _ in shown) + "]",
        f'    y-axis "{name}"',
        "    bar [" + ", ".join(_num(v) for _, v in shown) + "]",
        "    line [" + ", ".join(_num(v) for v in line) + "]",
        "```",
    ]
    return "\n".join(lines)
