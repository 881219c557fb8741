"""Pre-trade risk checks: may this entry be sent, with which size and leverage? (SPEC §3.7).

One pure function, :func:`check_entry`, takes everything it judges in an :class:`EntryContext`
(the strategy's equity and stop distance, the venue's :class:`~sixbtc.domain.orders.Market`
rules and the sub-account's :class:`~sixbtc.domain.orders.Balance`, the newest candle's time,
the strategy's recent submissions) and returns a :class:`RiskVerdict`: the order's quantity,
notional and leverage, or a refusal with a reason code and a detail in words. The caller
records a refusal as a strategy event (:func:`refusal_event`) and sends nothing.

Checks, in this order (the first that fails is the verdict's reason; each is governed by the
``risk`` configuration section):

============================  ======================================================  ==========================
reason                        refused when                                            key
============================  ======================================================  ==========================
``risk:market``               the venue lists no market for the symbol                —
``risk:stale_data``           the newest candle opened more than                      ``stale_data_bars``,
                              ``stale_data_bars`` × timeframe + grace before now      ``stale_data_grace_minutes``
``risk:rate_limit``           the strategy sent ``max_submits_per_minute`` orders     ``max_submits_per_minute``
                              in the last 60 s
``risk:open_positions``       open positions + unfilled entries ≥ the cap             ``max_open_positions``
``risk:size``                 equity or stop distance not positive (no size)          ``risk_per_trade``
``risk:leverage``             even 1× would liquidate before the stop                 ``max_leverage``
``risk:precision``            the size rounded down to the venue's size decimals      (venue ``Market``)
                              is below the venue's minimum order value
``risk:margin``               margin in use + this entry's margin > ``max_margin_use``  ``max_margin_use``
                              × equity, or more than the available margin
============================  ======================================================  ==========================

Size: ``entry_notional`` (risk per trade / stop distance, capped by ``max_leverage`` × equity
and ``max_notional_usd``: the one sizing rule, :func:`sixbtc.executor.book.entry_notional`),
then capped by the leverage actually used × equity. Leverage: the largest whole number ≤
min(``max_leverage``, the coin's max) whose isolated liquidation distance stays beyond the
stop (Hyperliquid: maintenance margin = half the initial margin at the coin's max leverage,
so liquidation is ``1/L − 1/(2·max)`` away from the entry). Caps reduce the size; the verdict
says which cap bound (``capped_by``).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.domain.orders import Balance, Market, OrderSide
from sixbtc.domain.timeframe import Timeframe
from sixbtc.executor.book import entry_notional

RATE_WINDOW_MS = 60_000
MARKET, STALE, RATE, POSITIONS = "risk:market", "risk:stale_data", "risk:rate_limit", "risk:open_positions"
SIZE, LEVERAGE, PRECISION, MARGIN = "risk:size", "risk:leverage", "risk:precision", "risk:margin"
REASONS = (MARKET, STALE, RATE, POSITIONS, SIZE, LEVERAGE, PRECISION, MARGIN)


@dataclass(frozen=True)
class EntryContext:
    """Everything one entry decision is judged on.

    Attributes
    ----------
    strategy_id, symbol, timeframe, side
        The entry (``side`` BUY for a long, SELL for a short).
    equity_usd : float
        The strategy's equity (its sub-account's capital + realised PnL, USD).
    sl_pct : float
        Stop distance as a fraction of the entry price (0.02 = 2 %).
    price_usd : float
        Reference entry price (the decision candle's close, USD).
    market : Market or None
        The venue's rules for ``symbol`` (None: the venue does not list it).
    balance : Balance
        The sub-account's money on the venue (equity, available, margin in use; USD).
    exposed : int
        The strategy's open positions plus entries sent and not yet filled.
    candle_open_ms : int
        Open time (UTC ms) of the newest candle the decision used.
    now_ms : int
        The current time (UTC ms; a replay passes the decision candle's close time).
    recent_submits_ms : tuple of int
        Times (UTC ms) of the strategy's order submissions, any order, at least the last 60 s
        (:class:`SubmitLog`).
    """

    strategy_id: int
    symbol: str
    timeframe: str
    side: OrderSide
    equity_usd: float
    sl_pct: float
    price_usd: float
    market: Market | None
    balance: Balance
    exposed: int
    candle_open_ms: int
    now_ms: int
    recent_submits_ms: tuple[int, ...] = ()


@dataclass(frozen=True)
class RiskVerdict:
    """The outcome of :func:`check_entry`.

    ``ok`` True: send ``qty`` (base units, already rounded to the venue's size decimals;
    ``notional_usd`` = qty × reference price) after setting ``leverage`` (whole number,
    isolated). ``capped_by`` names the cap that reduced the size (``"max_notional_usd"``,
    ``"max_leverage"``, or ``"leverage"``: the leverage used, lower than ``max_leverage`` because
    of the coin's max or the liquidation rule) or is None. ``ok`` False: ``reason`` is one of
    :data:`REASONS` and ``detail`` says why with the figures.
    """

    ok: bool
    reason: str | None
    detail: str
    qty: float = 0.0
    notional_usd: float = 0.0
    leverage: int = 0
    capped_by: str | None = None


def _refuse(reason: str, detail: str) -> RiskVerdict:
    return RiskVerdict(False, reason, detail)


def check_entry(ctx: EntryContext, risk: RiskSection) -> RiskVerdict:
    """Judge one entry (see the module docstring for the checks and their order).

    Parameters
    ----------
    ctx : EntryContext
    risk : RiskSection
        The ``risk`` configuration section.

    Returns
    -------
    RiskVerdict
        Accepted with quantity and leverage, or refused with a reason code.

    Raises
    ------
    ValueError
        For an unknown timeframe in ``ctx``.
    """
    m = ctx.market
    if m is None:
        return _refuse(MARKET, f"the venue lists no market for {ctx.symbol}")
    for check in (_freshness, _rate, _positions):
        if (refusal := check(ctx, risk)) is not None:
            return refusal
    return _size(ctx, m, risk)


def _freshness(ctx: EntryContext, risk: RiskSection) -> RiskVerdict | None:
    limit_ms = risk.stale_data_bars * Timeframe.parse(ctx.timeframe).ms + risk.stale_data_grace_minutes * 60_000
    age_ms = ctx.now_ms - ctx.candle_open_ms
    if age_ms > limit_ms:
        return _refuse(STALE, f"newest {ctx.symbol} {ctx.timeframe} candle opened {age_ms / 60_000:.1f} min ago "
                              f"(limit {limit_ms / 60_000:.1f} min = {risk.stale_data_bars:g} x {ctx.timeframe} + "
                              f"{risk.stale_data_grace_minutes:g} min)")
    return None


def _rate(ctx: EntryContext, risk: RiskSection) -> RiskVerdict | None:
    n = sum(1 for t in ctx.recent_submits_ms if ctx.now_ms - RATE_WINDOW_MS < t <= ctx.now_ms)
    if n >= risk.max_submits_per_minute:
        return _refuse(RATE, f"{n} orders sent in the last 60 s (limit max_submits_per_minute = "
                             f"{risk.max_submits_per_minute})")
    return None


def _positions(ctx: EntryContext, risk: RiskSection) -> RiskVerdict | None:
    if ctx.exposed >= risk.max_open_positions:
        return _refuse(POSITIONS, f"{ctx.exposed} open positions and unfilled entries (limit max_open_positions "
                                  f"= {risk.max_open_positions})")
    return None


def isolated_leverage(sl_pct: float, cap: float, coin_max: float) -> int:
    """The largest whole leverage ≤ ``cap`` whose isolated liquidation lies beyond the stop.

    Liquidation distance (fraction of the entry price) at leverage L is ``1/L − 1/(2·coin_max)``
    (Hyperliquid: maintenance margin is half the initial margin at the coin's max leverage).
    Returns 0 when even 1× would liquidate first (or ``cap`` < 1).
    """
    mmr = 0.5 / coin_max
    lev = math.floor(cap)
    while lev >= 1 and 1.0 / lev - mmr <= sl_pct:
        lev -= 1
    return max(lev, 0)


def _size(ctx: EntryContext, m: Market, risk: RiskSection) -> RiskVerdict:
    if not (ctx.equity_usd > 0 and ctx.sl_pct > 0 and ctx.price_usd > 0):  # also false for NaN
        return _refuse(SIZE, f"no size: equity {ctx.equity_usd} USD, stop distance {ctx.sl_pct}, price {ctx.price_usd}")
    cap = min(risk.max_leverage, m.max_leverage)
    lev = isolated_leverage(ctx.sl_pct, cap, m.max_leverage)
    if lev < 1:
        return _refuse(LEVERAGE, f"a stop {ctx.sl_pct:.2%} away is beyond the liquidation distance even at 1x "
                                 f"({ctx.symbol} max leverage {m.max_leverage:g})")
    wanted = ctx.equity_usd * risk.risk_per_trade / ctx.sl_pct
    notional = min(entry_notional(ctx.equity_usd, ctx.sl_pct, risk), lev * ctx.equity_usd)
    capped = _capped_by(wanted, ctx.equity_usd, lev, risk)
    qty = floor_qty(notional / ctx.price_usd, m)
    value = qty * ctx.price_usd
    if qty <= 0 or value < m.min_notional_usd:
        return _refuse(PRECISION, f"{notional:.2f} USD of {ctx.symbol} is {qty:g} at {m.sz_decimals} size decimals "
                                  f"= {value:.2f} USD, below the venue's minimum order value {m.min_notional_usd:g} USD")
    return _margin(ctx, qty, value, lev, capped, risk)


def _capped_by(wanted: float, equity: float, lev: int, risk: RiskSection) -> str | None:
    """The cap that bound the size (the smallest, when below the risk-based notional), or None."""
    caps = {"max_notional_usd": risk.max_notional_usd, "max_leverage": risk.max_leverage * equity,
            "leverage": lev * equity}
    name = min(caps, key=caps.__getitem__)
    return name if caps[name] < wanted else None


def _margin(ctx: EntryContext, qty: float, value: float, lev: int, capped: str | None, risk: RiskSection) -> RiskVerdict:
    b = ctx.balance
    margin = value / lev
    if not b.equity_usd > 0:
        return _refuse(MARGIN, f"sub-account {b.account} equity is {b.equity_usd} USD")
    use = (b.margin_used_usd + margin) / b.equity_usd
    if use > risk.max_margin_use or margin > b.available_usd:
        return _refuse(MARGIN, f"margin {b.margin_used_usd:.2f} USD in use + {margin:.2f} USD for this entry = "
                               f"{use:.1%} of equity {b.equity_usd:.2f} USD (limit max_margin_use = "
                               f"{risk.max_margin_use:.0%}; available {b.available_usd:.2f} USD)")
    return RiskVerdict(True, None, f"{qty:g} {ctx.symbol} ({value:.2f} USD) at {lev}x", qty, value, lev, capped)


def floor_qty(qty: float, market: Market) -> float:
    """``qty`` rounded down to the venue's size decimals (never up: the risk stays below the budget)."""
    if not qty > 0:
        return 0.0
    step = Decimal(1).scaleb(-market.sz_decimals)
    return float(Decimal(repr(qty)).quantize(step, rounding=ROUND_DOWN))


def venue_price(price: float, market: Market) -> float:
    """``price`` rounded to the venue's precision: ``price_sig_figs`` significant figures and at
    most ``max_price_decimals − sz_decimals`` decimals (Hyperliquid perps: 5 and 6 − szDecimals;
    an integer price is always valid). Raises ``ValueError`` for a price that is not positive."""
    if not price > 0:
        raise ValueError(f"price must be > 0, got {price}")
    if price == round(price):
        return float(price)
    decimals = max(market.max_price_decimals - market.sz_decimals, 0)
    return round(float(f"{price:.{market.price_sig_figs}g}"), decimals)


class SubmitLog:
    """Submission times per strategy, for the rate limit (kept for :data:`RATE_WINDOW_MS`).

    The executor calls :meth:`record` for every order it sends (entries, exits, stops,
    targets) and passes :meth:`recent` as ``EntryContext.recent_submits_ms``. Only entries are
    ever refused by the rate limit: a protective or closing order always goes out.
    """

    def __init__(self) -> None:
        self._times: dict[int, deque[int]] = defaultdict(deque)

    def record(self, strategy_id: int, ts_ms: int) -> None:
        """Note one submission of ``strategy_id`` at ``ts_ms`` (UTC ms)."""
        self._times[strategy_id].append(ts_ms)

    def recent(self, strategy_id: int, now_ms: int) -> tuple[int, ...]:
        """Submissions of ``strategy_id`` in the 60 s up to ``now_ms`` (older ones are dropped)."""
        times = self._times[strategy_id]
        while times and times[0] <= now_ms - RATE_WINDOW_MS:
            times.popleft()
        return tuple(times)


def refusal_event(ctx: EntryContext, verdict: RiskVerdict) -> dict[str, Any]:
    """The strategy event of a refused entry, as keyword arguments of
    ``StrategyRepository.event_in(conn, **payload)``: ``strategy_id``, ``phase`` ``"executor"``,
    ``reason`` (the verdict's code) and ``detail`` (what was refused, on which candle, why).

    Raises
    ------
    ValueError
        When ``verdict`` is not a refusal.
    """
    if verdict.ok or verdict.reason is None:
        raise ValueError("refusal_event needs a refused verdict")
    what = f"{ctx.side} {ctx.symbol} {ctx.timeframe} entry on the candle opened at {ctx.candle_open_ms} ms"
    return {"strategy_id": ctx.strategy_id, "phase": "executor", "reason": verdict.reason,
            "detail": f"{what} refused: {verdict.detail}"}
