"""The executor lease of a process (:class:`sixbtc.app.lease.ExecutorLease`) on SQLite: times
are the database's, not the host's; a keeper thread that stops renewing (it failed, hangs or
died) is noticed before the next bar."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sixbtc.app.lease import ExecutorLease
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import LeaseHeld, LeaseLost

TTL = timedelta(seconds=60)


def test_a_host_whose_clock_runs_ahead_cannot_take_over_a_live_lease(make_world) -> None:
    # before the fix each process timed the lease by its own clock: a holder whose clock ran 5
    # minutes behind wrote an expiry already past for a host whose clock ran 5 minutes ahead
    c = make_world()
    now = datetime.now(UTC)
    slow, fast = replace(c, clock=SimClock(now - timedelta(minutes=5))), replace(c, clock=SimClock(now + timedelta(minutes=5)))
    held = slow.leases.acquire("box-a", 101, "slow clock", TTL, lambda host, pid: False)
    with pytest.raises(LeaseHeld, match=r"pid 101 on host box-a \(slow clock\).*expires in \d+ s"):
        fast.leases.acquire("box-b", 202, "fast clock", TTL, lambda host, pid: False)
    assert c.leases.current().token == held.token
    assert abs((held.expires_at - now).total_seconds() - 60) < 5, "timed by the database (this host's clock)"


class FlakyLeases:
    """The container's lease repository, whose renewals fail the first ``failures`` times with ``error``."""

    def __init__(self, inner: Any, error: BaseException, failures: int = 1) -> None:
        self.inner, self.error, self.failures = inner, error, failures

    def renew(self, token: int, ttl: timedelta) -> bool:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return self.inner.renew(token, ttl)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's death, on purpose
def test_a_keeper_thread_that_died_silently_is_noticed_before_the_next_bar(make_world) -> None:
    c = make_world()
    c.__dict__["leases"] = FlakyLeases(c.leases, SystemExit())  # a thread ends on SystemExit without a word
    with ExecutorLease(c, "replay", ttl=timedelta(seconds=0.4)) as lease:
        lease._thread.join(timeout=30)
        assert not lease._thread.is_alive()
        c.leases.inner.acquire("box-b", 202, "other", TTL, lambda host, pid: True)  # taken over meanwhile
        time.sleep(0.25)  # more than ttl / 2 without renewal
        with pytest.raises(LeaseLost, match="taken over"):  # before the fix: no error, trading went on
            lease.check()


def test_a_failed_renewal_is_logged_and_the_next_one_keeps_the_lease(make_world, caplog) -> None:
    c = make_world()
    c.__dict__["leases"] = FlakyLeases(c.leases, RuntimeError("database is locked"))
    with caplog.at_level(logging.WARNING, logger="sixbtc.app.lease"), \
            ExecutorLease(c, "replay", ttl=timedelta(seconds=0.4)) as lease:
        deadline = time.monotonic() + 30
        while c.leases.failures or c.leases.current().renewed_at == c.leases.current().acquired_at:
            assert time.monotonic() < deadline, "never renewed"
            time.sleep(0.02)
        lease.check()
    assert "executor lease renewal failed, retrying in 0 s: RuntimeError: database is locked" in caplog.text
