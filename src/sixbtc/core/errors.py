"""The SixBTC error tree, grouped by what the caller should do.

Vendor exceptions are translated at the adapter edge (``raise ... from exc``).
"""

from __future__ import annotations


class SixbtcError(Exception):
    """Base class of every error SixBTC raises on purpose."""


class ConfigError(SixbtcError):
    """Invalid configuration: the process must exit with the message (names the key path)."""


class DataError(SixbtcError):
    """Invalid or missing market data: skip the symbol/timeframe, keep going."""


class StrategyRejected(SixbtcError):
    """A candidate strategy failed a gate: drop it and record ``reason``.

    Parameters
    ----------
    reason : str
        Short machine-friendly rejection reason, e.g. ``"ast:forbidden_import"``.
    detail : str
        Human-readable detail (line numbers, values).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SourceUnavailable(SixbtcError):
    """A strategy source (the LLM API) failed or answered unusably: skip it, the other
    sources go on.

    Parameters
    ----------
    reason : str
        Short machine-friendly reason, e.g. ``"llm:timeout"``, ``"llm:http_500"``.
    detail : str
        Human-readable detail (never a credential).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class NetworkUnavailable(SixbtcError):
    """The network (or the venue) cannot be reached at all: tell the user the offline path."""


class ComputeUnavailable(SixbtcError):
    """A compute back-end (the Dask cluster of ``backtest.executor: dask``) cannot be reached or
    failed: the claimed strategy is given back (not failed) and the work is retried later."""


class DatabaseUnavailable(SixbtcError):
    """The database (``database.url``) cannot be reached or opened: exit with the message."""


class TransientExchangeError(SixbtcError):
    """Timeout, rate limit or 5xx from a venue: retry reads with back-off."""


class OrderRejected(SixbtcError):
    """The venue refused an order: surface it."""


class InsufficientFunds(OrderRejected):
    """Not enough margin or balance for the order: surface it."""


class DuplicateClientOrderId(OrderRejected):
    """The venue already holds an order of this account with this client order id (any
    status): the earlier request arrived; query the id instead."""


class RiskLimitBreached(SixbtcError):
    """A risk limit or kill switch fired: halt trading of the affected scope."""


class StaleClaim(SixbtcError):
    """A result write carried a fencing token that is no longer current: discard the result."""


class LeaseHeld(SixbtcError):
    """Another live process holds the trading lease of this database: refuse to start trading."""


class LeaseLost(SixbtcError):
    """This process's trading lease expired or was taken over: stop trading at once."""


class AmbiguousOrderOutcome(TransientExchangeError):
    """A write (place/cancel) may or may not have reached the venue: a timeout, a 5xx, a
    connection reset after the request was sent, most 429s. Never send the order again:
    resolve it by querying its client order id (with back-off)."""


class OrderStateConflict(SixbtcError):
    """A journal order was not in the state a compare-and-set expected (another writer moved
    it, or the transition is not in ``domain.orders.ORDER_TRANSITIONS``): nothing was written."""


class OrderNotFound(SixbtcError):
    """The venue does not know this client order id (yet): an ack may still be propagating."""


class TaskSkipped(SixbtcError):
    """A scheduled task cannot do its work here (no such stage in this build, no venue, not
    configured); the message is the reason recorded with the run (outcome ``skipped``)."""
