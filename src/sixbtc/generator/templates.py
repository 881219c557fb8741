"""Indicator templates (source ``template``): classic single-idea rules with a parameter grid.

Each template gives an entry and a matching exit for one direction. Types follow SPEC §3.2:
moving-average and MACD crossovers are trend (TRN), rate-of-change thrusts momentum (MOM),
RSI / Bollinger / stochastic / z-score fades reversal (REV), Donchian channels breakout
(BRK), true-range and band-width expansion volatility (VOL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import BlockCode, p, pick

T = StrategyType
HLC = frozenset({"high", "low", "close"})
C = frozenset({"close"})
TemplateBuilder = Callable[[Direction], tuple[BlockCode, BlockCode]]


@dataclass(frozen=True)
class TemplateSpec:
    """One template: a title, its type, parameter candidates and an entry/exit builder.

    Attributes
    ----------
    name : str
        Registry key stored in the genome.
    title : str
        Short English name used in the class docstring.
    strategy_type : StrategyType
    choices : dict of str to tuple
        Parameter -> candidate values (ascending); 2-3 are picked per strategy.
    build : callable
        ``build(direction) -> (entry, exit)`` :class:`BlockCode` pair.
    """

    name: str
    title: str
    strategy_type: StrategyType
    choices: dict[str, tuple[Any, ...]]
    build: TemplateBuilder


def _ma_cross(kind: str) -> TemplateBuilder:
    def build(d: Direction) -> tuple[BlockCode, BlockCode]:
        up, down = pick(d, "above", "below"), pick(d, "below", "above")
        lines = (f'fast_ma = ind.{kind}(close, {p("fast_n")})',
                 f'slow_ma = ind.{kind}(close, {p("slow_n")})')
        name = kind.upper()
        entry = BlockCode(f"the {name}(`fast_n`) of the close crosses {up} the {name}(`slow_n`)",
                          lines, f"ind.cross_{up}(fast_ma, slow_ma)", C)
        exit_ = BlockCode(f"the fast average crosses back {down} the slow one", (),
                          f"ind.cross_{down}(fast_ma, slow_ma)", C)
        return entry, exit_
    return build


def _macd(d: Direction) -> tuple[BlockCode, BlockCode]:
    up, down = pick(d, "above", "below"), pick(d, "below", "above")
    lines = ("macd_line, macd_signal, macd_hist = ind.macd(\n"
             f'    close, {p("macd_fast")}, {p("macd_slow")}, {p("macd_signal")}\n)',)
    entry = BlockCode(f"the MACD(`macd_fast`, `macd_slow`) line crosses {up} its "
                      "`macd_signal`-bar signal line", lines, f"ind.cross_{up}(macd_hist, 0.0)", C)
    exit_ = BlockCode(f"the MACD line crosses back {down} its signal line", (),
                      f"ind.cross_{down}(macd_hist, 0.0)", C)
    return entry, exit_


def _roc(d: Direction) -> tuple[BlockCode, BlockCode]:
    up, down = pick(d, "above", "below"), pick(d, "below", "above")
    level = pick(d, p("roc_min"), f'-{p("roc_min")}')
    lines = (f'change = ind.roc(close, {p("roc_n")})',)
    entry = BlockCode(f"the `roc_n`-bar rate of change crosses {up} "
                      f"{pick(d, '+', '-')}`roc_min` (a fraction)", lines,
                      f"ind.cross_{up}(change, {level})", C)
    exit_ = BlockCode(f"the rate of change crosses {down} zero", (),
                      f"ind.cross_{down}(change, 0.0)", C)
    return entry, exit_


def _rsi(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'rsi_line = ind.rsi(close, {p("rsi_n")})',)
    if d is Direction.LONG:
        entry = BlockCode("RSI(`rsi_n`) crosses back above `rsi_entry` after being oversold",
                          lines, f'ind.cross_above(rsi_line, {p("rsi_entry")})', C)
        exit_ = BlockCode("RSI rises above `rsi_exit`", (), f'rsi_line > {p("rsi_exit")}', C)
    else:
        entry = BlockCode("RSI(`rsi_n`) crosses back below 100 - `rsi_entry` after being "
                          "overbought", lines,
                          f'ind.cross_below(rsi_line, 100 - {p("rsi_entry")})', C)
        exit_ = BlockCode("RSI falls below 100 - `rsi_exit`", (),
                          f'rsi_line < 100 - {p("rsi_exit")}', C)
    return entry, exit_


def _bb_reversion(d: Direction) -> tuple[BlockCode, BlockCode]:
    band = pick(d, "bb_lower", "bb_upper")
    lines = (f'bb_upper, bb_middle, bb_lower = ind.bbands(close, {p("bb_n")}, {p("bb_k")})',)
    entry = BlockCode(f"the close crosses back {pick(d, 'above', 'below')} the "
                      f"{pick(d, 'lower', 'upper')} Bollinger band (`bb_n` bars, `bb_k` std)",
                      lines, f"ind.cross_{pick(d, 'above', 'below')}(close, {band})", C)
    exit_ = BlockCode("the close reaches the middle band (SMA(`bb_n`))", (),
                      f"close {pick(d, '>=', '<=')} bb_middle", C)
    return entry, exit_


def _stoch(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'slow_k, slow_d = ind.stoch(high, low, close, {p("stoch_k")}, {p("stoch_d")})',)
    if d is Direction.LONG:
        entry = BlockCode("the slow %K(`stoch_k`, `stoch_d`) crosses above %D while below "
                          "`stoch_level` (oversold)", lines,
                          f'ind.cross_above(slow_k, slow_d) & (slow_k < {p("stoch_level")})', HLC)
        exit_ = BlockCode("%K rises above 100 - `stoch_level`", (),
                          f'slow_k > 100 - {p("stoch_level")}', HLC)
    else:
        entry = BlockCode("the slow %K(`stoch_k`, `stoch_d`) crosses below %D while above "
                          "100 - `stoch_level` (overbought)", lines,
                          f'ind.cross_below(slow_k, slow_d) & (slow_k > 100 - {p("stoch_level")})',
                          HLC)
        exit_ = BlockCode("%K falls below `stoch_level`", (), f'slow_k < {p("stoch_level")}', HLC)
    return entry, exit_


def _zscore(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'z = ind.zscore(close, {p("z_n")})',)
    level = pick(d, f'-{p("z_entry")}', p("z_entry"))
    entry = BlockCode(f"the `z_n`-bar z-score of the close crosses back "
                      f"{pick(d, 'above -', 'below +')}`z_entry`", lines,
                      f"ind.cross_{pick(d, 'above', 'below')}(z, {level})", C)
    exit_ = BlockCode("the z-score crosses zero (price back at its rolling mean)", (),
                      f"ind.cross_{pick(d, 'above', 'below')}(z, 0.0)", C)
    return entry, exit_


def _donchian(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'channel_high = ind.shift(ind.highest(high, {p("entry_n")}), 1)',
             f'channel_low = ind.shift(ind.lowest(low, {p("exit_n")}), 1)')
    if d is Direction.SHORT:
        lines = (f'channel_low = ind.shift(ind.lowest(low, {p("entry_n")}), 1)',
                 f'channel_high = ind.shift(ind.highest(high, {p("exit_n")}), 1)')
    high_side, low_side = "above the highest high", "below the lowest low"
    entry = BlockCode(f"the close breaks {pick(d, high_side, low_side)}"
                      " of the previous `entry_n` bars (Donchian channel)", lines,
                      pick(d, "close > channel_high", "close < channel_low"), HLC)
    exit_ = BlockCode(f"the close breaks {pick(d, low_side, high_side)}"
                      " of the previous `exit_n` bars", (),
                      pick(d, "close < channel_low", "close > channel_high"), HLC)
    return entry, exit_


def _atr_expansion(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'prior_atr = ind.shift(ind.atr(high, low, close, {p("atr_n")}), 1)',
             "expansion = ind.true_range(high, low, close) > "
             f'{p("atr_k")} * prior_atr',
             f'exit_ema = ind.ema(close, {p("exit_ema_n")})')
    side = pick(d, "close > open_", "close < open_")
    entry = BlockCode(f"the true range exceeds `atr_k` times the previous ATR(`atr_n`) on a "
                      f"{pick(d, 'rising', 'falling')} bar", lines, f"expansion & ({side})",
                      HLC | {"open"})
    exit_ = BlockCode(f"the close crosses {pick(d, 'below', 'above')} EMA(`exit_ema_n`)", (),
                      f"ind.cross_{pick(d, 'below', 'above')}(close, exit_ema)", HLC)
    return entry, exit_


def _bb_squeeze(d: Direction) -> tuple[BlockCode, BlockCode]:
    lines = (f'bb_upper, bb_middle, bb_lower = ind.bbands(close, {p("bb_n")}, {p("bb_k")})',
             "band_width = (bb_upper - bb_lower) / bb_middle",
             f'prior_width_avg = ind.shift(ind.sma(band_width, {p("squeeze_n")}), 1)',
             f'squeezed = ind.shift(band_width, 1) < {p("squeeze_ratio")} * prior_width_avg')
    band = pick(d, "bb_upper", "bb_lower")
    entry = BlockCode(f"after a squeeze (band width below `squeeze_ratio` times its "
                      f"`squeeze_n`-bar average) the close crosses {pick(d, 'above', 'below')} "
                      f"the {pick(d, 'upper', 'lower')} Bollinger band (`bb_n`, `bb_k`)", lines,
                      f"squeezed & ind.cross_{pick(d, 'above', 'below')}(close, {band})", C)
    exit_ = BlockCode(f"the close crosses {pick(d, 'below', 'above')} the middle band", (),
                      f"ind.cross_{pick(d, 'below', 'above')}(close, bb_middle)", C)
    return entry, exit_


#: All templates by name.
TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec("sma_cross", "SMA crossover", T.TRN,
                     {"fast_n": (5, 10, 20, 30), "slow_n": (50, 100, 150, 200)}, _ma_cross("sma")),
        TemplateSpec("ema_cross", "EMA crossover", T.TRN,
                     {"fast_n": (5, 9, 12, 21), "slow_n": (34, 50, 100, 200)}, _ma_cross("ema")),
        TemplateSpec("macd_trend", "MACD trend", T.TRN,
                     {"macd_fast": (8, 12), "macd_slow": (21, 26, 34), "macd_signal": (5, 9)},
                     _macd),
        TemplateSpec("roc_momentum", "rate-of-change momentum", T.MOM,
                     {"roc_n": (10, 20, 40), "roc_min": (0.0, 0.01, 0.02, 0.03)}, _roc),
        TemplateSpec("rsi_reversion", "RSI mean reversion", T.REV,
                     {"rsi_n": (7, 14, 21), "rsi_entry": (20, 25, 30, 35),
                      "rsi_exit": (50, 55, 60)}, _rsi),
        TemplateSpec("bb_reversion", "Bollinger-band mean reversion", T.REV,
                     {"bb_n": (20, 30, 50), "bb_k": (1.5, 2.0, 2.5)}, _bb_reversion),
        TemplateSpec("stoch_reversion", "stochastic reversal", T.REV,
                     {"stoch_k": (9, 14, 21), "stoch_d": (3, 5), "stoch_level": (20, 25, 30)},
                     _stoch),
        TemplateSpec("zscore_reversion", "z-score mean reversion", T.REV,
                     {"z_n": (20, 50, 100), "z_entry": (1.5, 2.0, 2.5)}, _zscore),
        TemplateSpec("donchian_breakout", "Donchian channel breakout", T.BRK,
                     {"entry_n": (20, 40, 55, 100), "exit_n": (10, 20)}, _donchian),
        TemplateSpec("atr_expansion", "ATR range expansion", T.VOL,
                     {"atr_n": (14, 20, 28), "atr_k": (1.5, 2.0, 2.5), "exit_ema_n": (10, 20)},
                     _atr_expansion),
        TemplateSpec("bb_squeeze", "Bollinger squeeze breakout", T.VOL,
                     {"bb_n": (20, 30), "bb_k": (1.5, 2.0), "squeeze_n": (50, 100),
                      "squeeze_ratio": (0.8, 0.9, 1.0)}, _bb_squeeze),
    )
}
