"""Hyperliquid tick/lot rules applied by the adapter, checked against the fake venue's rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sixbtc.adapters.exchanges.hyperliquid_precision import (
    check_min_notional,
    market_from_meta,
    round_price,
    round_size,
)
from sixbtc.core.errors import OrderRejected
from sixbtc.testing.fake_hyperliquid_book import price_ok

BTC = market_from_meta({"name": "BTC", "szDecimals": 5, "maxLeverage": 40})
SOL = market_from_meta({"name": "SOL", "szDecimals": 2, "maxLeverage": 20})
PEPE = market_from_meta({"name": "kPEPE", "szDecimals": 0, "maxLeverage": 10})


@pytest.mark.parametrize(("market", "px", "mode", "want"), [
    (BTC, 100_000.7, "down", 100_000.0),   # integer prices are always allowed
    (BTC, 99_999.95, "up", 100_000.0),
    (BTC, 12_345.67, "down", 12_345.0),    # 5 significant figures
    (BTC, 1_234.56, "up", 1_234.6),        # and at most 6 - 5 = 1 decimal
    (SOL, 150.1234, "down", 150.12),
    (SOL, 1.23456, "nearest", 1.2346),
    (PEPE, 0.0123456789, "down", 0.012345),  # 6 decimals at szDecimals 0
    (PEPE, 0.00000123, "nearest", 0.000001),
])
def test_round_price(market, px, mode, want) -> None:
    assert round_price(px, market, mode) == want


@given(st.floats(min_value=1e-5, max_value=1e6, allow_nan=False), st.sampled_from([BTC, SOL, PEPE]),
       st.sampled_from(["down", "up", "nearest"]))
def test_rounded_prices_pass_the_venue_rule(px, market, mode) -> None:
    try:
        out = round_price(px, market, mode)
    except OrderRejected:
        return
    assert price_ok(Decimal(repr(out)), market.sz_decimals)
    assert (out <= px * (1 + 1e-12)) if mode == "down" else (out >= px * (1 - 1e-12)) if mode == "up" else True


def test_sizes_round_down_and_never_to_zero() -> None:
    assert round_size(0.0012399, BTC) == 0.00123 and round_size(1.999, SOL) == 1.99
    with pytest.raises(OrderRejected, match="rounds to 0 at szDecimals=0"):
        round_size(0.9, PEPE)
    with pytest.raises(OrderRejected, match="must be > 0"):
        round_size(-1.0, BTC)
    with pytest.raises(OrderRejected, match="must be > 0"):
        round_price(0.0, BTC, "down")


def test_min_notional_names_the_rule_and_spares_reduce_only() -> None:
    check_min_notional(0.0001, 100_000.0, BTC, reduce_only=False)  # exactly 10 USD is fine
    with pytest.raises(OrderRejected, match="min_notional 10 USD"):
        check_min_notional(0.00009, 100_000.0, BTC, reduce_only=False)
    check_min_notional(0.00001, 100_000.0, BTC, reduce_only=True)
