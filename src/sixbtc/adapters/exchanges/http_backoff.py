"""The ``Retry-After`` rule shared by every HTTP reader of market data.

RFC 9110 §10.2.3: ``Retry-After`` is delta-seconds or an HTTP date. Binance USDⓈ-M ("General
Info > Limits"): a 429 means the request-weight limit was broken and ``Retry-After`` tells how
many seconds to wait; repeated violations get 418 (an IP ban) with the same header.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

MAX_RETRY_AFTER_S = 300.0
"""Longest wait honoured from a ``Retry-After`` header, seconds (a larger value fails the read)."""

def retry_after_s(headers: Any, now_s: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    Parameters
    ----------
    headers : mapping or None
        Response headers (case-insensitive mapping such as ``requests``' ``CaseInsensitiveDict``,
        or a plain dict).
    now_s : float or None
        Current epoch seconds for an HTTP-date value (default: wall clock).

    Returns
    -------
    float or None
        ``>= 0`` seconds.
    """
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now_s is None else now_s))
