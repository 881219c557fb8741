"""Import of freqtrade's data layouts (feather / JSON, spot, futures, funding_rate), validated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.errors import DataError
from sixbtc.data.import_sources import ImportSource, classify
from sixbtc.data.importer import import_path

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _frame(n: int = 48) -> pd.DataFrame:
    close = 100.0 + np.arange(n) % 5
    return pd.DataFrame({"date": pd.date_range(T0, periods=n, freq="h"), "open": close, "high": close + 1,
                         "low": close - 1, "close": close, "volume": np.ones(n)})


@pytest.mark.parametrize(("name", "expected"), [
    ("BTC_USDT-1h.feather", ImportSource("BTC", "1h", "freqtrade")),
    ("BTC_USDT_USDT-1h-futures.json", ImportSource("BTC", "1h", "freqtrade")),
    ("ETH_USDT_USDT-4h-futures.feather", ImportSource("ETH", "4h", "freqtrade")),
    ("1000PEPE_USDT_USDT-8h-funding_rate.feather", ImportSource("1000PEPE", "funding", "freqtrade")),
])
def test_freqtrade_names_are_recognised(name: str, expected: ImportSource) -> None:
    assert classify(Path(name)) == expected


def test_mark_price_files_are_refused_naming_why() -> None:
    with pytest.raises(DataError, match="mark-price"):
        classify(Path("BTC_USDT_USDT-8h-mark.feather"))


def test_a_freqtrade_folder_imports_through_the_same_validation(tmp_path: Path) -> None:
    src = tmp_path / "freqtrade" / "binance" / "futures"
    src.mkdir(parents=True)
    _frame().to_feather(src.parent / "BTC_USDT-1h.feather")
    rows = [[int(t.value // 1_000_000), o, h, lo, c, v] for t, o, h, lo, c, v in _frame().itertuples(index=False)]
    rows[5][2] = 1.0  # high below open/close
    rows[7][5] = float("inf")
    rows.append(list(rows[3]))  # identical duplicate
    rows.append([rows[4][0], 1.0, 2.0, 0.5, 1.5, 9.0])  # same time, different values
    (src / "ETH_USDT_USDT-1h-futures.json").write_text(json.dumps(rows).replace("Infinity", "1e999"))
    funding = pd.DataFrame({"date": pd.date_range(T0, periods=6, freq="8h"), "open": [1e-4, -2e-4, 1e-4, 5.0, 0, 1e-4],
                            "high": 0.0, "low": 0.0, "close": 0.0, "volume": 0.0})
    funding.to_feather(src / "ETH_USDT_USDT-8h-funding_rate.feather")
    store = ParquetCandleStore(tmp_path / "store")
    spot = import_path(src.parent / "BTC_USDT-1h.feather", store, clock=None)
    assert spot[0].stored == 48 and spot[0].error is None
    results = {r.file.name: r for r in import_path(src, store)}
    eth = results["ETH_USDT_USDT-1h-futures.json"]
    assert eth.reasons == {"high_below_open_close": 1, "non_finite": 1, "duplicate_identical": 1,
                           "duplicate_conflict": 2}
    assert eth.stored == 48 - 3
    fund = results["ETH_USDT_USDT-8h-funding_rate.feather"]
    assert fund.stored == 5 and fund.reasons == {"rate_out_of_range": 1}
    assert store.read_funding("ETH")["rate"].iloc[1] == pytest.approx(-2e-4)
    assert len(store.read_candles("ETH", "1h")) == 45 and len(store.read_candles("BTC", "1h")) == 48
