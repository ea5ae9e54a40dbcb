"""Quotas are exact and within one row per class; selection ignores how rows are batched."""

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetune.proxy.quotas import BLOCK, ClassSelector, quotas, target_rows


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(1, 10_000), min_size=1, max_size=12),
       share=st.fractions(min_value=Fraction(1, 1000), max_value=1), seed=st.integers(0, 99))
def test_quotas_sum_to_total_and_stay_within_one_row_of_the_exact_share(counts, share, seed):
    n = sum(counts)
    total = max(1, int(share * n))
    got = quotas(dict(enumerate(counts)), total=total, seed=seed)
    assert sum(got.values()) == total
    for cls, c in enumerate(counts):
        exact = Fraction(c * total, n)
        assert abs(got[cls] - exact) < 1
        assert 0 <= got[cls] <= c


def test_target_rows_rounds_half_up_without_float_error():
    assert target_rows(100, fraction=0.29, rows=None) == 29  # 0.29 * 100 is 28.999... in floats
    assert target_rows(5, fraction=0.1, rows=None) == 1  # 0.5 rounds up
    assert target_rows(4, fraction=0.1, rows=None) == 0
    assert target_rows(10, fraction=None, rows=7) == 7


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3 * BLOCK), data=st.data())
def test_selector_keeps_exactly_k_rows_whatever_the_batch_sizes(n, data):
    k = data.draw(st.integers(0, n))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=6)))
    whole = ClassSelector(n, k, seed=3, ordinal=1).take(n)
    sel = ClassSelector(n, k, seed=3, ordinal=1)
    pieces, start = [], 0
    for cut in cuts + [n]:
        pieces.append(sel.take(cut - start))
        start = cut
    batched = np.concatenate(pieces)
    assert int(whole.sum()) == k
    assert np.array_equal(whole, batched)


def test_selector_is_uniform_over_rows():
    n, k, runs = 40, 10, 2000
    hits = np.zeros(n)
    for seed in range(runs):
        hits += ClassSelector(n, k, seed=seed, ordinal=1).take(n)
    expected = runs * k / n  # 500 per row
    chi2 = float(((hits - expected) ** 2 / expected).sum())
    assert chi2 < 80  # 39 degrees of freedom: p < 1e-4 beyond ~80


def test_selector_spreads_rows_evenly_over_blocks():
    n, k, runs = 3 * BLOCK, 300, 300
    per_block = np.zeros(3)
    for seed in range(runs):
        mask = ClassSelector(n, k, seed=seed, ordinal=2).take(n)
        per_block += mask.reshape(3, BLOCK).sum(axis=1)
    mean = per_block / runs
    # each block holds a third of the rows: 100 expected, sd of the mean about 0.5
    assert np.all(np.abs(mean - 100) < 3), mean
