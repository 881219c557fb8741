"""Indicator library: values against plain pandas/numpy references, causality, input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.strategy import indicators as ind

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
BTC_1H = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
N_BARS = 4000
#: Bars after which recursive (Wilder/EMA) indicators no longer depend on their seed.
SETTLED = 1000


@pytest.fixture(scope="module")
def ohlc() -> dict[str, np.ndarray]:
    """The last ``N_BARS`` real BTC 1h candles."""
    if not BTC_1H.exists():
        pytest.skip(f"real market data not found at {BTC_1H}")
    frame = pd.read_parquet(BTC_1H).tail(N_BARS)
    return {k: frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close")}


def _wilder(x: pd.Series, n: int) -> pd.Series:
    """Wilder smoothing as an exponential average with alpha = 1/n (seed-independent tail)."""
    return x.ewm(alpha=1.0 / n, adjust=False).mean()


def _assert_close(got: np.ndarray, want: np.ndarray, start: int = 0, rtol: float = 1e-9) -> None:
    np.testing.assert_allclose(
        got[start:], np.asarray(want, dtype=float)[start:], rtol=rtol, atol=1e-9, equal_nan=True
    )


def test_sma_ema_match_pandas(ohlc):
    close = pd.Series(ohlc["close"])
    _assert_close(ind.sma(ohlc["close"], 20), close.rolling(20).mean())
    # TA-Lib seeds the EMA with the SMA of the first n bars, then alpha = 2/(n+1).
    n = 20
    want = np.full(len(close), np.nan)
    want[n - 1] = close.iloc[:n].mean()
    alpha = 2.0 / (n + 1)
    for i in range(n, len(close)):
        want[i] = alpha * close.iloc[i] + (1 - alpha) * want[i - 1]
    _assert_close(ind.ema(ohlc["close"], n), want)
    assert np.isnan(ind.ema(ohlc["close"], n)[: n - 1]).all()


def test_rsi_matches_wilder_reference(ohlc):
    close = pd.Series(ohlc["close"])
    delta = close.diff()
    gain = _wilder(delta.clip(lower=0).fillna(0), 14)
    loss = _wilder((-delta).clip(lower=0).fillna(0), 14)
    want = 100 * gain / (gain + loss)
    got = ind.rsi(ohlc["close"], 14)
    _assert_close(got, want, start=SETTLED, rtol=1e-7)
    assert np.isnan(got[:14]).all() and not np.isnan(got[14:]).any()


def test_true_range_and_atr(ohlc):
    h, lo, c = (pd.Series(ohlc[k]) for k in ("high", "low", "close"))
    prev = c.shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    tr[0] = np.nan
    _assert_close(ind.true_range(ohlc["high"], ohlc["low"], ohlc["close"]), tr)
    got = ind.atr(ohlc["high"], ohlc["low"], ohlc["close"], 14)
    _assert_close(got, _wilder(tr.fillna(h - lo), 14), start=SETTLED, rtol=1e-7)
    assert np.isnan(got[:14]).all()


def test_adx_matches_wilder_reference(ohlc):
    h, lo, c = (pd.Series(ohlc[k]) for k in ("high", "low", "close"))
    n = 14
    up, down = h.diff(), -lo.diff()
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    tr = pd.Series(ind.true_range(ohlc["high"], ohlc["low"], ohlc["close"]))
    atr_w = _wilder(tr.iloc[1:], n)
    plus_di = 100 * _wilder(pd.Series(plus_dm[1:], index=atr_w.index), n) / atr_w
    minus_di = 100 * _wilder(pd.Series(minus_dm[1:], index=atr_w.index), n) / atr_w
    dx = 100 * (plus_di - minus_di).abs() / (plus_di + minus_di)
    want = pd.concat([pd.Series([np.nan]), _wilder(dx, n)])
    got = ind.adx(ohlc["high"], ohlc["low"], ohlc["close"], n)
    _assert_close(got, want.to_numpy(), start=SETTLED, rtol=1e-6)
    assert np.nanmin(got) >= 0 and np.nanmax(got) <= 100


def test_bbands_match_pandas(ohlc):
    close = pd.Series(ohlc["close"])
    upper, middle, lower = ind.bbands(ohlc["close"], 20, 2.0)
    mean, std = close.rolling(20).mean(), close.rolling(20).std(ddof=0)
    _assert_close(middle, mean)
    _assert_close(upper, mean + 2 * std, rtol=1e-7)
    _assert_close(lower, mean - 2 * std, rtol=1e-7)


def test_macd_matches_ema_difference_once_settled(ohlc):
    close = pd.Series(ohlc["close"])
    line, signal, hist = ind.macd(ohlc["close"], 12, 26, 9)
    want_line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    want_signal = want_line.ewm(span=9, adjust=False).mean()
    np.testing.assert_allclose(line[SETTLED:], want_line[SETTLED:], atol=1e-6)
    np.testing.assert_allclose(signal[SETTLED:], want_signal[SETTLED:], atol=1e-6)
    _assert_close(hist, line - signal)
    assert np.isnan(line[: 26 + 9 - 2]).all() and not np.isnan(line[26 + 9 - 2 :]).any()


def test_roc_is_a_fraction(ohlc):
    close = pd.Series(ohlc["close"])
    _assert_close(ind.roc(ohlc["close"], 10), close / close.shift(10) - 1, rtol=1e-7)


def test_stoch_matches_pandas(ohlc):
    h, lo, c = (pd.Series(ohlc[k]) for k in ("high", "low", "close"))
    hh, ll = h.rolling(14).max(), lo.rolling(14).min()
    fastk = 100 * (c - ll) / (hh - ll)
    slowk = fastk.rolling(3).mean()
    slowd = slowk.rolling(3).mean()
    got_k, got_d = ind.stoch(ohlc["high"], ohlc["low"], ohlc["close"], 14, 3)
    warmup = 14 + 2 * 3 - 3  # TA-Lib reports both lines from the first full %D
    assert np.isnan(got_k[:warmup]).all() and np.isnan(got_d[:warmup]).all()
    _assert_close(got_k, slowk, start=warmup, rtol=1e-7)
    _assert_close(got_d, slowd, start=warmup, rtol=1e-7)


def test_rolling_extremes_shift_and_zscore(ohlc):
    close = pd.Series(ohlc["close"])
    _assert_close(ind.highest(ohlc["high"], 20), pd.Series(ohlc["high"]).rolling(20).max())
    _assert_close(ind.lowest(ohlc["low"], 20), pd.Series(ohlc["low"]).rolling(20).min())
    _assert_close(ind.shift(ohlc["close"], 3), close.shift(3))
    _assert_close(ind.shift(ohlc["close"], 0), close)
    want = (close - close.rolling(50).mean()) / close.rolling(50).std(ddof=0)
    _assert_close(ind.zscore(ohlc["close"], 50), want, rtol=1e-6)


def test_window_one_and_short_inputs():
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(ind.highest(x, 1), x)
    np.testing.assert_array_equal(ind.sma(x, 1), x)
    assert np.isnan(ind.highest(x, 5)).all() and np.isnan(ind.shift(x, 5)).all()
    assert np.isnan(ind.zscore(np.ones(10), 4)).all()  # zero spread: undefined
    upper, middle, lower = ind.bbands(x, 1, 2.0)
    np.testing.assert_array_equal(upper, x)
    np.testing.assert_array_equal(lower, x)


def test_crosses_follow_definition_and_ignore_nan():
    a = np.array([np.nan, 1.0, 3.0, 3.0, 1.0, 2.0, 2.0, 5.0])
    b = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, np.nan, 2.0])
    above = ind.cross_above(a, b)
    below = ind.cross_below(a, b)
    want_above = [False] * len(a)
    want_below = [False] * len(a)
    for i in range(1, len(a)):
        vals = (a[i], b[i], a[i - 1], b[i - 1])
        if np.isnan(vals).any():
            continue
        want_above[i] = a[i] > b[i] and a[i - 1] <= b[i - 1]
        want_below[i] = a[i] < b[i] and a[i - 1] >= b[i - 1]
    assert above.dtype == bool and below.dtype == bool
    assert above.tolist() == want_above and below.tolist() == want_below
    assert above.tolist() == [False, False, True, False, False, False, False, False]
    np.testing.assert_array_equal(ind.cross_above(a, 2.0), ind.cross_above(a, np.full(8, 2.0)))


def _all_outputs(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> dict:
    outs = {
        "sma": ind.sma(c, 20),
        "ema": ind.ema(c, 20),
        "rsi": ind.rsi(c, 14),
        "atr": ind.atr(h, lo, c, 14),
        "adx": ind.adx(h, lo, c, 14),
        "roc": ind.roc(c, 5),
        "highest": ind.highest(h, 20),
        "lowest": ind.lowest(lo, 20),
        "shift": ind.shift(c, 3),
        "zscore": ind.zscore(c, 30),
        "tr": ind.true_range(h, lo, c),
        "cross_above": ind.cross_above(c, ind.sma(c, 20)),
        "cross_below": ind.cross_below(c, ind.sma(c, 20)),
    }
    for name, arrays in {
        "bbands": ind.bbands(c, 20, 2.0),
        "macd": ind.macd(c, 12, 26, 9),
        "stoch": ind.stoch(h, lo, c, 14, 3),
    }.items():
        for j, arr in enumerate(arrays):
            outs[f"{name}{j}"] = arr
    return outs


@pytest.mark.parametrize("cut", [100, 1500, 3000])
def test_every_indicator_is_causal(ohlc, cut):
    rng = np.random.default_rng(cut)
    full = _all_outputs(ohlc["open"], ohlc["high"], ohlc["low"], ohlc["close"])
    altered = {k: v.copy() for k, v in ohlc.items()}
    noise = rng.uniform(0.5, 1.5, size=N_BARS - cut)
    for k in altered:
        altered[k][cut:] *= noise
    altered["high"][cut:] *= 1.01  # keep high >= low after the perturbation
    changed = _all_outputs(altered["open"], altered["high"], altered["low"], altered["close"])
    for name in full:
        np.testing.assert_array_equal(full[name][:cut], changed[name][:cut], err_msg=name)
        assert not np.array_equal(full[name], changed[name], equal_nan=True), name


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda x: ind.sma(x, 0), "n must be an int >= 1"),
        (lambda x: ind.ema(x, 2.5), "n must be an int"),
        (lambda x: ind.highest(x, True), "n must be an int"),
        (lambda x: ind.shift(x, -1), "n must be an int >= 0"),
        (lambda x: ind.rsi(x, 1), "n must be an int >= 2"),
        (lambda x: ind.macd(x, 26, 12, 9), "fast must be < slow"),
        (lambda x: ind.macd(x, 12, 26, 0), "signal must be an int >= 1"),
        (lambda x: ind.stoch(x, x, x, 14, 0), "d must be an int >= 1"),
        (lambda x: ind.bbands(x, 20, -1.0), "k must be a finite number >= 0"),
        (lambda x: ind.sma(x.reshape(2, -1), 3), "x must be 1-D"),
        (lambda x: ind.atr(x, x[:-1], x, 3), "same length"),
        (lambda x: ind.cross_above(x, x[:-2]), "same length"),
        (lambda x: ind.cross_above(x, "abc"), "b must be"),
        (lambda x: ind.sma(["a", "b"], 1), "x must be a 1-D array of numbers"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_problem(call, needle):
    with pytest.raises(ValueError, match=needle):
        call(np.linspace(1.0, 2.0, 10))
