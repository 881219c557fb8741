"""Entry pattern x filter x exit blocks in the style of Andrea Unger (source ``unger``).

Unger's method (A. Unger, *The Unger Method*, 2018) builds a system from three independent
parts: an *entry* pattern (breakouts, bar thrusts, runs of closes, pullbacks), a *filter*
that restricts entries to a market regime (trend strength, volatility band, long-term
trend, momentum regime) and an *exit*. A strategy's type is its entry's type.
Entries are the pattern AND the filter; exits are independent of the filter. Some filters
read the extra strategy inputs: the last closed daily candle (daily trend, daily candle),
BTC's candles (market regime, momentum), the funding rate (lean against the crowded side)
and the bar's UTC open time (session, weekdays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import BlockCode, BlockSpec, p, pick

T = StrategyType
HLC = frozenset({"high", "low", "close"})
C = frozenset({"close"})
DAY_MS = 86_400_000


# --------------------------------------------------------------------------- entries
def _breakout(d: Direction, tag: str) -> BlockCode:
    level, side = pick(d, "prior_high", "prior_low"), pick(d, "highest", "lowest")
    src = pick(d, "high", "low")
    return BlockCode(
        f"the close breaks {pick(d, 'above the highest high', 'below the lowest low')} of the "
        "previous `breakout_n` bars",
        (f'{level}{tag} = ind.shift(ind.{side}({src}, {p("breakout_n")}), 1)',),
        f"close {pick(d, '>', '<')} {level}{tag}", HLC)


def _thrust(d: Direction, tag: str) -> BlockCode:
    sign = pick(d, "+", "-")
    return BlockCode(
        f"the close ends {pick(d, 'above', 'below')} the open {sign} `thrust_k` times the "
        "previous ATR(`thrust_atr_n`)",
        (f'thrust_atr{tag} = ind.shift(ind.atr(high, low, close, {p("thrust_atr_n")}), 1)',),
        f"close {pick(d, '>', '<')} open_ {sign} {p('thrust_k')} * thrust_atr{tag}",
        HLC | {"open"})


def _run(d: Direction, tag: str, against: bool) -> BlockCode:
    rising = (d is Direction.LONG) != against
    cmp = ">" if rising else "<"
    word = "up" if rising else "down"
    return BlockCode(
        f"the last `run_n` closes were each {word} on the previous close"
        + (" (fading the run)" if against else ""),
        (f"close_{word}{tag} = (close {cmp} ind.shift(close, 1)) * 1.0",
         f'run{tag} = ind.lowest(close_{word}{tag}, {p("run_n")}) > 0.5'),
        f"run{tag}", C)


def _pullback(d: Direction, tag: str) -> BlockCode:
    return BlockCode(
        f"in a {pick(d, 'rising', 'falling')} market (close {pick(d, 'above', 'below')} "
        f"SMA(`pullback_trend_n`)) the close pulls back {pick(d, 'below', 'above')} "
        "EMA(`pullback_ema_n`)",
        (f'pullback_trend{tag} = ind.sma(close, {p("pullback_trend_n")})',
         f'pullback_ema{tag} = ind.ema(close, {p("pullback_ema_n")})'),
        f"(close {pick(d, '>', '<')} pullback_trend{tag}) & "
        f"ind.cross_{pick(d, 'below', 'above')}(close, pullback_ema{tag})", C)


ENTRIES: dict[str, BlockSpec] = {
    spec.name: spec
    for spec in (
        BlockSpec("breakout", T.BRK, {"breakout_n": (10, 20, 40, 55, 100)}, _breakout),
        BlockSpec("atr_thrust", T.VOL, {"thrust_atr_n": (10, 14, 20),
                                        "thrust_k": (0.5, 0.75, 1.0, 1.5)}, _thrust),
        BlockSpec("close_run", T.MOM, {"run_n": (2, 3, 4, 5)},
                  lambda d, tag: _run(d, tag, against=False)),
        BlockSpec("pullback", T.TRN, {"pullback_trend_n": (100, 150, 200),
                                      "pullback_ema_n": (10, 20, 30)}, _pullback),
        BlockSpec("run_reversal", T.REV, {"run_n": (3, 4, 5, 6)},
                  lambda d, tag: _run(d, tag, against=True)),
    )
}


# --------------------------------------------------------------------------- filters
def _adx_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode("ADX(`adx_n`) is above `adx_min` (a trending market)",
                     (f'adx_line = ind.adx(high, low, close, {p("adx_n")})',),
                     f'adx_line > {p("adx_min")}', HLC)


def _volatility_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode("ATR(`vol_atr_n`) / close lies between `vol_min` and `vol_max` (fractions)",
                     (f'relative_atr = ind.atr(high, low, close, {p("vol_atr_n")}) / close',),
                     f'(relative_atr > {p("vol_min")}) & (relative_atr < {p("vol_max")})', HLC)


def _trend_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"the close is {pick(d, 'above', 'below')} SMA(`trend_n`) (long-term trend)",
                     (f'trend_sma = ind.sma(close, {p("trend_n")})',),
                     f"close {pick(d, '>', '<')} trend_sma", C)


def _rsi_regime(d: Direction, tag: str) -> BlockCode:
    cond = pick(d, f'regime_rsi > {p("regime_level")}',
                f'regime_rsi < 100 - {p("regime_level")}')
    where = pick(d, "above `regime_level`", "below 100 - `regime_level`")
    return BlockCode(f"RSI(`regime_n`) is {where} (momentum regime)",
                     (f'regime_rsi = ind.rsi(close, {p("regime_n")})',), cond, C)


# Filters on the extra strategy inputs (sixbtc.strategy.inputs): the same coin's last closed
# daily candle, BTC's candles on the same bars, the last settled funding rate, the bar's UTC
# open time. All causal by construction of the inputs.
DAILY = {k: f"htf_1d_{k}" for k in ("open", "high", "low", "close")}


def _daily_trend(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"the close is {pick(d, 'above', 'below')} SMA(`htf_n`) of the last closed daily "
                     "close (the daily trend, as known on each bar)",
                     (f'daily_trend = ind.sma({DAILY["close"]}, {p("htf_n")})',),
                     f"close {pick(d, '>', '<')} daily_trend", C | {DAILY["close"]})


def _daily_candle(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"the last closed daily candle closed {pick(d, 'up', 'down')} by more than `htf_body` "
                     f"(fraction of its open) and the close is {pick(d, 'above', 'below')} its midpoint",
                     (f'daily_body = ({DAILY["close"]} - {DAILY["open"]}) / {DAILY["open"]}',
                      f'daily_mid = ({DAILY["high"]} + {DAILY["low"]}) / 2'),
                     pick(d, f'(daily_body > {p("htf_body")}) & (close > daily_mid)',
                          f'(daily_body < -{p("htf_body")}) & (close < daily_mid)'),
                     C | set(DAILY.values()))


def _btc_regime(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"BTC's close is {pick(d, 'above', 'below')} its SMA(`btc_n`) (market regime)",
                     (f'btc_trend = ind.sma(btc_close, {p("btc_n")})',),
                     f"btc_close {pick(d, '>', '<')} btc_trend", frozenset({"btc_close"}))


def _btc_momentum(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"BTC {pick(d, 'rose', 'fell')} over the last `btc_roc_n` bars (market momentum)",
                     (f'btc_change = ind.roc(btc_close, {p("btc_roc_n")})',),
                     f"btc_change {pick(d, '>', '<')} 0", frozenset({"btc_close"}))


def _funding_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode(f"the last settled funding rate is {pick(d, 'at most', 'at least')} 0.005 % "
                     f"{pick(d, '-', '+')} `funding_k` per interval (crowded "
                     f"{pick(d, 'shorts', 'longs')} pay: lean against them)",
                     (), pick(d, f'funding <= 0.00005 - {p("funding_k")}', f'funding >= 0.00005 + {p("funding_k")}'),
                     frozenset({"funding"}))


def _session_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode("the bar opens in the 8 UTC hours from `session_start` (time of day)",
                     ("hour_utc = (open_time // 3_600_000) % 24",),
                     f'(hour_utc >= {p("session_start")}) & (hour_utc < {p("session_start")} + 8)',
                     frozenset({"open_time"}))


def _weekday_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode("the bar opens on a weekday, Monday to Friday UTC",
                     ("weekday_utc = (open_time // 86_400_000 + 3) % 7  # 0 = Monday; 1970-01-01 was a Thursday",),
                     "weekday_utc < 5", frozenset({"open_time"}))


FILTERS: dict[str, BlockSpec] = {
    spec.name: spec
    for spec in (
        BlockSpec("adx", None, {"adx_n": (10, 14, 20), "adx_min": (15, 20, 25)}, _adx_filter),
        BlockSpec("volatility", None, {"vol_atr_n": (14, 20), "vol_min": (0.001, 0.002, 0.003),
                                       "vol_max": (0.05,)}, _volatility_filter),
        BlockSpec("trend_sma", None, {"trend_n": (100, 150, 200)}, _trend_filter),
        BlockSpec("rsi_regime", None, {"regime_n": (14, 21), "regime_level": (40, 45, 50)},
                  _rsi_regime),
        BlockSpec("daily_trend", None, {"htf_n": (48, 96, 192)}, _daily_trend),
        BlockSpec("daily_candle", None, {"htf_body": (0.0, 0.005, 0.01)}, _daily_candle),
        BlockSpec("btc_regime", None, {"btc_n": (50, 100, 200)}, _btc_regime),
        BlockSpec("btc_momentum", None, {"btc_roc_n": (6, 12, 24, 48)}, _btc_momentum),
        BlockSpec("funding", None, {"funding_k": (0.0, 0.00002, 0.00005)}, _funding_filter),
        BlockSpec("session", None, {"session_start": (0, 8, 16)}, _session_filter),
        BlockSpec("weekdays", None, {}, _weekday_filter),
    )
}
#: Filters reading the daily candle (``htf:1d``): usable only on timeframes shorter than 1d.
DAILY_FILTERS = frozenset({"daily_trend", "daily_candle"})


def filters_for(timeframes: tuple[str, ...]) -> list[str]:
    """Names of the :data:`FILTERS` valid for strategies on ``timeframes`` (the daily ones
    need every timeframe to divide 1d and be shorter)."""
    daily_ok = all(Timeframe.parse(tf).ms < DAY_MS and DAY_MS % Timeframe.parse(tf).ms == 0 for tf in timeframes)
    return [name for name in FILTERS if daily_ok or name not in DAILY_FILTERS]


# --------------------------------------------------------------------------- exits
ExitBuilder = Callable[[Direction, BlockSpec], BlockCode]


@dataclass(frozen=True)
class ExitSpec:
    """An exit kind: ``build(direction, entry_spec)`` renders it; ``choices`` as for blocks."""

    name: str
    choices: dict[str, tuple[Any, ...]]
    build: ExitBuilder


def _opposite_exit(d: Direction, entry: BlockSpec) -> BlockCode:
    other = Direction.SHORT if d is Direction.LONG else Direction.LONG
    mirrored = entry.build(other, "_opposite")
    return BlockCode(f"the opposite entry pattern fires ({mirrored.description})",
                     mirrored.lines, mirrored.result, mirrored.uses)


def _time_exit(d: Direction, entry: BlockSpec) -> BlockCode:
    return BlockCode("no entry signal has fired for `hold_bars` bars (a time exit that "
                     "follows the signal)",
                     (f'recent_entry = ind.highest(entries * 1.0, {p("hold_bars")}) > 0.5',),
                     "~recent_entry", frozenset())


def _sma_exit(d: Direction, entry: BlockSpec) -> BlockCode:
    return BlockCode(f"the close crosses {pick(d, 'below', 'above')} SMA(`exit_sma_n`)",
                     (f'exit_sma = ind.sma(close, {p("exit_sma_n")})',),
                     f"ind.cross_{pick(d, 'below', 'above')}(close, exit_sma)", C)


EXITS: dict[str, ExitSpec] = {
    spec.name: spec
    for spec in (
        ExitSpec("opposite", {}, _opposite_exit),
        ExitSpec("time", {"hold_bars": (3, 5, 10, 20)}, _time_exit),
        ExitSpec("sma_cross", {"exit_sma_n": (10, 20, 50)}, _sma_exit),
    )
}
