"""Price-pattern entries (source ``pattern``): candlestick and bar-structure rules.

A pattern system is built like an Unger system (:mod:`sixbtc.generator.unger`): a price
*pattern* entry, a regime *filter* (the Unger filters or none) and an *exit* (the Unger
exits: the opposite pattern, a time exit, an SMA cross). Entries are the pattern AND the
filter. Every pattern reads only bars ``<= i`` (lags through ``ind.shift`` with lags
``>= 0``, rolling windows that end at ``i``), so it is causal by construction; the
validator's truncation and shuffle tests check it on every generated strategy.

Patterns (long form; the short form mirrors highs <-> lows, up <-> down):

- ``close_streak`` (MOM): the last ``streak_n`` bars each closed up on the bar's open and
  above the previous close.
- ``staircase`` (TRN): the last ``streak_n`` lows were each above the previous low.
- ``run_exhaustion`` (REV): the last ``fade_n`` lows were each below the previous low
  (buy the exhaustion of a decline).
- ``inside_bar_breakout`` (BRK): bar ``i-1`` lay inside bar ``i-2``'s range and the close
  breaks above the inside bar's high by ``ib_buffer`` (a fraction of the price).
- ``outside_bar`` (BRK): bar ``i``'s range engulfs bar ``i-1``'s and the close lies at least
  ``ob_close`` of the bar's range above its low (a fraction, 0..1).
- ``engulfing`` (REV): after a ``engulf_n``-bar decline, a down bar is followed by an up
  bar whose body covers it and is at least ``engulf_k`` times its size (Nison 1991).
- ``pin_bar`` (REV): a bar making the lowest low of ``pin_n`` bars with a lower wick of
  at least ``pin_k`` bodies and ``pin_frac`` of the range (a hammer; Nison 1991).
- ``ibs_reversion`` (REV): the close lies in the bottom ``ibs_frac`` of the bar's range
  (internal bar strength, a known short-term mean reversion: Pagonidis 2013).
- ``range_close`` (MOM): the close lies within ``rc_frac`` of the ``rc_n``-bar range of that
  range's high.
- ``nr_breakout`` (VOL): bar ``i-1`` had the narrowest range of the last ``nr_n`` bars
  (NR4 / NR7, Crabel 1990) and the close breaks above the highest high of the ``brk_n``
  bars before ``i``.

Not included: gaps against the previous close. Perpetual futures trade around the clock,
so a bar opens at the previous close; on the bundled Binance data (SOL, last 5,000 bars of
15m/1h/4h) ``|open / prev close - 1| > 0.1 %`` never happens, so a gap rule never fires.

Ranges are ``high - low``; a bar with a zero range has no position in its range (NaN) and
fires no range-position pattern. Positions in a range are measured from the low for longs
and from the high for shorts, so a short pattern is exactly the long one on the price
reflected about a constant.
"""

from __future__ import annotations

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import BlockCode, BlockSpec, Builder, p, pick
from sixbtc.generator.unger import EXITS, FILTERS

T = StrategyType
HLC = frozenset({"high", "low", "close"})
OHLC = HLC | {"open"}
HL = frozenset({"high", "low"})


def _bar_position(d: Direction, tag: str) -> tuple[str, ...]:
    """Lines computing ``bar_pos{tag}``: the close's distance from the bar's low (long) or
    high (short) as a fraction of the bar's range (0..1), so the short form mirrors exactly."""
    dist = pick(d, "close - low", "high - close")
    return (f"bar_range{tag} = high - low",
            f"bar_range{tag} = np.where(bar_range{tag} > 0, bar_range{tag}, np.nan)",
            f"bar_pos{tag} = ({dist}) / bar_range{tag}")


def _close_streak(d: Direction, tag: str) -> BlockCode:
    up = d is Direction.LONG
    cmp, body = pick(d, ">", "<"), pick(d, "close > open_", "close < open_")
    word = "up" if up else "down"
    return BlockCode(
        f"the last `streak_n` bars each closed {word} on their open and "
        f"{pick(d, 'above', 'below')} the previous close",
        (f"streak_bar{tag} = ((close {cmp} ind.shift(close, 1)) & ({body})) * 1.0",
         f'close_streak{tag} = ind.lowest(streak_bar{tag}, {p("streak_n")}) > 0.5'),
        f"close_streak{tag}", OHLC)


def _extreme_run(fade: bool) -> Builder:
    """Runs of lows (long) / highs (short): rising with the trade (staircase) or against it
    (``fade``: a run of lower lows bought, of higher highs sold)."""
    name, param = ("fade", "fade_n") if fade else ("rising", "streak_n")

    def build(d: Direction, tag: str) -> BlockCode:
        src = pick(d, "low", "high")
        rising = (d is Direction.LONG) != fade
        cmp, side = (">", "above") if rising else ("<", "below")
        return BlockCode(
            f"the last `{param}` {src}s were each {side} the previous {src}"
            + (" (fading the run)" if fade else ""),
            (f"{name}_step{tag} = ({src} {cmp} ind.shift({src}, 1)) * 1.0",
             f"{name}{tag} = ind.lowest({name}_step{tag}, {p(param)}) > 0.5"),
            f"{name}{tag}", HL)
    return build


def _inside_bar(d: Direction, tag: str) -> BlockCode:
    level = pick(d, f'ind.shift(high, 1) * (1 + {p("ib_buffer")})',
                 f'ind.shift(low, 1) * (1 - {p("ib_buffer")})')
    return BlockCode(
        "the previous bar lay inside the range of the bar before it and the close breaks "
        f"{pick(d, 'above its high', 'below its low')} by `ib_buffer` (a fraction)",
        (f"inside{tag} = ind.shift(high, 1) < ind.shift(high, 2)",
         f"inside{tag} = inside{tag} & (ind.shift(low, 1) > ind.shift(low, 2))"),
        f"inside{tag} & (close {pick(d, '>', '<')} {level})", HLC)


def _outside_bar(d: Direction, tag: str) -> BlockCode:
    return BlockCode(
        "the bar's range engulfs the previous bar's and the close lies at least `ob_close` "
        f"of the bar's range {pick(d, 'above its low', 'below its high')}",
        (f"outside{tag} = (high > ind.shift(high, 1)) & (low < ind.shift(low, 1))",
         *_bar_position(d, tag)),
        f'outside{tag} & (bar_pos{tag} >= {p("ob_close")})', HLC)


def _engulfing(d: Direction, tag: str) -> BlockCode:
    prev_close, prev_open = "ind.shift(close, 1)", "ind.shift(open_, 1)"
    if d is Direction.LONG:
        shape = (f"(\n    (prev_close{tag} < prev_open{tag}) & (close > open_)\n"
                 f"    & (open_ <= prev_close{tag}) & (close >= prev_open{tag})\n)")
        trend = f"prior_move{tag} < 0"
    else:
        shape = (f"(\n    (prev_close{tag} > prev_open{tag}) & (close < open_)\n"
                 f"    & (open_ >= prev_close{tag}) & (close <= prev_open{tag})\n)")
        trend = f"prior_move{tag} > 0"
    return BlockCode(
        f"after a `engulf_n`-bar {pick(d, 'decline', 'rise')} a {pick(d, 'down', 'up')} bar is "
        f"followed by a {pick(d, 'bullish', 'bearish')} bar whose body engulfs it and is at "
        "least `engulf_k` times as large",
        (f"prev_close{tag} = {prev_close}", f"prev_open{tag} = {prev_open}",
         f"engulf_shape{tag} = {shape}",
         f'prior_move{tag} = ind.shift(ind.roc(close, {p("engulf_n")}), 1)',
         f"prev_body{tag} = np.abs(prev_close{tag} - prev_open{tag})",
         f'engulf_size{tag} = np.abs(close - open_) >= {p("engulf_k")} * prev_body{tag}'),
        f"engulf_shape{tag} & engulf_size{tag} & ({trend})", OHLC)


def _pin_bar(d: Direction, tag: str) -> BlockCode:
    if d is Direction.LONG:
        wick = f"pin_wick{tag} = np.minimum(open_, close) - low"
        extreme = f'low <= ind.lowest(low, {p("pin_n")})'
    else:
        wick = f"pin_wick{tag} = high - np.maximum(open_, close)"
        extreme = f'high >= ind.highest(high, {p("pin_n")})'
    return BlockCode(
        f"a bar making the {pick(d, 'lowest low', 'highest high')} of `pin_n` bars has a "
        f"{pick(d, 'lower', 'upper')} wick of at least `pin_k` bodies and `pin_frac` of its "
        f"range (a {pick(d, 'hammer', 'shooting star')})",
        (wick,
         f"pin_body{tag} = np.abs(close - open_)",
         f'wick_vs_body{tag} = pin_wick{tag} >= {p("pin_k")} * pin_body{tag}',
         f'wick_vs_range{tag} = pin_wick{tag} >= {p("pin_frac")} * (high - low)',
         f"pin_shape{tag} = wick_vs_body{tag} & wick_vs_range{tag} & (high > low)",
         f"pin_extreme{tag} = {extreme}"),
        f"pin_shape{tag} & pin_extreme{tag}", OHLC)


def _ibs(d: Direction, tag: str) -> BlockCode:
    return BlockCode(
        f"the close lies in the {pick(d, 'bottom', 'top')} `ibs_frac` of the bar's range "
        "(internal bar strength)", _bar_position(d, tag), f'bar_pos{tag} <= {p("ibs_frac")}',
        HLC)


def _range_close(d: Direction, tag: str) -> BlockCode:
    dist = pick(d, f"range_high{tag} - close", f"close - range_low{tag}")
    return BlockCode(
        f"the close lies in the {pick(d, 'top', 'bottom')} `rc_frac` of the `rc_n`-bar range",
        (f'range_high{tag} = ind.highest(high, {p("rc_n")})',
         f'range_low{tag} = ind.lowest(low, {p("rc_n")})',
         f"range_width{tag} = range_high{tag} - range_low{tag}",
         f"range_width{tag} = np.where(range_width{tag} > 0, range_width{tag}, np.nan)",
         f"range_gap{tag} = ({dist}) / range_width{tag}"),
        f'range_gap{tag} <= {p("rc_frac")}', HLC)


def _nr_breakout(d: Direction, tag: str) -> BlockCode:
    level = pick(d, f'ind.shift(ind.highest(high, {p("brk_n")}), 1)',
                 f'ind.shift(ind.lowest(low, {p("brk_n")}), 1)')
    return BlockCode(
        "the previous bar had the narrowest range of the last `nr_n` bars (NR4/NR7) and the "
        f"close breaks {pick(d, 'above the highest high', 'below the lowest low')} of the "
        "`brk_n` bars before it",
        (f"nr_range{tag} = high - low",
         f'nr_min{tag} = ind.lowest(nr_range{tag}, {p("nr_n")})',
         f"narrow{tag} = ind.shift(nr_range{tag}, 1) <= ind.shift(nr_min{tag}, 1)",
         f"nr_level{tag} = {level}"),
        f"narrow{tag} & (close {pick(d, '>', '<')} nr_level{tag})", HLC)


#: Pattern entries by name.
PATTERNS: dict[str, BlockSpec] = {
    spec.name: spec
    for spec in (
        BlockSpec("close_streak", T.MOM, {"streak_n": (2, 3, 4, 5)}, _close_streak),
        BlockSpec("staircase", T.TRN, {"streak_n": (2, 3, 4, 5)}, _extreme_run(fade=False)),
        BlockSpec("run_exhaustion", T.REV, {"fade_n": (3, 4, 5, 6)}, _extreme_run(fade=True)),
        BlockSpec("inside_bar_breakout", T.BRK, {"ib_buffer": (0.0, 0.001, 0.002, 0.004)},
                  _inside_bar),
        BlockSpec("outside_bar", T.BRK, {"ob_close": (0.6, 0.7, 0.8, 0.9)}, _outside_bar),
        BlockSpec("engulfing", T.REV, {"engulf_n": (2, 3, 5, 10), "engulf_k": (1.0, 1.5, 2.0)},
                  _engulfing),
        BlockSpec("pin_bar", T.REV, {"pin_n": (5, 10, 20), "pin_k": (1.5, 2.0, 3.0),
                                     "pin_frac": (0.5, 0.6, 0.67)}, _pin_bar),
        BlockSpec("ibs_reversion", T.REV, {"ibs_frac": (0.1, 0.15, 0.2, 0.25)}, _ibs),
        BlockSpec("range_close", T.MOM, {"rc_n": (5, 10, 20, 50), "rc_frac": (0.05, 0.1, 0.2)},
                  _range_close),
        BlockSpec("nr_breakout", T.VOL, {"nr_n": (4, 7), "brk_n": (1, 3, 5, 10)}, _nr_breakout),
    )
}


def _no_filter(d: Direction, tag: str) -> BlockCode:
    return BlockCode("none (any market)", (), "np.isfinite(close)", frozenset())


#: Filters of pattern systems: the Unger regime filters, or none.
PATTERN_FILTERS: dict[str, BlockSpec] = {**FILTERS,
                                         "none": BlockSpec("none", None, {}, _no_filter)}
#: Exits of pattern systems: the Unger exits.
PATTERN_EXITS = EXITS
