"""Row-level validation of OHLCV candle batches and funding-rate batches.

Every batch that reaches the candle store passes through :func:`validate_candles` or
:func:`validate_funding` (SPEC §3.1 "Validation of every candle batch"). Invalid rows are
dropped and counted by reason; nothing invalid is returned in ``valid``.

Rules for candles (SPEC §3.1, the invariants of :mod:`sixbtc.domain.candles`):

* the required columns ``timestamp open high low close volume`` are present,
* ``timestamp`` is parseable and becomes ``datetime64[ns, UTC]`` (candle open time),
* no NaN / infinite value, prices > 0, ``high >= max(open, close)``,
  ``low <= min(open, close)``, ``volume >= 0``,
* timestamps lie on the timeframe grid (epoch ms % timeframe ms == 0),
* duplicate timestamps: identical rows collapse to one; a timestamp that appears with
  different values is ambiguous and all its rows are rejected,
* output sorted ascending with a fresh ``RangeIndex``.

Each rejected row is counted once, under the first rule it breaks (in the order above), so
``sum(reasons.values()) == rejected == len(input) - len(valid)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS, PRICE_COLUMNS
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

MAX_EXAMPLES = 5
"""How many human-readable examples of rejected rows a :class:`CandleValidation` keeps."""

NS_PER_MS = 1_000_000

# Reason keys (stable, machine-friendly) and their human-readable text.
REASON_TEXT: dict[str, str] = {
    "timestamp_unparseable": "timestamp cannot be parsed",
    "non_finite": "NaN or infinite value",
    "non_positive_price": "price <= 0",
    "high_below_open_close": "high < max(open, close)",
    "low_above_open_close": "low > min(open, close)",
    "negative_volume": "volume < 0",
    "off_grid": "timestamp not on the timeframe grid",
    "duplicate_conflict": "duplicate timestamp with different values",
    "duplicate_identical": "identical duplicate row (collapsed)",
}


@dataclass(frozen=True)
class CandleValidation:
    """Outcome of validating one batch of candles or funding rates.

    Attributes
    ----------
    valid : pandas.DataFrame
        The accepted rows, shape ``(n_valid, 6)`` in the candle frame contract of
        :mod:`sixbtc.domain.candles` (or ``(n_valid, 2)`` ``timestamp, rate`` for funding):
        ``timestamp`` ``datetime64[ns, UTC]``, float64 values, ascending, unique.
    rejected : int
        Number of input rows not in ``valid``.
    reasons : dict[str, int]
        Reason key (see :data:`REASON_TEXT`) -> number of rows rejected for it.
    examples : list[str]
        Up to :data:`MAX_EXAMPLES` readable examples,
        e.g. ``"2024-01-01T00:00Z: high < max(open, close)"``.
    """

    valid: pd.DataFrame
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


def to_utc_timestamps(values: pd.Series) -> pd.Series:
    """Convert a timestamp column to ``datetime64[ns, UTC]``; unparseable values become NaT.

    Parameters
    ----------
    values : pandas.Series
        Shape ``(n,)``. Datetimes (naive ones are taken as UTC), integers/floats (epoch
        **milliseconds**) or strings (ISO 8601 and other formats pandas can parse).

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
        # Mixed object column: numeric entries are epoch ms, the rest are parsed as text.
        numbers = pd.to_numeric(values, errors="coerce")
        as_ms = pd.to_datetime(
            numbers.where(np.isfinite(numbers)), unit="ms", utc=True, errors="coerce"
        ).astype("datetime64[ns, UTC]")
        text = values.where(numbers.isna()).astype("string")
        as_text = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
        out = as_ms.where(numbers.notna(), as_text.astype("datetime64[ns, UTC]"))
    return out.astype("datetime64[ns, UTC]")


def _require_columns(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} batch must be a pandas DataFrame, got {type(df).__name__}")
    for name in columns:
        if name not in df.columns:
            raise DataError(f"{what} batch is missing required column {name!r}")


def _parse_timeframe(timeframe: str) -> Timeframe:
    try:
        return Timeframe.parse(str(timeframe))
    except ValueError as exc:
        raise DataError(str(exc)) from None


def _value_frame(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for name in columns:
        out[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
    return out


def _candle_rule_masks(
    ts: pd.Series, values: pd.DataFrame, tf_ms: int
) -> list[tuple[str, np.ndarray]]:
    """Per-rule boolean masks (True = breaks the rule), in reporting order."""
    o, h, lo, c, v = (values[n].to_numpy() for n in OHLCV_COLUMNS[1:])
    with np.errstate(invalid="ignore"):
        ts_ns = ts.to_numpy(dtype="datetime64[ns]").astype("int64")
        return [
            ("timestamp_unparseable", ts.isna().to_numpy()),
            ("non_finite", ~np.isfinite(values.to_numpy()).all(axis=1)),
            ("non_positive_price", (values[list(PRICE_COLUMNS)].to_numpy() <= 0).any(axis=1)),
            ("high_below_open_close", h < np.maximum(o, c)),
            ("low_above_open_close", lo > np.minimum(o, c)),
            ("negative_volume", v < 0),
            ("off_grid", ts_ns % (tf_ms * NS_PER_MS) != 0),
        ]


def _duplicate_masks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (conflicting, identical-extra) masks over ``frame`` (already rule-clean)."""
    same_ts = frame.duplicated("timestamp", keep=False).to_numpy()
    if not same_ts.any():
        none = np.zeros(len(frame), dtype=bool)
        return none, none
    distinct = frame.drop_duplicates()
    conflict_ts = distinct.loc[distinct.duplicated("timestamp", keep=False), "timestamp"]
    conflicting = frame["timestamp"].isin(conflict_ts).to_numpy()
    identical_extra = frame.duplicated(keep="first").to_numpy() & ~conflicting
    return conflicting, identical_extra


def _describe(ts: pd.Series, raw_ts: pd.Series, position: int, reason: str) -> str:
    stamp = ts.iloc[position]
    label = (
        stamp.strftime("%Y-%m-%dT%H:%MZ")
        if not pd.isna(stamp)
        else f"row {position} (timestamp {raw_ts.iloc[position]!r})"
    )
    return f"{label}: {REASON_TEXT[reason]}"


def _apply_rules(
    frame: pd.DataFrame, raw_ts: pd.Series, masks: list[tuple[str, np.ndarray]], what: str
) -> CandleValidation:
    """Drop rows flagged by ``masks`` then resolve duplicates; build the result."""
    n = len(frame)
    reason_of = np.full(n, "", dtype=object)
    for reason, mask in masks:
        reason_of[(reason_of == "") & mask] = reason
    clean = frame.loc[reason_of == ""]
    conflicting, identical_extra = _duplicate_masks(clean)
    clean_positions = np.flatnonzero(reason_of == "")
    reason_of[clean_positions[conflicting]] = "duplicate_conflict"
    reason_of[clean_positions[identical_extra]] = "duplicate_identical"
    keep = reason_of == ""
    valid = frame.loc[keep].sort_values("timestamp", kind="stable").reset_index(drop=True)
    reasons: dict[str, int] = {}
    examples: list[str] = []
    for position in np.flatnonzero(~keep):
        reason = reason_of[position]
        reasons[reason] = reasons.get(reason, 0) + 1
        if len(examples) < MAX_EXAMPLES:
            examples.append(_describe(frame["timestamp"], raw_ts, int(position), reason))
    rejected = n - len(valid)
    if rejected:
        log.warning(
            "%s batch: rejected %d of %d rows %s; e.g. %s", what, rejected, n, reasons, examples[:2]
        )
    return CandleValidation(valid=valid, rejected=rejected, reasons=reasons, examples=examples)


def validate_candles(df: pd.DataFrame, timeframe: str) -> CandleValidation:
    """Validate a batch of OHLCV candles and return the valid rows in the frame contract.

    Parameters
    ----------
    df : pandas.DataFrame
        Shape ``(n, >= 6)`` with at least the columns ``timestamp open high low close
        volume`` (extra columns are dropped). ``timestamp`` is the candle open time as
        datetimes (naive = UTC), epoch **milliseconds**, or parseable strings. Prices in
        quote currency, volume in base-asset units.
    timeframe : str
        Candle timeframe (``"5m"``, ``"1h"``, ...; see :class:`~sixbtc.domain.timeframe.Timeframe`).

    Returns
    -------
    CandleValidation
        Valid rows (sorted, unique, on-grid) plus rejection counts and examples.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame, a required column is missing (the message names it),
        or ``timeframe`` is unknown.

    Notes
    -----
    Rules from SPEC §3.1; see the module docstring for the full list and duplicate policy.
    """
    _require_columns(df, OHLCV_COLUMNS, "candle")
    tf = _parse_timeframe(timeframe)
    raw_ts = df["timestamp"].reset_index(drop=True)
    frame = _value_frame(df.reset_index(drop=True), OHLCV_COLUMNS[1:])
    frame.insert(0, "timestamp", to_utc_timestamps(raw_ts))
    masks = _candle_rule_masks(frame["timestamp"], frame[list(OHLCV_COLUMNS[1:])], tf.ms)
    return _apply_rules(frame, raw_ts, masks, f"{tf.value} candle")


def validate_funding(df: pd.DataFrame) -> CandleValidation:
    """Validate a batch of funding-rate events and return the valid rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Shape ``(n, >= 2)`` with columns ``timestamp`` (settlement time; datetimes, epoch
        **ms** or strings) and ``rate`` (fraction per funding interval, 0.0001 = 0.01 %).

    Returns
    -------
    CandleValidation
        ``valid`` has columns ``timestamp`` (``datetime64[ns, UTC]``, **rounded to the
        minute** because Binance settlement times carry a few ms of jitter) and ``rate``
        (float64), sorted ascending and unique.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame or a required column is missing.

    Notes
    -----
    Rules: parseable timestamp, finite rate, duplicate policy as for candles (identical
    rows after rounding collapse, conflicting ones are all rejected). Rounding follows the
    convention of the project's reference data (``/work/shared/data/README.md``).
    """
    _require_columns(df, FUNDING_COLUMNS, "funding")
    raw_ts = df["timestamp"].reset_index(drop=True)
    frame = _value_frame(df.reset_index(drop=True), ("rate",))
    frame.insert(0, "timestamp", to_utc_timestamps(raw_ts).dt.round("min"))
    masks = [
        ("timestamp_unparseable", frame["timestamp"].isna().to_numpy()),
        ("non_finite", ~np.isfinite(frame["rate"].to_numpy())),
    ]
    return _apply_rules(frame, raw_ts, masks, "funding")
