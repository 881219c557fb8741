"""Validator role: the validation samples and one claimed GENERATED strategy validated."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sixbtc.app.claim_guard import claim_guard
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.core.errors import DataError
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.validator.pipeline import validate
from sixbtc.validator.sample import NamedSample
from sixbtc.validator.samples import backtest_span, extra_samples, named_sample


def validation_sample(c: Container, window: CycleWindow) -> list[NamedSample]:
    """The validator's samples, primary first.

    Primary: the last ``validator.sample_bars`` 1h (else first available) candles of the first
    preferred coin before the replay window. Extras (:func:`sixbtc.validator.samples.extra_samples`):
    other coins, price scales, start dates and lengths from the store (before the replay
    window; the long one as long as the backtest's span on the shortest backtest timeframe),
    then the synthetic ones. Store samples carry the raw sources of the extra strategy inputs
    (real clock, funding, BTC; :attr:`NamedSample.market`).

    Raises
    ------
    DataError
        If the store has no usable series.
    """
    bt = c.settings.backtest
    for tf in ("1h", *bt.timeframes):
        for sym in ("BTC", *c.store.symbols(tf)):
            if c.store.has(sym, tf):
                df = c.store.read_candles(sym, tf, None, window.replay_start).tail(c.settings.validator.sample_bars)
                if len(df) >= 200:
                    shortest, span = backtest_span(bt.warmup_bars, bt.is_days + bt.oos_days, bt.timeframes)
                    return [named_sample(df, f"{sym} {tf}", c.store, sym, tf), *extra_samples(
                        c.store, end=window.replay_start, primary=sym, long_timeframe=shortest, long_bars=span)]
    raise DataError("no candle series with at least 200 bars for the validation sample")


def validate_one(c: Container, sandbox: StrategySandbox, sample: dict[str, np.ndarray] | Sequence[NamedSample],
                 worker: str) -> bool:
    """Claim one GENERATED strategy and validate it. Returns False when none was waiting.

    ``sample`` is :func:`validation_sample`'s list (primary first, then the extras) or one
    OHLCV dict (then the extras are the synthetic ones). A pass records the warm-up the
    strategy needs in the VALIDATED event's detail (``warmup_bars=W``); a rejection is stored
    with phase ``validator:<phase>``, the rule as the reason (e.g. ``ast:negative_shift``,
    ``warmup:exceeds_config``) and the detail (naming the extra sample it showed on, if
    any). Strategies needing more warm-up than ``backtest.warmup_bars`` are rejected.
    """
    rec = c.strategies.claim(StrategyStatus.GENERATED, worker)
    if rec is None:
        return False
    primary, extras = (sample, None) if isinstance(sample, dict) else (sample[0].source, sample[1:])
    with claim_guard(c, rec, "validator"):
        v = c.settings.validator
        report = validate(rec.code, sandbox, primary, cut_points=v.cut_points, allowed_warmup=c.settings.backtest.warmup_bars,
                          extra_samples=extras, extra_cut_points=v.extra_cut_points)
        if report.passed:
            c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.VALIDATED, phase="validator",
                                    reason="validated", detail=report.detail[:500])
        else:
            c.strategies.reject(rec.id, rec.claim_token, phase=f"validator:{report.phase}",
                                reason=report.reason or "invalid", detail=report.detail)
    return True
