"""``sixbtc backtest FILE.py``: a user's strategy through the factory's validator, first
backtest, multiple-testing gate, scorer and pool-entry rules, on the home's store.

The same code path as a generated strategy (:mod:`sixbtc.app.validation`,
:mod:`sixbtc.app.backtesting`) with the same windows (:func:`~sixbtc.app.window.plan_window`)
and seeds (from the file's normalised code hash), except that nothing is written: no
strategy row, no trial ledger, no pool entry. Two differences follow, both stated in the
report: the DSR's N counts only this run's search (parameter sets x timeframes; the user's own
earlier attempts are unknown to it, so if they tried many variants the DSR is optimistic), and
the pool rules are applied to the pool as it is now.

The verdicts, in order: ``validator`` (every phase of the validator), the protocol gates of
:mod:`sixbtc.backtester.verdicts`, ``duplicate`` (trades exactly like a pool member),
``multiple_testing`` (DSR and PBO), ``pool`` (SPEC §3.5 entry rules) and ``confirmation``
(the chosen parameters on the confirmation window, :func:`~sixbtc.app.confirmation.confirmation_result`,
judged as the rotator judges it for LIVE, :func:`~sixbtc.rotator.rotation.confirmation_gap`;
``off`` with ``rotator.require_confirmation: false``, ``not available`` with
``backtest.confirm_days: 0``). When a gate stops the strategy, the figures of the later ones
(DSR, PBO, score, confirmation) are still computed when the backtest chose parameters, for
information, and the later gates are ``not reached``.
"""

from __future__ import annotations

from typing import Any

from sixbtc.app.backtest_plan import backtest_plan, sample_params, search_space
from sixbtc.app.backtest_records import gate_verdict, outcome_inputs
from sixbtc.app.backtesting import duplicate_of
from sixbtc.app.confirmation import confirmation_result
from sixbtc.app.container import Container
from sixbtc.app.validation import validation_sample
from sixbtc.app.window import CycleWindow, plan_window, symbols_by_timeframe
from sixbtc.backtester.protocol import METRIC_KEYS, BacktestOutcome, aggregate_oos, run_backtest
from sixbtc.backtester.verdicts import FAIL, NOT_REACHED, PASS, GateRow, protocol_gates
from sixbtc.generator.dedupe import code_hash
from sixbtc.pool.admission import behaviour_fingerprint
from sixbtc.pool.rules import PoolAction, decide_entry
from sixbtc.rotator.rotation import confirmation_gap
from sixbtc.scorer.score import score
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.validator.pipeline import validate


def backtest_file(c: Container, code: str, sandbox: StrategySandbox) -> dict[str, Any]:
    """Validate and backtest ``code`` as the factory would, and report every verdict.

    Returns
    -------
    dict
        ``passed`` (would enter the pool and pass the rotator's confirmation rule), ``stopped_by`` (the first failing gate's reason or
        None), ``strategy`` (class name), ``window`` (ISO bounds), ``gates`` (list of
        :meth:`GateRow.to_json` in order), ``timeframes`` (per searched timeframe: params,
        IS Sharpe, pooled OOS metrics, sets searched, trials), ``assigned`` (the chosen
        timeframe or None), ``coins`` (per coin of it: IS and OOS metrics), ``dsr``, ``pbo``,
        ``dsr_trials`` (N), ``score`` (0-100), ``confirmation`` (dict or None) and ``notes``.

    Raises
    ------
    DataError
        If the store holds no candles of ``backtest.timeframes`` (nothing to test on).
    """
    window = plan_window(c.store, c.settings, c.clock)
    samples = validation_sample(c, window)
    v, bt = c.settings.validator, c.settings.backtest
    report = validate(code, sandbox, samples[0].data, cut_points=v.cut_points, allowed_warmup=bt.warmup_bars,
                      extra_samples=samples[1:], extra_cut_points=v.extra_cut_points)
    out: dict[str, Any] = {"passed": False, "stopped_by": None, "strategy": None, "window": window.to_json(),
                           "gates": [], "timeframes": [], "assigned": None, "coins": [], "dsr": None, "pbo": None,
                           "dsr_trials": None, "score": None, "confirmation": None,
                           "notes": ["N of the DSR counts this run's search or the factory's effective trials on the window, not variants you tried before"]}
    vstate = PASS if report.passed else FAIL
    out["gates"].append(GateRow("validator", report.reason or "validated", vstate,
                                report.detail if not report.passed else f"warm-up {report.warmup_bars} bars").to_json())
    if not report.passed:
        out["stopped_by"] = report.reason  # as the factory records it (``ast:negative_shift``, ...)
        return out
    spec = sandbox.load(code)
    out["strategy"] = spec.class_name
    preferred = c.registry.get_active_pairs()
    wanted = {tf: s for tf, s in symbols_by_timeframe(c.store, c.settings, window, preferred).items()
              if tf in spec.timeframes}
    digest = code_hash(code)
    plan = backtest_plan(bt, window, wanted, digest, c.settings.risk.sizing_rule(), c.grid_runner)
    params_list = sample_params(spec.grid(), bt.max_param_sets, digest)
    outcome = run_backtest(sandbox, c.store, plan, params_list, spec.direction.sign, space=search_space(spec, bt))
    gates = protocol_gates(outcome, plan)
    _metrics(out, outcome)
    confirmed = confirmation_result(c, sandbox, digest, outcome.best, window, spec.direction.sign) \
        if outcome.best is not None else None
    gates += _later_gates(c, out, outcome, confirmed, window)
    out["gates"] += [g.to_json() for g in gates]
    failed = next((g for g in out["gates"] if g["state"] == FAIL), None)
    out["stopped_by"] = failed["reason"] if failed else None
    out["passed"] = failed is None
    return out


def _metrics(out: dict[str, Any], outcome: BacktestOutcome) -> None:
    """Per-timeframe and per-coin figures of ``outcome`` into ``out``."""
    out["timeframes"] = [{"timeframe": r.timeframe, "params": r.params, "is_sharpe": r.is_sharpe,
                          "oos": aggregate_oos(r), "sets": r.n_sets, "trials": r.trials} for r in outcome.runs]
    best = outcome.best
    if best is None:
        return
    out["assigned"] = best.timeframe
    out["coins"] = [{"symbol": cr.symbol, "is": {k: cr.is_metrics[k] for k in ("sharpe", "total_return", "n_trades")},
                     "oos": {k: cr.oos_metrics[k] for k in METRIC_KEYS}} for cr in best.coins]


def _later_gates(c: Container, out: dict[str, Any], outcome: BacktestOutcome, confirmed: dict[str, Any] | None,
                 window: CycleWindow) -> list[GateRow]:
    """Duplicate, multiple-testing, pool and confirmation verdicts (figures also when not reached)."""
    names = ("duplicate", "multiple_testing", "pool", "confirmation")
    reasons = ("backtest:duplicate_behaviour", "score:dsr|score:pbo", "pool:rejected", "rotator:confirmation")
    if outcome.best is None:
        return [GateRow(n, r, NOT_REACHED, "") for n, r in zip(names, reasons, strict=True)]
    reached = outcome.reason is None
    best, oos = outcome.best, aggregate_oos(outcome.best)
    rows: list[GateRow] = []

    def add(name: str, reason: str, ok: bool, detail: str) -> None:
        nonlocal reached
        state = (PASS if ok else FAIL) if reached else NOT_REACHED
        rows.append(GateRow(name, reason, state, detail))
        reached = reached and ok
    twin = duplicate_of(c, behaviour_fingerprint(best.timeframe, oos))
    add("duplicate", reasons[0], twin is None, f"trades exactly like {twin} out of sample" if twin else
        "no pool member trades the same")
    window = CycleWindow.from_json(out["window"])
    gate = gate_verdict(c, None, outcome, (window.is_start, window.oos_start))
    out.update(dsr=gate.dsr, pbo=gate.pbo, dsr_trials=gate.n_trials)
    add("multiple_testing", gate.reason or "score:dsr|score:pbo", gate.reason is None, gate.detail)
    value = score(outcome_inputs(outcome, gate.pbo), c.settings.scoring)
    out["score"] = value
    ap, stats = c.settings.active_pool, c.pool.stats()
    decision = decide_entry(value, stats.count, stats.min_score, max_size=ap.max_size, min_score=ap.min_score)
    add("pool", f"pool:rule{decision.rule}", decision.action is not PoolAction.REJECT,
        f"score {value:.1f}: {decision.reason} (rule {decision.rule})")
    out["confirmation"] = confirmed
    if confirmed is None:
        rows.append(GateRow("confirmation", reasons[3], "not available",
                            f"no confirmation window (backtest.confirm_days = {window.confirm_days:g})"))
    else:
        gap = confirmation_gap({"confirm": confirmed}, c.settings.rotator)
        pct = confirmed.get("twin_percentile")
        detail = (f"{confirmed['start'][:10]}..{confirmed['end'][:10]}: return {_pct(confirmed['total_return'])}, "
                  f"{confirmed['n_trades']} trades, twin percentile {'-' if pct is None else f'{pct:.0f}'}"
                  + (f" ({gap})" if gap else ""))
        if c.settings.rotator.require_confirmation:
            add("confirmation", reasons[3], gap is None, detail)
        else:
            rows.append(GateRow("confirmation", reasons[3], "off", detail + " (rotator.require_confirmation off)"))
    return rows


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"
