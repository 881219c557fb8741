"""detect_gaps and the per-file health rules of ``sixbtc data verify`` (sixbtc.data.gaps / health)."""

from __future__ import annotations

import pandas as pd
import pytest

from sixbtc.core.errors import DataError
from sixbtc.data.gaps import Gap, detect_gaps
from sixbtc.data.health import check_candles, check_funding, sidecar_consistency

T0 = pd.Timestamp("2025-01-01", tz="UTC")
NOW = pd.Timestamp("2025-06-01", tz="UTC")


def candles(hours: list[int]) -> pd.DataFrame:
    ts = [T0 + pd.Timedelta(hours=h) for h in hours]
    n = len(ts)
    return pd.DataFrame({"timestamp": pd.DatetimeIndex(ts).astype("datetime64[ns, UTC]"), "open": [10.0] * n,
                         "high": [11.0] * n, "low": [9.0] * n, "close": [10.5] * n, "volume": [1.0] * n})


def test_detect_gaps_finds_each_run_with_its_bar_count() -> None:
    gaps = detect_gaps(candles([0, 1, 4, 5, 7]), "1h")
    assert gaps == [Gap(T0 + pd.Timedelta(hours=2), T0 + pd.Timedelta(hours=4), 2),
                    Gap(T0 + pd.Timedelta(hours=6), T0 + pd.Timedelta(hours=7), 1)]
    assert detect_gaps(candles([0, 1, 2]), "1h") == [] and detect_gaps(candles([3]), "1h") == []


def test_detect_gaps_refuses_unsorted_frames_and_unknown_timeframes() -> None:
    with pytest.raises(DataError, match="not strictly ascending"):
        detect_gaps(candles([0, 2, 1]), "1h")
    with pytest.raises(DataError):
        detect_gaps(candles([0, 1]), "2h")


def test_known_gaps_are_not_problems_unknown_ones_are() -> None:
    frame = candles([0, 1, 4, 5])
    bad = check_candles("X_1h.parquet", "X", "1h", frame, now=NOW, known=[])
    assert bad.gaps == 1 and bad.missing_bars == 2 and not bad.ok and "gaps: 1 unknown (2 bars)" in bad.problems[0]
    known = [(T0 + pd.Timedelta(hours=2), T0 + pd.Timedelta(hours=4))]
    good = check_candles("X_1h.parquet", "X", "1h", frame, now=NOW, known=known)
    assert good.ok and good.known_gaps == 1 and good.rows == 4 and good.last == T0 + pd.Timedelta(hours=5)


def test_schema_order_grid_and_row_problems_are_each_named() -> None:
    frame = candles([0, 1, 2])
    frame["volume"] = frame["volume"].astype("float32")
    assert any("volume is float32" in p for p in check_candles("f", "X", "1h", frame, now=NOW, known=[]).problems)
    unordered = candles([0, 2, 1])
    assert any(p.startswith("order:") for p in check_candles("f", "X", "1h", unordered, now=NOW, known=[]).problems)
    off = candles([0, 1])
    off.loc[1, "timestamp"] += pd.Timedelta(minutes=5)
    assert any(p.startswith("grid: 1") for p in check_candles("f", "X", "1h", off, now=NOW, known=[]).problems)
    infinite = candles([0, 1])
    infinite.loc[0, "high"] = float("inf")
    assert any(p.startswith("rows:") for p in check_candles("f", "X", "1h", infinite, now=NOW, known=[]).problems)
    missing = candles([0]).drop(columns=["close"])
    assert check_candles("f", "X", "1h", missing, now=NOW, known=[]).problems == ["schema: missing columns ['close']"]
    fund = pd.DataFrame({"timestamp": pd.DatetimeIndex([T0]).astype("datetime64[ns, UTC]"), "rate": [5.0]})
    assert check_funding("f", "X", fund, now=NOW).problems[0].startswith("rows:")


def test_sidecar_consistency() -> None:
    check = check_candles("X_1h.parquet", "X", "1h", candles([0, 1, 2]), now=NOW, known=[])
    meta = {"rows": 3, "first": T0.isoformat(), "last": (T0 + pd.Timedelta(hours=2)).isoformat()}
    assert sidecar_consistency(meta, None, check) == []
    assert sidecar_consistency(None, None, check) == ["metadata: no .meta.json sidecar"]
    assert sidecar_consistency(None, "not valid JSON: x", check) == ["metadata: sidecar not valid JSON: x"]
    assert "rows 5 vs 3" in sidecar_consistency({**meta, "rows": 5}, None, check)[0]
