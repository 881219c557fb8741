"""Strategy lifecycle: statuses, the transition table, types and sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class StrategyStatus(StrEnum):
    """Lifecycle status of a strategy (SPEC §2)."""

    GENERATED = "GENERATED"
    VALIDATED = "VALIDATED"
    ACTIVE = "ACTIVE"
    LIVE = "LIVE"
    RETIRED = "RETIRED"
    FAILED = "FAILED"


S = StrategyStatus

#: Allowed transitions (SPEC §2). Deletion of rejected candidates is not a transition.
TRANSITIONS: dict[StrategyStatus, frozenset[StrategyStatus]] = {
    S.GENERATED: frozenset({S.VALIDATED, S.FAILED}),
    S.VALIDATED: frozenset({S.ACTIVE, S.RETIRED, S.FAILED}),
    S.ACTIVE: frozenset({S.ACTIVE, S.LIVE, S.RETIRED, S.FAILED}),
    S.LIVE: frozenset({S.RETIRED, S.FAILED}),
    S.RETIRED: frozenset(),
    S.FAILED: frozenset(),
}


def check_transition(src: StrategyStatus, dst: StrategyStatus) -> None:
    """Raise ``ValueError`` if ``src → dst`` is not in :data:`TRANSITIONS`."""
    if dst not in TRANSITIONS[src]:
        raise ValueError(f"illegal strategy transition {src} -> {dst}")


class StrategyType(StrEnum):
    """Strategy families used for diversification (SPEC §3.2)."""

    MOM = "MOM"
    REV = "REV"
    TRN = "TRN"
    BRK = "BRK"
    VOL = "VOL"
    GRD = "GRD"


class StrategySource(StrEnum):
    """Which generator produced a strategy."""

    TEMPLATE = "template"
    UNGER = "unger"
    PATTERN = "pattern"
    GRID = "grid"
    LLM = "llm"
    USER = "user"


@dataclass(frozen=True)
class StrategyCandidate:
    """A freshly generated strategy, before it is stored.

    Attributes
    ----------
    name : str
        ``Strategy_{TYPE}_{shortid}``; also the class name inside ``code``.
    type : StrategyType
    source : StrategySource
    code : str
        Python source implementing the strategy contract.
    code_hash : str
        SHA-256 of the normalised code (duplicate detection).
    genome : dict
        Generator inputs (template/blocks and their settings), JSON-serialisable.
    """

    name: str
    type: StrategyType
    source: StrategySource
    code: str
    code_hash: str
    genome: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyRecord:
    """A stored strategy as the stages see it (never an ORM row)."""

    id: int
    name: str
    type: StrategyType
    source: StrategySource
    status: StrategyStatus
    code: str
    code_hash: str
    params: dict[str, Any] | None = None
    timeframe: str | None = None
    symbols: tuple[str, ...] = ()
    score: float | None = None
    live_score: float | None = None
    metrics: dict[str, Any] | None = None
    last_backtested_at: datetime | None = None
    created_at: datetime | None = None
    claim_token: int | None = None
