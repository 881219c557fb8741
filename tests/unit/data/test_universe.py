"""select_universe / universe_change: SPEC §3.1 pairs updater rule."""

from __future__ import annotations

import math

import pytest

from sixbtc.core.errors import DataError
from sixbtc.data.universe import PerpMarket, select_universe, universe_change

MARKETS = [
    PerpMarket("BTC", 2e9, 95_000.0, 40),
    PerpMarket("ETH", 1e9, 3_300.0, 25),
    PerpMarket("kPEPE", 5e7, 0.012, 10),
    PerpMarket("HYPE", 4e8, 30.0, 10),       # not on Binance in this test
    PerpMarket("DOGE", 9e5, 0.3, 10),        # below the volume floor
    PerpMarket("LUNA", 8e8, 0.5, 5, delisted=True),
    PerpMarket("SOL", math.nan, 150.0, 20),  # malformed volume
    PerpMarket("@107", 9e9, 1.0, 3),         # not a coin name
]
BINANCE = ["BTC", "ETH", "1000PEPE", "DOGE", "LUNA", "SOL", "XRP"]


def test_intersection_floor_order_and_names() -> None:
    pairs = select_universe(MARKETS, BINANCE, min_volume_usd=1e6, top_pairs_count=50)
    assert [(p.rank, p.symbol, p.venue_symbol) for p in pairs] == [
        (1, "BTC", "BTC"), (2, "ETH", "ETH"), (3, "1000PEPE", "kPEPE")]
    assert pairs[2].mark_price == 0.012 and pairs[2].max_leverage == 10 and pairs[2].volume_24h_usd == 5e7


def test_top_count_keeps_the_most_traded_and_ties_break_by_symbol() -> None:
    markets = [PerpMarket("ETH", 1e9, 1.0, 1), PerpMarket("BTC", 1e9, 1.0, 1), PerpMarket("XRP", 2e9, 1.0, 1)]
    pairs = select_universe(markets, ["BTC", "ETH", "XRP"], min_volume_usd=0, top_pairs_count=2)
    assert [p.symbol for p in pairs] == ["XRP", "BTC"]


def test_volume_equal_to_the_floor_is_kept() -> None:
    pairs = select_universe([PerpMarket("BTC", 1e6, 1.0, 1)], ["BTC"], min_volume_usd=1e6, top_pairs_count=5)
    assert [p.symbol for p in pairs] == ["BTC"]


def test_change_lists_added_removed_kept() -> None:
    pairs = select_universe(MARKETS, BINANCE, min_volume_usd=1e6, top_pairs_count=50)
    change = universe_change(pairs, ["BTC", "XRP", "DOGE"])
    assert change.added == ["1000PEPE", "ETH"] and change.removed == ["DOGE", "XRP"] and change.kept == ["BTC"]


@pytest.mark.parametrize(("floor", "top", "key"), [(-1.0, 5, "min_volume_usd"), (math.inf, 5, "min_volume_usd"),
                                                  (0.0, 0, "top_pairs_count")])
def test_bad_settings_name_their_key(floor: float, top: int, key: str) -> None:
    with pytest.raises(DataError, match=f"data.{key}"):
        select_universe(MARKETS, BINANCE, min_volume_usd=floor, top_pairs_count=top)


def test_two_venue_names_for_one_coin_is_an_error_naming_both() -> None:
    markets = [PerpMarket("kPEPE", 1e9, 1.0, 1), PerpMarket("1000PEPE", 1e8, 1.0, 1)]
    with pytest.raises(DataError, match="'kPEPE' and '1000PEPE' both map to '1000PEPE'"):
        select_universe(markets, ["1000PEPE"], min_volume_usd=0, top_pairs_count=5)
