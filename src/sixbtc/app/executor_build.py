"""The one builder of the executor for ``run --once`` and the service.

:func:`build_executor` puts together, for a LIVE set: the venue of the mode
(:func:`sixbtc.app.venues.open_venue`; on the paper venue every strategy's sub-account is
created and funded with its capital on first use; on a live venue each strategy trades on the
venue sub-account named by its label, see :func:`live_accounts`), one sandbox per active strategy, the
history of its streams from the candle store, the store fenced by this process's executor
lease (:mod:`sixbtc.app.lease`), and the trading permissions of the run
(:class:`~sixbtc.app.safety.SafetyPass`: kill switches and HALTED/REDUCING states, sampled
when :func:`permissions` is called). Every reconciliation is stored for ``sixbtc status``
(:mod:`sixbtc.app.reconciliation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.reconciliation import record_report
from sixbtc.app.safety import Permissions, SafetyPass
from sixbtc.app.venues import open_venue
from sixbtc.core.errors import ConfigError
from sixbtc.domain.strategy import StrategyRecord
from sixbtc.executor.engine import Executor, LiveStrategy
from sixbtc.executor.submitter import RetryPolicy
from sixbtc.executor.venue import ExchangeClient
from sixbtc.strategy.input_loader import load_market
from sixbtc.strategy.inputs import MarketSample, build_data, lookback_ms
from sixbtc.strategy.sandbox import StrategySandbox


class ArrayHistory:
    """:class:`~sixbtc.executor.ports.HistorySource` over the store's candles opened before
    ``end``, each stream read once, on first use; a strategy's extra inputs come from the
    same loader and alignment as in the backtest (:func:`sixbtc.strategy.input_loader.load_market`,
    :func:`sixbtc.strategy.inputs.build_data`), each (stream, inputs) loaded once."""

    def __init__(self, c: Container, end: pd.Timestamp) -> None:
        self.c, self.end = c, end
        self._data: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray], pd.DataFrame]] = {}
        self._markets: dict[tuple[str, str, tuple[str, ...]], MarketSample] = {}

    def _load(self, sym: str, tf: str) -> tuple[np.ndarray, dict[str, np.ndarray], pd.DataFrame]:
        if (sym, tf) not in self._data:
            df = self.c.store.read_candles(sym, tf, None, self.end)
            ts = df["timestamp"].to_numpy("datetime64[ms]").astype(np.int64)
            self._data[(sym, tf)] = (ts, {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")},
                                     df)
        return self._data[(sym, tf)]

    def recent(self, symbol: str, timeframe: str, upto_ts: Any, bars: int,
               inputs: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        ts, arrays, df = self._load(symbol, timeframe)
        hi = int(np.searchsorted(ts, int(upto_ts.timestamp() * 1000), side="right"))
        lo = max(0, hi - bars)
        if not inputs or hi == 0:
            return {k: v[lo:hi] for k, v in arrays.items()}
        key = (symbol, timeframe, inputs)
        if key not in self._markets:
            start = pd.Timestamp(df["timestamp"].iloc[0])
            self._markets[key] = load_market(self.c.store, symbol, timeframe, start, self.end, inputs, frame=df)
        return build_data(self._markets[key].window(lo, hi, lookback_ms(inputs)), inputs)


class SandboxSignals:
    """:class:`~sixbtc.executor.ports.SignalEngine`: one sandbox worker per LIVE strategy.

    A strategy whose code does not load is kept with its error, raised at its first signal
    call (the executor then stops it); a :class:`ConfigError` (no sandbox can start) is raised
    at once.
    """

    def __init__(self, c: Container, strategies: list[StrategyRecord]) -> None:
        self._boxes: dict[int, StrategySandbox] = {}
        self._errors: dict[int, Exception] = {}
        try:
            for rec in strategies:
                box = self._boxes[rec.id] = StrategySandbox(c.sandbox_limits())
                try:
                    box.load(rec.code)
                except ConfigError:
                    raise
                except Exception as exc:  # noqa: BLE001 — reported when the strategy is first asked
                    self._errors[rec.id] = exc
        except BaseException:
            self.close()
            raise

    def inputs(self, strategy_id: int) -> tuple[str, ...]:
        """The declared extra inputs of a loaded strategy (``()`` when it did not load)."""
        box = self._boxes.get(strategy_id)
        return box.inputs if box is not None and strategy_id not in self._errors else ()

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        if strategy_id in self._errors:
            raise self._errors[strategy_id]
        entries, exits = self._boxes[strategy_id].signals(data, [params])
        if entries.dtype != np.bool_:  # a GRD strategy: the rotator never promotes one (rotator/rotation.py)
            raise ValueError("GRD strategies are not supported by the executor yet (no grid orders)")
        return bool(entries[0, -1]), bool(exits[0, -1])

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def fund_paper_accounts(venue: ExchangeClient, strategies: list[LiveStrategy]) -> None:
    """Paper venue: create each strategy's sub-account the venue does not have yet, holding the
    strategy's capital (one transaction: a crash never leaves it created and empty). Nothing
    is done on a live venue (sub-accounts there are funded by ``sixbtc accounts``)."""
    if venue.mode != "paper" or not hasattr(venue, "open_funded_subaccount"):
        return
    existing = {s.name for s in venue.subaccounts()}
    for s in strategies:
        if s.subaccount not in existing:
            venue.open_funded_subaccount(s.subaccount, s.capital_usd)
            existing.add(s.subaccount)


def live_accounts(c: Container, venue: ExchangeClient, strategies: list[LiveStrategy],
                  log: Callable[[str], None]) -> list[LiveStrategy]:
    """Live venue: the strategies whose sub-account (the venue sub-account named by the
    strategy's label, e.g. ``live-001``) exists. A strategy on a sub-account given in paper mode
    (``paper-001`` …: its balance and positions are paper money) is left out with a log line. A
    missing sub-account is created when the master key
    is configured (unfunded: ``sixbtc accounts --top-up`` funds it; until then entries are
    refused by the margin check). Without a master key a strategy whose sub-account is missing
    is left out with an alert, unless the database says it holds something there (then it is
    kept, and the reconciliation reports the mismatch). The paper venue: unchanged.

    Raises
    ------
    TransientExchangeError, OrderRejected
        The venue's sub-account list could not be read (the caller retries at its next step).
    """
    if venue.mode != "live":
        return strategies
    names, modes = {s.name for s in venue.subaccounts()}, {sid: r["mode"] for sid, r in c.trading.attached().items()}
    out = []
    for s in strategies:
        if modes.get(s.id) != "live":  # its records (balance, positions) are paper money
            log(f"{s.name} not traded live: its sub-account {s.subaccount} was given in paper mode")
            continue
        if s.subaccount not in names:
            try:
                sub = venue.create_subaccount(s.subaccount)
                names.add(s.subaccount)
                log(f"created sub-account {s.subaccount} ({sub.address}) on {venue.venue} for {s.name}: fund it with "
                    "`sixbtc accounts --top-up`")
            except ConfigError as exc:
                if not c.trading.holdings(s.id):
                    log(f"{s.name} not traded: no sub-account {s.subaccount} on {venue.venue} ({exc})")
                    continue
        out.append(s)
    return out


class RunPermissions:
    """The trading permissions of a run: :meth:`refresh` runs one :class:`SafetyPass` (wall
    clock) and keeps its :class:`Permissions`; calling the object returns the last ones."""

    def __init__(self, c: Container, venue: ExchangeClient, strategies: list[LiveStrategy]) -> None:
        self.c, self.strategies = c, {s.id: (s.subaccount, s.capital_usd) for s in strategies}
        self.safety = SafetyPass(c, venue, warm_ms=self._now_ms())
        self.current = self.refresh()

    def _now_ms(self) -> int:
        return int(self.c.clock.now().timestamp() * 1000)

    def refresh(self) -> Permissions:
        """Sample equity, evaluate the kill switches, read the stored states (one pass)."""
        self.current = self.safety.run(self._now_ms(), self.strategies)
        return self.current

    def __call__(self) -> Permissions:
        return self.current


def build_executor(c: Container, strategies: list[LiveStrategy], history_end: pd.Timestamp,
                   lease: ExecutorLease | None, *, venue: ExchangeClient | None = None,
                   clock_ms: Callable[[], int] | None = None,
                   log: Callable[[str], None] | None = None) -> tuple[Executor, SandboxSignals]:
    """The executor of ``strategies`` on ``venue`` (default: :func:`open_venue`): one sandbox
    per active one, history read up to ``history_end``, writes fenced by ``lease`` (None:
    unfenced, for tools and tests), the permissions of a :class:`RunPermissions`, the pass
    time from ``clock_ms`` (None: each bar's close, a replay) and alerts to ``log``.

    The caller closes the returned :class:`SandboxSignals` when done.
    """
    bt = c.settings.backtest
    records = [r for s in strategies if s.active and (r := c.strategies.get(s.id)) is not None]
    signals = SandboxSignals(c, records)
    strategies = [replace(s, inputs=signals.inputs(s.id)) for s in strategies]
    try:
        venue = venue or open_venue(c)
        fund_paper_accounts(venue, strategies)
        strategies = live_accounts(c, venue, strategies, log or (lambda text: None))
        ex = c.settings.executor
        executor = Executor(strategies, venue, signals, ArrayHistory(c, history_end),
                            c.execution_store(lease.token if lease else None), c.settings.risk,
                            history_bars=bt.warmup_bars, gate=RunPermissions(c, venue, strategies),
                            clock_ms=clock_ms, lookback_ms=int(ex.fills_lookback_days * 86_400_000),
                            alert=log, on_reconcile=lambda report: record_report(c, venue, report))
        executor.submitter.retry = RetryPolicy(ex.order_query_attempts, ex.order_query_base_delay_s)
    except BaseException:
        signals.close()
        raise
    return executor, signals
