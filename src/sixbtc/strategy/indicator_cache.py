"""Memory-bounded cache of indicator results, shared by the parameter sets of a data set.

Why
---
A strategy's ``signals(data, params)`` runs once per parameter set; most of its indicator
calls repeat between sets (``sma(close, 20)`` is the same whether ``slow`` is 50 or 100).
With the cache active, :mod:`sixbtc.strategy.indicators` computes each
(data set, indicator, input, parameters) once and returns the stored result afterwards.
SPEC/ARCHITECTURE: "indicator results cached per (symbol, timeframe, indicator,
parameters) and shared across parameter combinations and strategies".

Keys
----
``(indicator name, input identities, parameters)`` where an *input identity* is either

* ``(token, "close")`` for an array registered by :meth:`IndicatorCache.set_dataset` (the
  worker's read-only OHLCV arrays), recognised **by object identity** (``is``), never by
  value, so the lookup costs one dict access; or
* the key of a cached result (``("sma", ((token, "close"),), (20,))``, plus an element
  index for tuple results) for an array this cache returned, so ``sma(ema(close, 10), 5)``
  is cached too.

Any other input (a slice, ``close * 2``, a list) has no identity: the indicator is computed
and returned uncached, exactly as without a cache. The ``token`` is a BLAKE2b digest of
the data set's bytes and length: the same candles give the same token (results are reused
when the same data come back), a truncated or shuffled copy gets another token, so a
result computed on one history is never served for another (the look-ahead truncation
test stays meaningful). Identities are held with strong references (registered arrays
until the next data set, results until evicted), so an ``id()`` is never reused while it
is in the table.

Safety
------
Stored results are copied into immutable ``bytes`` and returned as read-only
``np.frombuffer`` views: ``out[0] = 1`` raises and ``out.flags.writeable = True`` is
refused (the base is immutable), so strategy code cannot poison the values another
parameter set (or strategy) will read. Indicators are deterministic functions of their
inputs, so a hit returns exactly what recomputation would.

Memory bound
------------
``max_bytes`` bounds the sum of ``nbytes`` of stored results; least recently used entries
are evicted first (``collections.OrderedDict``). A result larger than the bound is returned
uncached. 1 000 000 bars of float64 are 8 MB, so a call's default 256 MiB holds about
1 600 indicator series of 20 000 bars.

Sharing and trust
-----------------
One cache is *active* per process (:func:`activate`); each sandbox call's process (forked
from the zygote for that call only, :mod:`sixbtc.strategy.sandbox_zygote`) activates a fresh
one and registers the call's OHLCV data set, so it is shared by the parameter sets of one
call and dies with the call: no later call, and no other strategy, can read what it holds
(issue 8: a cache that outlived a call was a channel for state between calls). It is never
persisted outside that process: a cache in the parent or in shared memory would have to
trust values computed by untrusted code. Not thread-safe (the process is single-threaded).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np

__all__ = ["IndicatorCache", "activate", "active", "cached_call", "deactivate"]


def _freeze(arr: np.ndarray) -> np.ndarray:
    """A read-only copy of ``arr`` whose memory is an immutable ``bytes`` object."""
    arr = np.ascontiguousarray(arr)
    return np.frombuffer(arr.tobytes(), dtype=arr.dtype).reshape(arr.shape)


class IndicatorCache:
    """LRU cache of indicator results keyed by data-set token, indicator, inputs, parameters.

    Parameters
    ----------
    max_bytes : int
        Upper bound on the summed ``nbytes`` of stored results (bytes, ``>= 0``; ``0``
        stores nothing).

    Attributes
    ----------
    hits, misses, evictions : int
        Counters since creation (a call with an unidentifiable input counts as neither).
    nbytes : int
        Bytes of results currently stored.
    token : str or None
        Token of the current data set (see :meth:`set_dataset`).

    Raises
    ------
    ValueError
        If ``max_bytes`` is not an int ``>= 0``.
    """

    def __init__(self, max_bytes: int) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"max_bytes must be an int >= 0, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self.hits = self.misses = self.evictions = self.nbytes = 0
        self.token: str | None = None
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._data_ids: dict[int, tuple[np.ndarray, Hashable]] = {}
        self._result_ids: dict[int, tuple[np.ndarray, Hashable]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def set_dataset(self, arrays: Mapping[str, np.ndarray]) -> str:
        """Register the arrays of a new data set; return its token.

        Parameters
        ----------
        arrays : mapping of str -> numpy.ndarray
            E.g. ``open high low close volume``, each shape ``(n_bars,)``. The caller must
            not modify them afterwards (the worker passes read-only views over ``bytes``).

        Returns
        -------
        str
            Hex BLAKE2b-128 digest of the names, shapes, dtypes and bytes of the arrays.

        Notes
        -----
        Results of earlier data sets stay stored (LRU) and are served again if the same
        content is registered later; only the identities of the previous arrays are dropped.
        """
        hasher = hashlib.blake2b(digest_size=16)
        for name in sorted(arrays):
            arr = np.ascontiguousarray(arrays[name])
            hasher.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
            hasher.update(memoryview(arr).cast("B"))
        token = hasher.hexdigest()
        self._data_ids = {id(a): (a, (token, name)) for name, a in arrays.items()}
        self.token = token
        return token

    def clear(self) -> None:
        """Drop every stored result and the registered data set (counters are kept)."""
        self._entries.clear()
        self._data_ids.clear()
        self._result_ids.clear()
        self.nbytes = 0
        self.token = None

    def identity(self, x: object) -> Hashable | None:
        """The cache identity of an input array, or ``None`` when it has none."""
        key = id(x)
        found = self._data_ids.get(key) or self._result_ids.get(key)
        if found is not None and found[0] is x:
            return found[1]
        return None

    def get(self, key: Hashable) -> Any:
        """The stored result of ``key`` (marked most recently used) or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Hashable, result: np.ndarray | tuple[np.ndarray, ...]) -> Any:
        """Store a read-only copy of ``result`` under ``key`` and return that copy.

        ``result`` is an array or a tuple of arrays. If it alone exceeds ``max_bytes`` it is
        returned unchanged and not stored; otherwise least recently used entries are evicted
        until it fits.
        """
        if key in self._entries:
            return self._entries[key][0]
        parts = result if isinstance(result, tuple) else (result,)
        size = sum(int(p.nbytes) for p in parts)
        if size > self.max_bytes:
            return result
        while self.nbytes + size > self.max_bytes:
            self._evict_oldest()
        frozen = tuple(_freeze(p) for p in parts)
        if isinstance(result, tuple):
            for i, arr in enumerate(frozen):
                self._result_ids[id(arr)] = (arr, (key, i))
            stored: Any = frozen
        else:
            stored = frozen[0]
            self._result_ids[id(stored)] = (stored, key)
        self._entries[key] = (stored, size)
        self.nbytes += size
        return stored

    def _evict_oldest(self) -> None:
        _, (stored, size) = self._entries.popitem(last=False)
        for arr in stored if isinstance(stored, tuple) else (stored,):
            self._result_ids.pop(id(arr), None)
        self.nbytes -= size
        self.evictions += 1


_ACTIVE: IndicatorCache | None = None


def activate(cache: IndicatorCache) -> None:
    """Make ``cache`` the process's active cache (used by every indicator call).

    Raises
    ------
    TypeError
        If ``cache`` is not an :class:`IndicatorCache`.
    """
    global _ACTIVE
    if not isinstance(cache, IndicatorCache):
        raise TypeError(f"cache must be an IndicatorCache, got {type(cache).__name__}")
    _ACTIVE = cache


def deactivate() -> None:
    """Stop caching: indicators compute every call and return writable arrays again."""
    global _ACTIVE
    _ACTIVE = None


def active() -> IndicatorCache | None:
    """The active cache, or ``None``."""
    return _ACTIVE


def cached_call(
    name: str, inputs: tuple[np.ndarray, ...], params: tuple[Hashable, ...],
    compute: Callable[[], Any],
) -> Any:
    """Return ``compute()``, served from / stored in the active cache when possible.

    Parameters
    ----------
    name : str
        Indicator name (part of the key).
    inputs : tuple of numpy.ndarray
        The validated input series; each needs an identity (see :meth:`IndicatorCache.identity`)
        for the call to be cached.
    params : tuple
        The validated, hashable parameters (ints/floats).
    compute : callable
        Computes the result (an array or a tuple of arrays) on a miss.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        Read-only when served from or stored in the cache; ``compute()``'s own result when
        no cache is active or an input has no identity.
    """
    cache = _ACTIVE
    if cache is None:
        return compute()
    ids = []
    for x in inputs:
        ident = cache.identity(x)
        if ident is None:
            return compute()
        ids.append(ident)
    key = (name, tuple(ids), params)
    hit = cache.get(key)
    if hit is not None:
        return hit
    return cache.put(key, compute())
