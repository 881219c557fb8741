"""Row-level validation of OHLCV candle batches and funding-rate batches.

Every batch that reaches the candle store passes through :func:`validate_candles` or
:func:`validate_funding` (SPEC §3.1 "Validation of every candle batch"). Invalid rows are
dropped and counted by reason; nothing invalid is returned in ``valid``.

Rules for candles (SPEC §3.1, the invariants of :mod:`sixbtc.domain.candles`):

* the required columns ``timestamp open high low close volume`` are present,
* ``timestamp`` is parseable and becomes ``datetime64[ns, UTC]`` (candle open time),
* no timestamp before :data:`EARLIEST` (2009-01-03, the Bitcoin genesis block: no crypto
  market data exists before it; such dates are almost always a wrong epoch unit),
* no timestamp after ``now`` and no candle still forming (open time + timeframe > ``now``):
  a future row would move every window of the factory past the real data (issue 8),
* every value is a number (not text such as ``"93,264.90"``), no NaN / infinite value,
  prices > 0 and within :data:`MIN_PRICE` .. :data:`MAX_PRICE`, volume at most
  :data:`MAX_VOLUME`, ``high >= max(open, close)``, ``low <= min(open, close)``, ``volume >= 0``,
* timestamps lie on the timeframe grid (epoch ms % timeframe ms == 0),
* duplicate timestamps: identical rows collapse to one; a timestamp that appears with
  different values is ambiguous and all its rows are rejected,
* output sorted ascending with a fresh ``RangeIndex``.

Rules for funding rates: parseable timestamp, no timestamp before :data:`EARLIEST` or after
``now``, a number, finite, ``abs(rate) <= MAX_FUNDING_RATE`` per interval, the same duplicate
policy.

Each rejected row is counted once, under the first rule it breaks (in the order above), so
``sum(reasons.values()) == rejected == len(input) - len(valid)``. ``now`` is injectable
(tests, replays); by default it is the wall clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError
from sixbtc.data.timestamps import to_utc_timestamps
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS, PRICE_COLUMNS
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

MAX_EXAMPLES = 5
"""How many human-readable examples of rejected rows a :class:`CandleValidation` keeps."""

NS_PER_MS = 1_000_000

EARLIEST = pd.Timestamp("2009-01-03", tz="UTC")
"""No market data can be older than the Bitcoin genesis block (2009-01-03)."""

MIN_PRICE = 1e-12
MAX_PRICE = 1e12
"""Accepted price range (quote currency per unit). The reference data (``shared/data``, 131
candle files) spans 1e-4 to 126,208.5; venues rescale the cheapest tokens (``1000PEPE``,
``1MBABYDOGE``) to keep prices far above 1e-12, and no asset trades near 1e12 USD. A value
outside is a unit or parsing error; inside, products of prices, volumes and sizes stay finite."""

MAX_VOLUME = 1e18
"""Largest accepted volume of one candle (base-asset units): seven orders of magnitude above
the largest bar of the reference data (1.5e11, 1000SATS-class contracts)."""

MAX_FUNDING_RATE = 0.04
"""Largest accepted ``abs(rate)`` of one funding settlement (fraction: 0.04 = 4 %).

The highest published caps of the venues SixBTC reads: Hyperliquid caps funding at 4 % per
hour (its funding is settled hourly; docs "Trading > Funding",
https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding), and Binance USDⓈ-M caps it
at ±3 % per interval for contracts with a maximum leverage of 25x or below, less for the
majors (BTCUSDT ±0.3 %) (Binance announcement "Important Updates on Funding Rates of USDⓈ-M
Perpetual Contracts", 2023-09-28). The largest rate in the reference data
(``shared/data/binance_usdm``, 37 symbols) is 0.02 per 4-hour interval. A value such as 5.0
(500 %) is a unit error (percent instead of fraction) or corrupt data."""

# Reason keys (stable, machine-friendly) and their human-readable text.
REASON_TEXT: dict[str, str] = {
    "timestamp_unparseable": "timestamp cannot be parsed",
    "before_2009": "timestamp before 2009-01-03, when no crypto market existed "
    "(wrong epoch unit? seconds read as milliseconds give 1970 dates)",
    "future_timestamp": "timestamp after now",
    "not_closed": "candle not closed yet (open time + timeframe after now)",
    "rate_out_of_range": f"abs(rate) > {MAX_FUNDING_RATE} per interval, above every venue's "
    "cap (rates are fractions: 0.0001 = 0.01 %)",
    "not_a_number": "a value is not a number (text such as '93,264.90' or 'n/a')",
    "non_finite": "NaN or infinite value",
    "non_positive_price": "price <= 0",
    "value_out_of_range": f"a price outside {MIN_PRICE:g} .. {MAX_PRICE:g} or a volume above "
    f"{MAX_VOLUME:g} (a unit or parsing error)",
    "high_below_open_close": "high < max(open, close)",
    "low_above_open_close": "low > min(open, close)",
    "negative_volume": "volume < 0",
    "negative_open_interest": "open interest < 0",
    "off_grid": "timestamp not on the timeframe grid",
    "duplicate_conflict": "duplicate timestamp with different values",
    "duplicate_identical": "identical duplicate row (collapsed)",
    "spike_quarantined": "isolated one-bar price spike of 100x or more (quarantined, reported)",
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
    rejected_rows : pandas.DataFrame
        The rejected rows, shape ``(rejected, n_columns + 1)``: the parsed columns of ``valid``
        (``timestamp`` may be NaT, values may be NaN) plus ``reason`` (a reason key); used to
        quarantine bad rows instead of losing them.
    """

    valid: pd.DataFrame
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    rejected_rows: pd.DataFrame = field(default_factory=pd.DataFrame)


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


def _value_frame(df: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """``columns`` as float64 (unparseable values become NaN) and the mask of rows holding a
    value that is present but not a number."""
    out = pd.DataFrame(index=df.index)
    text = np.zeros(len(df), dtype=bool)
    for name in columns:
        out[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
        text |= (df[name].notna() & out[name].isna()).to_numpy()
    return out, text


def now_ns(now: datetime | pd.Timestamp | None) -> int:
    """``now`` (default: the wall clock) as epoch nanoseconds; naive values are UTC.

    Raises
    ------
    DataError
        If ``now`` is not a timestamp.
    """
    try:
        stamp = pd.Timestamp(datetime.now(UTC) if now is None else now)
    except (TypeError, ValueError) as exc:
        raise DataError(f"now is not a timestamp: {now!r}") from exc
    if pd.isna(stamp):
        raise DataError("now is missing (NaT)")
    return int((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value)


def _time_rule_masks(ts: pd.Series, now: int, tf_ns: int) -> list[tuple[str, np.ndarray]]:
    """Timestamp rules shared by candles (``tf_ns`` > 0) and funding (``tf_ns`` = 0)."""
    ts_ns = ts.to_numpy(dtype="datetime64[ns]").astype("int64")
    parsed = ts.notna().to_numpy()
    masks = [
        ("timestamp_unparseable", ~parsed),
        ("before_2009", parsed & (ts_ns < EARLIEST.value)),
        ("future_timestamp", parsed & (ts_ns > now)),
    ]
    if tf_ns:
        masks.append(("not_closed", parsed & (ts_ns + tf_ns > now)))
    return masks


def _candle_rule_masks(
    ts: pd.Series, values: pd.DataFrame, text: np.ndarray, tf_ms: int, now: int
) -> list[tuple[str, np.ndarray]]:
    """Per-rule boolean masks (True = breaks the rule), in reporting order."""
    o, h, lo, c, v = (values[n].to_numpy() for n in OHLCV_COLUMNS[1:])
    prices = values[list(PRICE_COLUMNS)].to_numpy()
    with np.errstate(invalid="ignore"):
        ts_ns = ts.to_numpy(dtype="datetime64[ns]").astype("int64")
        return [
            *_time_rule_masks(ts, now, tf_ms * NS_PER_MS),
            ("not_a_number", text),
            ("non_finite", ~np.isfinite(values.to_numpy()).all(axis=1)),
            ("non_positive_price", (prices <= 0).any(axis=1)),
            ("value_out_of_range", ((prices < MIN_PRICE) | (prices > MAX_PRICE)).any(axis=1) | (v > MAX_VOLUME)),
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
    rejected_rows = frame.loc[~keep].assign(reason=reason_of[~keep]).reset_index(drop=True)
    reasons: dict[str, int] = {}
    examples: list[str] = []
    for position in np.flatnonzero(~keep):
        reason = reason_of[position]
        reasons[reason] = reasons.get(reason, 0) + 1
        if len(examples) < MAX_EXAMPLES:
            examples.append(_describe(frame["timestamp"], raw_ts, int(position), reason))
    rejected = n - len(valid)
    if rejected:
        log.debug(
            "%s batch: rejected %d of %d rows %s; e.g. %s", what, rejected, n, reasons, examples[:2]
        )
    return CandleValidation(valid, rejected, reasons, examples, rejected_rows)


def validate_candles(
    df: pd.DataFrame, timeframe: str, *, now: datetime | pd.Timestamp | None = None
) -> CandleValidation:
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
    now : datetime or pandas.Timestamp or None
        The current time (naive = UTC); candles opened after it, or not closed by it, are
        rejected. None = the wall clock (pass a clock's ``now()`` to be deterministic).

    Returns
    -------
    CandleValidation
        Valid rows (sorted, unique, on-grid, closed) plus rejection counts and examples.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame, a required column is missing (the message names it),
        ``timeframe`` is unknown or ``now`` is not a timestamp.

    Notes
    -----
    Rules from SPEC §3.1 and issue 8; see the module docstring for the full list and the
    duplicate policy.
    """
    _require_columns(df, OHLCV_COLUMNS, "candle")
    tf = _parse_timeframe(timeframe)
    raw_ts = df["timestamp"].reset_index(drop=True)
    frame, text = _value_frame(df.reset_index(drop=True), OHLCV_COLUMNS[1:])
    frame.insert(0, "timestamp", to_utc_timestamps(raw_ts))
    masks = _candle_rule_masks(
        frame["timestamp"], frame[list(OHLCV_COLUMNS[1:])], text, tf.ms, now_ns(now)
    )
    return _apply_rules(frame, raw_ts, masks, f"{tf.value} candle")


def validate_funding(
    df: pd.DataFrame, *, now: datetime | pd.Timestamp | None = None
) -> CandleValidation:
    """Validate a batch of funding-rate events and return the valid rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Shape ``(n, >= 2)`` with columns ``timestamp`` (settlement time; datetimes, epoch
        **ms** or strings) and ``rate`` (fraction per funding interval, 0.0001 = 0.01 %).
    now : datetime or pandas.Timestamp or None
        The current time (naive = UTC); later settlements are rejected. None = wall clock.

    Returns
    -------
    CandleValidation
        ``valid`` has columns ``timestamp`` (``datetime64[ns, UTC]``, **rounded to the
        minute** because Binance settlement times carry a few ms of jitter) and ``rate``
        (float64), sorted ascending and unique.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame, a required column is missing or ``now`` is invalid.

    Notes
    -----
    Rules: parseable timestamp between :data:`EARLIEST` and ``now``, finite rate,
    ``abs(rate) <= MAX_FUNDING_RATE`` (the venues' published caps, see the constant),
    duplicate policy as for candles (identical rows after rounding collapse, conflicting
    ones are all rejected). Rounding follows the convention of the project's reference data
    (``/work/shared/data/README.md``).
    """
    _require_columns(df, FUNDING_COLUMNS, "funding")
    raw_ts = df["timestamp"].reset_index(drop=True)
    frame, text = _value_frame(df.reset_index(drop=True), ("rate",))
    frame.insert(0, "timestamp", to_utc_timestamps(raw_ts).dt.round("min"))
    rate = frame["rate"].to_numpy()
    with np.errstate(invalid="ignore"):
        masks = [
            *_time_rule_masks(frame["timestamp"], now_ns(now), 0),
            ("not_a_number", text),
            ("non_finite", ~np.isfinite(rate)),
            ("rate_out_of_range", np.abs(rate) > MAX_FUNDING_RATE),
        ]
    return _apply_rules(frame, raw_ts, masks, "funding")


def validate_open_interest(df: pd.DataFrame, *, now: datetime | pd.Timestamp | None = None) -> CandleValidation:
    """Validate open-interest readings (frame ``timestamp``, ``value``; value in base-asset units).

    Rules: parseable timestamp between :data:`EARLIEST` and ``now`` (kept to the millisecond),
    a finite ``value >= 0``, the duplicate policy of candles.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame, a column is missing or ``now`` is invalid.
    """
    _require_columns(df, ("timestamp", "value"), "open interest")
    raw_ts = df["timestamp"].reset_index(drop=True)
    frame, text = _value_frame(df.reset_index(drop=True), ("value",))
    frame.insert(0, "timestamp", to_utc_timestamps(raw_ts))
    value = frame["value"].to_numpy()
    with np.errstate(invalid="ignore"):
        masks = [*_time_rule_masks(frame["timestamp"], now_ns(now), 0), ("not_a_number", text),
                 ("non_finite", ~np.isfinite(value)), ("negative_open_interest", value < 0)]
    return _apply_rules(frame, raw_ts, masks, "open interest")
