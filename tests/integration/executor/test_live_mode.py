"""Live mode end to end: `sixbtc run --live` as a child process against the fake Hyperliquid
venue on 127.0.0.1 (the real hyperliquid-python-sdk signs and sends), with live candles from the
fake Binance (the real ccxt client).

The LIVE strategy (long on a green candle) trades BTC and ETH on the venue sub-account named by
its label (``live-001``). The newest closed 1h candle is only on the fake Binance: the service
polls it, enters both coins with market orders carrying our client order ids as cloids, and
places reduce-only stop-market triggers on the venue. A BTC mark through the stop fills it
while the service runs: the trade sync books the trade. SIGTERM stops the service cleanly
(exit 143). While it is down, the ETH stop fills; the restarted service reconciles at start
(the venue is the truth): the fill is adopted and the ETH trade booked, and the
reconciliation is stored and shown by `sixbtc status`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from eth_account.signers.local import LocalAccount
from executor_world import add_live, strategy_code
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid, to_cloid
from sixbtc.adapters.storage.tables import OrderRow
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.cli.main import app
from sixbtc.testing.fake_binance import FakeBinance
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidServer

HOUR = pd.Timedelta(hours=1)
MARKS = {"BTC": 100_000.0, "ETH": 3_000.0}
CONFIG = """
backtest:
  timeframes: [1h]
  warmup_bars: 30
executor:
  dry_run: false
  subaccount_capital_usd: 1000
  poll_interval_s: 0.3
  sync_interval_s: 0.3
  order_query_base_delay_s: 0.05
exchange:
  wallet_address: "{master}"
  agent_key_file: {key}
  base_url: {hl}
  timeout_s: 3
  retry_backoff_s: 0.05
data:
  coins: [BTC, ETH]
  timeframes: [1h]
  history_days: 3
  exchange_api_url: {binance}
generator:
  daily_limit: 0
scheduler:
  enabled: false
regime:
  enabled: false
"""


def _candles(symbol: str, end_open: pd.Timestamp, n: int) -> pd.DataFrame:
    """``n`` 1h candles of ``symbol`` around its mark, the last (opening at ``end_open``) green."""
    rng = np.random.default_rng(7)
    close = MARKS[symbol] * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    close *= MARKS[symbol] / close[-1]
    open_ = np.concatenate([[close[0]], close[:-1]])
    open_[-1] = close[-1] * 0.997  # the decision candle closed up: an entry
    ts = pd.date_range(end=end_open, periods=n, freq="1h", tz="UTC")
    return pd.DataFrame({"timestamp": ts, "open": open_, "high": np.maximum(open_, close) * 1.001,
                         "low": np.minimum(open_, close) * 0.999, "close": close, "volume": np.full(n, 10.0)})


class LiveWorld:
    """The home, the fake venues, the master, the sub-account and the agent key file."""

    def __init__(self, root: Path, hl: FakeHyperliquidServer, binance: FakeBinance, master: LocalAccount) -> None:
        self.root, self.hl, self.binance, self.master = root, hl, binance, master
        self.c = Container.open(Home(root / "home"))
        self.sub = ""

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "sixbtc.cli.main", "--home", str(self.c.home.root), "run",
                                 "--live", "--live-delay-s", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=_env(), start_new_session=True)

    def venue_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.hl.venue.state["orders"].values() if o["user"] == self.sub]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC__")}
    return {**env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def _wait(cond: Callable[[], Any], proc: subprocess.Popen[str] | None, what: str, timeout_s: float = 90.0) -> Any:
    """Poll ``cond`` until it is truthy (its value returned); fail with the service's output
    when the service exits first or ``timeout_s`` passes (generous: the machine may be loaded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (value := cond()):
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the service exited ({proc.returncode}) before {what}:\n{proc.stdout.read()[-4000:]}")
        time.sleep(0.1)
    if proc is not None:
        pytest.fail(f"timed out waiting for {what}:\n{_stop(proc)[-4000:]}")
    pytest.fail(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM the service; return its output (it must have stopped within 20 s)."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return out


@pytest.fixture
def world(tmp_path: Path) -> Iterator[LiveWorld]:
    now = pd.Timestamp.now(tz="UTC")
    if (now - now.floor("1h")) > pd.Timedelta(minutes=59, seconds=40):  # the newest candle must stay the newest
        time.sleep(25)
        now = pd.Timestamp.now(tz="UTC")
    last_open = now.floor("1h") - HOUR
    frames = {(s, "1h"): _candles(s, last_open, 60) for s in MARKS}
    with FakeHyperliquidServer() as hl, FakeBinance(now_ms=int(now.timestamp() * 1000), frames=frames) as binance:
        for coin, px in MARKS.items():
            hl.set_mark(coin, px)
        master = hl.new_master(10_000.0)
        agent = hl.new_agent(master.address, "bot")
        key = tmp_path / "agent.key"
        key.write_text(agent.key.hex() + "\n")
        key.chmod(0o600)
        home = Home(tmp_path / "home").ensure()
        home.config_path.write_text(CONFIG.format(master=master.address, key=key, hl=hl.base_url, binance=binance.url))
        w = LiveWorld(tmp_path, hl, binance, master)
        for (sym, tf), df in frames.items():
            w.c.store.write_candles(sym, tf, df.iloc[:-1])  # the newest closed candle is only on the venue
        admin = HyperliquidClient(base_url=hl.base_url, master_address=master.address,
                                  master_key=SecretStr(master.key.hex()), read_retries=0)
        w.sub = admin.create_subaccount("live-001").address
        admin.transfer_usd(w.sub, 1_000.0, to_subaccount=True)
        yield w


def test_run_live_trades_on_the_venue_stops_cleanly_and_reconciles_at_restart(world: LiveWorld) -> None:
    c = world.c
    sid = add_live(c, "Strategy_MOM_0000live", strategy_code("Strategy_MOM_0000live"), ("BTC", "ETH"), mode="live")
    assert c.trading.subaccount_of(sid)["label"] == "live-001"
    proc = world.start()
    _wait(lambda: len(_resting(world, "sl")) == len(_resting(world, "tp")) == 2, proc,
          "two stops and two targets resting on the venue")
    stops = _resting(world, "sl")
    journal = _wait(lambda: (j := _journal(c, sid)) and sum(o["leg"] == "entry" and o["status"] == "filled"
                                                           for o in j.values()) == 2 and j, proc, "entries filled")
    entries = [o for o in journal.values() if o["leg"] == "entry"]
    assert sorted((o["symbol"], o["status"]) for o in entries) == [("BTC", "filled"), ("ETH", "filled")]
    venue_cloids = {o["cloid"] for o in world.venue_orders()}
    assert {to_cloid(o["client_order_id"]) for o in entries} <= venue_cloids  # sent with our ids
    assert sorted(o["coin"] for o in _resting(world, "tp")) == ["BTC", "ETH"] and all(
        o["reduceOnly"] for o in _resting(world, "tp"))  # and their targets
    for stop in stops:  # reduce-only stop-market triggers, below the long entries
        assert stop["reduceOnly"] and stop["trigger"]["isMarket"]
        assert stop["trigger"]["triggerPx"] < MARKS[stop["coin"]] and stop["side"] == "A"
        assert journal[_ours(stop["cloid"])]["status"] == "open"
    meta = {u["name"]: u for u in world.hl.venue.state["universe"]}
    for o in world.venue_orders():  # exchange precision at the order boundary: sizes in szDecimals
        assert round(o["sz"], meta[o["coin"]]["szDecimals"]) == o["sz"] and o["origSz"] * MARKS[o["coin"]] >= 10
    leverage = world.hl.venue.state["accounts"][world.sub]["leverage"]  # isolated, capped by config and coin max
    assert {coin: lev["type"] for coin, lev in leverage.items()} == {"BTC": "isolated", "ETH": "isolated"}
    assert all(1 <= lev["value"] <= min(5, meta[coin]["maxLeverage"]) for coin, lev in leverage.items())
    positions = {p["symbol"]: p for p in c.trading.open_positions()}
    assert set(positions) == {"BTC", "ETH"} and all(p["subaccount"] == "live-001" for p in positions.values())
    shown = json.loads(CliRunner().invoke(app, ["--home", str(c.home.root), "status", "--json"]).stdout)["trading"]
    assert {p["symbol"]: p["stop_price"] for p in shown["positions"]} == {
        s: positions[s]["stop_price"] for s in ("BTC", "ETH")} and shown["mode"] == "live"
    assert [(s["label"], s["mode"], s["balance_usd"]) for s in shown["subaccounts"]] == [("live-001", "live", 1000.0)]

    world.hl.set_mark("BTC", positions["BTC"]["stop_price"] * 0.99)  # the venue fills the BTC stop
    trade = _wait(lambda: c.trading.trades(sid), proc, "the BTC trade booked by the trade sync")[0]
    assert (trade["symbol"], trade["exit_reason"], trade["mode"]) == ("BTC", "STOP_LOSS", "live")
    _wait(lambda: [o["coin"] for o in _resting(world, "tp")] == ["ETH"], proc, "the BTC target cancelled")
    out = _stop(proc)
    assert proc.returncode == 143, out
    assert "service stopped" in out and "reconciled in" in out
    first = c.reconciliations.last()
    assert first is not None and first["outcome"] == "ok" and first["venue"] == "hyperliquid"

    world.hl.set_mark("ETH", positions["ETH"]["stop_price"] * 0.99)  # fills while the service is down
    proc = world.start()
    eth = _wait(lambda: [t for t in c.trading.trades(sid) if t["symbol"] == "ETH"], proc, "the ETH trade adopted")[0]
    assert eth["exit_reason"] == "STOP_LOSS" and c.trading.open_positions() == []
    _wait(lambda: _resting(world, "tp") == [], proc, "the ETH target cancelled after the restart")
    out = _stop(proc)
    assert proc.returncode == 143, out
    last = c.reconciliations.last()
    assert last["ts"] > first["ts"] and last["outcome"] == "ok" and "1 fills adopted" in last["summary"], last
    assert len(c.trading.trades(sid)) == 2  # nothing booked twice across the restart
    assert _cloid_counts(world) == {}  # no order sent twice

    status = json.loads(CliRunner().invoke(app, ["--home", str(c.home.root), "status", "--json"]).stdout)["trading"]
    assert (status["mode"], status["venue"], status["reconciliation"]["status"]) == ("live", "hyperliquid", "ok")


def _resting(world: LiveWorld, tpsl: str) -> list[dict[str, Any]]:
    """The sub-account's open trigger orders of kind ``tpsl`` (``sl`` or ``tp``) on the venue."""
    return [o for o in world.venue_orders() if o["status"] == "open" and o["trigger"] and o["trigger"]["tpsl"] == tpsl]


def _ours(cloid: str) -> str:
    return str(from_cloid(cloid))


def _journal(c: Container, sid: int) -> dict[str, dict[str, Any]]:
    """The strategy's journal orders by client order id (the ``orders`` table)."""
    t = OrderRow.__table__
    with c.engine.connect() as conn:
        return {r.client_order_id: dict(r._mapping) for r in conn.execute(select(t).where(t.c.strategy_id == sid))}


def _cloid_counts(world: LiveWorld) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in world.venue_orders():
        if o["cloid"]:
            counts[o["cloid"]] = counts.get(o["cloid"], 0) + 1
    return {k: n for k, n in counts.items() if n > 1}

