"""Did the proxy rank configurations as the full data does? Spearman's rank correlation.

Example:
    >>> check_fidelity([0.9, 0.8, 0.7, 0.6], [0.91, 0.83, 0.72, 0.5], min_correlation=0.5)
    Fidelity(correlation=1.0, pairs=4, low=False, message=None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class ProxyFidelityWarning(UserWarning):
    """The proxy ranked configurations unlike the full data: its winner may be misleading."""


@dataclass(frozen=True)
class Fidelity:
    """How well the proxy's ranking matched the full data's: Spearman's ``correlation`` over
    ``pairs`` candidates (None below three pairs or when a side has no spread), ``low``
    when it is under the required minimum, and then a ``message`` saying so."""

    correlation: float | None  # None below 3 pairs, or when a side has no spread
    pairs: int
    low: bool
    message: str | None


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation of paired values (ties get their average rank), as
    ``scipy.stats.spearmanr`` computes it; None when a side is constant.

    Example:
        >>> spearman([1, 2, 3, 4], [10, 30, 20, 40])
        0.8
    """
    rx, ry = average_ranks(x), average_ranks(y)
    mean = (len(x) + 1) / 2  # ranks 1..n always average to this, ties included
    cov = sum((a - mean) * (b - mean) for a, b in zip(rx, ry))
    var_x = sum((a - mean) ** 2 for a in rx)
    var_y = sum((b - mean) ** 2 for b in ry)
    if var_x == 0 or var_y == 0:
        return None
    return cov / math.sqrt(var_x * var_y)


def average_ranks(values: list[float]) -> list[float]:
    """1-based ranks; equal values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def check_fidelity(proxy_scores: list[float], full_scores: list[float], *,
                   min_correlation: float) -> Fidelity:
    """Spearman correlation of paired scores; ``low`` when it is under ``min_correlation``.

    Below three pairs a rank correlation says nothing, so none is computed.
    """
    n = len(proxy_scores)
    if n != len(full_scores):
        raise ValueError("proxy and full scores must be paired")
    if n < 3:
        return Fidelity(None, n, False, None)
    rho = spearman(proxy_scores, full_scores)
    if rho is None:  # one side is constant: no ranking to compare
        return Fidelity(None, n, False, None)
    if rho >= min_correlation:
        return Fidelity(rho, n, False, None)
    pairs = ", ".join(f"{p:.4g}->{f:.4g}" for p, f in zip(proxy_scores, full_scores))
    return Fidelity(rho, n, True, (
        f"proxy fidelity is low: Spearman rank correlation {rho:.2f} < {min_correlation:.2f} "
        f"over the top {n} configurations (proxy score -> full-data score: {pairs}); "
        "the sample ranks configurations differently from the full data: tune on a larger "
        "fraction, stratify, or raise verify_top_k"))
