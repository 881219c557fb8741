"""Confirmation of a pool entrant: its chosen parameters on the confirmation window, stored
as a ``backtest_results`` row of kind ``"confirm"`` and under ``metrics["confirm"]``."""

from __future__ import annotations

from typing import Any

from sixbtc.app.backtest_plan import code_seed
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.backtester.confirmation import confirm
from sixbtc.backtester.ports import SignalSource
from sixbtc.backtester.protocol import TimeframeRun
from sixbtc.domain.strategy import StrategyRecord


def confirm_entrant(c: Container, signals: SignalSource, rec: StrategyRecord, best: TimeframeRun,
                    window: CycleWindow, direction: int) -> dict[str, Any] | None:
    """Trade ``best``'s choice on ``[confirm_start, replay_start)`` against
    ``backtest.confirm_twins`` twins (:func:`confirmation_result`) and store it as a
    ``backtest_results`` row of kind ``"confirm"``.

    Returns
    -------
    dict or None
        As :func:`confirmation_result`; None (nothing stored) without confirmation days.
    """
    out = confirmation_result(c, signals, rec.code_hash, best, window, direction)
    if out is None:
        return None
    span = (window.confirm_start, window.replay_start)
    c.results.add_many(rec.id, "confirm", [dict(data_start=span[0], data_end=span[1], timeframe=best.timeframe,
                                                symbol=None, params=best.params, is_metrics={}, oos_metrics=out,
                                                score=None, equity_curve=None)])
    return out


def confirmation_result(c: Container, signals: SignalSource, code_hash: str, best: TimeframeRun,
                        window: CycleWindow, direction: int) -> dict[str, Any] | None:
    """``best``'s choice traded on the confirmation window (nothing stored), twins seeded by
    ``code_hash`` (:func:`~sixbtc.backtester.confirmation.confirm`).

    Returns
    -------
    dict or None
        ``total_return`` (fraction), ``sharpe``, ``n_trades``, ``twin_percentile`` (0-100 or
        None without twins), ``n_twins``, ``twin_median_return``, ``twin_mean_trades``,
        ``symbols``, ``start``/``end`` (ISO UTC); ``total_return`` None when no coin covers
        the window. None when the window has no confirmation days (``backtest.confirm_days`` 0).
    """
    if window.confirm_days <= 0:
        return None
    bt = c.settings.backtest
    span = (window.confirm_start, window.replay_start)
    res = confirm(signals, c.store, [cr.symbol for cr in best.coins], best.timeframe, best.params, direction, span,
                  warmup_bars=bt.warmup_bars, costs=(bt.fee_rate, bt.slippage_bps, c.settings.risk.sizing_rule()), n_twins=bt.confirm_twins,
                  seed=code_seed(code_hash) % 2**31)
    out: dict[str, Any] = res.to_json() if res is not None else {"total_return": None, "sharpe": None,
                                                                  "n_trades": 0, "twin_percentile": None}
    out.update(start=span[0].isoformat(), end=span[1].isoformat())
    return out
