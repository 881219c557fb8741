"""The service's trader after a restart: online, it trades from each stream's resume point, so
the candles stored while it was down are traded (and checked against stops) exactly as an
uninterrupted run would have traded them."""

from __future__ import annotations

from pathlib import Path

from executor_world import add_live, strategy_code, unreachable_venue, write_candles

from sixbtc.app.service import LiveTrader
from sixbtc.app.window import plan_window

SYMBOLS = ("BTC", "ETH")


def _trades(c) -> list[tuple]:
    return [(t["strategy_id"], t["symbol"], t["entry_ts"], t["exit_ts"], t["qty"], t["pnl_usd"])
            for t in c.trading.trades()]


def test_an_online_restart_trades_the_candles_stored_while_it_was_down(make_world, tmp_path: Path) -> None:
    whole = make_world(SYMBOLS, root=tmp_path / "whole")
    add_live(whole, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), SYMBOLS)
    window = plan_window(whole.store, whole.settings)
    trader = LiveTrader(whole, window, online=False, log=print)
    assert trader.step() == 96
    trader.close()

    c = make_world(SYMBOLS, root=tmp_path / "restarted")  # same candles ...
    for sym in SYMBOLS:
        c.store.candle_path(sym, "1h").unlink()
        c.store.meta_path(sym, "1h").unlink(missing_ok=True)
    write_candles(c, SYMBOLS, upto=380)  # ... but the service stopped at bar 380
    add_live(c, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), SYMBOLS)
    first = LiveTrader(c, window, online=False, log=print)
    assert first.step() == 56
    first.close()
    write_candles(c, SYMBOLS)  # bars 380..399 arrive (downloaded) while it is down
    logs: list[str] = []
    again = LiveTrader(c, window, online=True, log=logs.append, client=unreachable_venue())
    processed = again.step()
    again.close()

    assert any("candle polling failed" in m for m in logs)
    assert processed >= 40, "the candles after the resume point were traded"
    assert _trades(c) == _trades(whole)
    key = ("strategy_id", "symbol", "entry_ts", "qty", "entry_price")
    assert [tuple(p[k] for k in key) for p in c.trading.open_positions()] == \
        [tuple(p[k] for k in key) for p in whole.trading.open_positions()]
