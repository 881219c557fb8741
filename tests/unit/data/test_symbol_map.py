"""The one symbol table between Binance USDⓈ-M and Hyperliquid (sixbtc.domain.symbols)."""

from __future__ import annotations

import pytest

from sixbtc.domain.symbols import VENUE_SYMBOLS, from_hyperliquid, to_hyperliquid


@pytest.mark.parametrize(("binance", "hyperliquid"), [("1000PEPE", "kPEPE"), ("1000SHIB", "kSHIB"),
                                                       ("1000BONK", "kBONK"), ("BTC", "BTC"), ("HYPE", "HYPE")])
def test_names_map_both_ways(binance: str, hyperliquid: str) -> None:
    assert to_hyperliquid(binance) == hyperliquid
    assert from_hyperliquid(hyperliquid) == binance


def test_the_table_is_a_bijection_of_distinct_names() -> None:
    binance = [r.binance for r in VENUE_SYMBOLS]
    hl = [r.hyperliquid for r in VENUE_SYMBOLS]
    assert len(set(binance)) == len(binance) and len(set(hl)) == len(hl)
    assert not set(binance) & set(hl), "a name mapped on one venue must not be another coin's name"
    for row in VENUE_SYMBOLS:
        assert row.binance.startswith(str(row.units)) and row.hyperliquid.startswith("k")
        assert row.binance.removeprefix(str(row.units)) == row.hyperliquid.removeprefix("k")


def test_a_plain_pepe_is_not_the_thousand_unit_contract() -> None:
    # "PEPE" (1 coin) and "kPEPE" (1,000 coins) differ in price scale: never conflated.
    assert from_hyperliquid("PEPE") == "PEPE"
    assert to_hyperliquid("PEPE") == "PEPE"


@pytest.mark.parametrize("bad", ["", "BTC/USDT", "@107", "B TC", None])
def test_names_that_cannot_be_coins_are_refused_with_the_venue_named(bad: object) -> None:
    with pytest.raises(ValueError, match="Hyperliquid symbol"):
        from_hyperliquid(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Binance symbol"):
        to_hyperliquid(bad)  # type: ignore[arg-type]
