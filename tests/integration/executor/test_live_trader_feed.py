"""The service's trader online takes its candles from the configured live feed (websocket or
REST polling): each step asks the feed to bring the LIVE streams up to date, then trades what
is stored; here a feed double stores the candles as the websocket feed's flusher would."""

from __future__ import annotations

from pathlib import Path

from executor_world import add_live, strategy_code, write_candles

from sixbtc.app.service import LiveTrader
from sixbtc.app.window import plan_window

SYMBOLS = ("BTC", "ETH")


class StoringFeed:
    """A ``LiveCandles`` double: the first refresh stores bars 380..399 of every symbol."""

    def __init__(self, c) -> None:
        self.c, self.calls = c, []

    def refresh(self, streams) -> int:
        self.calls.append(sorted(streams))
        if len(self.calls) == 1:
            write_candles(self.c, SYMBOLS)
        return 0

    def streams(self) -> list:
        return self.calls[-1] if self.calls else []

    def close(self) -> None:
        pass


def test_an_online_step_trades_the_candles_its_feed_stored(make_world, tmp_path: Path) -> None:
    c = make_world(SYMBOLS, root=tmp_path / "w")
    window = plan_window(c.store, c.settings)
    for sym in SYMBOLS:
        c.store.candle_path(sym, "1h").unlink()
        c.store.meta_path(sym, "1h").unlink(missing_ok=True)
    write_candles(c, SYMBOLS, upto=380)
    add_live(c, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), SYMBOLS)
    feed, logs = StoringFeed(c), []
    trader = LiveTrader(c, window, online=True, log=logs.append, feed=feed)
    try:
        assert trader.step() >= 2 * 20  # at least the 20 new candles of each stream, stored by the feed in the step
        assert trader.step() == 0
    finally:
        trader.close()
    assert feed.calls == [[("BTC", "1h"), ("ETH", "1h")]] * 2
    assert not any("polling" in m for m in logs)
