"""Market-regime stage (SPEC §3.1, Unger method): breakout test vs reversal test per coin.

Public API: :func:`break_signals`, :func:`classify`, :func:`measure_regime`,
:class:`RegimeTests`.
"""

from sixbtc.regime.classify import RegimeTests, classify, measure_regime
from sixbtc.regime.probes import break_signals

__all__ = ["RegimeTests", "break_signals", "classify", "measure_regime"]
