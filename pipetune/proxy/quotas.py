"""How many rows each class keeps, and which ones: exact quotas, chosen at random, streaming.

Quotas use the largest-remainder method on exact fractions, so every class keeps
``floor(q)`` or ``ceil(q)`` rows of its exact share ``q`` (within one row) and the total is
exactly the number asked for. Which rows a class keeps is decided by :class:`ClassSelector`
block by block of that class's rows, from a random stream of its own: the choice does not
depend on how the file happens to be cut into batches, and memory stays bounded.

Example:
    >>> quotas({"a": 90, "b": 10}, total=12, seed=0)
    {'a': 11, 'b': 1}
    >>> sel = ClassSelector(n=10, k=3, seed=0, ordinal=0)
    >>> int(sel.take(4).sum() + sel.take(6).sum())
    3
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Hashable, Mapping

import numpy as np

BLOCK = 1 << 16  # rows of one class decided at a time


def target_rows(n_rows: int, *, fraction: float | None, rows: int | None) -> int:
    """Rows in the sample: ``rows``, or ``fraction * n_rows`` rounded half up, exactly."""
    if rows is not None:
        return rows
    assert fraction is not None
    exact = Fraction(str(fraction)) * n_rows
    return math.floor(exact + Fraction(1, 2))


def quotas(counts: Mapping[Hashable, int], *, total: int, seed: int) -> dict[Hashable, int]:
    """Split ``total`` rows among classes in proportion to ``counts`` (largest remainder).

    Ties between equal remainders are broken by a permutation drawn from ``seed``, so no
    class is favoured by its name.
    """
    n = sum(counts.values())
    keys = list(counts)
    shares = [Fraction(counts[k] * total, n) for k in keys]
    out = [math.floor(s) for s in shares]
    left = total - sum(out)
    tiebreak = np.random.default_rng([seed, 0x51A7]).permutation(len(keys))
    order = sorted(range(len(keys)), key=lambda i: (-(shares[i] - out[i]), int(tiebreak[i])))
    for i in order[:left]:
        out[i] += 1
    return {k: q for k, q in zip(keys, out)}


class ClassSelector:
    """Chooses ``k`` of a class's ``n`` rows uniformly at random, as the rows stream by.

    The class's rows are cut into blocks of :data:`BLOCK`; the number kept from a block is
    drawn from the hypergeometric distribution (the exact law of "k of n, how many fall in
    this block"), then which ones is drawn within the block.
    """

    def __init__(self, n: int, k: int, *, seed: int, ordinal: int):
        if not 0 <= k <= n:
            raise ValueError(f"cannot choose {k} of {n} rows")
        self._rng = np.random.default_rng([seed, ordinal])
        self._rows_left = n
        self._keep_left = k
        self._block = np.zeros(0, dtype=bool)
        self._pos = 0

    def _next_block(self) -> None:
        size = min(BLOCK, self._rows_left)
        if size <= 0:
            raise ValueError("more rows of this class than were counted")
        if self._keep_left == 0:
            kept = 0
        elif self._keep_left == self._rows_left:
            kept = size
        else:
            kept = int(self._rng.hypergeometric(size, self._rows_left - size, self._keep_left))
        block = np.zeros(size, dtype=bool)
        if 0 < kept < size:
            block[self._rng.choice(size, kept, replace=False)] = True
        elif kept == size:
            block[:] = True
        self._rows_left -= size
        self._keep_left -= kept
        self._block, self._pos = block, 0

    def take(self, m: int) -> np.ndarray:
        """The keep/drop decision for the class's next ``m`` rows."""
        parts = []
        while m > 0:
            if self._pos >= len(self._block):
                self._next_block()
            step = min(m, len(self._block) - self._pos)
            parts.append(self._block[self._pos:self._pos + step])
            self._pos += step
            m -= step
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
