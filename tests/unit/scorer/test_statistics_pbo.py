"""Probability of Backtest Overfitting (CSCV, Bailey, Borwein, López de Prado & Zhu 2017).

Expected values come from (a) simulation with a known answer (pure noise → PBO ≈ 0.5, a
real edge → PBO ≈ 0), (b) a 4 × 3 matrix whose six CSCV splits are worked out by hand in
the comments, and (c) an independent brute-force CSCV written here with itertools and
sorting.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sixbtc.scorer.statistics import probability_of_backtest_overfitting


def _mean(returns: np.ndarray) -> np.ndarray:
    return returns.mean(axis=0)


def _sharpe(returns: np.ndarray) -> np.ndarray:
    return returns.mean(axis=0) / returns.std(axis=0)


def _brute_force_logits(perf: np.ndarray, s: int) -> list[float]:
    """CSCV transcribed from the paper's steps, one combination at a time, with sorting."""
    blocks = np.array_split(perf, s)
    n = perf.shape[1]
    logits = []
    for train in itertools.combinations(range(s), s // 2):
        j = np.vstack([blocks[i] for i in train])
        j_bar = np.vstack([blocks[i] for i in range(s) if i not in train])
        r, r_bar = _sharpe(j), _sharpe(j_bar)
        best = max(range(n), key=lambda k: r[k])
        rank = sorted(r_bar).index(r_bar[best]) + 1  # values are distinct (continuous data)
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return logits


def test_hand_worked_four_block_example() -> None:
    # One row per block (T = S = 4), three configurations, metric = mean return.
    perf = np.array([[4.0, 1.0, 5.0],
                     [1.0, 3.0, 4.0],
                     [2.0, 2.0, 1.5],
                     [3.0, 4.0, 2.5]])
    # train {0,1}: IS sums (5, 4, 9)   → best 2; OOS {2,3} (5, 6, 4)   → rank 1 → ω=1/4
    # train {0,2}: IS (6, 3, 6.5)      → best 2; OOS {1,3} (4, 7, 6.5) → rank 2 → ω=2/4
    # train {0,3}: IS (7, 5, 7.5)      → best 2; OOS {1,2} (3, 5, 5.5) → rank 3 → ω=3/4
    # train {1,2}: IS (3, 5, 5.5)      → best 2; OOS {0,3} (7, 5, 7.5) → rank 3 → ω=3/4
    # train {1,3}: IS (4, 7, 6.5)      → best 1; OOS {0,2} (6, 3, 6.5) → rank 1 → ω=1/4
    # train {2,3}: IS (5, 6, 4)        → best 1; OOS {0,1} (5, 4, 9)   → rank 1 → ω=1/4
    # λ = ln(ω/(1-ω)) = [-ln3, 0, ln3, ln3, -ln3, -ln3]; λ <= 0 in 4 of 6 → PBO = 2/3.
    res = probability_of_backtest_overfitting(perf, n_splits=4, metric=_mean)
    ln3 = math.log(3.0)
    np.testing.assert_allclose(res.logits, [-ln3, 0.0, ln3, ln3, -ln3, -ln3], atol=1e-12)
    assert res.pbo == pytest.approx(4 / 6)
    assert res.is_best_index.tolist() == [2, 2, 2, 2, 1, 1]
    assert res.oos_rank.tolist() == [1, 2, 3, 3, 1, 1]
    np.testing.assert_allclose(res.is_performance, [4.5, 3.25, 3.75, 2.75, 3.5, 3.0])
    np.testing.assert_allclose(res.oos_performance, [2.0, 3.25, 2.75, 3.75, 1.5, 2.0])
    slope, intercept = np.polyfit(res.is_performance, res.oos_performance, 1)
    assert res.degradation_slope == pytest.approx(slope)
    assert res.degradation_intercept == pytest.approx(intercept)
    assert res.prob_oos_loss == 0.0
    assert (res.n_splits, res.n_combinations, res.sampled) == (4, 6, False)


def test_ties_get_average_rank() -> None:
    # Two blocks of two rows. Train {0}: IS means (0, 5, 1) → best 1; OOS means (0, 1, 1):
    # configs 1 and 2 tie for ranks 2 and 3 → average rank 2.5. Train {1}: IS (0, 1, 1) →
    # best 1 (first of the tie); OOS (0, 5, 1) → rank 3.
    perf = np.array([[0.0, 5.0, 1.0], [0.0, 5.0, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    res = probability_of_backtest_overfitting(perf, n_splits=2, metric=_mean)
    assert res.oos_rank.tolist() == [2.5, 3.0]
    assert res.logits[0] == pytest.approx(math.log(2.5 / 1.5))


def test_default_sharpe_matches_brute_force_cscv() -> None:
    perf = np.random.default_rng(11).normal(0.0, 0.01, size=(48, 7))
    res = probability_of_backtest_overfitting(perf, n_splits=6)
    expected = _brute_force_logits(perf, 6)
    assert res.n_combinations == math.comb(6, 3)
    np.testing.assert_allclose(res.logits, expected, atol=1e-9)
    assert res.pbo == pytest.approx(np.mean(np.array(expected) <= 0))
    # The fast default (per-block sums) equals calling a Sharpe metric on each half.
    slow = probability_of_backtest_overfitting(perf, n_splits=6, metric=_sharpe)
    np.testing.assert_allclose(res.is_performance, slow.is_performance, rtol=1e-9)
    np.testing.assert_allclose(res.oos_performance, slow.oos_performance, rtol=1e-9)


def test_pure_noise_gives_pbo_near_one_half() -> None:
    # iid returns: the IS-best's OOS rank is uniform on 1..N, so with N even E[PBO] = 1/2.
    rng = np.random.default_rng(2017)
    pbos = [probability_of_backtest_overfitting(rng.normal(0, 0.01, (200, 20)), n_splits=10).pbo
            for _ in range(60)]
    assert float(np.mean(pbos)) == pytest.approx(0.5, abs=0.1)


def test_real_edge_gives_pbo_near_zero() -> None:
    # One configuration with drift 0.2 sd per period among 19 noise ones: it wins IS and OOS.
    rng = np.random.default_rng(99)
    perf = rng.normal(0.0, 0.01, (1600, 20))
    perf[:, 7] += 0.002
    res = probability_of_backtest_overfitting(perf, n_splits=16)
    assert res.pbo < 0.02
    assert np.mean(res.is_best_index == 7) > 0.98
    assert res.prob_oos_loss == 0.0
    assert res.n_combinations == math.comb(16, 8)


def test_combination_cap_samples_distinct_combinations_reproducibly() -> None:
    perf = np.random.default_rng(3).normal(0.0, 0.01, (200, 6))
    a = probability_of_backtest_overfitting(perf, n_splits=20, max_combinations=300, seed=1)
    b = probability_of_backtest_overfitting(perf, n_splits=20, max_combinations=300, seed=1)
    c = probability_of_backtest_overfitting(perf, n_splits=20, max_combinations=300, seed=2)
    assert a.sampled and a.n_combinations == 300
    np.testing.assert_array_equal(a.logits, b.logits)
    assert not np.array_equal(a.is_performance, c.is_performance)


def test_leading_remainder_rows_are_dropped() -> None:
    perf = np.random.default_rng(4).normal(0.0, 0.01, (42, 5))
    res = probability_of_backtest_overfitting(perf, n_splits=4)  # 42 = 4 × 10 + 2
    trimmed = probability_of_backtest_overfitting(perf[2:], n_splits=4)
    np.testing.assert_array_equal(res.logits, trimmed.logits)


def _safe_sharpe(returns: np.ndarray) -> np.ndarray:
    sd = returns.std(axis=0)
    return np.divide(returns.mean(axis=0), sd, out=np.zeros(sd.shape), where=sd > 0)


def test_configuration_flat_on_a_half_scores_exactly_zero_there() -> None:
    perf = np.random.default_rng(8).normal(0.0, 0.01, (40, 4))
    perf[:, 1] = 0.0  # a parameter set that never trades
    perf[20:, 2] = 0.0  # one that stops trading after the first two blocks
    res = probability_of_backtest_overfitting(perf, n_splits=4)
    ref = probability_of_backtest_overfitting(perf, n_splits=4, metric=_safe_sharpe)
    np.testing.assert_allclose(res.is_performance, ref.is_performance, rtol=1e-9)
    np.testing.assert_allclose(res.oos_performance, ref.oos_performance, rtol=1e-9, atol=0)
    np.testing.assert_array_equal(res.logits, ref.logits)


def test_chunked_evaluation_equals_single_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from sixbtc.scorer import pbo as pbo_module

    perf = np.random.default_rng(12).normal(0.0, 0.01, (120, 9))
    whole = probability_of_backtest_overfitting(perf, n_splits=10)
    monkeypatch.setattr(pbo_module, "_CHUNK_CELLS", 50)  # 5 combinations per chunk
    chunked = probability_of_backtest_overfitting(perf, n_splits=10)
    # Equal up to BLAS summation order (matrix products of different shapes).
    np.testing.assert_allclose(whole.logits, chunked.logits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(whole.oos_performance, chunked.oos_performance, rtol=1e-12)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"perf": np.zeros(10)}, "perf"),
    ({"perf": np.zeros((10, 1))}, "perf"),
    ({"perf": np.array([[0.1, np.nan]] * 8)}, "perf"),
    ({"perf": np.zeros((10, 3)), "n_splits": 3}, "n_splits"),
    ({"perf": np.zeros((10, 3)), "n_splits": 0}, "n_splits"),
    ({"perf": np.zeros((10, 3)), "n_splits": 12}, "n_splits"),
    ({"perf": np.zeros((10, 3)), "n_splits": 2, "max_combinations": 0}, "max_combinations"),
    ({"perf": np.zeros((10, 3)), "n_splits": 2, "max_combinations": 2.5}, "max_combinations"),
    ({"perf": np.ones((10, 3)), "n_splits": 2, "metric": lambda r: r.mean()}, "metric"),
    ({"perf": np.ones((10, 3)), "n_splits": 2, "metric": lambda r: r[0] * np.nan}, "metric"),
])
def test_bad_inputs_raise_value_error_naming_the_argument(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        probability_of_backtest_overfitting(**kwargs)
