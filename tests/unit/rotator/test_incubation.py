"""Minimum paper track record before real trading (rotator.min_paper_days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sixbtc.rotator.incubation import incubated, paper_days

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_paper_days_is_the_time_since_promotion_in_days() -> None:
    assert paper_days(NOW - timedelta(days=2, hours=12), NOW) == pytest.approx(2.5)
    assert paper_days(None, NOW) == 0.0


def test_incubated_needs_at_least_min_paper_days() -> None:
    since = NOW - timedelta(days=7)
    assert incubated(since, NOW, 7.0) is True          # exactly 7 days: enough
    assert incubated(since, NOW, 7.01) is False
    assert incubated(None, NOW, 0.0) is True           # default 0: no incubation required
    assert incubated(None, NOW, 1.0) is False          # never promoted, no record


def test_bad_inputs_raise_value_error() -> None:
    with pytest.raises(ValueError, match="after now"):
        paper_days(NOW + timedelta(seconds=1), NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        paper_days(datetime(2026, 3, 1), NOW)
    with pytest.raises(ValueError, match="min_paper_days"):
        incubated(NOW, NOW, -1.0)
