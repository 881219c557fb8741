"""TPE screening of grids larger than ``max_param_sets`` (``backtest.search_method: optuna``).

Synthetic objective with a planted optimum: the price rises 1 % on every bar ``i % 10 == 3``
(the bar after a signal on ``i % 10 == 2``), other bars are noise. A set ``(a, b, c)`` keeps a
share ``q = exp(-((a - 13)^2 + (b - 6)^2) / 20)`` of its entries on the edge bars and puts the
rest on noise bars (a fixed random draw per bar decides which), so the IS Sharpe rises smoothly
towards the planted ``a = 13, b = 6`` and ``c`` is irrelevant: 20 x 20 x 5 = 2,000 sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.search import SearchConfig, search
from sixbtc.backtester.tpe import grid_count, tpe_screen

N = 3000
SPACE: dict[str, list[Any]] = {"a": list(range(20)), "b": list(range(20)), "c": [1, 2, 3, 4, 5],
                               "sl_pct": [0.05], "tp_pct": [0.5]}
OPTIMUM = (13, 6)


def _ohlc(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, 0.004, N)
    ret[np.arange(N) % 10 == 3] += 0.01
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return {"open": open_, "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) / 1.001,
            "close": close, "volume": np.ones(N)}


class Planted:
    """Fake SignalSource of the module docstring; counts the sets it computed."""

    def __init__(self) -> None:
        self.sets = 0
        self.u = np.random.default_rng(99).random(N)

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(data["close"]))
        self.sets += len(params_list)
        out = []
        for p in params_list:
            q = np.exp(-((p["a"] - OPTIMUM[0]) ** 2 + (p["b"] - OPTIMUM[1]) ** 2) / 20.0)
            edge, noise = idx % 10 == 2, idx % 10 == 6
            out.append((edge & (self.u[: len(idx)] < q)) | (noise & (self.u[: len(idx)] >= q)))
        entries = np.stack(out)
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


def _coins(n: int, params: list[dict[str, Any]], src: Planted) -> list[CoinSeries]:
    return [CoinSeries(f"C{k}", _ohlc(k), np.zeros(N), 100, 2000, 8760.0, src, params, 1, (0.0, 0.0))
            for k in range(n)]


def _search(seed: int, trials: int = 96) -> tuple[list[dict[str, Any]], Any, Planted]:
    src, params = Planted(), []
    cfg = SearchConfig(rungs=3, eta=3, screen_coins=1, method="optuna", optuna_trials=trials)
    found = search(_coins(4, params, src), params, 5, cfg, space=SPACE, seed=seed)
    return params, found, src


def test_tpe_finds_the_planted_optimum_of_a_2000_set_grid_with_96_trials() -> None:
    params, found, _ = _search(seed=7)
    assert grid_count(SPACE) == 2000 and len(params) == 96
    best = params[found.chosen]
    assert (best["a"], best["b"]) == OPTIMUM
    near = sum(abs(p["a"] - OPTIMUM[0]) + abs(p["b"] - OPTIMUM[1]) <= 3 for p in params)
    assert near > 96 * 0.2  # TPE concentrates its proposals; a uniform sample puts ~6 % there


def test_tpe_search_is_deterministic_with_the_seed() -> None:
    first, a, _ = _search(seed=3)
    again, b, _ = _search(seed=3)
    other, _, _ = _search(seed=4)
    assert first == again and a.chosen == b.chosen and a.trials == b.trials
    assert first != other


def test_every_tpe_proposal_is_a_distinct_trial_of_the_ledger() -> None:
    params, found, src = _search(seed=5, trials=64)
    keys = {tuple(p[k] for k in SPACE) for p in params}
    assert len(keys) == len(params) == 64  # duplicates are never simulated or counted twice
    rung0 = found.ledger[0]
    assert rung0.rung == 0 and list(rung0.set_indices) == list(range(64)) and rung0.symbols == ["C0"]
    assert rung0.simulations == 64  # every proposal simulated once on the screening coin
    assert found.rungs[0] == (64, 1) and found.trials == sum(r.simulations for r in found.ledger)
    assert src.sets == 64 + sum(len(r.set_indices) * (len(r.symbols) - len(prev.symbols))
                                for prev, r in zip(found.ledger, found.ledger[1:], strict=False))


def test_tpe_on_a_grid_smaller_than_the_trials_stops_at_the_grid() -> None:
    small = {"a": [12, 13, 14], "b": [5, 6], "sl_pct": [0.05], "tp_pct": [0.5]}
    src, params = Planted(), []
    coins = _coins(1, params, src)
    results = tpe_screen(coins, small | {"c": [1]}, params, 50, 1, seed=0)
    assert len(params) == 6 and results[0].n_params == 6


def test_tpe_refuses_a_non_empty_parameter_list() -> None:
    params = [{"a": 1}]
    with pytest.raises(ValueError, match="empty params"):
        tpe_screen(_coins(1, params, Planted()), SPACE, params, 10, 1, seed=0)


def test_search_config_refuses_an_unknown_method() -> None:
    with pytest.raises(ValueError, match="method"):
        SearchConfig(method="grid")
