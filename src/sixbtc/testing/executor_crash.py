"""The executor on the fake Hyperliquid venue, as a process that crash tests and benchmarks kill.

A *world* is a fake venue (run out of process by
:class:`~sixbtc.testing.fake_hyperliquid_process.VenueProcess`, so it outlives a ``kill -9``),
one master account with an agent wallet, and a SixBTC home whose LIVE strategies trade through
:class:`~sixbtc.adapters.exchanges.hyperliquid.HyperliquidClient` (the real SDK), each on its
own account. The default plan (:data:`DEFAULT_PLAN`): strategy 1 long on the master account,
strategy 2 short on a sub-account, hourly bars of BTC, ETH and SOL at the venue's marks; both
enter every coin on bars 3 and 9 and exit on bars 6 and 12 (per coin), so up to 12 stops and
targets rest on the venue at once. A world may be given other strategies
(:class:`StrategyPlan`: direction, account, coins, entry and exit bars, target or none).
:func:`run_world` is one executor run over the whole plan: it rebuilds the executor from the
store (a restart resumes after the last committed bar), reconciles, feeds every bar
(``on_bar``, a live venue) and ends with a trade sync. It is what a test runs in a forked child
and kills.

Partial fills: ``new_world(..., liquidity=schedule)`` gives the world a depth schedule
(bar index → coin → the most one fill may take, base units, None = unlimited;
:meth:`FakeHyperliquidControl.set_liquidity`). :func:`run_world` sets the caps in force at a
bar (:func:`caps_at`) on the venue before the executor processes it, skipping bars a restart
resumes after; a restart's reconciliation runs on the caps the venue held at the crash (those
of the bar the crashed run was processing). The venue's caps are per coin, shared by every
world on that venue: a scheduled world sets every coin at its first bar.

Crash hook: ``crash_at="NAME:N"`` SIGKILLs the process at the N-th passage of the submitter
checkpoint NAME (:data:`sixbtc.executor.submitter.CHECKPOINTS`); ``log`` appends
``NAME N OPEN PARTIAL`` per passage (OPEN: orders resting on the venue then; PARTIAL: 1 when
the passage's order is partly filled — its venue state so far shows a fill short of its
quantity, as a ``fill_seen`` of an IOC whose rest the venue cancelled or of a stop taking
slices — else 0), to choose crash points.

:func:`outcome` is the venue's and the store's truth, compared across worlds (client order ids
are deterministic, so two worlds of one ``t0_ms`` and one plan place the same ones).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import eth_account
import numpy as np
from pydantic import SecretStr
from sqlalchemy import update

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid
from sixbtc.adapters.storage.tables import SubaccountRow
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.live_set import live_set
from sixbtc.core.ids import sha256_hex
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.executor.engine import Executor
from sixbtc.executor.ports import Bar, JournalOrder
from sixbtc.executor.positions import QTY_EPS
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidControl
from sixbtc.testing.fake_hyperliquid_process import (
    duplicate_cloids,
    open_cloids,
    orders_by_cloid,
    venue_fills,
    venue_positions,
)

COINS = ("BTC", "ETH", "SOL")
MARKS = {"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 150.0}
N_BARS = 16
ENTRY_BARS, EXIT_BARS = (3, 9), (6, 12)
HOUR_MS = 3_600_000
CONFIG = "executor:\n  subaccount_capital_usd: 1000\nrisk:\n  max_open_positions: 3\n"
CODE = "class Strategy_MOM_{n:08x}:\n    pass\n"


@dataclass(frozen=True)
class StrategyPlan:
    """One LIVE strategy of a world: ``direction`` (``long``/``short``), ``account`` (0 = the
    master, k = the k-th sub-account), the ``coins`` it trades, its per-coin ``entries`` and
    ``exits`` bar indices, and ``tp_pct`` (fraction; 0 = a stop and no target)."""

    direction: str
    account: int
    entries: tuple[int, ...] = ENTRY_BARS
    exits: tuple[int, ...] = EXIT_BARS
    coins: tuple[str, ...] = COINS
    tp_pct: float = 0.04


#: Strategy 1 long on the master, strategy 2 short on a sub-account, every coin.
DEFAULT_PLAN = (StrategyPlan("long", 0), StrategyPlan("short", 1))


@dataclass(frozen=True)
class World:
    """Where a world lives: the venue URL, the world file's folder, the master and its
    sub-accounts (lower-case addresses), the plan's first bar time."""

    url: str
    root: Path
    master: str
    subs: tuple[str, ...]
    t0_ms: int
    plan: tuple[StrategyPlan, ...] = DEFAULT_PLAN
    liquidity: dict[int, dict[str, float | None]] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.root / "world.json"

    @property
    def sub(self) -> str:
        """The first sub-account."""
        return self.subs[0]

    @property
    def accounts(self) -> tuple[str, ...]:
        """The master, then the sub-accounts."""
        return (self.master, *self.subs)


def new_world(url: str, root: Path, t0_ms: int, plan: tuple[StrategyPlan, ...] = DEFAULT_PLAN,
              liquidity: dict[int, dict[str, float | None]] | None = None) -> World:
    """Fund a new master on the venue at ``url``, approve an agent, create and fund the
    sub-accounts the plan uses, and write a home with the plan's LIVE strategies (ids 1, 2, …)
    under ``root``.

    ``liquidity``: the depth schedule (see the module docstring); None = the venue's caps are
    not touched (unlimited on a fresh venue)."""
    root.mkdir(parents=True, exist_ok=True)
    control = FakeHyperliquidControl(url, timeout_s=30.0)
    master, agent = eth_account.Account.create(), eth_account.Account.create()
    control.fund(user=master.address, usd=100_000.0)
    control.add_agent(master=master.address, address=agent.address, name="bot")
    for coin, px in MARKS.items():
        control.set_mark(coin=coin, px=px)
    owner = HyperliquidClient(base_url=url, master_address=master.address, master_key=SecretStr(master.key.hex()),
                              key_dir=str(root / "keys"), timeout_s=10.0)
    subs = []
    for k in range(max(p.account for p in plan)):
        subs.append(owner.create_subaccount("crash-sub" if k == 0 else f"crash-sub{k + 1}").address.lower())
        owner.transfer_usd(subs[-1], 20_000.0, to_subaccount=True)
    (root / "agent.key").write_text(agent.key.hex())
    (root / "agent.key").chmod(0o600)
    home = Home(root / "home")
    home.ensure().config_path.write_text(CONFIG)
    c = Container.open(home)
    world = World(url, root, master.address.lower(), tuple(subs), t0_ms, tuple(plan), dict(liquidity or {}))
    for n, p in enumerate(plan, start=1):
        _add_live(c, n, p, world.accounts[p.account])
    world.file.write_text(json.dumps({"url": url, "master": world.master, "subs": subs, "t0_ms": t0_ms,
                                      "plan": [asdict(p) for p in plan],
                                      "liquidity": {str(i): caps for i, caps in world.liquidity.items()}}))
    return world


def caps_at(schedule: dict[int, dict[str, float | None]], index: int) -> dict[str, float | None]:
    """The per-coin fill caps in force at bar ``index`` of a depth schedule (every coin of
    :data:`COINS`; None = unlimited): the latest scheduled value at or before ``index``."""
    caps: dict[str, float | None] = dict.fromkeys(COINS)
    for i in sorted(k for k in schedule if k <= index):
        caps.update(schedule[i])
    return caps


def _add_live(c: Container, n: int, plan: StrategyPlan, account: str) -> None:
    """Strategy ``n`` LIVE, its sub-account row labelled with the venue address it trades."""
    code = CODE.format(n=n)
    sid = c.strategies.add(StrategyCandidate(name=f"Strategy_MOM_{n:08x}", type=StrategyType.MOM,
                                             source=StrategySource.USER, code=code, code_hash=sha256_hex(code)))
    assert sid == n
    for src, dst in ((StrategyStatus.GENERATED, StrategyStatus.VALIDATED),
                     (StrategyStatus.VALIDATED, StrategyStatus.ACTIVE)):
        rec = c.strategies.claim(src, "setup")
        assert rec is not None
        extra = {} if dst is StrategyStatus.VALIDATED else {
            "params": {"sl_pct": 0.02, "tp_pct": plan.tp_pct}, "timeframe": "1h", "symbols": list(plan.coins),
            "metrics": {"direction": plan.direction}, "score": 80.0}
        c.strategies.transition(sid, rec.claim_token, dst, phase="setup", reason="setup", **extra)
    with c.engine.begin() as conn:
        c.strategies.transition_in(conn, sid, None, StrategyStatus.LIVE, phase="rotator", reason="setup")
    c.trading.assign_subaccount(sid, "live", 1000.0)
    with c.engine.begin() as conn:
        conn.execute(update(SubaccountRow).where(SubaccountRow.strategy_id == sid).values(label=account))


def bars(t0_ms: int) -> list[Bar]:
    """The plan's bars in processing order (close time, then symbol)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    out = []
    for i in range(N_BARS):
        for coin in COINS:
            px = MARKS[coin]
            out.append(Bar(coin, "1h", datetime.fromtimestamp((t0_ms + i * HOUR_MS) / 1000, UTC), px, px, px, px))
    return out


class PlanSignals:
    """Strategy ``n``'s entries and exits on the bars of the ``n``-th :class:`StrategyPlan`
    (per-coin bar index)."""

    def __init__(self, plan: tuple[StrategyPlan, ...] = DEFAULT_PLAN) -> None:
        self.plan = plan

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        i, p = int(data["bar_index"][-1]), self.plan[strategy_id - 1]
        return i in p.entries, i in p.exits


class PlanHistory:
    """The plan's candles per coin, with ``bar_index`` (per-coin index)."""

    def __init__(self, plan: list[Bar]) -> None:
        self.plan = plan

    def recent(self, symbol: str, timeframe: str, upto_ts: Any, bars: int,
               inputs: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        rows = [b for b in self.plan if b.symbol == symbol and b.ts <= upto_ts][-bars:]
        out = {k: np.array([getattr(b, k) for b in rows], dtype=float) for k in ("open", "high", "low", "close")}
        first = len([b for b in self.plan if b.symbol == symbol and b.ts <= upto_ts]) - len(rows)
        out["bar_index"] = np.arange(first, first + len(rows))
        return out


class CrashHook:
    """The submitter checkpoint callback (see the module docstring)."""

    def __init__(self, crash_at: str, log: Path | None, control: FakeHyperliquidControl,
                 accounts: tuple[str, ...]) -> None:
        name, _, nth = crash_at.partition(":")
        self.name, self.nth, self.log, self.control, self.accounts = name, int(nth or 0), log, control, accounts
        self.seen: dict[str, int] = {}

    def __call__(self, name: str, order: JournalOrder | None) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.log is not None:
            state = self.control.state()
            n_open = sum(len(open_cloids(state, a)) for a in self.accounts)
            partial = order is not None and 0 < order.filled_qty < order.qty - QTY_EPS
            with self.log.open("a") as out:
                out.write(f"{name} {self.seen[name]} {n_open} {int(partial)}\n")
        if name == self.name and self.seen[name] == self.nth:
            os.kill(os.getpid(), signal.SIGKILL)


def run_world(world_file: str | Path, crash_at: str = "", log: str | Path | None = None) -> dict[str, Any]:
    """One executor run over the plan (see the module docstring). Returns ``places``
    (``place_order`` calls), ``no_stop_ms`` (entry fill → stop ack per stop placed, ms) and
    the wall seconds from the call to the end of the start-up reconciliation
    (``reconciled_s``), to the end of the first pass on a bar (``trading_s``) and to the end
    (``elapsed_s``)."""
    t0 = time.monotonic()
    w = json.loads(Path(world_file).read_text())
    control = FakeHyperliquidControl(w["url"], timeout_s=30.0)
    feed = bars(int(w["t0_ms"]))
    ex = _executor(w, Path(world_file).parent, feed, CrashHook(crash_at, Path(log) if log else None, control,
                                                               (w["master"], *w["subs"])))
    ex.reconcile(int(w["t0_ms"]))
    out: dict[str, Any] = {"reconciled_s": time.monotonic() - t0}
    schedule = {int(i): caps for i, caps in w.get("liquidity", {}).items()}
    applied: dict[str, float | None] | None = None
    for k, bar in enumerate(feed):
        if schedule and not all(b.done(bar.key) for b in ex.books()):
            applied = _set_caps(control, caps_at(schedule, k // len(COINS)), applied)
        ex.on_bar(bar)
        out.setdefault("trading_s", time.monotonic() - t0)
    ex.sync(int(w["t0_ms"]) + (N_BARS + 1) * HOUR_MS)
    return {**out, "places": ex.submitter.places, "no_stop_ms": list(ex.no_stop_ms),
            "elapsed_s": time.monotonic() - t0}


def _executor(w: dict[str, Any], root: Path, feed: list[Bar], hook: CrashHook) -> Executor:
    """The world's executor, rebuilt from its store (``w``: the world file's content)."""
    venue = HyperliquidClient(base_url=w["url"], master_address=w["master"], timeout_s=5.0, read_retries=4,
                              retry_backoff_s=0.05, agent_key=SecretStr((root / "agent.key").read_text().strip()))
    c = Container.open(Home(root / "home"))
    accounts = (w["master"], *w["subs"])
    plans = tuple(StrategyPlan(**{**p, "entries": tuple(p["entries"]), "exits": tuple(p["exits"]),
                                  "coins": tuple(p["coins"])}) for p in w["plan"])
    strategies = live_set(c)
    assert {s.id: s.subaccount for s in strategies} == {n: accounts[p.account] for n, p in enumerate(plans, 1)}
    store = c.execution_store(None)
    return Executor(strategies, venue, PlanSignals(plans), PlanHistory(feed), store, c.settings.risk, history_bars=3,
                    submitter=OrderSubmitter(venue, store, RetryPolicy(attempts=5, base_delay_s=0.02),
                                             checkpoint=hook))


def _set_caps(control: FakeHyperliquidControl, caps: dict[str, float | None],
              applied: dict[str, float | None] | None) -> dict[str, float | None]:
    """Set ``caps`` on the venue unless they are the ones ``applied`` last; returns them."""
    if caps != applied:
        for coin, size in caps.items():
            control.set_liquidity(coin=coin, size=size)
    return caps


def _part_key(exit_key: str) -> str:
    """A trade's exit key without the venue trade id of a part (``<cid>:<tid>`` → ``<cid>:part``):
    trade ids are the venue's counter, they differ between worlds on one venue."""
    cid, sep, _ = exit_key.partition(":")
    return f"{cid}:part" if sep else cid


def outcome(world: World) -> dict[str, Any]:
    """The venue's and the store's state of ``world``, in terms comparable across worlds
    (``venue_positions`` and ``store_positions``: signed coins per symbol, one dict per account of
    :attr:`World.accounts`)."""
    state = FakeHyperliquidControl(world.url, timeout_s=30.0).state()
    db = sqlite3.connect(world.root / "home" / "sixbtc.db")
    try:
        journal = dict(db.execute("SELECT client_order_id, status FROM orders"))
        recorded = [r[0] for r in db.execute("SELECT trade_id FROM fills")]
        trades = sorted(db.execute("SELECT strategy_id, symbol, direction, qty, entry_price, exit_price, exit_reason, "
                                   "exit_client_order_id FROM trades"))
        positions = sorted(db.execute("SELECT strategy_id, symbol, qty, entry_client_order_id FROM positions "
                                      "WHERE is_open"))
        signed: list[dict[str, float]] = [{} for _ in world.accounts]
        for sid, symbol, qty, _ in positions:
            p = world.plan[sid - 1]
            book = signed[p.account]
            book[symbol] = book.get(symbol, 0.0) + (qty if p.direction == "long" else -qty)
    finally:
        db.close()
    accounts = world.accounts
    venue_tids = [str(f["tid"]) for a in accounts for f in venue_fills(state, a)]
    return {"duplicates": {a: duplicate_cloids(state, a) for a in accounts if duplicate_cloids(state, a)},
            "placed": sorted(from_cloid(c) for a in accounts for c in orders_by_cloid(state, a)),
            "journal": journal, "trades": sorted((*t[:7], _part_key(t[7])) for t in trades), "positions": positions,
            "recorded_twice": len(recorded) - len(set(recorded)),
            "unrecorded": sorted(set(venue_tids) - set(recorded)), "invented": sorted(set(recorded) - set(venue_tids)),
            "venue_positions": [venue_positions(state, a) for a in accounts], "store_positions": signed}
