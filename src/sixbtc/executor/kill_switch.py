"""Kill switches (SPEC §3.7): per strategy (session loss) and global (drawdown over 24 h).

Pure evaluation over equity samples; the caller stores samples and states
(:class:`~sixbtc.adapters.storage.risk_repo.TradingStateRepository`) and acts on the
:class:`~sixbtc.domain.risk.Halt` list :meth:`KillSwitch.evaluate` returns.

- **Per strategy**: session loss = (equity at the start of the session − equity now) /
  the strategy's capital. The session is the current UTC day, or starts later when a person
  resumed the strategy that day (its ACTIVE state's ``since``); its start equity is the first
  sample at or after that time. At ``kill_switch.strategy_session_loss`` or more, the
  strategy goes REDUCING (``kill:strategy_session_loss``): no new entries, its positions are
  wound down.
- **Global**: equity = the sum over every sub-account, one sample per executor pass. The
  drawdown over the sliding 24 h window is the largest fall from a peak to a later trough,
  both inside the window, as a fraction of the peak. The window starts 24 h before now, or
  later when a person resumed trading (the global ACTIVE state's ``since``) so that a
  drawdown already acted upon does not fire again. At ``kill_switch.global_drawdown_24h``
  or more, every strategy goes REDUCING (``kill:global_drawdown_24h``).
- **Grace**: nothing fires during the first ``kill_switch.grace_minutes`` after the
  executor's warm-up (the moment it started trading: equity right after a start may still be
  reconciled). The samples taken during the grace still count afterwards: a restart never
  hides a loss.

A scope already REDUCING or HALTED gets no new halt (states only become stricter
automatically, :func:`~sixbtc.domain.risk.escalates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sixbtc.config.sections import KillSwitchSection
from sixbtc.domain.risk import (
    GLOBAL_SCOPE,
    Halt,
    TradingState,
    TradingStateRecord,
    escalates,
    strategy_scope,
)

DAY_MS = 86_400_000
STRATEGY_LOSS = "kill:strategy_session_loss"
GLOBAL_DRAWDOWN = "kill:global_drawdown_24h"


@dataclass(frozen=True)
class EquitySample:
    """Equity (USD) at ``ts_ms`` (UTC ms)."""

    ts_ms: int
    equity_usd: float


@dataclass(frozen=True)
class StrategyEquity:
    """One strategy's equity samples (oldest first) and its capital (USD, the session loss base)."""

    strategy_id: int
    capital_usd: float
    samples: Sequence[EquitySample]


def window_drawdown(samples: Sequence[EquitySample], since_ms: int) -> float:
    """Largest peak-to-later-trough fall of the samples at or after ``since_ms``, as a fraction
    of the peak (0.0 with fewer than two samples or no fall). ``samples`` oldest first."""
    peak, worst = None, 0.0
    for s in samples:
        if s.ts_ms < since_ms:
            continue
        if peak is None or s.equity_usd > peak:
            peak = s.equity_usd
        elif peak > 0:
            worst = max(worst, (peak - s.equity_usd) / peak)
    return worst


def session_loss(samples: Sequence[EquitySample], session_start_ms: int, capital_usd: float) -> float:
    """(first equity at or after ``session_start_ms`` − last equity) / ``capital_usd``; 0.0 without
    samples in the session or a capital that is not positive. A gain is a negative loss."""
    inside = [s for s in samples if s.ts_ms >= session_start_ms]
    if not inside or not capital_usd > 0:
        return 0.0
    return (inside[0].equity_usd - inside[-1].equity_usd) / capital_usd


def session_start_ms(now_ms: int, resumed: TradingStateRecord | None) -> int:
    """Start of the current session: 00:00 UTC of ``now_ms``'s day, or the time a person resumed
    the scope that day when later (``resumed``: its stored ACTIVE state)."""
    start = now_ms - now_ms % DAY_MS
    return max(start, _resumed_ms(resumed))


def _resumed_ms(rec: TradingStateRecord | None) -> int:
    if rec is None or rec.state is not TradingState.ACTIVE or rec.since is None:
        return 0
    return int(rec.since.timestamp() * 1000)


class KillSwitch:
    """The two kill switches of one executor run (see the module docstring).

    Parameters
    ----------
    cfg : KillSwitchSection
        The ``kill_switch`` configuration section.
    warm_ms : int
        When the executor's warm-up ended and it started trading (UTC ms); the grace counts
        from here.
    """

    def __init__(self, cfg: KillSwitchSection, warm_ms: int) -> None:
        self.cfg, self.warm_ms = cfg, warm_ms

    def in_grace(self, now_ms: int) -> bool:
        """True during the grace after warm-up (nothing fires)."""
        return now_ms < self.warm_ms + self.cfg.grace_minutes * 60_000

    def evaluate(self, now_ms: int, global_equity: Sequence[EquitySample], strategies: Sequence[StrategyEquity],
                 states: Mapping[str, TradingStateRecord]) -> list[Halt]:
        """The halts due now: global first, then per strategy by id.

        Parameters
        ----------
        now_ms : int
            Current time (UTC ms).
        global_equity : sequence of EquitySample
            Summed equity of all sub-accounts, oldest first (at least the last 24 h).
        strategies : sequence of StrategyEquity
            Each trading strategy's samples (at least since 00:00 UTC) and capital.
        states : mapping
            Stored states by scope (a scope missing = ACTIVE, never resumed).

        Returns
        -------
        list of Halt
            Empty during the grace, and for scopes already REDUCING or HALTED.
        """
        if self.in_grace(now_ms):
            return []
        halts = []
        g = states.get(GLOBAL_SCOPE)
        if self._can_escalate(g):
            since = max(now_ms - DAY_MS, _resumed_ms(g))
            dd = window_drawdown(global_equity, since)
            if dd >= self.cfg.global_drawdown_24h:
                halts.append(Halt(GLOBAL_SCOPE, TradingState.REDUCING, GLOBAL_DRAWDOWN,
                                  f"equity of all sub-accounts fell {dd:.2%} from its peak within the window from "
                                  f"{_iso(since)} (limit kill_switch.global_drawdown_24h = "
                                  f"{self.cfg.global_drawdown_24h:.2%})"))
        for s in sorted(strategies, key=lambda s: s.strategy_id):
            halt = self._strategy_halt(s, now_ms, states.get(strategy_scope(s.strategy_id)))
            if halt is not None:
                halts.append(halt)
        return halts

    def _strategy_halt(self, s: StrategyEquity, now_ms: int, rec: TradingStateRecord | None) -> Halt | None:
        if not self._can_escalate(rec):
            return None
        start = session_start_ms(now_ms, rec)
        loss = session_loss(s.samples, start, s.capital_usd)
        if loss < self.cfg.strategy_session_loss:
            return None
        return Halt(strategy_scope(s.strategy_id), TradingState.REDUCING, STRATEGY_LOSS,
                    f"strategy {s.strategy_id} lost {loss:.2%} of its capital {s.capital_usd:g} USD since "
                    f"{_iso(start)} (limit kill_switch.strategy_session_loss = {self.cfg.strategy_session_loss:.2%})")

    @staticmethod
    def _can_escalate(rec: TradingStateRecord | None) -> bool:
        return rec is None or escalates(rec.state, TradingState.REDUCING)


def halt_event(halt: Halt) -> dict[str, Any] | None:
    """The strategy event of a strategy-scoped halt, as keyword arguments of
    ``StrategyRepository.event_in(conn, **payload)`` (``phase`` ``"kill_switch"``); None for the
    global scope (it is an alert, not one strategy's event)."""
    if not halt.scope.startswith("strategy:"):
        return None
    return {"strategy_id": int(halt.scope.split(":", 1)[1]), "phase": "kill_switch", "reason": halt.reason,
            "detail": f"{halt.state}: {halt.detail}"}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
