"""Helpers of the executor integration tests: a home with synthetic 1h candles and LIVE
strategies written straight into the database (no factory run).

Candles: a seeded random walk per coin, 1h bars ending 2025-06-01, ``volume`` = the bar's
index in the series, so a test strategy can change behaviour at a known bar (``volume[-1]``).
The replay window is the last ``executor.replay_days`` (2 days = 48 bars per coin).
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import ccxt
import numpy as np
import pandas as pd

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.container import Container
from sixbtc.core.ids import sha256_hex
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

END = pd.Timestamp("2025-06-01", tz="UTC")
N_BARS = 400
CONFIG = """
backtest:
  timeframes: [1h]
  warmup_bars: 30
  fee_rate: 0.0005
  slippage_bps: 2
executor:
  replay_days: 2
  subaccount_capital_usd: 1000
  poll_interval_s: 0.2
validator:
  wall_s: 3
  workers: 1
generator:
  workers: 1
  daily_limit: {daily_limit}
risk:
  max_open_positions: {max_open}
"""

#: Long when the bar closed up, flat when it closed down: trades every few bars.
BAR_COLOUR = """
import numpy as np


class {name}:
    strategy_type = "MOM"
    direction = "{direction}"
    timeframes = ("1h",)
    param_space = {{"sl_pct": [0.02], "tp_pct": [0.03]}}

    def signals(self, data, params):
        close, open_ = data["close"], data["open"]
        {trap}
        return close > open_ * 1.001, close < open_ * 0.999
"""


def strategy_code(name: str, direction: str = "long", trap: str = "pass") -> str:
    """Source of a bar-colour strategy; ``trap`` is one statement run first in ``signals``."""
    return BAR_COLOUR.format(name=name, direction=direction, trap=trap)


def write_candles(c: Container, symbols: tuple[str, ...], n_bars: int = N_BARS, seed: int = 3,
                  upto: int | None = None, extra: int = 0, only: tuple[str, ...] | None = None) -> None:
    """Store 1h candles per symbol (random walk, volume = bar index): ``n_bars`` ending at
    ``END``, then ``extra`` more after it; only the first ``upto`` of them when given, and only
    the ``only`` symbols when given (the series are the same whatever ``upto`` and ``only``)."""
    rng = np.random.default_rng(seed)
    total = n_bars + extra
    ts = pd.date_range(start=END - pd.Timedelta(hours=n_bars), periods=total, freq="1h", tz="UTC")
    n_bars = total
    for k, sym in enumerate(symbols):
        close = (100.0 * (k + 1)) * np.exp(np.cumsum(rng.normal(0.0, 0.01, n_bars)))
        open_ = np.concatenate([[close[0]], close[:-1]])
        spread = np.abs(rng.normal(0.0, 0.006, n_bars)) * close
        df = pd.DataFrame({"timestamp": ts, "open": open_, "high": np.maximum(open_, close) + spread,
                           "low": np.minimum(open_, close) - spread, "close": close,
                           "volume": np.arange(n_bars, dtype=np.float64)})
        if only is None or sym in only:
            c.store.write_candles(sym, "1h", df.iloc[:upto])


def add_live(c: Container, name: str, code: str, symbols: tuple[str, ...], direction: str = "long",
             params: dict[str, Any] | None = None, mode: str = "paper") -> int:
    """Insert ``code`` and move it GENERATED → VALIDATED → ACTIVE → LIVE with a sub-account of
    ``mode`` (labels ``paper-001`` … or ``live-001`` …)."""
    sid = c.strategies.add(StrategyCandidate(name=name, type=StrategyType.MOM, source=StrategySource.USER,
                                             code=code, code_hash=sha256_hex(code)))
    assert sid is not None
    for src, dst in ((StrategyStatus.GENERATED, StrategyStatus.VALIDATED),
                     (StrategyStatus.VALIDATED, StrategyStatus.ACTIVE)):
        rec = c.strategies.claim(src, "setup")
        assert rec is not None and rec.id == sid
        extra = {} if dst is StrategyStatus.VALIDATED else {
            "params": params or {"sl_pct": 0.02, "tp_pct": 0.03}, "timeframe": "1h", "symbols": list(symbols),
            "metrics": {"direction": direction}, "score": 80.0}
        c.strategies.transition(sid, rec.claim_token, dst, phase="setup", reason="setup", **extra)
    with c.engine.begin() as conn:
        c.strategies.transition_in(conn, sid, None, StrategyStatus.LIVE, phase="rotator", reason="setup")
    c.trading.assign_subaccount(sid, mode, c.settings.executor.subaccount_capital_usd)
    return sid


def unreachable_venue() -> CcxtMarketData:
    """A ccxt client pointed at a closed port on 127.0.0.1: every poll fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exchange = ccxt.binanceusdm({"timeout": 1000, "enableRateLimit": False, "options": {"fetchCurrencies": False}})
    for key, version in (("fapiPublic", "v1"), ("fapiPublicV2", "v2"), ("fapiPublicV3", "v3")):
        exchange.urls["api"][key] = f"http://127.0.0.1:{port}/fapi/{version}"
    return CcxtMarketData(exchange=exchange, max_retries=0, backoff_s=0.0)


def dead_pid() -> int:
    """The pid of a process that has exited and was reaped (free, until the kernel reuses it)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
