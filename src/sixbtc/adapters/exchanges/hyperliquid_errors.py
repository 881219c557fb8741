"""Translation of hyperliquid-python-sdk / ``requests`` failures into the venue port's errors.

No SDK or ``requests`` exception crosses the port (:mod:`sixbtc.executor.venue`):

- reads (``/info``): timeouts, connection errors, 429 and 5xx are retried with exponential
  back-off (``retries`` extra attempts; a 429's ``Retry-After`` seconds, RFC 9110 §10.2.3,
  lengthen the wait, and one longer than ``max_wait_s`` ends the retries at once), then raised
  as ``TransientExchangeError``; any other failure is raised as ``TransientExchangeError`` at
  once (the caller's retry loop decides);
- writes (``/exchange``): NEVER retried. A timeout, a connection error (reset after sending,
  refused, dropped), a 5xx, a 429 or an unexpected SDK failure may have reached the venue:
  ``AmbiguousOrderOutcome`` (the caller resolves it by querying the cloid). A 4xx other than
  429 and a ``{"status": "err"}`` answer are refusals: ``OrderRejected``, or
  ``InsufficientFunds`` when the venue names missing margin or balance.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from hyperliquid.utils.error import ClientError, ServerError

from sixbtc.core.errors import (
    AmbiguousOrderOutcome,
    InsufficientFunds,
    OrderRejected,
    SixbtcError,
    TransientExchangeError,
)

T = TypeVar("T")
_FUNDS_WORDS = ("insufficient margin", "insufficient balance", "not enough")


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, requests.RequestException | ServerError):
        return True
    return isinstance(exc, ClientError) and exc.status_code == 429


def describe(exc: Exception) -> str:
    """A short, credential-free text for an SDK or transport exception."""
    if isinstance(exc, ClientError):
        return f"HTTP {exc.status_code}: {exc.error_message}"
    if isinstance(exc, ServerError):
        return f"HTTP {exc.status_code}"
    return f"{type(exc).__name__}: {exc}"


def retry_after_s(exc: Exception) -> float | None:
    """The ``Retry-After`` of a 429 in seconds (delta-seconds or an HTTP date), else None.

    The SDK (0.24.0 ``API._handle_exception``) puts the response headers in ``header`` for a
    JSON error body and in ``error_data`` for a plain-text one; both are looked at.
    """
    if not (isinstance(exc, ClientError) and exc.status_code == 429):
        return None
    for headers in (exc.header, exc.error_data):
        value = headers.get("Retry-After") if hasattr(headers, "get") else None
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                return max(0.0, parsedate_to_datetime(str(value)).timestamp() - time.time())
    return None


def call_read(fn: Callable[[], T], what: str, *, retries: int, backoff_s: float,
              sleep: Callable[[float], None] = time.sleep, max_wait_s: float = 10.0) -> T:
    """Run read ``fn`` with bounded retries; see the module docstring.

    Parameters
    ----------
    retries, backoff_s : int, float
        Extra attempts; the first wait (s), doubled per attempt.
    max_wait_s : float
        Longest ``Retry-After`` (s) waited for inside this call.

    Raises
    ------
    TransientExchangeError
        When every attempt failed, or the venue asked to wait longer than ``max_wait_s``
        (names ``what`` and the last failure).
    """
    for attempt in range(retries + 1):
        try:
            return fn()
        except SixbtcError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated, never crosses the port
            asked = retry_after_s(exc)
            if not _is_transient(exc) or attempt == retries or (asked is not None and asked > max_wait_s):
                later = f" (retry after {asked:g} s)" if asked is not None else ""
                raise TransientExchangeError(f"hyperliquid {what}: {describe(exc)}{later}") from exc
            sleep(max(backoff_s * 2**attempt, asked or 0.0))
    raise AssertionError("unreachable")


def call_write(fn: Callable[[], Any], what: str) -> Any:
    """Run write ``fn`` once; returns the venue's JSON answer (``status`` checked).

    Raises
    ------
    AmbiguousOrderOutcome
        The request may have been applied (timeout, connection error, 429, 5xx, SDK failure).
    OrderRejected, InsufficientFunds
        The venue refused it (4xx, or ``{"status": "err", "response": message}``).
    """
    try:
        answer = fn()
    except SixbtcError:
        raise
    except ClientError as exc:
        if exc.status_code == 429:
            raise AmbiguousOrderOutcome(f"hyperliquid {what}: rate limited (429); outcome unknown") from exc
        raise OrderRejected(f"hyperliquid {what}: {describe(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - timeouts, resets, 5xx, anything after sending
        raise AmbiguousOrderOutcome(f"hyperliquid {what}: {describe(exc)}; outcome unknown") from exc
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        message = answer.get("response") if isinstance(answer, dict) else answer
        raise refusal(f"hyperliquid {what}: {message}")
    return answer


def refusal(message: str) -> OrderRejected:
    """``InsufficientFunds`` when ``message`` names missing margin/balance, else ``OrderRejected``."""
    lowered = message.lower()
    if any(word in lowered for word in _FUNDS_WORDS):
        return InsufficientFunds(message)
    return OrderRejected(message)


def statuses(answer: dict[str, Any]) -> list[Any]:
    """``response.data.statuses`` of an order/cancel answer (``AmbiguousOrderOutcome`` when absent)."""
    try:
        return list(answer["response"]["data"]["statuses"])
    except (KeyError, TypeError) as exc:
        raise AmbiguousOrderOutcome(f"hyperliquid: answer without statuses: {answer!r}") from exc
