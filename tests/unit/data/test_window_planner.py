"""plan_window: a series that ends in the future is ignored, and the planner says so."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pandas as pd
import pytest

from sixbtc.app.window import CycleWindow, plan_window
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import DataError
from sixbtc.data.ports import StoreEntry

NOW = datetime(2026, 2, 1, tzinfo=UTC)
REAL_LAST = pd.Timestamp("2026-01-31 23:00", tz="UTC")


class InventoryStore:
    """The part of a CandleStore the planner reads: the inventory."""

    def __init__(self, entries: list[StoreEntry]) -> None:
        self.entries = entries

    def inventory(self) -> list[StoreEntry]:
        return self.entries


def entry(symbol: str, last: pd.Timestamp, tf: str = "1h") -> StoreEntry:
    return StoreEntry(symbol, tf, pd.Timestamp("2025-01-01", tz="UTC"), last, 1000)


def test_a_series_ending_in_2030_does_not_move_the_windows(caplog: pytest.LogCaptureFixture) -> None:
    store = InventoryStore([
        entry("BTC", pd.Timestamp("2030-01-01 02:00", tz="UTC")),  # three rows dated 2030
        entry("ETH", REAL_LAST),
    ])
    window = plan_window(store, Settings(), SimClock(NOW))
    assert window.replay_end == REAL_LAST + pd.Timedelta(hours=1)
    assert window.replay_end <= pd.Timestamp(NOW)
    [note] = window.notes
    assert note.startswith("BTC 1h: ignored") and "2030-01-01 02:00" in note
    assert any("BTC 1h: ignored" in r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING)


def test_the_candle_that_closes_exactly_now_is_usable() -> None:
    store = InventoryStore([entry("BTC", pd.Timestamp(NOW) - pd.Timedelta(hours=1))])
    window = plan_window(store, Settings(), SimClock(NOW))
    assert window.replay_end == pd.Timestamp(NOW) and window.notes == ()
    forming = InventoryStore([entry("BTC", pd.Timestamp(NOW))])  # opened now, closes in 1 h
    with pytest.raises(DataError, match="1 ignored because they end in the future"):
        plan_window(forming, Settings(), SimClock(NOW))


def test_notes_do_not_travel_to_workers() -> None:
    store = InventoryStore([entry("BTC", pd.Timestamp("2030-01-01", tz="UTC")), entry("ETH", REAL_LAST)])
    window = plan_window(store, Settings(), SimClock(NOW))
    back = CycleWindow.from_json(window.to_json())
    assert back == window and back.notes == ()


def test_an_in_sample_window_of_a_year_reaches_back_and_keeps_only_coins_that_cover_it() -> None:
    from sixbtc.app.window import symbols_by_timeframe

    settings = Settings.model_validate({"backtest": {"is_days": 365, "timeframes": ["1h"]}})
    old = StoreEntry("BTC", "1h", pd.Timestamp("2019-09-08", tz="UTC"), REAL_LAST, 50_000)
    young = StoreEntry("NEW", "1h", pd.Timestamp("2025-06-01", tz="UTC"), REAL_LAST, 5_000)
    store = InventoryStore([old, young])
    window = plan_window(store, settings, SimClock(NOW))
    end = REAL_LAST + pd.Timedelta(hours=1)
    assert window.is_start == end - pd.Timedelta(days=30 + 30 + 60 + 365)
    assert symbols_by_timeframe(store, settings, window, []) == {"1h": ["BTC"]}


def test_the_confirmation_window_sits_between_oos_and_replay_and_travels_to_workers() -> None:
    window = plan_window(InventoryStore([entry("ETH", REAL_LAST)]), Settings(), SimClock(NOW))
    day = pd.Timedelta(days=1)
    assert window.replay_start - window.confirm_start == 30 * day == window.confirm_days * day
    assert window.confirm_start - window.oos_start == 60 * day and window.oos_start - window.is_start == 120 * day
    assert CycleWindow.from_json(window.to_json()) == window
    old = {k: v for k, v in window.to_json().items() if k != "confirm_start"}  # written before confirm_days
    legacy = CycleWindow.from_json(old)
    assert legacy.confirm_start == legacy.replay_start and legacy.confirm_days == 0
    none = plan_window(InventoryStore([entry("ETH", REAL_LAST)]),
                       Settings.model_validate({"backtest": {"confirm_days": 0}}), SimClock(NOW))
    assert none.confirm_days == 0 and none.oos_start == window.oos_start + 30 * day
    with pytest.raises(ValueError, match="confirm_start"):
        CycleWindow(window.is_start, window.oos_start, window.replay_start, window.replay_end,
                    confirm_start=window.replay_end)
