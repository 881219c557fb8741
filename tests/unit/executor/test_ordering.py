"""hold_back_after: which candles wait for a lagging stream before they reach the executor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sixbtc.executor.ordering import hold_back_after

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _open(hours_before_noon: float) -> datetime:
    return NOON - timedelta(hours=hours_before_noon)


def test_up_to_date_streams_hold_back_nothing_before_their_next_close() -> None:
    # both 1h streams hold the candle opened 11:00 (closed 12:00): the next ones close at 13:00
    newest = {("BTC", "1h"): _open(1), ("ETH", "1h"): _open(1)}
    assert hold_back_after(newest, NOON.replace(minute=1)) == NOON.replace(hour=13)


def test_a_stream_one_candle_behind_holds_back_the_candles_closing_from_its_next_close() -> None:
    newest = {("BTC", "1h"): _open(2), ("ETH", "1h"): _open(1), ("SOL", "4h"): _open(4)}
    assert hold_back_after(newest, NOON.replace(minute=1)) == NOON  # BTC's 12:00 candle is due


def test_a_stream_a_whole_bar_overdue_is_stalled_and_holds_back_nothing() -> None:
    newest = {("BTC", "1h"): _open(3), ("ETH", "1h"): _open(1)}
    assert hold_back_after(newest, NOON.replace(minute=1)) == NOON.replace(hour=13)
    assert hold_back_after({("BTC", "1h"): _open(24 * 400)}, NOON) is None  # an old store, replayed offline
