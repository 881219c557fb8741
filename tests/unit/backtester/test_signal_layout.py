"""The memory order of the ``(n_bars, n_params)`` signal arrays never changes a result.

The kernels read set-major ``(n_params, n_bars)`` C-contiguous signals; the engine passes the
transpose of what it is given: a view for a Fortran-ordered array (what the factory builds),
one copy for a C-ordered, strided or read-only one. Every layout must give bit-identical
metrics and daily returns, for the signal engine and the grid (``GRD``) engine.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sixbtc.backtester import run_grid
from sixbtc.backtester.engine import _set_major, run_grid_daily
from sixbtc.backtester.engine_grid import run_grid_levels, run_grid_levels_daily

N_BARS, N_SETS = 600, 7


@pytest.fixture(scope="module")
def market() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, N_BARS)))
    open_ = np.r_[100.0, close[:-1]]
    wick = np.abs(rng.normal(0.0, 0.005, (2, N_BARS)))
    return {"open": open_, "high": np.maximum(open_, close) * (1 + wick[0]),
            "low": np.minimum(open_, close) * (1 - wick[1]), "close": close,
            "funding": np.where(np.arange(N_BARS) % 8 == 0, 1e-4, 0.0),
            "days": np.arange(N_BARS, dtype=np.int64) // 24}


def _layouts(sets_by_bars: np.ndarray) -> dict[str, np.ndarray]:
    """The same ``(n_bars, n_sets)`` values in every memory order the engine may be given."""
    wide = np.zeros((N_BARS, 2 * N_SETS), dtype=sets_by_bars.dtype)
    wide[:, ::2] = sets_by_bars.T
    read_only = sets_by_bars.T.copy(order="F")
    read_only.flags.writeable = False
    return {"fortran": sets_by_bars.T, "c": np.ascontiguousarray(sets_by_bars.T), "strided": wide[:, ::2],
            "read_only": read_only}


def _same(results: dict[str, object]) -> None:
    ref = results["fortran"]
    for name, got in results.items():
        for a, b in zip(_flat(got), _flat(ref), strict=True):
            assert np.array_equal(a, b, equal_nan=True), name


def _flat(result) -> list[np.ndarray]:
    parts = result if isinstance(result, tuple) else (result,)
    out = []
    for part in parts:
        out += [getattr(part, f.name) for f in dataclasses.fields(part)] if dataclasses.is_dataclass(part) \
            else [part]
    return out


def test_signal_engine_gives_identical_results_for_every_memory_order(market) -> None:
    rng = np.random.default_rng(3)
    entries, exits = rng.random((N_SETS, N_BARS)) < 0.05, rng.random((N_SETS, N_BARS)) < 0.05
    sl, tp = np.linspace(0.01, 0.04, N_SETS), np.linspace(0.02, 0.08, N_SETS)
    d = market
    kw = dict(direction=1, funding_rate=d["funding"], start=50)
    grids, dailies = {}, {}
    for (name, ent), ext in zip(_layouts(entries).items(), _layouts(exits).values(), strict=True):
        grids[name] = run_grid(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, **kw)
        dailies[name] = run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp,
                                       day_of_bar=d["days"], **kw)
    assert grids["c"].n_trades.sum() > 10 * N_SETS
    _same(grids)
    _same(dailies)


def test_grid_engine_gives_identical_results_for_every_memory_order(market) -> None:
    d = market
    close = d["close"]
    center = np.vstack([np.convolve(close, np.ones(w) / w, "same") for w in range(5, 5 + N_SETS)])
    step = np.vstack([close * f for f in np.linspace(0.003, 0.01, N_SETS)])
    levels, sl = np.arange(1, N_SETS + 1), np.full(N_SETS, 0.05)
    kw = dict(direction=1, funding_rate=d["funding"], start=50)
    grids, dailies = {}, {}
    for (name, ctr), stp in zip(_layouts(center).items(), _layouts(step).values(), strict=True):
        grids[name] = run_grid_levels(d["open"], d["high"], d["low"], close, ctr, stp, levels, sl, **kw)
        dailies[name] = run_grid_levels_daily(d["open"], d["high"], d["low"], close, ctr, stp, levels, sl,
                                              day_of_bar=d["days"], **kw)
    assert grids["c"].n_trades.sum() > 5 * N_SETS
    _same(grids)
    _same(dailies)


def test_fortran_ordered_signals_reach_the_kernel_without_a_copy() -> None:
    sets_by_bars = np.zeros((N_SETS, N_BARS), dtype=bool)
    view = _set_major(sets_by_bars.T)
    assert view.flags.c_contiguous and view.shape == (N_SETS, N_BARS)
    assert np.shares_memory(view, sets_by_bars)
    copied = _set_major(np.ascontiguousarray(sets_by_bars.T))  # C order: one transposing copy
    assert copied.flags.c_contiguous and not np.shares_memory(copied, sets_by_bars)
