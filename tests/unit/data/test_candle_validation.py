"""validate_candles / validate_funding: each rule rejects exactly the rows that break it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixbtc.core.errors import DataError
from sixbtc.data.validation import MAX_EXAMPLES, validate_candles, validate_funding
from sixbtc.domain.candles import OHLCV_COLUMNS

HOUR = pd.Timedelta(hours=1)
T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")


def candles(n: int = 6) -> pd.DataFrame:
    close = 100.0 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "timestamp": [T0 + i * HOUR for i in range(n)],
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.full(n, 10.0),
        }
    )


def test_clean_frame_passes_unchanged_and_in_contract() -> None:
    df = candles()
    result = validate_candles(df.sample(frac=1.0, random_state=1), "1h")
    assert result.rejected == 0 and result.reasons == {} and result.examples == []
    pd.testing.assert_frame_equal(result.valid, df.astype({"timestamp": "datetime64[ns, UTC]"}))
    assert tuple(result.valid.columns) == OHLCV_COLUMNS
    assert str(result.valid["timestamp"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("close", np.nan, "non_finite"),
        ("volume", np.inf, "non_finite"),
        ("open", 0.0, "non_positive_price"),
        ("low", -1.0, "non_positive_price"),
        ("high", 100.0, "high_below_open_close"),  # row 2: close 102 > high
        ("low", 102.5, "low_above_open_close"),  # row 2: open 101.5 < low
        ("volume", -0.1, "negative_volume"),
    ],
)
def test_each_value_rule_rejects_the_bad_row(column: str, value: float, reason: str) -> None:
    df = candles()
    df.loc[2, column] = value
    result = validate_candles(df, "1h")
    assert result.rejected == 1
    assert result.reasons == {reason: 1}
    assert T0 + 2 * HOUR not in set(result.valid["timestamp"])
    assert result.examples[0].startswith("2024-01-01T02:00Z: ")


def test_high_below_low_is_rejected() -> None:
    df = candles()
    df.loc[3, ["high", "low"]] = [90.0, 110.0]
    result = validate_candles(df, "1h")
    assert result.rejected == 1 and len(result.valid) == 5


def test_off_grid_timestamp_rejected() -> None:
    df = candles()
    df.loc[4, "timestamp"] = T0 + 4 * HOUR + pd.Timedelta(minutes=1)
    result = validate_candles(df, "1h")
    assert result.reasons == {"off_grid": 1}
    assert result.examples == ["2024-01-01T04:01Z: timestamp not on the timeframe grid"]
    # the same row is on the 1m grid
    assert validate_candles(df, "1m").rejected == 0


def test_identical_duplicates_collapse_conflicting_duplicates_all_rejected() -> None:
    df = candles()
    identical = df.iloc[[1]]
    conflicting = df.iloc[[3]].assign(volume=99.0)
    result = validate_candles(pd.concat([df, identical, conflicting]), "1h")
    assert result.reasons == {"duplicate_identical": 1, "duplicate_conflict": 2}
    assert result.rejected == 3
    assert list(result.valid["timestamp"]) == [T0 + i * HOUR for i in (0, 1, 2, 4, 5)]


def test_invalid_duplicate_does_not_block_the_valid_one() -> None:
    df = candles()
    bad_copy = df.iloc[[2]].assign(close=np.nan)
    result = validate_candles(pd.concat([df, bad_copy]), "1h")
    assert result.reasons == {"non_finite": 1}
    assert len(result.valid) == 6


def test_timestamp_forms_are_parsed_to_utc_ns() -> None:
    df = candles(3)
    df["timestamp"] = ["2024-01-01T00:00:00Z", 1704070800000, "not a date"]
    result = validate_candles(df, "1h")
    assert list(result.valid["timestamp"]) == [T0, T0 + HOUR]
    assert result.reasons == {"timestamp_unparseable": 1}
    assert "not a date" in result.examples[0]
    naive = candles(2)
    naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
    assert validate_candles(naive, "1h").valid["timestamp"].iloc[0] == T0


def test_missing_column_names_it() -> None:
    with pytest.raises(DataError, match="'volume'"):
        validate_candles(candles().drop(columns="volume"), "1h")


def test_unknown_timeframe_and_non_frame_rejected() -> None:
    with pytest.raises(DataError, match="2h"):
        validate_candles(candles(), "2h")
    with pytest.raises(DataError, match="DataFrame"):
        validate_candles([1, 2, 3], "1h")  # type: ignore[arg-type]


def test_counts_add_up_and_examples_are_bounded() -> None:
    df = candles(20)
    df.loc[::2, "volume"] = -1.0
    result = validate_candles(df, "1h")
    assert result.rejected == sum(result.reasons.values()) == 10
    assert len(result.examples) == MAX_EXAMPLES


def test_funding_rounds_to_minute_and_rejects_non_finite() -> None:
    stamps = [
        pd.Timestamp("2024-01-01 08:00:00.004", tz="UTC"),
        pd.Timestamp("2024-01-01 00:00:00.003", tz="UTC"),
        pd.Timestamp("2024-01-01 16:00", tz="UTC"),
    ]
    df = pd.DataFrame({"timestamp": stamps, "rate": [0.0001, -0.0002, np.nan]})
    result = validate_funding(df)
    assert result.reasons == {"non_finite": 1}
    assert list(result.valid["timestamp"]) == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 08:00", tz="UTC"),
    ]
    assert list(result.valid["rate"]) == [-0.0002, 0.0001]


def test_funding_duplicates_after_rounding() -> None:
    df = pd.DataFrame(
        {
            "timestamp": [
                T0,
                T0 + pd.Timedelta(milliseconds=5),
                T0 + 8 * HOUR,
                T0 + 8 * HOUR + pd.Timedelta(milliseconds=2),
            ],
            "rate": [0.0001, 0.0001, 0.0003, 0.0004],
        }
    )
    result = validate_funding(df)
    assert result.reasons == {"duplicate_identical": 1, "duplicate_conflict": 2}
    assert list(result.valid["timestamp"]) == [T0]
    with pytest.raises(DataError, match="'rate'"):
        validate_funding(df.drop(columns="rate"))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=30),  # timestamp in 30-minute steps
            *[st.sampled_from([-1.0, 0.0, 1.0, 2.0, 2.0, 3.0, 3.0, np.nan]) for _ in range(5)],
        ),
        max_size=25,
    )
)
def test_valid_output_always_satisfies_the_contract(rows: list[tuple]) -> None:
    df = pd.DataFrame(rows, columns=["step", *OHLCV_COLUMNS[1:]]).astype(
        {name: "float64" for name in OHLCV_COLUMNS[1:]}
    )
    steps = df.pop("step").to_numpy(dtype="int64")
    epoch_ms = T0.value // 1_000_000 + steps * 1_800_000
    df.insert(0, "timestamp", pd.to_datetime(epoch_ms, unit="ms", utc=True).as_unit("ns"))
    result = validate_candles(df, "1h")
    valid = result.valid
    assert result.rejected == sum(result.reasons.values()) == len(df) - len(valid)
    assert valid["timestamp"].is_monotonic_increasing and valid["timestamp"].is_unique
    assert not valid.isna().any().any()
    assert (valid[["open", "high", "low", "close"]] > 0).all().all()
    assert (valid["high"] >= valid[["open", "close"]].max(axis=1)).all()
    assert (valid["low"] <= valid[["open", "close"]].min(axis=1)).all()
    assert (valid["volume"] >= 0).all()
    assert (valid["timestamp"].dt.minute == 0).all()
    # every valid row is an input row (nothing invented)
    merged = valid.merge(df, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


# --------------------------------------------------------------- issue 8: time and range rules
NOW = T0 + 5 * HOUR + pd.Timedelta(minutes=30)  # the 05:00 candle is still forming


def test_future_and_still_forming_candles_are_rejected_with_reasons() -> None:
    df = pd.concat(
        [candles(), candles(1).assign(timestamp=pd.Timestamp("2030-01-01", tz="UTC"))],
        ignore_index=True,
    )
    result = validate_candles(df, "1h", now=NOW)
    assert result.reasons == {"not_closed": 1, "future_timestamp": 1}  # 05:00 and 2030
    assert list(result.valid["timestamp"]) == [T0 + i * HOUR for i in range(5)]
    assert any("2030-01-01T00:00Z" in e for e in result.examples)
    # the candle that closes exactly at now is closed
    assert validate_candles(candles(), "1h", now=T0 + 6 * HOUR).rejected == 0


def test_default_now_is_the_wall_clock() -> None:
    far = candles(2).assign(timestamp=[T0, pd.Timestamp("2200-01-01", tz="UTC")])
    assert validate_candles(far, "1h").reasons == {"future_timestamp": 1}


def test_timestamps_before_2009_are_rejected_with_a_unit_hint() -> None:
    df = candles(3)
    df["timestamp"] = [1_704_067_200, 1_704_070_800, 1_704_074_400]  # epoch SECONDS read as ms
    result = validate_candles(df, "1h", now=NOW)
    assert result.reasons == {"before_2009": 3}
    assert "unit" in result.examples[0]


def test_rejected_rows_are_returned_with_their_reason() -> None:
    df = candles()
    df.loc[1, "close"] = np.nan
    result = validate_candles(df, "1h", now=NOW + 10 * HOUR)
    assert list(result.rejected_rows["reason"]) == ["non_finite"]
    assert result.rejected_rows["timestamp"].iloc[0] == T0 + HOUR


def test_mixed_timezones_and_offsets_become_utc() -> None:
    df = candles(3)
    df["timestamp"] = ["2024-01-01T02:00:00+02:00", "2024-01-01T01:00:00Z", "2024-01-01 02:00"]
    result = validate_candles(df, "1h", now=NOW)
    assert list(result.valid["timestamp"]) == [T0, T0 + HOUR, T0 + 2 * HOUR]
    aware = candles(2)
    aware["timestamp"] = [
        pd.Timestamp("2024-01-01 01:00", tz="Europe/Paris"),
        pd.Timestamp("2023-12-31 20:00", tz="America/New_York"),
    ]
    assert list(validate_candles(aware, "1h", now=NOW).valid["timestamp"]) == [T0, T0 + HOUR]


@pytest.mark.parametrize(
    ("rate", "reason"),
    [(5.0, "rate_out_of_range"), (-3.0, "rate_out_of_range"), (0.0401, "rate_out_of_range"),
     (np.inf, "non_finite")],
)
def test_funding_rate_outside_the_venue_caps_is_rejected(rate: float, reason: str) -> None:
    df = pd.DataFrame({"timestamp": [T0, T0 + 8 * HOUR], "rate": [1e-4, rate]})
    result = validate_funding(df, now=NOW + 10 * HOUR)
    assert result.reasons == {reason: 1}
    assert list(result.valid["rate"]) == [1e-4]


def test_funding_at_the_cap_is_kept() -> None:
    df = pd.DataFrame({"timestamp": [T0, T0 + HOUR], "rate": [0.04, -0.04]})
    assert validate_funding(df, now=NOW).rejected == 0


def test_funding_future_and_early_timestamps_are_rejected() -> None:
    df = pd.DataFrame(
        {
            "timestamp": [T0, pd.Timestamp("2030-01-01", tz="UTC"), 1_704_067_200],
            "rate": [1e-4, 1e-4, 1e-4],
        }
    )
    result = validate_funding(df, now=NOW)
    assert result.reasons == {"future_timestamp": 1, "before_2009": 1}
    assert list(result.valid["timestamp"]) == [T0]
