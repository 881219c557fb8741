"""Timestamp columns to ``datetime64[ns, UTC]``: datetimes, text and epoch numbers of any unit.

Two readers:

* :func:`to_utc_timestamps` is the validator's reader. Numbers are epoch **milliseconds** (the
  unit of ccxt, Binance and the candle frame contract); datetimes keep their instant (naive
  ones are taken as UTC); text is parsed with its offset (``Z``, ``+02:00``), naive text as UTC.
* :func:`epoch_to_utc` reads epoch numbers whose unit is not known, as found in user files
  (Parquet ``int64`` columns, CSV ``unix`` columns): each value's unit is inferred from its
  magnitude, see :data:`EPOCH_UNIT_LIMITS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPOCH_UNIT_LIMITS: tuple[tuple[float, str, int], ...] = (
    (1e11, "s", 1_000_000_000),
    (1e14, "ms", 1_000_000),
    (1e17, "us", 1_000),
    (np.inf, "ns", 1),
)
"""``(upper bound of abs(value), unit, nanoseconds per unit)``, first match wins.

The bands are 1,000 apart, so every instant from 1973-03-03 to 5138-11-16 has exactly one
reading: 1e11 s is the year 5138 while 1e11 ms is 1973-03-03, and likewise for ms/us and us/ns.
Values that read as earlier than 2009 are rejected by the validator (``before_2009``)."""

UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
_INT64_MAX = float(np.iinfo("int64").max)


def to_utc_timestamps(values: pd.Series) -> pd.Series:
    """Convert a timestamp column to ``datetime64[ns, UTC]``; unparseable values become NaT.

    Parameters
    ----------
    values : pandas.Series
        Shape ``(n,)``. Datetimes (naive ones are taken as UTC, aware ones converted),
        integers/floats (epoch **milliseconds**) or strings (ISO 8601 with or without an
        offset, and other formats pandas can parse; offsets may differ from row to row).

    Returns
    -------
    pandas.Series
        Shape ``(n,)``, dtype ``datetime64[ns, UTC]``, same index as ``values``.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        out = values.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        numbers = numbers.where(np.isfinite(numbers))
        out = pd.to_datetime(numbers, unit="ms", utc=True, errors="coerce")
    else:
        out = _mixed_to_utc(values)
    return out.astype("datetime64[ns, UTC]")


def _mixed_to_utc(values: pd.Series) -> pd.Series:
    """Object column: numeric entries are epoch ms, the rest are parsed as text."""
    numbers = pd.to_numeric(values, errors="coerce")
    as_ms = pd.to_datetime(
        numbers.where(np.isfinite(numbers)), unit="ms", utc=True, errors="coerce"
    ).astype("datetime64[ns, UTC]")
    text = values.where(numbers.isna()).astype("string")
    as_text = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    return as_ms.where(numbers.notna(), as_text.astype("datetime64[ns, UTC]"))


def epoch_to_utc(values: pd.Series) -> tuple[pd.Series, tuple[str, ...]]:
    """Convert epoch numbers of unknown unit to ``datetime64[ns, UTC]``.

    Parameters
    ----------
    values : pandas.Series
        Shape ``(n,)``, epoch times in seconds, milliseconds, microseconds or nanoseconds
        (integers or floats, NaN allowed). Each value's unit is inferred from its magnitude
        (:data:`EPOCH_UNIT_LIMITS`), so a column may mix units (CryptoDataDownload files mix
        seconds and milliseconds).

    Returns
    -------
    stamps : pandas.Series
        Shape ``(n,)``, ``datetime64[ns, UTC]``, NaT where a value is missing or out of range.
    units : tuple of str
        The units seen, in :data:`EPOCH_UNIT_LIMITS` order, e.g. ``("s",)`` or ``("s", "ms")``.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    floats = numbers.astype("float64").to_numpy()
    finite = np.isfinite(floats)
    per_unit = np.ones(len(floats), dtype="int64")  # nanoseconds per unit of each value
    units: list[str] = []
    lower = 0.0
    for upper, unit, ns_per_unit in EPOCH_UNIT_LIMITS:
        band = finite & (np.abs(floats) >= lower) & (np.abs(floats) < upper)
        lower = upper
        if band.any():
            units.append(unit)
            per_unit[band] = ns_per_unit
    with np.errstate(invalid="ignore", over="ignore"):
        ok = finite & (np.abs(floats * per_unit) < _INT64_MAX)
    out = np.zeros(len(floats), dtype="int64")
    if pd.api.types.is_integer_dtype(numbers.dtype):  # exact: float64 misses nanoseconds
        out[ok] = numbers.to_numpy(dtype="int64", na_value=0)[ok] * per_unit[ok]
    else:
        out[ok] = np.round(floats[ok] * per_unit[ok]).astype("int64")
    stamps = pd.Series(pd.to_datetime(out, unit="ns", utc=True), index=values.index)
    return stamps.where(ok).astype("datetime64[ns, UTC]"), tuple(units)


def describe_units(units: tuple[str, ...]) -> str:
    """``("s", "ms")`` -> ``"epoch seconds and milliseconds"`` (for import notes)."""
    names = [UNIT_NAMES[u] for u in units]
    return "epoch " + (" and ".join(names) if names else "numbers")
