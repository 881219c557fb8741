"""PSR, MinTRL, E[max SR], DSR and sample moments against published examples and simulation.

Where the expected numbers come from is stated in each test. "Independent" closed forms are
written here from the papers with ``math.erf`` (not with the module's ``NormalDist``), and
Monte-Carlo checks test the statistical meaning rather than the algebra.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sixbtc.scorer.statistics import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)

# Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2),
# numerical example: 24 monthly returns, annualised SR 1.585, skewness -2.448, kurtosis
# 10.164 (non-excess), benchmark SR* = 0.
PAPER12 = {"sr": 1.585 / math.sqrt(12), "n_obs": 24, "skew": -2.448, "kurtosis": 10.164}

# Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", J. Portfolio Management 40(5),
# numerical example: N = 100 trials, variance of the trials' annualised SR = 0.5, best
# annualised SR = 2.5 over T = 1250 daily returns (5 years x 250 days), skew -3, kurtosis 10.
DAYS = 250
PAPER14 = {"sr": 2.5 / math.sqrt(DAYS), "n_obs": 1250, "skew": -3.0, "kurtosis": 10.0,
           "n_trials": 100, "trials_sr_variance": 0.5 / DAYS}


def _phi(x: float) -> float:
    """Standard normal CDF via math.erf (independent of statistics.NormalDist)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _phi_inv(p: float) -> float:
    """Inverse of :func:`_phi` by bisection (independent of NormalDist.inv_cdf)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _phi(mid) < p else (lo, mid)
    return (lo + hi) / 2


def _psr_by_hand(sr: float, bench: float, n: int, g3: float, g4: float) -> float:
    """BLdP 2012 eq. for PSR, transcribed independently."""
    sigma_sr = math.sqrt((1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr**2) / (n - 1.0))
    return _phi((sr - bench) / sigma_sr)


# ---------------------------------------------------------------- PSR


def test_psr_reproduces_the_2012_paper_example() -> None:
    # 0.91323430688486018 is the value the esvhd/pypbo test suite asserts for this same
    # paper example (an independent implementation); _psr_by_hand recomputes it with erf.
    got = probabilistic_sharpe_ratio(PAPER12["sr"], 0.0, PAPER12["n_obs"], PAPER12["skew"],
                                     PAPER12["kurtosis"])
    assert got == pytest.approx(0.91323430688486018, abs=1e-12)
    assert got == pytest.approx(_psr_by_hand(PAPER12["sr"], 0.0, 24, -2.448, 10.164), abs=1e-12)
    # The paper's point: the same SR with normal returns would look more significant.
    assert probabilistic_sharpe_ratio(PAPER12["sr"], 0.0, 24, 0.0, 3.0) > got


def test_psr_with_normal_moments_uses_lo_2002_standard_error() -> None:
    # For normal returns the Sharpe estimator's sd is sqrt((1 + SR²/2)/(n-1)) (Lo 2002).
    sr, bench, n = 0.1, 0.02, 500
    expected = _phi((sr - bench) / math.sqrt((1 + sr**2 / 2) / (n - 1)))
    assert probabilistic_sharpe_ratio(sr, bench, n, 0.0, 3.0) == pytest.approx(expected, abs=1e-12)
    assert probabilistic_sharpe_ratio(bench, bench, n, 0.0, 3.0) == pytest.approx(0.5)


def test_psr_is_monotone_in_length_skew_and_kurtosis() -> None:
    base = probabilistic_sharpe_ratio(0.1, 0.0, 300, -0.5, 5.0)
    assert probabilistic_sharpe_ratio(0.1, 0.0, 600, -0.5, 5.0) > base
    assert probabilistic_sharpe_ratio(0.1, 0.0, 300, 0.5, 5.0) > base
    assert probabilistic_sharpe_ratio(0.1, 0.0, 300, -0.5, 9.0) < base


def _simulated_moments(rng: np.random.Generator, sims: int, n: int,
                       true_sr: float) -> tuple[np.ndarray, ...]:
    """Sample SR, skew, kurtosis of ``sims`` series with true SR ``true_sr``, skew -2, kurt 9.

    Returns are ``true_sr - (E - 1)`` with E ~ Exponential(1): mean ``true_sr``, sd 1.
    """
    r = true_sr - (rng.standard_exponential((sims, n)) - 1.0)
    d = r - r.mean(axis=1, keepdims=True)
    m2 = (d * d).mean(axis=1)
    sd = np.sqrt(m2)
    return r.mean(axis=1) / sd, (d**3).mean(axis=1) / sd**3, (d**4).mean(axis=1) / m2**2


def test_psr_is_calibrated_under_the_null_for_skewed_returns() -> None:
    # Monte Carlo: if the true SR equals SR*, PSR(SR*) is ~Uniform(0, 1), so it exceeds
    # 0.95 in ~5 % of samples. Exponential (skew -2, kurtosis 9) returns, n = 250.
    rng = np.random.default_rng(20120701)
    sims, n, sr_star = 10_000, 250, 0.2
    sr, g3, g4 = _simulated_moments(rng, sims, n, sr_star)
    psr = np.array([probabilistic_sharpe_ratio(a, sr_star, n, b, c)
                    for a, b, c in zip(sr, g3, g4, strict=True)])
    naive = np.array([probabilistic_sharpe_ratio(a, sr_star, n, 0.0, 3.0) for a in sr])
    assert 0.035 < float(np.mean(psr > 0.95)) < 0.07
    # Ignoring the negative skew and fat tails doubles the false-positive rate.
    assert float(np.mean(naive > 0.95)) > 0.085
    # The standard error formula itself matches the simulated sd of the estimator (~2 %).
    predicted_sd = math.sqrt((1 + 2 * sr_star + (9 - 1) / 4 * sr_star**2) / (n - 1))
    assert float(np.std(sr)) == pytest.approx(predicted_sd, rel=0.05)


# ---------------------------------------------------------------- MinTRL


def test_min_track_record_length_of_the_2012_example() -> None:
    # Derived by hand from BLdP 2012 eq. (MinTRL) for the paper's example at 95 %:
    # 1 + (1 + 2.448·SR + 9.164/4·SR²)·(1.6448536/SR)² ≈ 34.6 months — longer than the 24
    # months observed, consistent with PSR(0) = 0.913 < 0.95.
    sr, g3, g4 = PAPER12["sr"], PAPER12["skew"], PAPER12["kurtosis"]
    z95 = 1.6448536269514722
    expected = 1 + (1 - g3 * sr + (g4 - 1) / 4 * sr**2) * (z95 / sr) ** 2
    got = min_track_record_length(sr, 0.0, g3, g4, prob=0.95)
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(34.597, abs=1e-3)


@pytest.mark.parametrize(("sr", "bench", "g3", "g4", "prob"),
                         [(0.458, 0.0, -2.448, 10.164, 0.95), (0.05, 0.01, 0.0, 3.0, 0.99),
                          (0.12, 0.03, -0.72, 5.78, 0.9)])
def test_min_track_record_length_is_the_psr_threshold(sr, bench, g3, g4, prob) -> None:
    # MinTRL is the PSR formula solved for n: one more observation than floor(MinTRL)
    # reaches the confidence, floor(MinTRL) does not.
    n_star = min_track_record_length(sr, bench, g3, g4, prob=prob)
    assert probabilistic_sharpe_ratio(sr, bench, math.ceil(n_star), g3, g4) >= prob
    assert probabilistic_sharpe_ratio(sr, bench, math.floor(n_star), g3, g4) < prob


def test_min_track_record_length_grows_with_bad_moments_and_is_infinite_without_edge() -> None:
    normal = min_track_record_length(0.1, 0.0, 0.0, 3.0)
    assert normal == pytest.approx(1 + (1 + 0.1**2 / 2) * (1.6448536269514722 / 0.1) ** 2)
    assert min_track_record_length(0.1, 0.0, -1.0, 6.0) > normal
    assert min_track_record_length(0.1, 0.1, 0.0, 3.0) == math.inf
    assert min_track_record_length(0.05, 0.1, 0.0, 3.0) == math.inf


# ---------------------------------------------------------------- E[max SR] and DSR


def test_expected_max_sharpe_matches_simulated_maxima() -> None:
    # Monte Carlo: the mean of the maximum of N iid N(0, V) draws. The BLdP 2014 formula is
    # an extreme-value approximation: +2.3 % at N = 10, +0.9 % at 100, +0.4 % at 1000 (exact
    # means 1.5388, 2.5076, 3.2414 for V = 1); Monte-Carlo standard errors are <= 0.3 %.
    rng = np.random.default_rng(2014)
    var = 0.04
    for n_trials, sims in ((10, 20_000), (100, 20_000), (1000, 2_000)):
        maxima = rng.normal(0.0, math.sqrt(var), size=(sims, n_trials)).max(axis=1)
        assert expected_max_sharpe(n_trials, var) == pytest.approx(float(maxima.mean()), rel=0.035)
    # Same value as the esvhd/pypbo test (`expected_max(100)`), an independent implementation.
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2.5306028932016846, abs=1e-12)


def test_expected_max_sharpe_edge_cases() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 0.0) == 0.0
    assert expected_max_sharpe(50, 4.0) == pytest.approx(2 * expected_max_sharpe(50, 1.0))
    assert expected_max_sharpe(10, 1.0) < expected_max_sharpe(11, 1.0)


def test_dsr_reproduces_the_2014_paper_example() -> None:
    # BLdP 2014 numerical example: DSR ≈ 0.9004 (the value also asserted by the esvhd/pypbo
    # test suite, 0.90039683444939034). The benchmark is E[max SR] ≈ 1.7894 annualised,
    # i.e. 0.1132 per day.
    sr0 = expected_max_sharpe(PAPER14["n_trials"], PAPER14["trials_sr_variance"])
    gamma = 0.5772156649015329
    by_formula = math.sqrt(0.5) * ((1 - gamma) * _phi_inv(1 - 1 / 100)
                                   + gamma * _phi_inv(1 - 1 / (100 * math.e)))
    assert sr0 * math.sqrt(DAYS) == pytest.approx(by_formula, rel=1e-9)
    assert sr0 * math.sqrt(DAYS) == pytest.approx(1.7894, abs=1e-4)
    assert deflated_sharpe_ratio(**PAPER14) == pytest.approx(0.90039683444939034, abs=1e-10)
    by_hand = _psr_by_hand(PAPER14["sr"], sr0, 1250, -3.0, 10.0)
    assert deflated_sharpe_ratio(**PAPER14) == pytest.approx(by_hand, abs=1e-12)


def test_dsr_properties() -> None:
    args = {"sr": 0.1, "n_obs": 1000, "skew": -0.5, "kurtosis": 4.0, "trials_sr_variance": 0.001}
    dsrs = [deflated_sharpe_ratio(n_trials=n, **args) for n in (1, 2, 10, 100, 1000, 10_000)]
    assert all(a > b for a, b in zip(dsrs, dsrs[1:], strict=False))
    assert dsrs[0] == probabilistic_sharpe_ratio(0.1, 0.0, 1000, -0.5, 4.0)
    sr0 = expected_max_sharpe(100, 0.001)
    assert dsrs[3] == probabilistic_sharpe_ratio(0.1, sr0, 1000, -0.5, 4.0)


# ---------------------------------------------------------------- sample moments


def test_sharpe_moments_match_definitions() -> None:
    rng = np.random.default_rng(5)
    r = rng.standard_t(5, size=3000) * 0.01 + 0.0004
    sr, g3, g4, n = sharpe_moments(r)
    mu, sd = r.mean(), r.std(ddof=0)
    z = (r - mu) / sd
    assert n == 3000
    assert sr == pytest.approx(mu / sd, rel=1e-12)
    assert g3 == pytest.approx(float(np.mean(z**3)), rel=1e-9)
    assert g4 == pytest.approx(float(np.mean(z**4)), rel=1e-9)
    scipy_stats = pytest.importorskip("scipy.stats")
    assert g3 == pytest.approx(float(scipy_stats.skew(r, bias=True)), rel=1e-9)
    assert g4 == pytest.approx(float(scipy_stats.kurtosis(r, fisher=False, bias=True)), rel=1e-9)


def test_sharpe_moments_of_normal_returns() -> None:
    r = np.random.default_rng(6).normal(0.001, 0.02, size=200_000)
    sr, g3, g4, _ = sharpe_moments(r)
    assert sr == pytest.approx(0.05, abs=0.005)
    assert g3 == pytest.approx(0.0, abs=0.03)
    assert g4 == pytest.approx(3.0, abs=0.05)


# ---------------------------------------------------------------- input validation


@pytest.mark.parametrize(("call", "name"), [
    (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0), "n_obs"),
    (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 2.5, 0.0, 3.0), "n_obs"),
    (lambda: probabilistic_sharpe_ratio(math.nan, 0.0, 10, 0.0, 3.0), "sr"),
    (lambda: probabilistic_sharpe_ratio(0.1, math.inf, 10, 0.0, 3.0), "sr_benchmark"),
    (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 10, math.nan, 3.0), "skew"),
    (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 10, 0.0, 0.2), "kurtosis"),
    (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 10, 2.0, 3.0), "kurtosis"),
    (lambda: min_track_record_length(0.1, 0.0, 0.0, 3.0, prob=1.0), "prob"),
    (lambda: min_track_record_length(0.1, 0.0, 0.0, 3.0, prob=0.4), "prob"),
    (lambda: min_track_record_length(0.1, 0.0, 0.0, 3.0, prob=math.nan), "prob"),
    (lambda: expected_max_sharpe(0, 1.0), "n_trials"),
    (lambda: expected_max_sharpe(10, -0.1), "trials_sr_variance"),
    (lambda: expected_max_sharpe(10, math.nan), "trials_sr_variance"),
    (lambda: deflated_sharpe_ratio(0.1, 100, 0.0, 3.0, 10, -1.0), "trials_sr_variance"),
    (lambda: sharpe_moments(np.array([0.01])), "returns"),
    (lambda: sharpe_moments(np.array([0.01, np.nan, 0.02])), "returns"),
    (lambda: sharpe_moments(np.full(10, 0.003)), "constant"),
    (lambda: sharpe_moments(np.zeros((3, 2))), "1-D"),
])
def test_bad_inputs_raise_value_error_naming_the_argument(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()
