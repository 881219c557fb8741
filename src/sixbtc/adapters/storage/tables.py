"""SQLAlchemy 2 table definitions. ORM rows never leave ``adapters.storage``.

Mirrors the Alembic migration in ``migrations/versions``; a test checks they agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of all SixBTC tables."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class StrategyRow(Base):
    __tablename__ = "strategies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    genome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    timeframe: Mapped[str | None] = mapped_column(String(8), nullable=True)
    symbols: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    live_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_backtested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    live_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    processing_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    processing_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claim_token: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (Index("ix_strategies_status_claim", "status", "processing_by", "id"),)


class StrategyEventRow(Base):
    __tablename__ = "strategy_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    strategy_name: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    phase: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class BacktestResultRow(Base):
    __tablename__ = "backtest_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    timeframe: Mapped[str] = mapped_column(String(8))
    symbol: Mapped[str | None] = mapped_column(String(32), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    oos_metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    equity_curve: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    data_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrialRow(Base):
    """Trial ledger: one row per (strategy, timeframe, search rung), arrays packed in ``data``.

    No foreign key: a rejected strategy is deleted, its trials must still be counted.
    """

    __tablename__ = "trials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[int] = mapped_column(Integer, index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    rung: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    n_sets: Mapped[int] = mapped_column(Integer)
    n_coins: Mapped[int] = mapped_column(Integer)
    n_simulations: Mapped[int] = mapped_column(Integer)
    symbols: Mapped[list[Any]] = mapped_column(JSON)
    params: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubaccountRow(Base):
    __tablename__ = "subaccounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[str] = mapped_column(String(8))
    strategy_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    capital_usd: Mapped[float] = mapped_column(Float)
    balance_usd: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    strategy_id: Mapped[int] = mapped_column(Integer, index=True)
    subaccount: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(24))
    qty: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))
    filled_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    filled_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # what a NEW order needs to be re-sent after a restart (NULL on rows older than 0003)
    timeframe: Mapped[str | None] = mapped_column(String(8), nullable=True)
    leg: Mapped[str | None] = mapped_column(String(8), nullable=True)
    notional_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    sl_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    tp_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the order-intent journal (0009): status is a ``domain.orders.OrderStatus`` value
    venue_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trigger_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    filled_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    signal_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    acked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class PositionRow(Base):
    __tablename__ = "positions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[int] = mapped_column(Integer, index=True)
    subaccount: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    qty: Mapped[float] = mapped_column(Float)
    entry_price: Mapped[float] = mapped_column(Float)
    entry_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_fee_usd: Mapped[float] = mapped_column(Float)
    stop_price: Mapped[float] = mapped_column(Float)
    target_price: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(8))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    entry_client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signal_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    entry_fill_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stop_ack_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    no_stop_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class TradeRow(Base):
    __tablename__ = "trades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[int] = mapped_column(Integer, index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(8), index=True)
    entry_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_price: Mapped[float] = mapped_column(Float)
    exit_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    exit_price: Mapped[float] = mapped_column(Float)
    qty: Mapped[float] = mapped_column(Float)
    notional_usd: Mapped[float] = mapped_column(Float)
    fees_usd: Mapped[float] = mapped_column(Float)
    pnl_usd: Mapped[float] = mapped_column(Float)
    return_frac: Mapped[float] = mapped_column(Float)
    exit_reason: Mapped[str] = mapped_column(String(16))
    exit_client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    funding_usd: Mapped[float | None] = mapped_column(Float, nullable=True)


class FillRow(Base):
    """A venue fill as the executor recorded it; ``(mode, trade_id)`` is unique (de-duplication)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("mode", "trade_id", name="uq_fills_mode_trade_id"),
                      Index("ix_fills_account_ts", "account", "ts_ms"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    trade_id: Mapped[str] = mapped_column(String(64))
    venue_order_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    strategy_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    fee_usd: Mapped[float] = mapped_column(Float)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    liquidation: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExecutorCursorRow(Base):
    """Per strategy: the newest bar whose effects the executor committed (its resume point)."""

    __tablename__ = "executor_cursors"
    strategy_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bar_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeaseRow(Base):
    """A named lease (``executor``: the one process allowed to trade this database).

    ``token`` grows by one at every acquisition (fencing token); ``holder`` is NULL when free.
    """

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(300), nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    renewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CoinRow(Base):
    __tablename__ = "coins"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    volume_24h_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_leverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    timeframes: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NearMissRow(Base):
    """A strategy rejected at the multiple-testing gate, kept as a parent for evolution
    (its ``strategies`` row is deleted; its trials stay in the ledger)."""

    __tablename__ = "near_misses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    genome: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(64))
    dsr: Mapped[float] = mapped_column(Float, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketRegimeRow(Base):
    """One regime reading per (symbol, timeframe) and computation (SPEC §3.1); newest wins."""

    __tablename__ = "market_regimes"
    __table_args__ = (Index("ix_market_regimes_symbol_tf_time", "symbol", "timeframe", "computed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    regime: Mapped[str] = mapped_column(String(16))
    breakout_metric: Mapped[float] = mapped_column(Float)
    reversal_metric: Mapped[float] = mapped_column(Float)
    n_trades: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- the paper venue (the simulated exchange; migration 0006) -----------------------------
class PaperAccountRow(Base):
    """A paper venue account: the master or one of its sub-accounts (``address`` = name)."""

    __tablename__ = "paper_accounts"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    is_master: Mapped[bool] = mapped_column(Boolean, default=False)
    cash_usd: Mapped[float] = mapped_column(Float)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class PaperOrderRow(Base):
    """An order on the paper venue (open, filled or cancelled); cloids unique per account."""

    __tablename__ = "paper_orders"
    __table_args__ = (UniqueConstraint("account", "client_order_id", name="uq_paper_orders_account_cloid"),
                      Index("ix_paper_orders_status", "status"))
    venue_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(24))
    qty: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    trigger_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    notional_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    filled_qty: Mapped[float] = mapped_column(Float, default=0.0)
    avg_fill_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    placed_ms: Mapped[int] = mapped_column(BigInteger)
    ts_ms: Mapped[int] = mapped_column(BigInteger)


class PaperPositionRow(Base):
    """A net position of a paper account (``qty`` signed, isolated at ``leverage``)."""

    __tablename__ = "paper_positions"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[float] = mapped_column(Float)
    entry_price: Mapped[float] = mapped_column(Float)
    leverage: Mapped[float] = mapped_column(Float)
    opened_ms: Mapped[int] = mapped_column(BigInteger)


class PaperFillRow(Base):
    """One execution on the paper venue (``trade_id`` = ``paper-<seq>``)."""

    __tablename__ = "paper_fills"
    __table_args__ = (Index("ix_paper_fills_account_ts", "account", "ts_ms"),)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    trade_id: Mapped[str] = mapped_column(String(32), unique=True)
    venue_order_id: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    fee_usd: Mapped[float] = mapped_column(Float)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    liquidation: Mapped[bool] = mapped_column(Boolean, default=False)


class PaperFundingRow(Base):
    """One funding settlement of one paper position (``amount_usd`` > 0 received)."""

    __tablename__ = "paper_funding"
    __table_args__ = (UniqueConstraint("account", "symbol", "ts_ms", name="uq_paper_funding_settlement"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    amount_usd: Mapped[float] = mapped_column(Float)
    position_qty: Mapped[float] = mapped_column(Float)


class PaperLeverageRow(Base):
    """The leverage new positions of (account, symbol) take on the paper venue."""

    __tablename__ = "paper_leverage"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    leverage: Mapped[float] = mapped_column(Float)


class PaperAgentRow(Base):
    """A paper agent wallet: a record with an expiry, no key."""

    __tablename__ = "paper_agents"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    valid_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class PaperMarketRow(Base):
    """Per symbol: the feed's progress on the paper venue (what makes feeding idempotent).

    ``open_ms``: open time of the newest bar whose open (market fills, funding) was applied;
    ``closed_ms``: close time of the newest bar whose range (triggers, limits, liquidations)
    was applied; ``funding_ms``: newest settlement time; ``mark_price``: last close (USD).
    """

    __tablename__ = "paper_markets"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    mark_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_ms: Mapped[int] = mapped_column(BigInteger, default=-1)
    closed_ms: Mapped[int] = mapped_column(BigInteger, default=-1)
    funding_ms: Mapped[int] = mapped_column(BigInteger, default=-1)


class PaperClockRow(Base):
    """The paper venue's time (UTC ms): orders placed now fill on bars opened at or after it."""

    __tablename__ = "paper_clock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    now_ms: Mapped[int] = mapped_column(BigInteger)


class TradingStateRow(Base):
    """The trading state of one scope (``global`` or ``strategy:<id>``): ACTIVE, REDUCING or
    HALTED (:mod:`sixbtc.domain.risk`); ``since`` is when it was set. A missing row = ACTIVE."""

    __tablename__ = "trading_states"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EquitySampleRow(Base):
    """Equity of a scope (``global``: all sub-accounts summed; ``strategy:<id>``) at one executor
    pass, for the kill switches' windows (kept about two days)."""

    __tablename__ = "equity_samples"
    __table_args__ = (Index("ix_equity_samples_scope_ts", "scope", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    equity_usd: Mapped[float] = mapped_column(Float)


class SchedulerRunRow(Base):
    """One run of a scheduled task (SPEC §3.9): when it started and ended, and how it went.

    ``outcome``: ``running`` (not finished: running now, or its process died), ``ok``,
    ``failed`` (``message`` holds the error), ``skipped`` (``message`` says why: disabled in the
    service, a stage not available in this build, already running elsewhere).
    """

    __tablename__ = "scheduler_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_scheduler_runs_task_started", "task", "started_at"),)


class FunnelCountRow(Base):
    """Strategy events folded into counts before ``cleanup_old_events`` deletes them, per UTC
    day and (phase, from, to, reason); ``''`` stands for no status (a deleted strategy)."""

    __tablename__ = "funnel_counts"
    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    phase: Mapped[str] = mapped_column(String(32), primary_key=True)
    from_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class ProcessRow(Base):
    """A worker process of this project (the pid registry of ``cleanup_zombie_processes``).

    ``started`` is the process's start time in clock ticks since boot (``/proc/<pid>/stat``),
    so a pid reused by an unrelated process is never taken for ours.
    """

    __tablename__ = "processes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    parent_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("host", "pid", name="uq_processes_host_pid"),)


class RoleHeartbeatRow(Base):
    """The newest heartbeat of one process of a role (``sixbtc worker ROLE`` or ``sixbtc run``):
    ``state`` is ``running`` or ``stopped`` (a clean exit); the watchdog reports a running
    role whose ``beat_at`` is too old."""

    __tablename__ = "role_heartbeats"
    worker: Mapped[str] = mapped_column(String(300), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="")


class MetricsSnapshotRow(Base):
    """One snapshot of the metrics collector (SPEC §3.10): the overall ``status`` and the
    whole snapshot as JSON (:class:`sixbtc.metrics.collector.Snapshot`)."""

    __tablename__ = "pipeline_metrics_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlertRow(Base):
    """An anomaly, crash or heartbeat due for notification (its cooldown over), from the
    watchdog or the supervisor's event listener, and whether a channel accepted it (``sent``)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_kind_key_ts", "kind", "key", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReconciliationRow(Base):
    """One start-up reconciliation of the executor with its venue (migration 0013): when, on
    which mode and venue, the outcome (``ok``, ``mismatch``, ``failed``), the one-line summary,
    the unexplained mismatches (``[[account, symbol, detail], …]``) and the wall time (s)."""

    __tablename__ = "reconciliations"
    __table_args__ = (Index("ix_reconciliations_ts", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(String(8))
    venue: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    mismatches: Mapped[list[Any]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
