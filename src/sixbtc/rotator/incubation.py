"""Incubation: a minimum paper track record before real-money trading (SPEC §5, ``rotator.min_paper_days``).

In this version every LIVE strategy trades on paper (real orders are not implemented yet), so
a promotion by the rotator is the start of its paper track record: ``live_since`` is set then.
The monitor reports ``paper_days`` and ``incubated`` for each LIVE strategy; the promotion to
real trading, when it lands, must require :func:`incubated` to be true. With
``min_paper_days`` = 0 (the default) every LIVE strategy counts as incubated.
"""

from __future__ import annotations

from datetime import datetime


def paper_days(live_since: datetime | None, now: datetime) -> float:
    """Days of paper track record: ``now - live_since`` in days (0 when never promoted).

    Parameters
    ----------
    live_since : datetime or None
        When the strategy became LIVE on paper (timezone-aware).
    now : datetime
        Current time (timezone-aware).

    Raises
    ------
    ValueError
        If ``live_since`` is after ``now`` or one of them is naive.
    """
    if live_since is None:
        return 0.0
    if live_since.tzinfo is None or now.tzinfo is None:
        raise ValueError("live_since and now must be timezone-aware (UTC)")
    if live_since > now:
        raise ValueError(f"live_since {live_since.isoformat()} is after now {now.isoformat()}")
    return (now - live_since).total_seconds() / 86400.0


def incubated(live_since: datetime | None, now: datetime, min_paper_days: float) -> bool:
    """True when the paper track record is at least ``min_paper_days`` long.

    ``now - live_since >= min_paper_days``; a strategy never promoted (``live_since`` None)
    is incubated only when ``min_paper_days`` is 0.

    Raises
    ------
    ValueError
        If ``min_paper_days`` < 0, or as :func:`paper_days`.
    """
    if min_paper_days < 0:
        raise ValueError(f"min_paper_days must be >= 0, got {min_paper_days}")
    return paper_days(live_since, now) >= min_paper_days
