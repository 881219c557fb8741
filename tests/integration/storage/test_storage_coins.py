"""The coins table and the coin registry on it (SPEC §3.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from storage_support import T0

from sixbtc.adapters.storage.coins_repo import CoinRepository
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import DataError
from sixbtc.data.registry import CoinRegistry
from sixbtc.data.universe import Pair


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def pair(symbol: str, vol: float, rank: int, lev: float = 10.0) -> Pair:
    return Pair(symbol, symbol, vol, 1.5, lev, rank)


@pytest.fixture
def world(engine: Engine) -> tuple[CoinRepository, CoinRegistry, Ticker, SimClock]:
    clock = SimClock(T0)
    repo = CoinRepository(engine, clock)
    tick = Ticker()
    return repo, CoinRegistry(repo, ttl_s=300, check_s=1.0, monotonic=tick), tick, clock


def test_universe_is_applied_and_read_most_liquid_first(world) -> None:
    repo, reg, _, _ = world
    repo.upsert("AAA", timeframes=["1h"])  # from an import: no volume yet
    repo.apply_universe([pair("ETH", 1e9, 2, 25), pair("BTC", 2e9, 1, 40)], [])
    assert reg.get_active_pairs() == ["BTC", "ETH", "AAA"]  # unknown volume last, not alphabetical
    assert reg.get_active_pairs(min_volume=1.5e9) == ["BTC"]
    assert reg.get_active_pairs(limit=2) == ["BTC", "ETH"]
    assert reg.get_max_leverage("BTC") == 40 and reg.get_max_leverage("AAA") is None
    coin = reg.get_coin("ETH")
    assert coin is not None and coin.price == 1.5 and coin.volume_24h_usd == 1e9 and coin.is_active
    with pytest.raises(DataError, match="unknown coin 'ZZZ'"):
        reg.get_max_leverage("ZZZ")


def test_coins_that_fall_out_are_inactive_and_not_tradable_but_keep_their_data(world) -> None:
    repo, reg, _, _ = world
    repo.apply_universe([pair("BTC", 2e9, 1), pair("XRP", 5e8, 2)], [])
    repo.upsert("XRP", timeframes=["1h", "4h"])
    repo.apply_universe([pair("BTC", 2e9, 1)], ["XRP"])
    reg.invalidate()
    assert reg.get_active_pairs() == ["BTC"]
    assert not reg.is_tradable("XRP") and reg.is_tradable("BTC") and not reg.is_tradable("NOPE")
    xrp = reg.get_coin("XRP")
    assert xrp is not None and xrp.timeframes == ("1h", "4h") and xrp.volume_24h_usd == 5e8
    # recording stored timeframes after an import does not re-activate a dropped coin
    repo.upsert("XRP", timeframes=["15m"])
    reg.invalidate()
    assert not reg.is_tradable("XRP")
    assert reg.get_tradable_for_strategy(["XRP", "BTC", "BTC", "NOPE"]) == ["BTC"]
    assert reg.get_tradable_for_strategy(["BTC"], min_volume=3e9) == []


def test_cache_is_reused_then_reloaded_on_change_or_ttl(world) -> None:
    repo, reg, tick, clock = world
    repo.apply_universe([pair("BTC", 2e9, 1)], [])
    assert reg.get_active_pairs() == ["BTC"] and reg.loads == 1
    repo.apply_universe([pair("BTC", 2e9, 1), pair("ETH", 3e9, 2)], [])  # another process writes
    assert reg.get_active_pairs() == ["BTC"] and reg.loads == 1  # within check_s: cached
    tick.t += 1.5
    assert reg.get_active_pairs() == ["ETH", "BTC"] and reg.loads == 2  # version changed: reloaded
    tick.t += 1.5
    reg.get_active_pairs()
    assert reg.loads == 2  # version unchanged: no reload
    tick.t += 301
    reg.get_active_pairs()
    assert reg.loads == 3  # TTL expired
    clock.advance_to(T0 + timedelta(hours=1))
    repo.apply_universe([pair("ETH", 3e9, 1)], ["BTC"])
    reg.invalidate()
    assert reg.get_active_pairs() == ["ETH"] and reg.loads == 4


def test_version_changes_even_when_the_clock_stands_still(world) -> None:
    repo, _, _, _ = world
    repo.apply_universe([pair("BTC", 2e9, 1)], [])
    v1 = repo.version()
    repo.apply_universe([pair("BTC", 2.5e9, 1)], [])
    v2 = repo.version()
    repo.apply_universe([], ["BTC"])
    assert len({v1, v2, repo.version()}) == 3


def test_registry_is_thread_safe(world) -> None:
    repo, _, _, _ = world
    repo.apply_universe([pair(f"C{i}", 1e6 * (i + 1), i + 1) for i in range(20)], [])
    reg = CoinRegistry(repo, check_s=0.0)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(30):
                assert reg.get_active_pairs(limit=3) == ["C19", "C18", "C17"]
                reg.invalidate()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_bad_registry_settings_are_refused(world) -> None:
    repo, _, _, _ = world
    with pytest.raises(DataError, match="ttl_s"):
        CoinRegistry(repo, ttl_s=0)
    with pytest.raises(DataError, match="limit"):
        CoinRegistry(repo).get_active_pairs(limit=-1)
