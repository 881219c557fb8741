"""The process-wide signing turn: strictly increasing millisecond nonces."""

from __future__ import annotations

import threading

from sixbtc.adapters.exchanges.hyperliquid_nonce import NonceClock


def test_each_turn_starts_after_the_last_even_when_the_clock_steps_back() -> None:
    # per turn: readings until a fresh ms, the SDK's own reading (the nonce), the reading at the end
    ticks = iter([100, 100, 100, 100, 101, 101, 90, 95, 101, 102, 102, 102])
    read = lambda: next(ticks)  # noqa: E731
    clock = NonceClock(clock_ms=read)
    nonces: list[int] = []
    for _ in range(3):
        with clock.turn():
            nonces.append(read())
    assert nonces == [100, 101, 102] and clock.last_ms == 102


def test_threads_never_share_a_millisecond() -> None:
    import time

    clock = NonceClock()
    starts: list[int] = []

    def work() -> None:
        for _ in range(20):
            with clock.turn():
                starts.append(int(time.time() * 1000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 80 and len(set(starts)) == 80 and starts == sorted(starts)
