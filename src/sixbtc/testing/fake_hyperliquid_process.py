"""The fake Hyperliquid venue as a child process, and what its state says about a client.

Crash tests and ``benchmarks/bench_execution.py`` run the venue in its own process (it outlives
a ``kill -9`` of the executor) and judge the executor by the venue's truth::

    with VenueProcess(tmp_path / "hl.json") as venue:
        venue.control.fund(user=master, usd=10_000)
        ...                                    # run / kill -9 / restart the executor
        state = venue.control.state()
        assert duplicate_cloids(state, account) == {}

The state helpers read the JSON state (:func:`sixbtc.testing.fake_hyperliquid_book.new_state`)
of :meth:`FakeHyperliquidControl.state`.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sixbtc.testing.fake_hyperliquid import FakeHyperliquidControl


class VenueProcess:
    """``python -m sixbtc.testing.fake_hyperliquid`` in a child process (a context manager).

    Parameters
    ----------
    state_file : str or Path, optional
        The venue's JSON state (loaded at start if present, saved after every change); None =
        in memory only (faster: the venue process outlives the clients it serves anyway).
    start_timeout_s : float
        How long to wait for its ``READY`` line (s).
    """

    def __init__(self, state_file: str | Path | None = None, start_timeout_s: float = 30.0) -> None:
        self.state_file = Path(state_file) if state_file is not None else None
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> VenueProcess:
        """Start the process and wait until it listens (RuntimeError when it does not)."""
        state = ["--state", str(self.state_file)] if self.state_file is not None else []
        self.proc = subprocess.Popen([sys.executable, "-m", "sixbtc.testing.fake_hyperliquid", "--port", "0", *state],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"fake Hyperliquid did not start: {line!r}")
        self.url = line.split()[1]
        return self

    @property
    def control(self) -> FakeHyperliquidControl:
        """The test API of the running venue (``POST /_control``)."""
        return FakeHyperliquidControl(self.url, timeout_s=30.0)

    def stop(self) -> None:
        """SIGTERM the venue and wait for it (its state file stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> VenueProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def orders_by_cloid(state: dict[str, Any], user: str) -> Counter[str]:
    """How many orders ``user`` placed per cloid (orders without one are not counted)."""
    user = user.lower()
    return Counter(o["cloid"].lower() for o in state["orders"].values() if o["user"] == user and o["cloid"])


def duplicate_cloids(state: dict[str, Any], user: str) -> dict[str, int]:
    """Cloids ``user`` sent more than once, with their order counts (empty when none)."""
    return {cloid: n for cloid, n in orders_by_cloid(state, user).items() if n > 1}


def venue_fills(state: dict[str, Any], user: str) -> list[dict[str, Any]]:
    """Every fill of ``user``, oldest first (unique ``tid``)."""
    return list(state["accounts"].get(user.lower(), {}).get("fills", []))


def venue_positions(state: dict[str, Any], user: str) -> dict[str, float]:
    """Signed position size per coin of ``user`` (open positions only)."""
    positions = state["accounts"].get(user.lower(), {}).get("positions", {})
    return {coin: float(p["szi"]) for coin, p in positions.items()}


def open_cloids(state: dict[str, Any], user: str) -> set[str]:
    """Cloids of ``user``'s resting orders."""
    user = user.lower()
    return {o["cloid"].lower() for o in state["orders"].values()
            if o["user"] == user and o["cloid"] and o["status"] in ("open", "waitingForFill")}
