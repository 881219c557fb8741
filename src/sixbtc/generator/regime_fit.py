"""Regime-aware draws of the unger source (SPEC §3.1-3.2): entries that fit a coin's regime.

The regime of each coin (``TREND``, ``REVERSAL`` or ``MIXED``, from
:mod:`sixbtc.regime`) is given to the generator by app/ as a plain mapping; the generator
never reads the database. For each unger strategy one coin is drawn uniformly from the
mapping and the entry is drawn uniformly among the entries fitting that coin's regime:

* ``TREND``: breakout, momentum, trend and volatility-expansion entries (types BRK, MOM,
  TRN, VOL: they bet that a move goes on);
* ``REVERSAL``: reversal entries (type REV: they fade a move);
* ``MIXED``: any entry.

So the share of each family follows the share of coins in each regime.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sixbtc.domain.regime import MarketRegime
from sixbtc.domain.strategy import StrategyType
from sixbtc.generator.unger import ENTRIES

#: Entry types that fit each regime (None: all).
FITTING_TYPES: dict[MarketRegime, frozenset[StrategyType] | None] = {
    MarketRegime.TREND: frozenset({StrategyType.BRK, StrategyType.MOM, StrategyType.TRN, StrategyType.VOL}),
    MarketRegime.REVERSAL: frozenset({StrategyType.REV}),
    MarketRegime.MIXED: None,
}


def entries_for(regime: str | None) -> tuple[str, ...]:
    """Names of the unger entries (:data:`~sixbtc.generator.unger.ENTRIES`) fitting ``regime``,
    sorted; all of them for ``None`` or ``"MIXED"``.

    Raises
    ------
    ValueError
        If ``regime`` is not a :class:`~sixbtc.domain.regime.MarketRegime` value.
    """
    if regime is None:
        return tuple(sorted(ENTRIES))
    types = FITTING_TYPES[MarketRegime(regime)]
    return tuple(sorted(name for name, spec in ENTRIES.items() if types is None or spec.strategy_type in types))


def check_regimes(regimes: Mapping[str, str]) -> None:
    """Raise ``ValueError`` naming the first symbol whose regime is not a MarketRegime value."""
    for symbol, regime in regimes.items():
        if regime not in MarketRegime.__members__.values():
            raise ValueError(f"regimes[{symbol!r}] must be one of {[r.value for r in MarketRegime]}, got {regime!r}")


def draw_regime(regimes: Mapping[str, str], rng: np.random.Generator) -> str:
    """The regime of one coin drawn uniformly from ``regimes`` (symbols in sorted order)."""
    symbols = sorted(regimes)
    return str(regimes[symbols[int(rng.integers(0, len(symbols)))]])
