"""Hypothesis property tests of the backtest engine on random OHLC bars and signals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sixbtc.backtester import run_grid, run_single
from sixbtc.domain.trading import ExitReason

PROPS = settings(max_examples=150, deadline=None)

_unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_level = st.one_of(st.just(0.0), st.just(float("nan")),
                   st.floats(min_value=0.001, max_value=0.3, allow_nan=False))


@st.composite
def bars(draw, min_n=3, max_n=40):
    """Random positive OHLC bars with gaps between bars, plus signals."""
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    rows = draw(st.lists(st.tuples(_unit, _unit, _unit, _unit), min_size=n, max_size=n))
    raw = np.asarray(rows)
    gap = (raw[:, 0] - 0.5) * 0.10  # open vs previous close: up to +-5 %
    body = (raw[:, 1] - 0.5) * 0.10
    o = 100.0 * np.exp(np.cumsum(gap + np.r_[0.0, body[:-1]]))
    c = o * np.exp(body)
    h = np.maximum(o, c) * (1.0 + 0.05 * raw[:, 2])
    lo = np.minimum(o, c) * (1.0 - 0.05 * raw[:, 3])
    entries = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    exits = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return o, h, lo, c, entries, exits


@st.composite
def settings_(draw):
    """Random engine keyword arguments (costs, leverage, limits, sizing mode)."""
    kw = {
        "sl_pct": draw(_level),
        "tp_pct": draw(_level),
        "direction": draw(st.sampled_from([1, -1])),
        "fee_rate": draw(st.floats(min_value=0.0, max_value=0.002)),
        "slippage_bps": draw(st.floats(min_value=0.0, max_value=50.0)),
        "leverage": draw(st.sampled_from([1.0, 3.0, 10.0, 25.0])),
        "max_bars_held": draw(st.integers(min_value=0, max_value=5)),
    }
    sizing = draw(st.sampled_from(["equity_frac", "fixed_notional", "risk"]))
    if sizing == "equity_frac":
        kw["position_frac"] = draw(st.floats(min_value=0.1, max_value=1.0))
    elif sizing == "fixed_notional":
        kw.update(sizing=sizing, notional_usd=draw(st.floats(min_value=100.0, max_value=5e4)))
    else:
        kw.update(sizing=sizing, risk_per_trade=draw(st.floats(min_value=0.001, max_value=0.1)))
        if not kw["sl_pct"] > 0.0:
            kw["sl_pct"] = draw(st.floats(min_value=0.001, max_value=0.3))
    return kw


@PROPS
@given(bars(), settings_())
def test_fills_lie_within_bar_range_before_slippage(data, kw):
    o, h, lo, c, e, x = data
    res = run_single(o, h, lo, c, e, x, **kw)
    s = kw["slippage_bps"] * 1e-4
    d = kw["direction"]
    t = res.trades
    raw_entry = t["entry_price"] / (1.0 + d * s)
    raw_exit = t["exit_price"] / (1.0 - d * s)
    tol = 1e-9
    np.testing.assert_allclose(raw_entry, o[t["entry_idx"]], rtol=1e-12)
    assert np.all(raw_exit >= lo[t["exit_idx"]] * (1 - tol))
    assert np.all(raw_exit <= h[t["exit_idx"]] * (1 + tol))
    assert np.all(t["exit_idx"] >= t["entry_idx"])
    assert np.all(np.isin(t["exit_reason"], [r.value for r in ExitReason]))


@PROPS
@given(bars(), settings_(), st.booleans())
def test_equity_finite_and_consistent_with_trades(data, kw, with_funding):
    o, h, lo, c, e, x = data
    funding = np.where(np.arange(o.shape[0]) % 3 == 0, 0.001, 0.0) if with_funding else None
    res = run_single(o, h, lo, c, e, x, funding_rate=funding, **kw)
    assert np.all(np.isfinite(res.equity))
    assert np.isfinite(res.metrics.sharpe) and np.isfinite(res.metrics.sortino)
    # with no position open after the last bar, final equity = cash + all trade PnL
    assert np.isclose(res.equity[-1], 10_000.0 + res.trades["pnl_usd"].sum(),
                      rtol=1e-9, atol=1e-6)
    assert not any(np.isnan(v) for v in vars(res.metrics).values())
    assert 0.0 <= res.metrics.exposure <= 1.0
    assert res.metrics.n_trades == res.trades.shape[0]
    if res.trades.shape[0]:
        assert res.trades["exit_reason"][-1] != ExitReason.END_OF_DATA or \
            res.trades["exit_idx"][-1] == o.shape[0] - 1


@PROPS
@given(bars(min_n=6), settings_(), st.data())
def test_truncation_invariance(data, kw, more):
    o, h, lo, c, e, x = data
    n = o.shape[0]
    k = more.draw(st.integers(min_value=2, max_value=n - 1), label="k")
    start = more.draw(st.integers(min_value=0, max_value=k - 1), label="start")
    base = run_single(o, h, lo, c, e, x, start=start, end=k, **kw)
    # alter everything at and after bar k (prices stay valid; signals flipped)
    o2, h2, lo2, c2 = (a.copy() for a in (o, h, lo, c))
    o2[k:] *= 1.7
    c2[k:] *= 0.6
    h2[k:] = np.maximum(o2[k:], c2[k:]) * 1.2
    lo2[k:] = np.minimum(o2[k:], c2[k:]) * 0.5
    e2, x2 = e.copy(), x.copy()
    e2[k:] = ~e2[k:]
    x2[k:] = ~x2[k:]
    altered = run_single(o2, h2, lo2, c2, e2, x2, start=start, end=k, **kw)
    np.testing.assert_array_equal(base.trades, altered.trades)
    np.testing.assert_array_equal(base.equity, altered.equity)
    assert base.metrics == altered.metrics


@PROPS
@given(bars(), st.lists(settings_(), min_size=1, max_size=4), st.booleans())
def test_grid_equals_single_per_param_set(data, sets, leverage_10):
    o, h, lo, c, e, x = data
    base = dict(sets[0])
    base["leverage"] = 10.0 if leverage_10 else 1.0
    sl = np.array([s["sl_pct"] for s in sets])
    if base.get("sizing") == "risk":  # risk sizing needs a stop in every set
        sl = np.where(sl > 0.0, sl, 0.02)
    tp = np.array([s["tp_pct"] for s in sets])
    common = {k: v for k, v in base.items() if k not in ("sl_pct", "tp_pct")}
    grid = run_grid(o, h, lo, c, e, x, sl, tp, **common)
    for p in range(len(sets)):
        single = run_single(o, h, lo, c, e, x, sl_pct=sl[p], tp_pct=tp[p], **common)
        assert single.metrics == grid.metrics(p)


def _equity_from_trades(res, o, c, funding, d, fee_rate, init_cash, start, end):
    """Close-of-bar equity rebuilt from the trade list alone (independent of the kernel).

    Bar ``i`` equity = start cash + PnL of trades closed on or before ``i`` + for the trade
    open after bar ``i``: mark-to-close ``d * qty * (close[i] - entry)``, minus its entry
    fee and the funding paid at the opens ``entry_idx < j <= i`` it was held across.
    """
    out = np.full(end - start, init_cash)
    paid_total = np.zeros(res.trades.shape[0])
    for k, t in enumerate(res.trades):
        e, x, q = int(t["entry_idx"]), int(t["exit_idx"]), t["qty"]
        held_at_exit_open = t["exit_reason"] not in (ExitReason.SIGNAL, ExitReason.TIME_LIMIT)
        last_paid = x if held_at_exit_open else x - 1
        paid = np.zeros(end)
        if funding is not None:
            held = slice(e + 1, last_paid + 1)
            paid[held] = d * q * o[held] * funding[held]
        paid_total[k] = paid.sum()
        open_bars = np.arange(e, x)
        out[open_bars - start] += (d * q * (c[open_bars] - t["entry_price"])
                                   - t["notional_usd"] * fee_rate
                                   - np.cumsum(paid)[open_bars])
        out[x - start:] += t["pnl_usd"]
    return out, paid_total


@PROPS
@given(bars(min_n=4), settings_(), st.booleans(), st.data())
def test_equity_is_continuous_and_explained_by_trades(data, kw, with_funding, more):
    """No jumps: every bar's equity is the open trade marked to the close plus realised PnL,
    entry fee and funding, all taken from the trade list."""
    o, h, lo, c, e, x = data
    n = o.shape[0]
    start = more.draw(st.integers(min_value=0, max_value=n - 2), label="start")
    funding = np.where(np.arange(n) % 3 == 1, 0.002, -0.0005) if with_funding else None
    res = run_single(o, h, lo, c, e, x, funding_rate=funding, start=start, **kw)
    rebuilt, paid = _equity_from_trades(res, o, c, funding, kw["direction"], kw["fee_rate"],
                                        10_000.0, start, n)
    np.testing.assert_allclose(res.equity, rebuilt, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.trades["funding_usd"], paid, rtol=1e-9, atol=1e-9)
