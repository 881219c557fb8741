"""Hyperliquid public ``info`` endpoint (read-only, no key): perpetual markets for the pairs updater.

``POST {base_url}/info`` with ``{"type": "metaAndAssetCtxs"}`` answers ``[meta, ctxs]``
(Hyperliquid API docs, "Info endpoint / Perpetuals / Retrieve perpetuals asset contexts"):
``meta["universe"][i]`` holds ``name``, ``maxLeverage`` and, for a delisted market,
``isDelisted: true``; ``ctxs[i]`` the same market's ``dayNtlVlm`` (24 h notional volume, USD)
and ``markPx`` (strings). Errors are translated at this edge:

* connection failure -> ``NetworkUnavailable``;
* HTTP 429 and 5xx, timeouts -> retried ``max_retries`` times, waiting ``Retry-After``
  seconds when the venue sends it (capped at ``max_wait_s``) else ``backoff_s * 2**attempt``,
  then ``TransientExchangeError``;
* another HTTP error or a malformed body -> ``DataError`` naming what is wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError
from sixbtc.data.universe import PerpMarket

log = logging.getLogger(__name__)

MAINNET_URL = "https://api.hyperliquid.xyz"


def retry_after_s(response: httpx.Response) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds form), None when absent or not a number."""
    raw = response.headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


class HyperliquidInfo:
    """Reads ``metaAndAssetCtxs``; implements :class:`sixbtc.data.ports.PerpMarketsClient`.

    Parameters
    ----------
    base_url : str
        API root, e.g. ``https://api.hyperliquid.xyz`` (tests: a fake on 127.0.0.1).
    timeout_s : float
        HTTP timeout per request, seconds (> 0).
    max_retries : int
        Retries after the first attempt on 429 / 5xx / timeout (>= 0).
    backoff_s : float
        First back-off without ``Retry-After``, seconds; doubled at each retry.
    max_wait_s : float
        Longest wait honoured from a ``Retry-After`` header, seconds.
    sleep : callable
        ``time.sleep`` (tests record the waits).

    Raises
    ------
    DataError
        If a numeric argument is out of range.
    """

    def __init__(self, base_url: str = MAINNET_URL, *, timeout_s: float = 10.0, max_retries: int = 3,
                 backoff_s: float = 1.0, max_wait_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_wait_s < 0:
            raise DataError("timeout_s must be > 0; max_retries, backoff_s and max_wait_s >= 0")
        self.url = base_url.rstrip("/") + "/info"
        self.timeout_s, self.max_retries, self.backoff_s, self.max_wait_s = timeout_s, max_retries, backoff_s, max_wait_s
        self._sleep = sleep

    def _post(self, body: dict[str, Any]) -> Any:
        what = f"hyperliquid info {body.get('type')}"
        for attempt in range(self.max_retries + 1):
            try:
                resp = httpx.post(self.url, json=body, timeout=self.timeout_s)
            except httpx.TimeoutException as exc:
                resp, err = None, exc
            except httpx.TransportError as exc:
                raise NetworkUnavailable(f"{what}: {self.url} unreachable ({exc})") from exc
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError as exc:
                        raise DataError(f"{what}: the answer is not JSON: {resp.text[:120]!r}") from exc
                if resp.status_code != 429 and resp.status_code < 500:
                    raise DataError(f"{what}: HTTP {resp.status_code}: {resp.text[:200]}")
                err = None
            if attempt == self.max_retries:
                status = f"HTTP {resp.status_code}" if resp is not None else f"timeout ({err})"
                raise TransientExchangeError(f"{what}: {status} after {attempt + 1} attempts")
            asked = retry_after_s(resp) if resp is not None else None
            delay = min(asked, self.max_wait_s) if asked is not None else self.backoff_s * 2**attempt
            log.warning("%s: %s, retrying in %.2f s", what,
                        f"HTTP {resp.status_code}" if resp is not None else "timeout", delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def perp_markets(self) -> list[PerpMarket]:
        """Every perpetual market with 24 h notional volume (USD), mark price (USD) and max leverage.

        Raises
        ------
        DataError
            If the answer is not ``[meta, ctxs]`` with one context per market, or a field is
            missing / not a number (the message names the market and the field).
        NetworkUnavailable, TransientExchangeError
            See the module docstring.
        """
        data = self._post({"type": "metaAndAssetCtxs"})
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], dict)
                and isinstance(data[0].get("universe"), list) and isinstance(data[1], list)):
            raise DataError("metaAndAssetCtxs: expected [meta with a universe list, asset contexts list]")
        universe, ctxs = data[0]["universe"], data[1]
        if len(universe) != len(ctxs):
            raise DataError(f"metaAndAssetCtxs: {len(universe)} markets but {len(ctxs)} asset contexts")
        return [_market(u, c) for u, c in zip(universe, ctxs, strict=True)]


def _market(meta: Any, ctx: Any) -> PerpMarket:
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not isinstance(ctx, dict):
        raise DataError(f"metaAndAssetCtxs: malformed market entry {meta!r}")
    name = meta["name"]

    def number(source: dict, key: str) -> float:
        try:
            return float(source[key])
        except (KeyError, TypeError, ValueError):
            raise DataError(f"metaAndAssetCtxs: market {name!r}: {key} missing or not a number "
                            f"({source.get(key)!r})") from None

    return PerpMarket(name, number(ctx, "dayNtlVlm"), number(ctx, "markPx"), number(meta, "maxLeverage"),
                      delisted=bool(meta.get("isDelisted", False)))
