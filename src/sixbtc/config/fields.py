"""Validated value types of the configuration sections (strict where a loose value is a bug).

Every section derives from :class:`Section`, which

* forbids unknown keys (a typo fails at start naming its key path),
* refuses ``true``/``false`` for a number (pydantic would read ``true`` as ``1``) and a number
  for a flag (``dry_run: 1``),
* refuses infinite and NaN floats (``.inf`` capital, ``.nan`` fee rate), integers beyond 64 bits
  (:data:`MAX_INT`) and floats beyond :data:`MAX_FLOAT` (fields of durations, counts of days
  or bars and worker counts have tighter bounds, in :mod:`sixbtc.config.sections`),

and the annotated types below check the values whose shape is known: timeframes
(:class:`sixbtc.domain.timeframe.Timeframe`), coin names (they become file names of the
candle store), database URLs (the backends SixBTC ships), web hooks and wallet addresses.
Each check raises ``ValueError`` with a message that the loader prefixes with the key path.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)

from sixbtc.domain.timeframe import Timeframe

T = TypeVar("T")

#: Coin (base asset) names: upper-case letters and digits, as the venues list them
#: (``BTC``, ``1000PEPE``); they are used in file names, so no path characters.
COIN_PATTERN = re.compile(r"[A-Z0-9]{1,30}")
#: Database URL schemes SixBTC ships a driver for (SQLite file, PostgreSQL via psycopg 3).
DATABASE_URL_PATTERN = re.compile(r"(sqlite(\+pysqlite)?:///.+|postgresql\+psycopg://.+)")
#: A public EVM wallet address (Hyperliquid master wallet).
WALLET_PATTERN = re.compile(r"0x[0-9a-fA-F]{40}")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

#: Most days of any window or period: 27 years, longer than every crypto market (the oldest
#: data is from 2009); three such windows and MAX_BARS daily bars still end after 1677, the
#: first date pandas can hold.
MAX_DAYS = 10_000
#: Most bars of a warm-up.
MAX_BARS = 10_000
#: Longest period in minutes (one year) and in seconds (one day: timeouts, polling).
MAX_MINUTES = 525_600
MAX_SECONDS = 86_400
#: Most worker processes of one kind (each is a process: a typo must not start thousands).
MAX_WORKERS = 256
#: Largest integer of any setting: the range of SQLite's INTEGER and of numpy's int64.
MAX_INT = 2**63 - 1
#: Largest absolute float of any setting without a tighter bound: more than all the money of
#: the world in USD (about 1e14), so products of amounts, rates and counts stay finite.
MAX_FLOAT = 1e15


def _is_bool_annotation(annotation: Any) -> bool:
    """True when ``annotation`` is ``bool`` or an optional/union containing ``bool``."""
    if annotation is bool:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_bool_annotation(a) for a in get_args(annotation))
    return False


def _is_number_annotation(annotation: Any) -> bool:
    """True when ``annotation`` is ``int``/``float`` or an optional/union of them."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) is Annotated:
        return _is_number_annotation(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_number_annotation(a) for a in get_args(annotation))
    return False


class Section(BaseModel):
    """Base of every section: unknown keys, booleans for numbers and inf/NaN are errors;
    values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """``max_size: true`` is a mistake, not ``1``; ``dry_run: 1`` is one too, not true."""
        if info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        number, flag = _is_number_annotation(annotation), _is_bool_annotation(annotation)
        if isinstance(value, bool) and number and not flag:
            raise ValueError(f"expected a number, not the boolean {str(value).lower()}")
        if isinstance(value, int | float) and not isinstance(value, bool) and flag and not number:
            raise ValueError(f"expected true/false, not the number {value!r}")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _within_machine_range(cls, value: Any) -> Any:
        """Integers fit in 64 bits (SQLite, numpy), floats in ``±MAX_FLOAT``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        bound, text = (MAX_INT, str(MAX_INT)) if isinstance(value, int) else (MAX_FLOAT, f"{MAX_FLOAT:g}")
        if value > bound:
            raise ValueError(f"Input should be less than or equal to {text}")
        if value < -bound:
            raise ValueError(f"Input should be greater than or equal to -{text}")
        return value


def _timeframe(value: str) -> str:
    Timeframe.parse(value)  # ValueError naming the accepted values
    return value


def _coin(value: str) -> str:
    if not COIN_PATTERN.fullmatch(value):
        raise ValueError(f"coin {value!r} must be 1-30 upper-case letters or digits, e.g. BTC or 1000PEPE")
    return value


def _non_empty_unique(values: Sequence[T]) -> Sequence[T]:
    if not values:
        raise ValueError("must not be empty")
    dupes = sorted({str(v) for v in values if list(values).count(v) > 1})
    if dupes:
        raise ValueError(f"duplicate values {', '.join(dupes)}")
    return values


def _database_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not DATABASE_URL_PATTERN.fullmatch(value):
        scheme = value.split("://", 1)[0] if "://" in value else value[:20]
        raise ValueError(f"unsupported database URL (scheme {scheme!r}): use sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST:PORT/DB")
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _wallet(value: str | None) -> str | None:
    if value is not None and not WALLET_PATTERN.fullmatch(value):
        raise ValueError("must be a 0x-prefixed address of 40 hex digits")
    return value


#: Crontab fields: name, lowest and highest value (weekday 0-6 = Sunday-Saturday, as crontab(5)).
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))
CRON_ITEM = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")


def _cron(value: str) -> str:
    """A 5-field crontab expression ``minute hour day month weekday`` (UTC), numbers only:
    each field ``*``, ``N``, ``N-M``, optionally ``/STEP``, comma-separated (crontab(5));
    APScheduler's ``CronTrigger.from_crontab`` reads it (checked here without importing it)."""
    fields = value.split()
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(f"expected a 5-field crontab expression 'minute hour day month weekday', got {value!r}")
    for text, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            m = CRON_ITEM.fullmatch(item)
            nums = [int(g) for g in (m.group(2), m.group(3)) if g is not None] if m else []
            if (m is None or any(not low <= n <= high for n in nums) or (len(nums) == 2 and nums[0] > nums[1])
                    or (m.group(4) is not None and int(m.group(4)) == 0)):
                raise ValueError(f"invalid {name} field {item!r} in crontab {value!r} (numbers {low}-{high}, "
                                 "'*', 'N-M', '/STEP', comma-separated)")
    return value


def _strip_empty(value: Any) -> Any:
    return None if value == "" else value


TimeframeName = Annotated[str, AfterValidator(_timeframe)]
TimeframeList = Annotated[list[TimeframeName], AfterValidator(_non_empty_unique)]
CoinName = Annotated[str, AfterValidator(_coin)]
CoinList = Annotated[list[CoinName], AfterValidator(_non_empty_unique)]
SourceList = Annotated[list[Literal["template", "unger", "pattern", "llm", "grid"]], AfterValidator(_non_empty_unique)]
DatabaseUrl = Annotated[str | None, AfterValidator(_database_url)]
WebhookUrl = Annotated[str | None, BeforeValidator(_strip_empty), AfterValidator(_http_url)]
WalletAddress = Annotated[str | None, BeforeValidator(_strip_empty), AfterValidator(_wallet)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
CronExpr = Annotated[str, AfterValidator(_cron)]
