"""Look-ahead inside the backtest protocol (issue 8): the causality check on the backtest's own
series (``backtest:lookahead``) and the plausibility gate (``suspect:lookahead``).

Fake signal sources run in-process; the corpus strategies that only the backtest data reveals
run in a real sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.causality import choose_cuts
from sixbtc.backtester.plausibility import PlausibilityBounds, assess
from sixbtc.backtester.protocol import BacktestPlan, aggregate_oos, run_backtest, run_retest
from sixbtc.backtester.search import SearchConfig
from sixbtc.config.sections import BacktestSection
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
OPEN = PlausibilityBounds(max_sharpe=1e9, rate_sharpe=1e9)  # the plausibility gate opened
CORPUS = Path(__file__).resolve().parents[1] / "validator" / "corpus" / "biased"


def walk(seed: int, n: int, price: float = 100.0, sigma: float = 0.006) -> pd.DataFrame:
    """1h random-walk candles from ``T0``."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.concatenate(([price], close[:-1]))
    wick = 1.0 + np.abs(rng.normal(0.0, sigma / 3, (2, n)))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(n), "open": open_,
                         "high": np.maximum(open_, close) * wick[0], "low": np.minimum(open_, close) / wick[1],
                         "close": close, "volume": rng.uniform(1e5, 1e6, n)})


class Candles:
    """In-memory CandleSource of 1h frames, no funding."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self.frames[symbol]
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


def momentum(close: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal: enter when the close is above its value ``n`` bars ago, exit when below."""
    up = np.zeros(len(close), dtype=bool)
    up[n:] = close[n:] > close[:-n]
    return up, ~up


class Honest:
    """Causal momentum; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]):
        self.calls += 1
        pairs = [momentum(data["close"], p["n"]) for p in params_list]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


class GatedPeek(Honest):
    """Honest until the series is longer than ``min_bars``; then enters on a next-bar rise."""

    def __init__(self, min_bars: int) -> None:
        super().__init__()
        self.min_bars = min_bars

    def signals(self, data, params_list):
        close = data["close"]
        if len(close) <= self.min_bars:
            return super().signals(data, params_list)
        self.calls += 1
        nxt = np.append(close[1:], close[-1])
        up = nxt > close * 1.002
        return np.stack([up] * len(params_list)), np.stack([~up] * len(params_list))


class LastBarFallback(Honest):
    """A fresh momentum trigger confirmed by a peek at the next close, except on the input's
    last bar (nothing to see there: the honest trigger stands). A series truncated right after
    a signal bar therefore agrees with the full series exactly where it fired."""

    def signals(self, data, params_list):
        self.calls += 1
        close = data["close"]
        ahead = np.append(close[1:], close[-1])
        seen = np.arange(len(close)) < len(close) - 1
        pairs = []
        for p in params_list:
            enter, leave = momentum(close, p["n"])
            enter &= ~np.concatenate(([False], enter[:-1]))  # fresh crossings only
            leave &= ~np.concatenate(([False], leave[:-1]))
            pairs.append((enter & (~seen | (ahead > close)), leave & (~seen | (ahead < close))))
        return np.array([e for e, _ in pairs]), np.array([x for _, x in pairs])


class Oracle(Honest):
    """A memorised future: holds every coin's whole series and enters before each rise.
    Prefix-consistent (bar ``i`` reads the memory at the same absolute bar whatever the input's
    length), so no cut shows it; only its results do."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        super().__init__()
        self.memory = [df["close"].to_numpy() for df in frames.values()]

    def _future(self, close: np.ndarray) -> np.ndarray:
        for known in self.memory:
            for at in np.flatnonzero(known == close[0]):  # found by its first bars, whatever follows
                if np.array_equal(known[at : at + min(len(close), 50)], close[:50]):
                    return np.append(known[at + 1 : at + 1 + len(close)], close[-1])[: len(close)]
        raise ValueError("series not memorised")

    def signals(self, data, params_list):
        self.calls += 1
        close = data["close"]
        up = self._future(close) > close * 1.002
        return np.stack([up] * len(params_list)), np.stack([~up] * len(params_list))


GRID = [{"n": n, "sl_pct": 0.0, "tp_pct": 0.0} for n in (3, 6)]


def plan(symbols: list[str], n_bars: int = 1500, **kw: Any) -> BacktestPlan:
    """Warm-up 100 bars, IS 2/3 and OOS 1/3 of the rest (1h)."""
    oos_start = 100 + (n_bars - 100) * 2 // 3
    base: dict[str, Any] = dict(search=SearchConfig(rungs=1), shuffle_permutations=0, min_trades=10,
                                max_degradation=1.0, wfa_windows=0, seed=5, min_excess_return=-100.0)
    base.update(kw)
    return BacktestPlan({"1h": symbols}, T0 + 100 * HOUR, T0 + oos_start * HOUR, T0 + n_bars * HOUR, 100,
                        0.00045, 2.0, **base)


@pytest.fixture(scope="module")
def market() -> Candles:
    return Candles({f"C{k}": walk(k, 1500, price=10.0 * (k + 1)) for k in range(3)})


def test_choose_cuts_starts_after_a_signal_bar_and_stays_in_range() -> None:
    entries = np.zeros(200, dtype=bool)
    entries[[120, 150]] = True
    for seed in range(20):
        drawn = choose_cuts(entries, np.zeros(200, dtype=bool), 101, 3, np.random.default_rng(seed))
        cuts = [c for c, _ in drawn]
        assert len(cuts) == 3 == len(set(cuts)) and all(101 <= c <= 199 for c in cuts)
        # exactly one cut keeps a signal bar as its last bar, and the future after it is reflected
        assert [c for c, reflected in drawn if reflected] in ([121], [151])
    assert [c for c, _ in choose_cuts(entries, entries, 198, 5, np.random.default_rng(0))] == [198, 199]
    with pytest.raises(ValueError, match="count"):
        choose_cuts(entries, entries, 0, 2, np.random.default_rng(0))


def test_causal_strategy_passes_and_the_check_costs_cuts_per_coin_calls(market: Candles) -> None:
    src = Honest()
    out = run_backtest(src, market, plan(["C0", "C1", "C2"], plausibility=OPEN), GRID, direction=1)
    assert out.reason is None, out.detail
    check = out.causality
    assert check is not None and check.finding is None
    assert check.calls == 3 * 2 == len(check.cuts)  # 3 coins x causality_cuts (2), one parameter set each
    assert {s for s, _ in check.cuts} == {"C0", "C1", "C2"} and check.seconds >= 0
    again = run_backtest(Honest(), market, plan(["C0", "C1", "C2"], plausibility=OPEN), GRID, direction=1)
    assert again.causality.cuts == check.cuts  # seeded: reproducible
    other = run_backtest(Honest(), market, plan(["C0", "C1", "C2"], plausibility=OPEN, seed=6), GRID, 1)
    assert other.causality.cuts != check.cuts


@pytest.mark.parametrize("min_bars", [0, 1200, 1499])
def test_a_peek_gated_on_the_series_length_is_rejected_naming_coin_timeframe_cut_and_bar(market, min_bars) -> None:
    out = run_backtest(GatedPeek(min_bars), market, plan(["C0", "C1", "C2"], plausibility=OPEN), GRID, direction=1)
    assert out.reason == "backtest:lookahead", out.detail
    f = out.causality.finding
    assert f.timeframe == "1h" and f.symbol in {"C0", "C1", "C2"} and 0 <= f.bar < f.cut < 1500
    how = "the prices after it reflected" if f.reflected else "there"
    assert out.detail == f"{f.symbol} 1h: signals on the series cut at {f.cut} bars ({how}) differ from the full " \
                         f"series at bar {f.bar} (params {f.params})"
    assert f.params in GRID


def test_a_peek_that_keeps_the_honest_trigger_on_the_last_bar_is_rejected(market: Candles) -> None:
    """Before: the truncation-only check passed it on 13 of these 20 seeds (OOS Sharpe 5.5,
    below the plausibility bounds); the reflected future after the signal-bar cut shows it."""
    caught = []
    for seed in range(20):
        out = run_backtest(LastBarFallback(), market, plan(["C0", "C1", "C2"], plausibility=OPEN, seed=seed), GRID,
                           direction=1)
        caught.append(out.reason == "backtest:lookahead")
    assert all(caught), f"passed on seeds {[s for s, c in enumerate(caught) if not c]}"


def test_the_retest_runs_the_causality_check_too(market: Candles) -> None:
    out = run_retest(GatedPeek(1200), market, plan(["C0", "C1"], plausibility=OPEN), "1h", GRID[0], 1)
    assert out.reason == "backtest:lookahead" and out.causality.finding.symbol in {"C0", "C1"}
    ok = run_retest(Honest(), market, plan(["C0", "C1"], plausibility=OPEN), "1h", GRID[0], 1)
    assert ok.causality is not None and ok.causality.finding is None and ok.causality.calls == 2 * 2


def test_a_memorised_future_escapes_the_causality_check_but_not_the_plausibility_gate(market: Candles) -> None:
    oracle = Oracle(market.frames)
    seen = run_backtest(oracle, market, plan(["C0", "C1", "C2"], plausibility=OPEN), GRID, direction=1)
    assert seen.causality is not None and seen.causality.finding is None  # prefix-consistent: no cut shows it
    out = run_backtest(Oracle(market.frames), market, plan(["C0", "C1", "C2"]), GRID, direction=1)
    assert out.reason == "suspect:lookahead"
    fig = out.plausibility
    assert fig.sharpe > 15 and out.detail.startswith("1h: pooled OOS Sharpe ")
    assert f"win rate {fig.win_rate:.1%} over {fig.n_trades} trades" in out.detail and "Sharpe above 15" in out.detail
    retest = run_retest(Oracle(market.frames), market, plan(["C0", "C1"]), "1h", GRID[0], 1)
    assert retest.reason == "suspect:lookahead"


def test_the_plausibility_gate_wins_over_the_other_gates(market: Candles) -> None:
    first = run_backtest(Oracle(market.frames), market, plan(["C0", "C1"], plausibility=OPEN), GRID, direction=1)
    oos_trades = int(aggregate_oos(first.best)["n_trades"])
    # one OOS trade too few (the IS window, twice as long, has enough): the trade gate would reject it
    strict = plan(["C0", "C1"], plausibility=OPEN, min_trades=oos_trades + 1)
    assert run_backtest(Oracle(market.frames), market, strict, GRID, 1).reason == "backtest:too_few_trades"
    out = run_backtest(Oracle(market.frames), market, plan(["C0", "C1"], min_trades=oos_trades + 1), GRID, 1)
    assert out.reason == "suspect:lookahead"


def test_honest_results_are_plausible(market: Candles) -> None:
    out = run_backtest(Honest(), market, plan(["C0", "C1", "C2"]), GRID, direction=1)
    assert out.reason != "suspect:lookahead" and out.plausibility.suspect is None
    assert out.plausibility.sharpe < 10 and 0.3 < out.plausibility.bar_share < 0.7


@pytest.mark.parametrize(("sharpe", "wins", "bar_up", "expect"), [
    (15.01, 0.5, 0.5, "Sharpe above 15"),
    (15.0, 0.5, 0.5, None),  # the bound itself is plausible
    (10.5, 0.97, 0.5, "with a win rate >= 97%"),
    (10.5, 0.96, 0.5, None),
    (9.9, 1.0, 1.0, None),  # near-certain profits at an honest Sharpe: dip buyers with no stop
    (10.5, 0.5, 0.8, "with >= 80% of bars profitable"),
    (10.5, 0.5, 0.79, None),
])
def test_plausibility_rules(sharpe: float, wins: float, bar_up: float, expect: str | None) -> None:
    trades = [np.where(np.arange(100) < round(wins * 100), 0.01, -0.01)]
    steps = np.where(np.arange(200) < round(bar_up * 200), 1.001, 0.999)
    equity = [np.cumprod(np.concatenate(([1.0], steps)))]
    got = assess(sharpe, trades, equity, PlausibilityBounds())
    assert (got.n_trades, got.n_bars) == (100, 200)
    assert got.suspect is None if expect is None else expect in got.suspect
    few = assess(sharpe, [trades[0][:99]], [equity[0][:100]], PlausibilityBounds())  # below min_count
    assert few.suspect is None or "Sharpe above 15" in few.suspect


def test_plausibility_bounds_come_from_the_config_and_are_checked() -> None:
    assert PlausibilityBounds.from_section(BacktestSection()) == PlausibilityBounds()
    assert BacktestPlan({}, T0, T0, T0, 0, 0.0, 0.0, 1, 0.5).plausibility == PlausibilityBounds()  # on by default
    with pytest.raises(ValueError, match="out of range"):
        PlausibilityBounds(max_win_rate=1.5)


# --- corpus strategies only the backtest's own data reveals (the validator passes them) ---

def _market(name: str) -> tuple[Candles, int]:
    """Coins on which the strategy's gate is on, and the loaded span (bars)."""
    spans = {"len_band_backtest_1h": 4570, "len_over_25000": 25_600}
    n = spans.get(name, 4570)
    price = 0.45 if name == "price_band_and_long" else 30.0
    sigma = 0.0075 if name == "volatility_band_and_long" else 0.005
    return Candles({f"C{k}": walk(100 + k, n, price=price * (1 + k / 50), sigma=sigma) for k in range(2)}), n


@pytest.fixture(scope="module")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=10.0)) as sb:
        yield sb


@pytest.mark.parametrize("name", ["len_band_backtest_1h", "len_over_25000", "price_band_and_long",
                                  "volatility_band_and_long"])
def test_lookahead_only_the_backtest_data_reveals_is_caught_in_the_backtest(name: str, sandbox) -> None:
    path = CORPUS / f"{name}.py"
    assert path.read_text().startswith("# expect: backtest backtest:lookahead")
    spec = sandbox.load(path.read_text())
    candles, n = _market(name)
    grid = spec.grid()
    # the causality check alone (plausibility gate opened) …
    out = run_backtest(sandbox, candles, plan(["C0", "C1"], n_bars=n, plausibility=OPEN), grid, direction=1)
    assert out.reason == "backtest:lookahead", out.detail
    assert out.causality.finding.bar < out.causality.finding.cut <= n - 1
    # … and with the default gates (its results are implausible too, which the gate says first)
    default = run_backtest(sandbox, candles, plan(["C0", "C1"], n_bars=n), grid, direction=1)
    assert default.reason in {"suspect:lookahead", "backtest:lookahead"}, default.detail
