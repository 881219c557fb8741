"""One nonce sequence per process for every signed Hyperliquid request.

The SDK signs each ``/exchange`` action with ``nonce = time.time() in ms`` taken inside the call
(``hyperliquid.utils.signing.get_timestamp_ms``). The venue keeps each signer's 100 highest
nonces and refuses a reused one (docs, "Nonces and API wallets"), so two writes in the same
millisecond — two threads, or two :class:`~sixbtc.adapters.exchanges.hyperliquid.HyperliquidClient`
objects of one process sharing the agent — would lose one of them. :data:`NONCES` makes every
signed request of the process take its turn and start in a millisecond later than both the
start and the end of the previous one: nonces are strictly increasing across threads and
clients, also when the wall clock steps back between requests (the next one waits until the
clock has passed the last turn again). A step back *during* a request is not covered (the SDK
reads the clock itself).

One trading process per agent wallet (the executor's trading lease) keeps the sequence unique
on the venue; a second process signing with the same agent could still collide.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _now_ms() -> int:
    return int(time.time() * 1000)


class NonceClock:
    """Serialises signed requests; each starts in a fresh millisecond (see the module docstring).

    Parameters
    ----------
    clock_ms : callable
        Wall clock in ms (the SDK's nonce source); injectable for tests of this class.
    """

    def __init__(self, clock_ms: Callable[[], int] = _now_ms) -> None:
        self._lock = threading.Lock()
        self._clock_ms = clock_ms
        self.last_ms = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the process's signing turn for one request (blocks other signers meanwhile)."""
        with self._lock:
            start = self._clock_ms()
            while start <= self.last_ms:
                time.sleep(0.0002)
                start = self._clock_ms()
            try:
                yield
            finally:
                self.last_ms = max(self.last_ms, start, self._clock_ms())


NONCES = NonceClock()
"""The process-wide clock every :class:`HyperliquidClient` write goes through."""
