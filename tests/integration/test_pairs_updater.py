"""Pairs updater end to end: REAL ccxt (Binance exchangeInfo) and httpx (Hyperliquid info)
against local fakes on 127.0.0.1, through ``sixbtc data pairs``; the coin registry and the
backtester's "most liquid first" order follow the volumes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sixbtc.adapters.exchanges.hl_info import HyperliquidInfo
from sixbtc.adapters.storage.tables import CoinRow
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.cli.main import app
from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError
from sixbtc.testing.fake_binance import FakeBinance
from sixbtc.testing.fake_hyperliquid_markets import FakeHyperliquidInfo, HlMarket

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "binance_usdm"
NOW_MS = int(pd.Timestamp("2026-01-31 12:00", tz="UTC").value // 1_000_000)
runner = CliRunner()

MARKETS = [HlMarket("BTC", 2.0e9, 95_000.0, 40), HlMarket("ETH", 1.2e9, 3_300.0, 25),
           HlMarket("kPEPE", 6.0e7, 0.012, 10), HlMarket("HYPE", 5.0e8, 30.0, 10),
           HlMarket("SOL", 3.0e8, 150.0, 20), HlMarket("DOGE", 5.0e5, 0.3, 10),
           HlMarket("NOTBIN", 9.0e9, 1.0, 3), HlMarket("LTC", 7.0e7, 80.0, 10, delisted=True)]


@pytest.fixture
def venues():
    if not DATA.exists():
        pytest.skip(f"real market data not found at {DATA.resolve()}")
    with FakeBinance(DATA, now_ms=NOW_MS) as binance, FakeHyperliquidInfo(MARKETS) as hl:
        yield binance, hl


def _home(tmp_path: Path, binance: FakeBinance, hl: FakeHyperliquidInfo, top: int = 4) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    (root / "config.yaml").write_text(
        f"data:\n  exchange_api_url: {binance.url}\n  hyperliquid_info_url: {hl.url}\n"
        f"  min_volume_usd: 1000000\n  top_pairs_count: {top}\n  network_probe_timeout_s: 3\n")
    return root


def _pairs(root: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["--home", str(root), "data", "pairs", *args])
    return res.exit_code, res.output


def _coins(root: Path) -> dict[str, tuple]:
    c = Container.open(Home(root))
    with c.engine.connect() as conn:
        rows = conn.execute(select(CoinRow.__table__)).all()
    return {r.symbol: (r.is_active, r.volume_24h_usd, r.price, r.max_leverage) for r in rows}


def test_dry_run_prints_the_universe_and_writes_nothing(tmp_path: Path, venues) -> None:
    binance, hl = venues
    root = _home(tmp_path, binance, hl)
    code, out = _pairs(root, "--dry-run")
    assert code == 0, out
    # HYPE is a Binance perp of the snapshot too; NOTBIN is not; DOGE is below the floor; LTC delisted
    assert "4 coins would be active: 4 added, 0 removed, 0 kept" in out
    for sym in ("BTC", "ETH", "HYPE", "SOL"):
        assert sym in out
    assert "NOTBIN" not in out and "DOGE" not in out
    assert _coins(root) == {}
    assert any(path == "/fapi/v1/exchangeInfo" for path, _ in binance.requests)
    assert hl.requests == [{"type": "metaAndAssetCtxs"}]


def test_update_upserts_then_coins_that_fall_out_become_inactive(tmp_path: Path, venues) -> None:
    binance, hl = venues
    root = _home(tmp_path, binance, hl, top=5)
    code, out = _pairs(root)
    assert code == 0, out
    coins = _coins(root)
    assert coins["BTC"] == (True, 2.0e9, 95_000.0, 40)
    assert coins["1000PEPE"] == (True, 6.0e7, 0.012, 10)  # kPEPE on Hyperliquid
    assert set(coins) == {"BTC", "ETH", "HYPE", "SOL", "1000PEPE"}
    hl.set_markets([HlMarket("BTC", 2.0e9, 96_000.0, 40), HlMarket("SOL", 3.0e9, 160.0, 20),
                    HlMarket("kPEPE", 1.0e5, 0.01, 10)])
    code, out = _pairs(root)
    assert code == 0, out
    assert "fall out" in out and "1000PEPE, ETH, HYPE" in out
    assert "2 coins are active: 0 added, 3 removed, 2 kept" in out
    coins = _coins(root)
    assert coins["ETH"][0] is False and coins["ETH"][1] == 1.2e9  # data kept, only inactive
    assert coins["SOL"] == (True, 3.0e9, 160.0, 20)
    c = Container.open(Home(root))
    assert c.registry.get_active_pairs() == ["SOL", "BTC"]


def test_most_liquid_first_feeds_the_backtest_coin_order(tmp_path: Path, venues) -> None:
    from sixbtc.app.window import plan_window, symbols_by_timeframe

    binance, hl = venues
    root = _home(tmp_path, binance, hl, top=10)
    c = Container.open(Home(root))
    for sym in ("BTC", "ETH", "SOL"):
        c.store.write_candles(sym, "1h", pd.read_parquet(DATA / f"{sym}_1h.parquet"))
    window = plan_window(c.store, c.settings)
    before = symbols_by_timeframe(c.store, c.settings, window, c.registry.get_active_pairs())
    assert before["1h"] == ["BTC", "ETH", "SOL"]  # no volume known: alphabetical
    hl.set_markets([HlMarket("BTC", 2.0e8, 95_000.0, 40), HlMarket("ETH", 1.0e9, 3_300.0, 25),
                    HlMarket("SOL", 5.0e9, 150.0, 20)])
    assert _pairs(root)[0] == 0
    c2 = Container.open(Home(root))
    after = symbols_by_timeframe(c2.store, c2.settings, window, c2.registry.get_active_pairs())
    assert after["1h"] == ["SOL", "ETH", "BTC"]  # by 24 h volume


def test_hyperliquid_429_retry_after_is_honoured_then_5xx_gives_up(venues) -> None:
    _, hl = venues
    waits: list[float] = []
    client = HyperliquidInfo(hl.url, max_retries=2, backoff_s=0.01, sleep=waits.append)
    hl.statuses = [(429, "2"), (503, None)]
    assert [m.venue_symbol for m in client.perp_markets()][:2] == ["BTC", "ETH"]
    assert waits == [2.0, 0.02]
    hl.statuses = [(500, None)] * 3
    with pytest.raises(TransientExchangeError, match="HTTP 500 after 3 attempts"):
        client.perp_markets()


def test_malformed_answers_and_unreachable_venue_are_clear_errors(venues) -> None:
    _, hl = venues
    client = HyperliquidInfo(hl.url, max_retries=0)
    hl.body = [{"universe": [{"name": "BTC", "maxLeverage": 40}]}, []]
    with pytest.raises(DataError, match="1 markets but 0 asset contexts"):
        client.perp_markets()
    hl.body = [{"universe": [{"name": "BTC", "maxLeverage": 40}]}, [{"dayNtlVlm": "x", "markPx": "1"}]]
    with pytest.raises(DataError, match="market 'BTC': dayNtlVlm missing or not a number"):
        client.perp_markets()
    hl.body = None
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkUnavailable, match="unreachable"):
        HyperliquidInfo(f"http://127.0.0.1:{port}", max_retries=0).perp_markets()


def test_an_empty_universe_changes_nothing_and_exits_3(tmp_path: Path, venues) -> None:
    binance, hl = venues
    root = _home(tmp_path, binance, hl)
    assert _pairs(root)[0] == 0
    hl.set_markets([HlMarket("BTC", 10.0, 1.0, 1)])
    code, out = _pairs(root)
    assert code == 3 and "coins left unchanged" in out
    assert all(active for active, *_ in _coins(root).values())
