"""The factory roles reject look-ahead the validator missed (issue 8): ``backtest_one`` and
``retest_one`` on SQLite with a real Parquet store, the multiple-testing gate switched off.

The strategy "code" runs in a fake sandbox: a next-bar peek that switches on only on series
longer than the validator's samples (the causality check sees it), and a memorised future
that no re-run on less data can show (the plausibility gate sees its results).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.factory_roles import backtest_one, retest_one
from sixbtc.app.home import Home
from sixbtc.app.window import CycleWindow
from sixbtc.config import load_settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

NOW = datetime(2026, 3, 1, tzinfo=UTC)
T0 = pd.Timestamp("2025-06-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
N_BARS = 24 * 120
CONFIG = """
backtest:
  warmup_bars: 48
  min_trades: 5
  shuffle_permutations: 0
  max_degradation: 1.0
scoring:
  multiple_testing_gate: false
active_pool:
  min_score: 0
risk:
  sizing: equity  # these strategies trade without a stop (sl_pct 0), which risk sizing (the default) cannot size
"""
OPEN = "  plausible_max_sharpe: 1000\n  plausible_rate_sharpe: 1000\n"  # plausibility gate opened
WINDOW = CycleWindow(T0 + 48 * HOUR, T0 + 80 * 24 * HOUR, T0 + 110 * 24 * HOUR, T0 + N_BARS * HOUR)
SYMBOLS = {"1h": ["C0", "C1", "C2"]}
GRID = [{"n": n, "sl_pct": 0.0, "tp_pct": 0.0} for n in (3, 5)]


def candles(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.006, N_BARS)))
    open_ = np.concatenate(([50.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(N_BARS), "open": open_,
                         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                         "close": close, "volume": np.full(N_BARS, 1e6)})


class PeekBox:
    """Honest momentum on short series, a next-bar peek on series longer than 2,500 bars."""

    def load(self, code: str) -> Any:
        return SimpleNamespace(direction=SimpleNamespace(sign=1), timeframes=("1h",), grid=lambda: GRID)

    def _up(self, close: np.ndarray, n: int) -> np.ndarray:
        if len(close) > 2500:
            return np.append(close[1:], close[-1]) > close * 1.002
        up = np.zeros(len(close), dtype=bool)
        up[n:] = close[n:] > close[:-n]
        return up

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]):
        up = np.stack([self._up(data["close"], p["n"]) for p in params_list])
        return up, ~up


class OracleBox(PeekBox):
    """Knows each coin's whole series (memorised) and enters before every rise; bar ``i``
    reads the memory at the same absolute bar whatever the input's length."""

    def __init__(self, frames: list[pd.DataFrame]) -> None:
        self.memory = [f["close"].to_numpy() for f in frames]

    def _up(self, close: np.ndarray, n: int) -> np.ndarray:
        for known in self.memory:
            for at in np.flatnonzero(known == close[0]):
                if np.array_equal(known[at : at + len(close)], close):
                    nxt = np.append(known[at + 1 : at + 1 + len(close)], close[-1])[: len(close)]
                    return nxt > close * 1.002
        raise ValueError("not memorised")


def _container(tmp_path: Path, extra: str = "") -> tuple[Container, list[pd.DataFrame]]:
    home = Home(tmp_path)
    home.ensure().config_path.write_text(CONFIG.replace("backtest:\n", "backtest:\n" + extra))
    c = Container(home, load_settings(home.config_path), SimClock(NOW))
    frames = [candles(k) for k in range(3)]
    for k, f in enumerate(frames):
        c.store.write_candles(f"C{k}", "1h", f, is_full_history=True)
    return c, frames


def _strategy(c: Container, i: int, status: StrategyStatus) -> int:
    sid = c.strategies.add(StrategyCandidate(name=f"Strategy_MOM_{i:06d}", type=StrategyType.MOM,
                                             source=StrategySource.TEMPLATE, code=f"# strategy {i}\n",
                                             code_hash=f"{i:064x}", genome={"i": i}))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "setup")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    if status is StrategyStatus.ACTIVE:
        rec = c.strategies.claim(StrategyStatus.VALIDATED, "setup")
        c.pool.try_enter(sid, rec.claim_token, 50.0, max_size=10, min_score=0, params=GRID[0], timeframe="1h",
                         symbols=["C0"], metrics={"fingerprint": f"f{i}"}, last_backtested_at=NOW - timedelta(days=9))
    return sid


def _last_event(c: Container, sid: int) -> dict:
    return next(e for e in c.strategies.events(limit=20) if e["strategy_id"] == sid)


def test_backtest_rejects_a_length_gated_peek_with_the_causality_check(tmp_path: Path) -> None:
    c, _ = _container(tmp_path, OPEN)
    sid = _strategy(c, 1, StrategyStatus.VALIDATED)
    assert backtest_one(c, PeekBox(), WINDOW, SYMBOLS, "w1")
    assert c.strategies.get(sid) is None
    ev = _last_event(c, sid)
    assert (ev["phase"], ev["reason"]) == ("backtest", "backtest:lookahead")
    assert " 1h: signals on the series cut at " in ev["detail"] and ev["detail"].split()[0] in {"C0", "C1", "C2"}


def test_backtest_rejects_implausible_results_although_the_multiple_testing_gate_is_off(tmp_path: Path) -> None:
    c, frames = _container(tmp_path)
    assert c.settings.scoring.multiple_testing_gate is False
    peek, oracle = _strategy(c, 1, StrategyStatus.VALIDATED), _strategy(c, 2, StrategyStatus.VALIDATED)
    assert backtest_one(c, PeekBox(), WINDOW, SYMBOLS, "w1")
    assert backtest_one(c, OracleBox(frames), WINDOW, SYMBOLS, "w1")
    assert c.strategies.rejections_by_reason() == {"suspect:lookahead": 2}
    for sid in (peek, oracle):
        assert c.strategies.get(sid) is None
        assert "pooled OOS Sharpe" in _last_event(c, sid)["detail"]


def test_a_retest_retires_what_the_first_backtest_would_have_caught(tmp_path: Path) -> None:
    c, frames = _container(tmp_path)
    sid = _strategy(c, 1, StrategyStatus.ACTIVE)
    assert retest_one(c, OracleBox(frames), WINDOW, "w1", SYMBOLS)
    assert c.strategies.get(sid).status is StrategyStatus.RETIRED
    assert _last_event(c, sid)["reason"] == "suspect:lookahead"
    opened, _ = _container(tmp_path / "open", OPEN)
    sid = _strategy(opened, 1, StrategyStatus.ACTIVE)
    assert retest_one(opened, PeekBox(), WINDOW, "w1", SYMBOLS)
    assert opened.strategies.get(sid).status is StrategyStatus.RETIRED
    assert _last_event(opened, sid)["reason"] == "retest:lookahead"
