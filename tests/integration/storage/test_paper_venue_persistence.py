"""The paper venue survives ``kill -9``: a venue rebuilt on the same database shows the state of a
call boundary (no fill lost, none written twice), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
SCRIPT = _HERE / "paper_scenario.py"

from paper_scenario import count_steps, reference, snapshot, venue  # noqa: E402  (conftest puts _HERE on sys.path)


def _run_until(db_url: str, marker: str) -> int:
    """Run the session in a child process, SIGKILL it right after it printed ``marker``; return
    the last step it reported done."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(SCRIPT), db_url], stdout=subprocess.PIPE, text=True, env=env)
    last = 0
    try:
        for line in proc.stdout:
            if line.startswith("step "):
                last = int(line.split()[1])
            if line.strip() == marker or line.strip() == "finished":
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        for line in proc.stdout.read().splitlines():  # lines flushed before it died
            if line.startswith("step "):
                last = int(line.split()[1])
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return last


@pytest.mark.parametrize("kill_at", [7, 60, 150])
def test_a_venue_killed_mid_session_restarts_on_a_call_boundary(db_url: str, tmp_path: Path, kill_at: int) -> None:
    total = count_steps(f"sqlite:///{tmp_path / 'count.db'}")
    assert total > 150
    last = _run_until(db_url, f"step {kill_at}")
    assert kill_at <= last < total
    state = snapshot(venue(db_url))
    done = reference(f"sqlite:///{tmp_path / 'ref_done.db'}", last)
    next_ = reference(f"sqlite:///{tmp_path / 'ref_next.db'}", last + 1)
    assert state in (done, next_), "the venue after kill -9 is not the state of any call boundary"
    n_fills = sum(len(state[a]["fills"]) for a in ("a", "b") if a in state)
    trade_ids = [f["trade_id"] for a in ("a", "b") if a in state for f in state[a]["fills"]]
    assert len(set(trade_ids)) == n_fills


def test_a_venue_rebuilt_after_its_process_died_shows_the_same_state(db_url: str, tmp_path: Path) -> None:
    total = count_steps(f"sqlite:///{tmp_path / 'count.db'}")
    assert _run_until(db_url, "finished") == total
    state = snapshot(venue(db_url))
    assert state == reference(f"sqlite:///{tmp_path / 'ref.db'}", total)
    assert sum(len(state[a]["fills"]) for a in ("a", "b")) >= 10
    assert sum(len(state[a]["funding"]) for a in ("a", "b")) >= 3
