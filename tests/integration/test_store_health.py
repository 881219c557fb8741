"""Store health end to end: ``sixbtc data verify`` / ``fill-gaps`` with the REAL ccxt client
against the fake Binance server on 127.0.0.1 serving the real snapshot (shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.cli.main import app
from sixbtc.testing.fake_binance import FakeBinance

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "binance_usdm"
END = pd.Timestamp("2026-02-01", tz="UTC")
NOW_MS = int(END.value // 1_000_000)
runner = CliRunner()


@pytest.fixture
def fake():
    if not DATA.exists():
        pytest.skip(f"real market data not found at {DATA.resolve()}")
    with FakeBinance(DATA, now_ms=NOW_MS) as venue:
        yield venue


def _home(tmp_path: Path, fake: FakeBinance, days: int = 30) -> tuple[Path, ParquetCandleStore]:
    root = tmp_path / "home"
    root.mkdir()
    (root / "config.yaml").write_text(f"data:\n  exchange_api_url: {fake.url}\n  history_days: {days}\n")
    return root, ParquetCandleStore(root / "data" / "binance")


def _run(root: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["--home", str(root), "data", *args])
    return res.exit_code, res.output


def _btc(hours: int = 24 * 20) -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "BTC_1h.parquet")
    return frame[frame["timestamp"] >= END - pd.Timedelta(hours=hours)].reset_index(drop=True)


def _klines_asked(fake: FakeBinance, start: pd.Timestamp) -> int:
    ms = str(int(start.value // 1_000_000))
    return sum(1 for path, q in fake.requests if path == "/fapi/v1/klines" and q.get("startTime") == ms)


def test_gaps_are_filled_and_a_venue_gap_becomes_known_and_is_not_asked_again(tmp_path: Path, fake) -> None:
    root, store = _home(tmp_path, fake)
    full = _btc()
    holes = full.iloc[list(range(0, 100)) + list(range(110, 300)) + list(range(305, len(full)))]
    store.write_candles("BTC", "1h", holes)
    code, out = _run(root, "verify")
    assert code == 3 and "gaps: 2 unknown (15 bars)" in out and "1 files checked, 1 with problems" in out
    venue_gap = (full["timestamp"][300], full["timestamp"][305])  # the venue lost these too (maintenance)
    fake.gaps[("BTC", "1h")] = [(int(venue_gap[0].value // 1e6), int(venue_gap[1].value // 1e6))]
    code, out = _run(root, "fill-gaps")
    assert code == 0, out
    assert "venue has no candles" in out and "recorded as a known gap, not asked again" in out
    got = store.read_candles("BTC", "1h")
    assert len(got) == len(full) - 5
    pd.testing.assert_frame_equal(got.iloc[:300], full.iloc[:300].reset_index(drop=True))
    assert store.known_gaps("BTC", "1h") == [venue_gap]
    asked = _klines_asked(fake, venue_gap[0])
    assert asked == 2  # an empty page is asked once more before the venue is believed
    code, out = _run(root, "fill-gaps")
    assert code == 0 and _klines_asked(fake, venue_gap[0]) == asked  # known: never requested again
    code, out = _run(root, "verify")
    assert code == 0, out
    assert "1 files checked, 0 with problems" in out


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how.startswith("truncate"):
        path.write_bytes(data[: int(how.split(":")[1])])
    elif how == "garbage":
        path.write_bytes(b"not parquet at all" * 10)
    elif how == "schema":
        pd.DataFrame({"timestamp": pd.read_parquet(path)["timestamp"], "price": 1.0}).to_parquet(path)
    elif how == "shrunk":  # an older, shorter file under a newer sidecar
        frame = pd.read_parquet(path)
        frame.iloc[: len(frame) // 2].to_parquet(path)


@pytest.mark.parametrize("how", ["truncate:0", "truncate:5", "truncate:11", "truncate:200", "truncate:-8",
                                 "garbage", "schema", "shrunk"])
def test_broken_files_are_reported_quarantined_and_downloaded_again(tmp_path: Path, fake, how: str) -> None:
    days = (pd.Timestamp.now(tz="UTC") - END).days + 10  # history reaching 10 days into the snapshot
    root, store = _home(tmp_path, fake, days=days)
    good = _btc(24 * 5)
    store.write_candles("BTC", "1h", good)
    path = store.candle_path("BTC", "1h")
    if how.startswith("truncate:-"):
        path.write_bytes(path.read_bytes()[: -int(how.split(":-")[1])])
    else:
        _corrupt(path, how)
    code, out = _run(root, "verify")
    assert code == 3 and "PROBLEM" in out, out
    code, out = _run(root, "fill-gaps")
    assert code == 0, out
    assert "BTC 1h: file quarantined" in out and "re-download full" in out
    quarantined = list((store.root / "quarantine").iterdir())
    assert len(quarantined) == 1 and quarantined[0].name.startswith("BTC_1h.parquet.")  # moved aside, not deleted
    fresh = ParquetCandleStore(store.root).read_candles("BTC", "1h")
    assert fresh["timestamp"].iloc[-1] == good["timestamp"].iloc[-1]
    assert set(good["timestamp"]) <= set(fresh["timestamp"])
    assert _run(root, "verify")[0] == 0


def test_verify_names_metadata_problems_and_stray_sidecars(tmp_path: Path, fake) -> None:
    root, store = _home(tmp_path, fake)
    store.write_candles("BTC", "1h", _btc(48))
    meta = store.meta_path("BTC", "1h")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "rows": 3}))
    (store.root / "ETH_4h.meta.json").write_text("{}")
    code, out = _run(root, "verify")
    assert code == 3
    assert "BTC_1h.parquet: metadata: sidecar does not match the file (rows 3 vs 48" in out
    assert "ETH_4h.meta.json: metadata: sidecar without a candle file" in out
