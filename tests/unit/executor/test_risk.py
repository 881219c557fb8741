"""Pre-trade risk checks (executor/risk.py): every reason code, sizes and leverage hand-computed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sixbtc.config.sections import RiskSection
from sixbtc.domain.orders import Balance, Market, OrderSide
from sixbtc.executor import risk as r
from sixbtc.executor.risk import (
    EntryContext,
    SubmitLog,
    check_entry,
    floor_qty,
    isolated_leverage,
    venue_price,
)

NOW = 1_750_000_000_000
HOUR = 3_600_000
BTC = Market("BTC", sz_decimals=3, max_leverage=50, min_notional_usd=10)
RISK = RiskSection()  # 1 % per trade, 5x, 10,000 USD, 3 positions, 70 % margin, 2 bars + 5 min, 6 / min


def ctx(**kw) -> EntryContext:
    base = EntryContext(strategy_id=7, symbol="BTC", timeframe="1h", side=OrderSide.BUY, equity_usd=1000.0,
                        sl_pct=0.02, price_usd=100.0, market=BTC, balance=Balance("sub-1", 1000.0, 1000.0, 0.0),
                        exposed=0, candle_open_ms=NOW - HOUR, now_ms=NOW)
    return replace(base, **kw)


def test_accepted_entry_is_sized_by_risk_and_stop_distance() -> None:
    v = check_entry(ctx(), RISK)
    # 1000 x 0.01 / 0.02 = 500 USD; 5 BTC at 100; margin 500 / 5 = 100 USD = 10 % of equity
    assert v.ok and v.reason is None
    assert (v.qty, v.notional_usd, v.leverage, v.capped_by) == (5.0, 500.0, 5, None)


def test_notional_cap_binds_and_is_named() -> None:
    v = check_entry(ctx(equity_usd=1_000_000.0, balance=Balance("s", 1_000_000.0, 1_000_000.0, 0.0)), RISK)
    assert v.ok and v.notional_usd == 10_000.0 and v.qty == 100.0 and v.capped_by == "max_notional_usd"


def test_coin_max_leverage_caps_size_and_leverage() -> None:
    # stop 0.2 %: 1000 x 0.01 / 0.002 = 5000 USD wanted; coin max 3x -> 3000 USD at 3x, margin 1000 USD
    m3 = replace(BTC, max_leverage=3)
    v = check_entry(ctx(sl_pct=0.002, market=m3), RISK.model_copy(update={"max_margin_use": 1.0}))
    assert v.ok and v.leverage == 3 and v.notional_usd == 3000.0 and v.capped_by == "leverage"
    v5 = check_entry(ctx(sl_pct=0.002), RISK.model_copy(update={"max_margin_use": 1.0}))
    assert v5.leverage == 5 and v5.notional_usd == 5000.0 and v5.capped_by is None  # 5000 = 5 x 1000: not below


def test_leverage_keeps_liquidation_beyond_the_stop() -> None:
    # coin max 5: maintenance 0.1; 5x liquidates 0.1 away, 4x 0.15 (not beyond 0.15), 3x 0.233
    assert isolated_leverage(0.15, 5, 5) == 3
    assert isolated_leverage(0.5, 5, 2) == 1  # 1x: 1 - 0.25 = 0.75 > 0.5
    assert isolated_leverage(0.8, 5, 2) == 0
    v = check_entry(ctx(sl_pct=0.8, market=replace(BTC, max_leverage=2)), RISK)
    assert not v.ok and v.reason == "risk:leverage"


def test_margin_use_over_the_cap_is_refused() -> None:
    # 650 in use + 100 for this entry = 75 % > 70 %
    v = check_entry(ctx(balance=Balance("sub-1", 1000.0, 350.0, 650.0)), RISK)
    assert not v.ok and v.reason == "risk:margin" and "75.0%" in v.detail
    ok = check_entry(ctx(balance=Balance("sub-1", 1000.0, 400.0, 600.0)), RISK)  # exactly 70 %
    assert ok.ok
    short = check_entry(ctx(balance=Balance("sub-1", 1000.0, 50.0, 0.0)), RISK)  # 100 needed, 50 available
    assert not short.ok and short.reason == "risk:margin"
    broke = check_entry(ctx(balance=Balance("sub-1", 0.0, 0.0, 0.0)), RISK)
    assert not broke.ok and broke.reason == "risk:margin"


def test_exchange_precision_and_minimum_order_value() -> None:
    v = check_entry(ctx(equity_usd=10.0), RISK)  # 5 USD < 10 USD minimum
    assert not v.ok and v.reason == "risk:precision" and "10 USD" in v.detail
    coarse = replace(BTC, sz_decimals=0)
    v = check_entry(ctx(price_usd=30_000.0, market=coarse), RISK)  # 500 USD = 0.0167 BTC -> 0 at 0 decimals
    assert not v.ok and v.reason == "risk:precision"
    v = check_entry(ctx(price_usd=123.0), RISK)  # 500 / 123 = 4.065040... -> 4.065
    assert v.ok and v.qty == 4.065 and v.notional_usd == pytest.approx(4.065 * 123.0)


def test_stale_data_limit_is_two_bars_plus_five_minutes() -> None:
    limit = 2 * HOUR + 5 * 60_000
    assert check_entry(ctx(candle_open_ms=NOW - limit), RISK).ok
    v = check_entry(ctx(candle_open_ms=NOW - limit - 1), RISK)
    assert not v.ok and v.reason == "risk:stale_data" and "125.0 min" in v.detail
    v15 = check_entry(ctx(timeframe="15m", candle_open_ms=NOW - 36 * 60_000), RISK)  # limit 35 min
    assert v15.reason == "risk:stale_data"


def test_submit_rate_limit_over_a_sliding_minute() -> None:
    five = tuple(NOW - i * 1000 for i in range(5))
    assert check_entry(ctx(recent_submits_ms=five), RISK).ok
    six = (*five, NOW - 59_999)
    v = check_entry(ctx(recent_submits_ms=six), RISK)
    assert not v.ok and v.reason == "risk:rate_limit"
    assert check_entry(ctx(recent_submits_ms=(*five, NOW - 60_000)), RISK).ok  # exactly 60 s old: out


def test_submit_log_keeps_the_last_minute() -> None:
    log = SubmitLog()
    for t in (NOW - 70_000, NOW - 30_000, NOW):
        log.record(7, t)
    log.record(8, NOW)
    assert log.recent(7, NOW) == (NOW - 30_000, NOW)
    assert log.recent(7, NOW + 30_000) == (NOW,)
    assert log.recent(9, NOW) == ()


def test_other_refusals_and_their_order() -> None:
    assert check_entry(ctx(market=None), RISK).reason == "risk:market"
    assert check_entry(ctx(exposed=3), RISK).reason == "risk:open_positions"
    assert check_entry(ctx(equity_usd=0.0), RISK).reason == "risk:size"
    assert check_entry(ctx(sl_pct=float("nan")), RISK).reason == "risk:size"
    both = check_entry(ctx(exposed=3, candle_open_ms=NOW - 10 * HOUR), RISK)
    assert both.reason == "risk:stale_data"  # freshness is checked first
    assert set(r.REASONS) == {"risk:market", "risk:stale_data", "risk:rate_limit", "risk:open_positions",
                              "risk:size", "risk:leverage", "risk:precision", "risk:margin"}


def test_refusal_event_payload() -> None:
    c = ctx(balance=Balance("sub-1", 1000.0, 350.0, 650.0))
    v = check_entry(c, RISK)
    payload = r.refusal_event(c, v)
    assert payload["strategy_id"] == 7 and payload["phase"] == "executor" and payload["reason"] == "risk:margin"
    assert payload["detail"].startswith(f"buy BTC 1h entry on the candle opened at {NOW - HOUR} ms refused: margin")
    with pytest.raises(ValueError, match="refused verdict"):
        r.refusal_event(c, check_entry(ctx(), RISK))


def test_floor_qty_and_venue_price() -> None:
    assert floor_qty(1.23456789, BTC) == 1.234
    assert floor_qty(0.1 + 0.2, replace(BTC, sz_decimals=1)) == 0.3
    assert floor_qty(2.675, replace(BTC, sz_decimals=2)) == 2.67
    assert floor_qty(-1.0, BTC) == 0.0
    assert venue_price(1234.5678, BTC) == 1234.6  # 5 significant figures
    assert venue_price(0.000123456, replace(BTC, sz_decimals=0)) == 0.000123  # at most 6 - 0 decimals
    assert venue_price(2.3456789, replace(BTC, sz_decimals=4)) == 2.35  # 6 - 4 = 2 decimals
    assert venue_price(123456.0, BTC) == 123456.0  # integer prices are always valid
    with pytest.raises(ValueError, match="price must be > 0"):
        venue_price(0.0, BTC)
