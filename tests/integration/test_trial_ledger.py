"""Trial ledger + multiple-testing gate through the backtester role on SQLite.

Synthetic candles in a real Parquet store (as in ``test_retest``): the price rises 1 % on
every bar ``i % 10 == 4``; a fake sandbox enters on ``i % period == offset`` and exits a bar
later, so ``period=10, offset=3`` is a real edge among a grid of 12 sets that mostly are not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.trials_repo import pack, unpack
from sixbtc.app.container import Container
from sixbtc.app.factory_roles import backtest_one, retest_one
from sixbtc.app.home import Home
from sixbtc.app.status import status_report
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
  fee_rate: 0.0
  slippage_bps: 0.0
  shuffle_permutations: 0
  screen_coins: 2
  plausible_max_sharpe: 1000  # the planted edge (zero costs) is far above any real strategy:
  plausible_rate_sharpe: 1000  # the plausibility gate is tested in tests/unit/backtester
active_pool:
  min_score: 0
risk:
  sizing: equity  # these strategies trade without a stop (sl_pct 0), which risk sizing (the default) cannot size
"""


def candles(seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, noise, N_BARS)
    ret[np.arange(N_BARS) % 10 == 4] += 0.004
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(N_BARS), "open": open_,
                         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                         "close": close, "volume": np.full(N_BARS, 1e6)})


class FakeSandbox:
    """Stands in for :class:`StrategySandbox`: a long 1h spec with a 12-set grid."""

    def load(self, code: str) -> Any:
        grid = [{"period": 10, "offset": o, "sl_pct": 0.0, "tp_pct": 0.0} for o in range(10)] + \
               [{"period": 7, "offset": o, "sl_pct": 0.0, "tp_pct": 0.0} for o in range(2)]
        return SimpleNamespace(direction=SimpleNamespace(sign=1), timeframes=("1h",), grid=lambda: grid)

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(data["close"]))
        entries = np.stack([(idx % p["period"]) == p["offset"] for p in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


def _validated(c: Container, i: int) -> int:
    sid = c.strategies.add(StrategyCandidate(name=f"Strategy_MOM_{i:06d}", type=StrategyType.MOM,
                                             source=StrategySource.TEMPLATE, code=f"# strategy {i}\n",
                                             code_hash=f"{i:064x}", genome={"i": i}))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "setup")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    return sid


def _container(tmp_path: Path, extra: str = "", noise: float = 0.004) -> Container:
    home = Home(tmp_path)
    home.ensure().config_path.write_text(CONFIG + extra)
    c = Container(home, load_settings(home.config_path), SimClock(NOW))
    for k in range(4):
        c.store.write_candles(f"C{k}", "1h", candles(k, noise), is_full_history=True)
    return c


WINDOW = CycleWindow(T0 + 48 * HOUR, T0 + 80 * 24 * HOUR, T0 + 110 * 24 * HOUR, T0 + N_BARS * HOUR)
SYMBOLS = {"1h": ["C0", "C1", "C2", "C3"]}


def test_backtest_records_the_ledger_and_the_gate_figures(tmp_path: Path) -> None:
    c = _container(tmp_path)
    sid = _validated(c, 1)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    rec = c.strategies.get(sid)
    assert rec.status is StrategyStatus.ACTIVE and rec.params["offset"] == 3
    rows = c.trials.trials_for(sid)
    assert [r["rung"] for r in rows] == list(range(len(rows))) and rows[0]["n_sets"] == 12
    assert rows[0]["params"] is not None and len(rows[0]["params"]) == 12 and rows[1]["params"] is None
    assert rows[0]["sharpe"].shape == (12, 2) and rows[0]["symbols"] == ["C0", "C1"]
    assert rows[-1]["n_coins"] == 4
    assert c.trials.count() == sum(r["n_sets"] * r["n_coins"] for r in rows)
    assert status_report(c)["trials"] == c.trials.count()
    m = rec.metrics
    assert m["dsr"] > 0.95 and 0.0 <= m["pbo"] <= 0.5 and m["dsr_trials"] == 12 and m["trials"] > 0
    agg = [r for r in c.results.for_strategy(sid) if r["symbol"] is None and r["score"] is not None][0]
    daily = agg["oos_metrics"]["daily_returns"]
    assert len(daily) == 30  # one per UTC day of the 30-day OOS window
    assert np.prod(1.0 + np.array(daily)) - 1.0 == pytest.approx(
        np.mean([r["oos_metrics"]["total_return"] for r in c.results.for_strategy(sid) if r["symbol"]]), abs=0.02)
    trades = agg["oos_metrics"]["trade_returns"]
    assert len(trades) == agg["oos_metrics"]["n_trades"] and np.mean(trades) > 0


def test_a_backtest_run_again_after_a_crash_replaces_what_the_killed_run_recorded(tmp_path: Path) -> None:
    clean = _container(tmp_path / "clean")
    sid = _validated(clean, 1)
    assert backtest_one(clean, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    expected = [(r["timeframe"], r["kind"], r["rung"], r["n_sets"], r["n_coins"]) for r in clean.trials.trials_for(sid)]
    c = _container(tmp_path / "crashed")
    assert _validated(c, 1) == sid
    # what a backtester killed after its first rung's commit left: a rung-0 row, the claim then released
    c.trials.add_rung(sid, f"{1:064x}", "1h", 0, (WINDOW.is_start, WINDOW.oos_start), ["C0", "C1"],
                      np.arange(12), {k: np.zeros((12, 2)) for k in ("sharpe", "total_return", "n_trades")})
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w2")
    got = [(r["timeframe"], r["kind"], r["rung"], r["n_sets"], r["n_coins"]) for r in c.trials.trials_for(sid)]
    assert got == expected, "the interrupted run's rung is counted again"
    assert c.trials.count() == clean.trials.count() and c.strategies.get(sid).metrics["dsr_trials"] == 12


def test_a_retest_is_recorded_but_adds_no_configuration(tmp_path: Path) -> None:
    c = _container(tmp_path)
    sid = _validated(c, 1)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    configs, total = c.trials.configs_for(sid), c.trials.count()
    c.clock.advance_to(NOW + timedelta(days=10))
    assert retest_one(c, FakeSandbox(), WINDOW, "w1", SYMBOLS)
    last = c.trials.trials_for(sid)[-1]
    assert (last["kind"], last["n_sets"], last["n_coins"], last["params"]) == ("retest", 1, 4, [c.strategies.get(sid).params])
    assert c.trials.configs_for(sid) == configs == 12 and c.trials.count() == total + 4


def test_the_gate_rejects_with_its_reason_and_can_be_switched_off(tmp_path: Path) -> None:
    # noisier candles: the edge is real but its DSR is ~0.998, below a 0.999 threshold
    c = _container(tmp_path, "scoring:\n  dsr_min_prob: 0.999\n", noise=0.02)
    sid = _validated(c, 1)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    assert c.strategies.get(sid) is None
    assert c.strategies.rejections_by_reason() == {"score:dsr": 1}
    assert c.trials.count() > 0  # the trials of a rejected strategy stay in the ledger
    kept = c.parents.evolution_parents()  # its genome stays too, as a near-miss for evolution
    assert [(p.name, p.origin, p.genome) for p in kept] == [("Strategy_MOM_000001", "near_miss", {"i": 1})]

    off = _container(tmp_path / "off", "scoring:\n  dsr_min_prob: 0.999\n  multiple_testing_gate: false\n",
                     noise=0.02)
    sid = _validated(off, 2)
    assert backtest_one(off, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    assert off.strategies.get(sid).status is StrategyStatus.ACTIVE
    assert 0.9 < off.strategies.get(sid).metrics["dsr"] < 0.999
    assert [p.origin for p in off.parents.evolution_parents()] == ["pool"]


def test_ledger_arrays_pack_compactly_and_round_trip() -> None:
    rng = np.random.default_rng(1)
    arrays = {k: rng.normal(size=(1000, 3)) for k in ("sharpe", "total_return", "n_trades")}
    blob = pack(np.arange(1000), arrays)
    back = unpack(blob)
    assert len(blob) < 3 * 1000 * 3 * 4 + 5000  # float32, not float64 or JSON
    np.testing.assert_allclose(back["sharpe"], arrays["sharpe"].astype(np.float32))
    assert back["set_indices"].tolist() == list(range(1000))
    with pytest.raises(ValueError, match="n_sets"):
        pack(np.arange(10), arrays)


class WideGridSandbox(FakeSandbox):
    """The same edge in a 60-set grid (periods 7-12 x offsets 0-9); its ``param_space`` is searched by TPE."""

    SPACE = {"period": [7, 8, 9, 10, 11, 12], "offset": list(range(10)), "sl_pct": [0.0], "tp_pct": [0.0]}

    def load(self, code: str) -> Any:
        from itertools import product
        grid = [dict(zip(self.SPACE, v, strict=True)) for v in product(*self.SPACE.values())]
        return SimpleNamespace(direction=SimpleNamespace(sign=1), timeframes=("1h",), grid=lambda: grid,
                               param_space=self.SPACE)


def test_tpe_search_records_every_proposal_in_the_ledger(tmp_path: Path) -> None:
    home = Home(tmp_path)
    tpe = "backtest:\n  search_method: optuna\n  optuna_trials: 40\n  max_param_sets: 20\n"
    home.ensure().config_path.write_text(CONFIG.replace("backtest:\n", tpe))
    c = Container(home, load_settings(home.config_path), SimClock(NOW))
    for k in range(4):
        c.store.write_candles(f"C{k}", "1h", candles(k, 0.004), is_full_history=True)
    sid = _validated(c, 1)
    assert backtest_one(c, WideGridSandbox(), WINDOW, SYMBOLS, "w1")
    rows = c.trials.trials_for(sid)
    assert rows[0]["n_sets"] == 40 and len(rows[0]["params"]) == 40  # the proposals, not a 20-set sample
    assert len({(p["period"], p["offset"]) for p in rows[0]["params"]}) == 40
    assert c.trials.configs_for(sid) == 40
    rec = c.strategies.get(sid)
    assert rec.status is StrategyStatus.ACTIVE and (rec.params["period"], rec.params["offset"]) == (10, 3)
    assert rec.metrics["dsr_trials"] == 40


class NoEdgeSandbox(FakeSandbox):
    """Periods 7 and 9 only: they miss the planted every-10th-bar move, so no set has an edge."""

    def load(self, code: str) -> Any:
        grid = [{"period": p, "offset": o, "sl_pct": 0.0, "tp_pct": 0.0} for p in (7, 9) for o in range(4)]
        return SimpleNamespace(direction=SimpleNamespace(sign=1), timeframes=("1h",), grid=lambda: grid)


def test_status_shows_the_closest_candidates_and_the_gate_that_stopped_each(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from sixbtc.cli.context import console
    from sixbtc.cli.main import app

    monkeypatch.setattr(console, "_width", 250)  # one line per row, whatever $COLUMNS the tests run with

    c = _container(tmp_path, "scoring:\n  dsr_min_prob: 0.999\n", noise=0.02)
    first, second = _validated(c, 1), _validated(c, 2)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1") and backtest_one(c, NoEdgeSandbox(), WINDOW,
                                                                                  SYMBOLS, "w1")
    assert c.strategies.get(first) is None and c.strategies.get(second) is None and c.pool.stats().count == 0
    rows = status_report(c)["closest_candidates"]
    assert [r["strategy"] for r in rows] == ["Strategy_MOM_000001", "Strategy_MOM_000002"]  # best DSR first
    top, other = rows
    assert top["reason"] == "score:dsr" and 0.9 < top["dsr"] < 0.999 and top["pbo"] is not None
    assert top["detail"].startswith("DSR ") and top["timeframe"] == "1h" and top["dsr_trials"] == 12
    assert other["reason"].startswith("backtest:") and other["dsr"] < top["dsr"] and other["pbo"] is None
    assert other["oos_trades"] >= 0 and 0 <= other["score"] <= 100
    res = CliRunner().invoke(app, ["--home", str(tmp_path), "status"])
    assert res.exit_code == 0, res.output
    assert "closest candidates" in res.output and "Strategy_MOM_000001" in res.output and "score:dsr" in res.output


def test_no_closest_candidates_while_the_pool_holds_a_strategy(tmp_path: Path) -> None:
    c = _container(tmp_path)
    _validated(c, 1)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1") and c.pool.stats().count == 1
    assert status_report(c)["closest_candidates"] == []


def test_the_ledger_keeps_trial_series_and_the_factory_s_effective_trials_collapse_duplicates(tmp_path: Path) -> None:
    from sixbtc.app.backtest_records import factory_trials
    c = _container(tmp_path)
    for i in (1, 2):  # the same rules twice: the factory searched no more independent trials
        _validated(c, i)
        assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    window = (WINDOW.is_start, WINDOW.oos_start)
    series = c.trials.window_series(window, 10)
    assert c.trials.window_rows(window) == len(series) == 2
    assert all(daily.shape == (len(days), 4) for days, daily in series)  # 4 of the 12 sets per timeframe
    est = factory_trials(c, window)
    assert est.n_series == 8 and 1 <= est.n_eff <= 4  # the second strategy's series join the first's clusters
    assert c.trials.window_series((WINDOW.oos_start, WINDOW.replay_start), 10) == []


def test_the_factory_s_effective_trials_are_recomputed_when_the_window_s_rows_shrank(tmp_path: Path) -> None:
    from sixbtc.app import backtest_records
    from sixbtc.scorer.effective_trials import EffectiveTrials
    c = _container(tmp_path)
    _validated(c, 1)
    assert backtest_one(c, FakeSandbox(), WINDOW, SYMBOLS, "w1")
    window = (WINDOW.is_start, WINDOW.oos_start)
    stale = EffectiveTrials(n_series=999, n_eff=999, sr_variance=1.0)
    backtest_records._factory_cache[(str(c.engine.url), *window)] = (1000, stale)  # an estimate of another ledger
    est = backtest_records.factory_trials(c, window)
    assert est is not stale and est.n_series == 4
