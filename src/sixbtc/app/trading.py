"""Trading roles: rotator, executor on the replay feed (paper), monitor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from sixbtc.adapters.exchanges.paper import PaperBroker
from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.core.errors import StaleClaim
from sixbtc.data.replay import ReplayFeed
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.executor.engine import Executor, LiveStrategy
from sixbtc.executor.ports import Bar
from sixbtc.monitor.live_metrics import LiveMetrics, live_metrics
from sixbtc.monitor.mc_band import band_breach, path_stats, simulate_band
from sixbtc.monitor.retirement import Evidence, Verdict, judge
from sixbtc.rotator.correlation import DailyReturns
from sixbtc.rotator.incubation import incubated, paper_days
from sixbtc.rotator.rotation import Promotion, rotate
from sixbtc.scorer.score import live_score
from sixbtc.scorer.statistics import probabilistic_sharpe_ratio, sharpe_moments
from sixbtc.strategy.sandbox import StrategySandbox

T = StrategyRow.__table__


class RepoRotationStore:
    """:class:`~sixbtc.rotator.ports.RotationStore` over the repositories."""

    def __init__(self, c: Container) -> None:
        self.c = c

    def live(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.LIVE)

    def pool_by_score(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.ACTIVE, by_score=True)

    def daily_returns(self, strategy_ids: list[int]) -> dict[int, DailyReturns | None]:
        """OOS daily returns of each strategy's newest aggregate backtest row (see :func:`backtest_reference`).

        The series ends on the UTC day of the last OOS bar, which opens one bar of the row's
        timeframe before its ``data_end`` (the OOS window is ``[oos_start, data_end)``), and is
        taken to cover consecutive days; None when the row has no ``daily_returns`` (older
        rows) or fewer than 2 of them.
        """
        out: dict[int, DailyReturns | None] = {}
        for sid in strategy_ids:
            row = backtest_reference(self.c, sid)
            values = (row or {}).get("oos_metrics", {}).get("daily_returns")
            if row is None or not values or len(values) < 2:
                out[sid] = None
                continue
            last_bar = pd.Timestamp(row["data_end"]) - pd.Timedelta(milliseconds=Timeframe.parse(row["timeframe"]).ms)
            last_day = last_bar.date()
            out[sid] = DailyReturns(last_day, np.asarray(values, dtype=np.float64))
        return out

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        """ACTIVE → LIVE unless a worker holds a claim on it (then StaleClaim); bumps the
        fencing token so a re-test started earlier cannot overwrite the promotion."""
        with self.c.engine.begin() as conn:
            claimed = conn.execute(select(T.c.processing_by).where(T.c.id == strategy.id)).scalar()
            if claimed:
                raise StaleClaim(f"strategy {strategy.id} is being processed by {claimed}")
            self.c.strategies.transition_in(conn, strategy.id, strategy.claim_token, StrategyStatus.LIVE,
                                            phase="rotator", reason="rotator:promoted", detail=reason,
                                            live_since=self.c.clock.now(), claim_token=T.c.claim_token + 1)
        mode = "paper" if self.c.settings.executor.dry_run else "live"
        return self.c.trading.assign_subaccount(strategy.id, mode, self.c.settings.executor.subaccount_capital_usd)


def backtest_reference(c: Container, strategy_id: int) -> dict[str, Any] | None:
    """The newest aggregate backtest row (``symbol`` None) of the strategy's chosen parameters.

    That is the newest aggregate row with a score (first backtest or re-test); rows of the other
    timeframes' best choices carry no score. None when the strategy has no such row.
    """
    rows = [r for r in c.results.for_strategy(strategy_id) if r["symbol"] is None and r["score"] is not None]
    return rows[-1] if rows else None


def rotate_now(c: Container) -> list[Promotion]:
    """Fill free LIVE slots from the pool (SPEC §3.6)."""
    return rotate(RepoRotationStore(c), c.settings.rotator)


class ArrayHistory:
    """:class:`~sixbtc.executor.ports.HistorySource` over streams preloaded as arrays."""

    def __init__(self, c: Container, streams: list[tuple[str, str]], end: pd.Timestamp) -> None:
        self._data: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        for sym, tf in streams:
            df = c.store.read_candles(sym, tf, None, end)
            ts = df["timestamp"].to_numpy("datetime64[ms]").astype(np.int64)
            self._data[(sym, tf)] = (ts, {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")})

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int) -> dict[str, np.ndarray]:
        ts, arrays = self._data[(symbol, timeframe)]
        hi = int(np.searchsorted(ts, int(upto_ts.timestamp() * 1000), side="right"))
        lo = max(0, hi - bars)
        return {k: v[lo:hi] for k, v in arrays.items()}


class SandboxSignals:
    """:class:`~sixbtc.executor.ports.SignalEngine`: one sandbox worker per LIVE strategy."""

    def __init__(self, c: Container, strategies: list[StrategyRecord]) -> None:
        self._boxes: dict[int, StrategySandbox] = {}
        for rec in strategies:
            box = StrategySandbox(c.sandbox_limits())
            box.load(rec.code)
            self._boxes[rec.id] = box

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        entries, exits = self._boxes[strategy_id].signals(data, [params])
        return bool(entries[0, -1]), bool(exits[0, -1])

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def live_set(c: Container) -> list[LiveStrategy]:
    """The LIVE strategies as the executor runs them."""
    out = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        sub = c.trading.subaccount_of(rec.id)
        if sub is None or not rec.params or not rec.timeframe:
            continue
        direction = Direction((rec.metrics or {}).get("direction", "long"))
        out.append(LiveStrategy(rec.id, rec.name, rec.timeframe, rec.symbols, direction, rec.params,
                                sub["label"], sub["capital_usd"]))
    return out


@dataclass(frozen=True)
class ReplayStats:
    """What a paper replay did."""

    bars: int
    strategies: int
    streams: int


def build_executor(c: Container, strategies: list[LiveStrategy], history_end: pd.Timestamp) -> tuple[Executor, SandboxSignals]:
    """The paper executor of ``strategies``: one sandbox each, history preloaded up to ``history_end``.

    The caller closes the returned :class:`SandboxSignals` when done.
    """
    bt = c.settings.backtest
    records = [r for s in strategies if (r := c.strategies.get(s.id)) is not None]
    signals = SandboxSignals(c, records)
    streams = sorted({(sym, s.timeframe) for s in strategies for sym in s.symbols})
    executor = Executor(strategies, PaperBroker(bt.fee_rate, bt.slippage_bps), signals,
                        ArrayHistory(c, streams, history_end), c.trading, c.settings.risk, history_bars=bt.warmup_bars)
    return executor, signals


def paper_replay(c: Container, window: CycleWindow, on_tick: Callable[[int, int], None] | None = None) -> ReplayStats:
    """Paper-trade the LIVE set on the replay window, candle by candle."""
    strategies = live_set(c)
    if not strategies:
        return ReplayStats(0, 0, 0)
    executor, signals = build_executor(c, strategies, window.replay_end)
    streams = executor.streams()
    feed = ReplayFeed(c.store, streams, window.replay_start, window.replay_end)
    total = sum(int(c.settings.executor.replay_days * Timeframe.parse(tf).bars_per_day) for _, tf in streams)
    n = 0
    try:
        for candle in feed:
            executor.on_bar(Bar(candle.symbol, candle.timeframe, candle.ts.to_pydatetime(), candle.open,
                                candle.high, candle.low, candle.close))
            n += 1
            if on_tick is not None and n % 200 == 0:
                on_tick(n, total)
    finally:
        signals.close()
    return ReplayStats(n, len(strategies), len(streams))


def live_psr(live_returns: np.ndarray, backtest_returns: np.ndarray) -> tuple[float | None, str]:
    """PSR of the live per-trade returns against the backtest's per-trade Sharpe ratio.

    ``PSR(SR*)`` with SR* = per-trade Sharpe of the backtest OOS trades and the live record's
    own skewness and kurtosis (Bailey & López de Prado 2012, via
    :mod:`sixbtc.scorer.statistics`): the probability that the strategy's true per-trade
    Sharpe ratio is at least the backtest's. Returns ``(psr, "")`` or ``(None, why)`` when it
    is not computable (fewer than 2 trades on a side, constant returns).
    """
    try:
        bench = sharpe_moments(backtest_returns)[0]
    except ValueError as exc:
        return None, f"PSR skipped: backtest trades: {exc}"
    try:
        sr, skew, kurt, n = sharpe_moments(live_returns)
        return probabilistic_sharpe_ratio(sr, bench, n, skew, kurt), ""
    except ValueError as exc:
        return None, f"PSR skipped: live trades: {exc}"


def _evidence(c: Container, rec: StrategyRecord, returns: np.ndarray) -> tuple[Evidence, dict[str, Any]]:
    """Monte Carlo band and PSR of a LIVE strategy's trades against its backtest trades.

    The band is seeded with the strategy id (reproducible per strategy) and only simulated
    once ``retirement.min_trades`` live trades exist. Returns the evidence and the figures
    stored in ``metrics["live"]``.
    """
    cfg = c.settings.retirement
    row = backtest_reference(c, rec.id)
    bt = (row or {}).get("oos_metrics", {}).get("trade_returns")
    if not bt:
        note = "no backtest trade_returns stored (older backtest): Monte Carlo band and PSR skipped"
        return Evidence(notes=(note,)), {}
    bt_arr = np.asarray(bt, dtype=np.float64)
    psr, psr_note = live_psr(returns, bt_arr)
    figures: dict[str, Any] = {"psr": psr}
    notes = [psr_note] if psr_note else []
    breach = None
    if cfg.mc_paths == 0:
        notes.append("Monte Carlo band off (mc_paths 0)")
    elif returns.size >= cfg.min_trades:
        try:
            band = simulate_band(bt_arr, int(returns.size), paths=cfg.mc_paths, percentile=cfg.mc_percentile,
                                 seed=rec.id)
        except ValueError as exc:  # e.g. fewer than 2 backtest trades
            notes.append(f"Monte Carlo band skipped: {exc}")
        else:
            breach = band_breach(returns, band)
            figures.update(mc_lower_return=band.lower_return, mc_upper_drawdown=band.upper_drawdown)
    return Evidence(band_breach=breach, psr=psr, notes=tuple(notes)), figures


def _live_since(c: Container, strategy_id: int) -> datetime | None:
    with c.engine.connect() as conn:
        ts = conn.execute(select(T.c.live_since).where(T.c.id == strategy_id)).scalar()
    return utc(ts)


def _track_record(c: Container, rec: StrategyRecord) -> tuple[LiveMetrics, np.ndarray]:
    """Live metrics and per-trade returns (exit order) of a strategy's paper/live trades."""
    trades = c.trading.trades(rec.id)
    sub = c.trading.subaccount_of(rec.id)
    capital = sub["capital_usd"] if sub else c.settings.executor.subaccount_capital_usd
    span = ((trades[-1]["exit_ts"] - trades[0]["entry_ts"]).total_seconds() / 86400.0) if trades else 0.0
    returns = np.array([t["return_frac"] for t in trades], dtype=np.float64)
    return live_metrics(returns, np.array([t["pnl_usd"] for t in trades], dtype=np.float64), capital, span), returns


def review_live(c: Container, rec: StrategyRecord) -> tuple[Verdict, float, dict[str, Any]]:
    """Judge one LIVE strategy: verdict, live score and the ``metrics["live"]`` record.

    ``metrics["live"]`` holds ``n_trades``, ``cum_return`` (sum of per-trade returns),
    ``psr``, the band thresholds ``mc_lower_return``/``mc_upper_drawdown`` (when simulated),
    ``paper_days``, ``incubated`` (``paper_days >= rotator.min_paper_days``, see
    :mod:`sixbtc.rotator.incubation`), ``verdict`` and ``checked_at`` (ISO UTC).
    """
    m, returns = _track_record(c, rec)
    value = live_score(sharpe=m.sharpe, expectancy=m.expectancy, profit_factor=m.profit_factor,
                       win_rate=m.win_rate, max_drawdown=m.max_drawdown, n_trades=m.n_trades,
                       weights=c.settings.scoring)
    evidence, figures = _evidence(c, rec, returns)
    verdict = judge(m, value, (rec.metrics or {}).get("expectancy"), c.settings.retirement, evidence)
    now = c.clock.now()
    since = _live_since(c, rec.id)
    since = min(since, now) if since is not None else None  # a clock set back must not crash the monitor
    days = paper_days(since, now)
    record = {"n_trades": m.n_trades, "cum_return": path_stats(returns)[0], "psr": None, **figures,
              "paper_days": round(days, 4), "incubated": incubated(since, now, c.settings.rotator.min_paper_days),
              "verdict": verdict.reason, "checked_at": now.isoformat()}
    return verdict, value, record


def monitor_now(c: Container) -> list[tuple[StrategyRecord, Verdict, float]]:
    """Judge every LIVE strategy on its paper/live trades; retire those that fail (SPEC §3.8, §5).

    Each retirement writes a StrategyEvent with the verdict's reason and detail and frees the
    sub-account (the rotator refills the slot on its next run); every strategy's
    ``live_score`` and ``metrics["live"]`` are updated.
    """
    out = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        verdict, value, record = review_live(c, rec)
        metrics = dict(rec.metrics or {}, live=record)
        with c.engine.begin() as conn:
            if verdict.retire:
                c.strategies.transition_in(conn, rec.id, None, StrategyStatus.RETIRED, phase="monitor",
                                           reason=verdict.reason, detail=verdict.detail, live_score=value,
                                           metrics=metrics, claim_token=T.c.claim_token + 1)
            else:
                conn.execute(T.update().where(T.c.id == rec.id).values(live_score=value, metrics=metrics))
        if verdict.retire:
            c.trading.free_subaccount(rec.id)
        out.append((rec, verdict, value))
    return out
