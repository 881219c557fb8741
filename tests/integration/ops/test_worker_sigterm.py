"""Issue 13, process roles: ``sixbtc worker ROLE`` stops cleanly on SIGTERM.

A validator working on a claim releases it, stops its sandbox workers and exits 143 within
``processes.stop_timeout_s``; a role stuck in a step it must not interrupt ends itself with
exit 124 when the timeout runs out. The roles run as real subprocesses; the market-data venue
is unreachable (a proxy on a closed local port).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.integration.ops.roles_support import (
    alive,
    children,
    env,
    make_home,
    query,
    start_worker,
    wait_until,
)

STOP_TIMEOUT_S = 15


def test_validator_sigterm_releases_its_claim_and_stops_its_children(tmp_path: Path) -> None:
    home = make_home(tmp_path, f"processes:\n  stop_timeout_s: {STOP_TIMEOUT_S}\n  heartbeat_s: 1\n", generate=20)
    assert query(home, "SELECT count(*) FROM strategies WHERE status = 'GENERATED'")[0][0] >= 5
    log = tmp_path / "validator.log"
    proc = start_worker(home, "validator", log)
    try:
        claimed = wait_until(lambda: bool(children(proc.pid)) and query(
            home, "SELECT count(*) FROM strategies WHERE processing_by IS NOT NULL") == [(1,)], 240, every_s=0.02)
        assert claimed, log.read_text()  # a claim in progress, the sandbox's workers running
        kids = children(proc.pid)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=STOP_TIMEOUT_S + 10)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    out = log.read_text()
    assert code == 143, out
    assert took < STOP_TIMEOUT_S, out
    assert query(home, "SELECT count(*) FROM strategies WHERE processing_by IS NOT NULL") == [(0,)]
    assert query(home, "SELECT state FROM role_heartbeats WHERE role = 'validator'") == [("stopped",)]
    assert wait_until(lambda: not any(alive(k) for k in kids), 5), "sandbox workers outlived the role"
    assert '"event": "stopping"' in out and '"role": "validator"' in out


def test_a_role_stuck_in_a_step_ends_itself_after_the_stop_timeout(tmp_path: Path) -> None:
    home = make_home(tmp_path, "processes:\n  stop_timeout_s: 1\n")
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from sixbtc.app.container import Container
        from sixbtc.app.home import Home
        from sixbtc.app.roles import RoleRuntime
        c = Container.open(Home(Path({str(home)!r})))
        with RoleRuntime(c, "rotator", interruptible=False) as rt:
            with rt.step():
                print("in step", flush=True)
                time.sleep(60)  # a step that does not look at the stop event
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env(), text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "in step" in line:
                break
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert code == 124
    assert 0.9 < took < 10
    assert query(home, "SELECT state, detail FROM role_heartbeats") == [
        ("stopped", "forced exit after processes.stop_timeout_s")]


@pytest.mark.parametrize("role", ["rotator", "monitor"])
def test_periodic_roles_stop_at_once_on_sigterm(tmp_path: Path, role: str) -> None:
    home = make_home(tmp_path, "processes:\n  heartbeat_s: 0.5\n")
    log = tmp_path / f"{role}.log"
    proc = start_worker(home, role, log)
    try:
        assert wait_until(lambda: '"role started"' in log.read_text(), 240, every_s=0.2), log.read_text()
        assert wait_until(lambda: len(query(home, f"SELECT beat_at FROM role_heartbeats WHERE role = '{role}'")) == 1, 10)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    assert code == 143, log.read_text()
    assert query(home, f"SELECT state FROM role_heartbeats WHERE role = '{role}'") == [("stopped",)]
