"""Pairwise correlation of out-of-sample daily returns, aligned by calendar day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from sixbtc.rotator.correlation import DailyReturns, first_conflict, overlap_correlation


def test_identical_and_opposite_series_give_plus_and_minus_one() -> None:
    x = np.array([0.01, -0.02, 0.03, 0.0, 0.01])
    a = DailyReturns(date(2026, 1, 5), x)
    assert overlap_correlation(a, DailyReturns(date(2026, 1, 5), 2 * x + 0.5), 3) == pytest.approx(1.0)
    assert overlap_correlation(a, DailyReturns(date(2026, 1, 5), -x), 3) == pytest.approx(-1.0)


def test_hand_computed_pearson_on_the_common_days_only() -> None:
    # a covers Jan 1..5, b covers Jan 3..8: common days Jan 3, 4, 5.
    a = DailyReturns(date(2026, 1, 5), np.array([9.0, -9.0, 1.0, 2.0, 3.0]))
    b = DailyReturns(date(2026, 1, 8), np.array([1.0, 3.0, 2.0, 7.0, 7.0, 7.0]))
    # x = 1 2 3 (dev -1 0 1), y = 1 3 2 (dev -1 1 0): cov 1, var 2 and 2 -> 0.5
    assert overlap_correlation(a, b, 3) == pytest.approx(0.5)
    assert overlap_correlation(b, a, 3) == pytest.approx(0.5)


def test_too_little_overlap_is_undefined() -> None:
    a = DailyReturns(date(2026, 1, 5), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    b = DailyReturns(date(2026, 1, 8), np.array([1.0, 3.0, 2.0, 7.0, 7.0, 7.0]))
    assert overlap_correlation(a, b, 4) is None
    disjoint = DailyReturns(date(2026, 2, 1), np.array([1.0, 2.0]))
    assert overlap_correlation(a, disjoint, 2) is None


def test_constant_series_is_undefined() -> None:
    a = DailyReturns(date(2026, 1, 5), np.array([1.0, 2.0, 3.0]))
    flat = DailyReturns(date(2026, 1, 5), np.zeros(3))
    assert overlap_correlation(a, flat, 2) is None


def test_bad_inputs_raise_value_error() -> None:
    with pytest.raises(ValueError, match="NaN"):
        DailyReturns(date(2026, 1, 1), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="1-D"):
        DailyReturns(date(2026, 1, 1), np.zeros((2, 2)))
    a = DailyReturns(date(2026, 1, 5), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="min_overlap"):
        overlap_correlation(a, a, 1)


def test_first_conflict_reports_the_peer_above_the_cap() -> None:
    x = np.array([0.01, -0.02, 0.03, 0.0, 0.01, -0.01])
    day = date(2026, 1, 6)
    cand = DailyReturns(day, x)
    peers = [(1, None), (2, DailyReturns(day, x[::-1].copy())), (3, DailyReturns(day, x * 1.5))]
    hit = first_conflict(cand, peers, 0.7, 5)
    assert hit is not None and hit[0] == 3 and hit[1] == pytest.approx(1.0)
    assert first_conflict(cand, peers, 1.0, 5) is None  # cap off
    assert first_conflict(None, peers, 0.7, 5) is None  # no series: never conflicts
    # a correlation exactly at the cap is allowed; strictly above conflicts
    peer = DailyReturns(day, np.array([0.02, -0.01, 0.01, 0.01, 0.0, -0.02]))
    rho = overlap_correlation(cand, peer, 5)
    assert rho is not None and 0.0 < rho < 1.0
    assert first_conflict(cand, [(4, peer)], rho, 5) is None
    assert first_conflict(cand, [(4, peer)], rho - 1e-9, 5) == (4, rho)
