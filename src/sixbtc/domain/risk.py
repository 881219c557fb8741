"""Trading states and halts: what the executor may still send, shared by the executor, storage,
the emergency stop and ``sixbtc status``.

Three states, strictest last (the vocabulary of nautilus_trader's ``TradingState``)::

    ACTIVE ──► REDUCING ──► HALTED
       ▲          │            │
       └──────────┴────────────┘   only by a person (``sixbtc resume``)

- ``ACTIVE``: everything allowed.
- ``REDUCING``: no new exposure. Reduce-only orders (signal exits, stops, targets, closing a
  position) go on; the executor winds positions down. Set by a kill switch.
- ``HALTED``: the executor sends nothing at all (not even a stop): a person took over. Set by
  ``sixbtc emergency-stop``.

A state has a *scope*: ``"global"`` (every sub-account) or ``"strategy:<id>"``; the state that
applies to a strategy is the stricter of the global one and its own (:func:`effective_state`).
Automatic transitions only ever make a state stricter (:func:`escalates`); going back to
``ACTIVE`` is a person's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

GLOBAL_SCOPE = "global"


class TradingState(StrEnum):
    """What the executor may send (see the module docstring)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def rank(self) -> int:
        """0 ACTIVE, 1 REDUCING, 2 HALTED (larger = stricter)."""
        return _RANK[self]

    def allows(self, *, reduce_only: bool) -> bool:
        """True when an order of this kind may be sent: ACTIVE any, REDUCING reduce-only, HALTED none."""
        if self is TradingState.ACTIVE:
            return True
        return self is TradingState.REDUCING and reduce_only


_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def strategy_scope(strategy_id: int) -> str:
    """The scope name of one strategy's state, ``"strategy:<id>"``."""
    return f"strategy:{int(strategy_id)}"


def scope_strategy_id(scope: str) -> int | None:
    """The strategy id of a ``"strategy:<id>"`` scope; None for any other scope (``"global"``)."""
    kind, _, rest = scope.partition(":")
    return int(rest) if kind == "strategy" and rest.isdigit() else None


def effective_state(*states: TradingState) -> TradingState:
    """The strictest of ``states`` (ACTIVE when none is given)."""
    return max(states, key=lambda s: s.rank, default=TradingState.ACTIVE)


def escalates(current: TradingState, new: TradingState) -> bool:
    """True when ``new`` is stricter than ``current`` (an automatic change is allowed)."""
    return new.rank > current.rank


@dataclass(frozen=True)
class Halt:
    """A decision to restrict trading: set ``scope`` to ``state`` because of ``reason``.

    ``reason`` is a code (``kill:strategy_session_loss``, ``kill:global_drawdown_24h``,
    ``emergency_stop``); ``detail`` gives the figures in words.
    """

    scope: str
    state: TradingState
    reason: str
    detail: str


@dataclass(frozen=True)
class TradingStateRecord:
    """A stored state: ``since`` is when it was set (UTC); a scope never set reads ACTIVE
    with ``since`` None."""

    scope: str
    state: TradingState
    reason: str
    detail: str
    since: datetime | None
