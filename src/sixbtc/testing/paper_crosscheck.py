"""Replay a backtest's trades as orders on the paper venue and compare them, trade by trade.

A test driver (shipped so the executor-level equivalence test can reuse it): given one
series' bars and the trades :func:`sixbtc.backtester.engine.run_single` made on them, it
sends the same orders a trading process would send to a
:class:`~sixbtc.adapters.exchanges.paper_venue.PaperVenue` and reads back the venue's fills
and funding as :class:`PaperTrade` rows:

- the entry of a trade that fills at ``open[j]`` is a MARKET order placed after bar ``j - 1``
  closed, sized in USD by the sizing rule on the venue's equity at that time
  (:meth:`sixbtc.domain.sizing.SizingRule.notional`, or ``sizing`` given explicitly);
- after the venue filled it at the open of bar ``j`` (:meth:`PaperVenue.open_bar`), the stop
  and target are placed as reduce-only STOP_MARKET / TAKE_PROFIT_MARKET orders at the
  kernel's levels ``e × (1 ∓ sl_pct)``, ``e × (1 ± tp_pct)`` of the fill price ``e``, before the
  bar's range is matched (:meth:`PaperVenue.close_bar`): the backtest checks them on the entry
  bar too;
- a SIGNAL or TIME_LIMIT exit at ``open[k]`` is a reduce-only MARKET order placed after bar
  ``k - 1``; an END_OF_DATA close at ``close[end - 1]`` is a reduce-only MARKET order filled
  on one extra flat bar opened at the end whose prices all equal that close;
- ``funding[i]`` is settled at the open of bar ``i`` (``open_bar(bar, funding_rate)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.backtester import kernel
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType, VenueFill
from sixbtc.executor.ports import Bar

#: Kernel exit reasons a market order reproduces (the others come from the venue's triggers).
_MARKET_EXITS = (kernel.SIGNAL, kernel.TIME_LIMIT)


@dataclass(frozen=True)
class PaperTrade:
    """One round trip on the venue, in the kernel's trade columns (USD, coins, fractions).

    ``funding_usd`` > 0 paid (the kernel's sign); ``pnl_usd`` = gross - fees - funding.
    """

    entry_price: float
    exit_price: float
    qty: float
    notional_usd: float
    fees_usd: float
    funding_usd: float
    pnl_usd: float
    reason: int


@dataclass(frozen=True)
class Series:
    """One symbol's bars: open times (UTC ms, int64 ``(n,)``), OHLC float64 ``(n,)``, the
    funding rate settled at each open (``(n,)``, 0 = none) and the timeframe name."""

    symbol: str
    timeframe: str
    ts_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    funding: np.ndarray

    def bar(self, i: int) -> Bar:
        """Bar ``i`` as the feed hands it over."""
        ts = datetime.fromtimestamp(int(self.ts_ms[i]) / 1000, UTC)
        return Bar(self.symbol, self.timeframe, ts, float(self.open[i]), float(self.high[i]), float(self.low[i]),
                   float(self.close[i]))


def replay_trades(venue, account: str, s: Series, trades: np.ndarray, *, direction: int, sl_pct: float,  # noqa: ANN001
                  tp_pct: float, start: int, end: int, notional: Callable[[float], float]) -> list[PaperTrade]:
    """Feed bars ``[start, end)`` of ``s`` to ``venue`` with the orders of the kernel's ``trades``.

    Parameters
    ----------
    venue : PaperVenue
        A venue whose ``account`` holds the backtest's initial cash, leverage set as the
        backtest's, and that has seen no bar of ``s.symbol`` at or after ``s.ts_ms[start]``.
    trades : numpy.ndarray
        The structured trades of :func:`~sixbtc.backtester.engine.run_single` (``entry_idx``,
        ``exit_idx``, ``exit_reason``).
    direction : int
        +1 long, -1 short.
    sl_pct, tp_pct : float
        The backtest's stop and target distances (fractions; 0 or NaN = none).
    notional : callable
        Equity (USD) at the decision → entry notional (USD): the sizing rule.

    Returns
    -------
    list of PaperTrade
        The venue's round trips, oldest first.
    """
    entries = {int(t["entry_idx"]): k for k, t in enumerate(trades)}
    exits = {int(t["exit_idx"]): k for k, t in enumerate(trades) if int(t["exit_reason"]) in _MARKET_EXITS}
    side, close_side = OrderSide.of(direction), OrderSide.of(-direction)
    for i in range(start, end):
        if i in exits:
            _exit(venue, account, s.symbol, close_side, f"x{exits[i]}")
        if i in entries:
            qty_ref = 1.0  # the venue sizes a notional order at its fill
            venue.place_order(account, OrderRequest(f"e{entries[i]}", s.symbol, side, OrderType.MARKET, qty_ref,
                                                    notional_usd=notional(venue.balance(account).equity_usd)))
        for fill in venue.open_bar(s.bar(i), float(s.funding[i])):
            if fill.client_order_id and fill.client_order_id.startswith("e"):
                _protect(venue, account, fill, direction, sl_pct, tp_pct)
        venue.close_bar(s.bar(i))
    if venue.positions(account):  # END_OF_DATA: close at the last close on a flat extra bar
        _exit(venue, account, s.symbol, close_side, "x-end")
        last = float(s.close[end - 1])
        step = int(s.ts_ms[end - 1] - s.ts_ms[end - 2]) if end - 1 > start else 3_600_000
        ts = datetime.fromtimestamp(int(s.ts_ms[end - 1] + step) / 1000, UTC)
        venue.on_bar(Bar(s.symbol, s.timeframe, ts, last, last, last, last))
    return paper_trades(venue.fills_since(account, 0), venue.funding_since(account, 0), direction)


def _exit(venue, account: str, symbol: str, side: OrderSide, cid: str) -> None:  # noqa: ANN001
    qty = sum(abs(p.qty) for p in venue.positions(account) if p.symbol == symbol)
    if qty > 0:
        venue.place_order(account, OrderRequest(cid, symbol, side, OrderType.MARKET, qty, reduce_only=True))


def _protect(venue, account: str, fill: VenueFill, direction: int, sl: float, tp: float) -> None:  # noqa: ANN001
    e, close_side = fill.price, OrderSide.of(-direction)
    n = fill.client_order_id[1:]
    if sl > 0:
        venue.place_order(account, OrderRequest(f"s{n}", fill.symbol, close_side, OrderType.STOP_MARKET, fill.qty,
                                                trigger_price=e * (1.0 - direction * sl), reduce_only=True))
    if tp > 0:
        venue.place_order(account, OrderRequest(f"t{n}", fill.symbol, close_side, OrderType.TAKE_PROFIT_MARKET,
                                                fill.qty, trigger_price=e * (1.0 + direction * tp), reduce_only=True))


def paper_trades(fills: list[VenueFill], funding: list, direction: int) -> list[PaperTrade]:  # noqa: ANN001
    """Round trips of one symbol from the venue's fills (an entry, then the fill that closes it)."""
    out, entry = [], None
    for f in fills:
        if not f.reduce_only and not f.liquidation:
            entry = f
            continue
        paid = -sum(p.amount_usd for p in funding if entry.ts_ms < p.ts_ms <= f.ts_ms)
        fees = entry.fee_usd + f.fee_usd
        gross = direction * f.qty * (f.price - entry.price)
        out.append(PaperTrade(entry.price, f.price, f.qty, entry.qty * entry.price, fees, paid,
                              gross - fees - paid, _reason(f)))
    return out


def _reason(f: VenueFill) -> int:
    if f.liquidation:
        return kernel.LIQUIDATION
    cid = f.client_order_id or ""
    return {"s": kernel.STOP_LOSS, "t": kernel.TAKE_PROFIT}.get(cid[:1], kernel.END_OF_DATA
                                                                 if cid == "x-end" else -1)


def mismatches(trades: np.ndarray, paper: list[PaperTrade], rel: float = 1e-9) -> list[str]:
    """Differences between the kernel's trades and the venue's, beyond ``rel`` (relative).

    Compares count, entry/exit price, qty, notional, fees, funding, PnL and exit reason
    (SIGNAL and TIME_LIMIT exits are market orders: any market exit matches them).
    """
    if len(trades) != len(paper):
        return [f"{len(trades)} backtest trades vs {len(paper)} paper trades"]
    out = []
    cols = ("entry_price", "exit_price", "qty", "notional_usd", "fees_usd", "funding_usd", "pnl_usd")
    for k, (t, p) in enumerate(zip(trades, paper, strict=True)):
        for col in cols:
            a, b = float(t[col]), getattr(p, col)
            if not math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3 * float(t["notional_usd"])):
                out.append(f"trade {k}: {col} backtest {a!r} paper {b!r}")
        reason = int(t["exit_reason"])
        if not (reason == p.reason or (reason in _MARKET_EXITS and p.reason == -1)):
            out.append(f"trade {k}: reason backtest {reason} paper {p.reason}")
    return out


def read_series(data_dir: Path, symbol: str, n_bars: int) -> Series | None:
    """The last ``n_bars`` 1h candles of ``symbol`` in ``data_dir`` (``{symbol}_1h.parquet``)
    with the funding rates of ``{symbol}_funding.parquet`` on the bars they settle at (0 on the
    others); None when either file is absent (the caller skips, naming the folder)."""
    path, fpath = data_dir / f"{symbol}_1h.parquet", data_dir / f"{symbol}_funding.parquet"
    if not path.exists() or not fpath.exists():
        return None
    df = pd.read_parquet(path).iloc[-n_bars:]
    ts = pd.DatetimeIndex(df["timestamp"])
    fr = pd.read_parquet(fpath)
    rates = np.zeros(len(ts))
    idx = ts.get_indexer(pd.DatetimeIndex(fr["timestamp"]))
    rates[idx[idx >= 0]] = fr["rate"].to_numpy()[idx >= 0]
    ms = (ts.asi8 // 1_000_000).astype(np.int64)
    return Series(symbol, "1h", ms, funding=rates, **{k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close")})
