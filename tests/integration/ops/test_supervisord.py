"""Issue 13, supervisord: the generated configuration runs every role as its own process;
a role killed with SIGKILL is restarted and the crash is recorded by the event listener.

Runs the real ``supervisord`` (PyPI ``supervisor``) on a unix socket in a temporary directory;
the roles are offline (the market-data venue behind a closed local port) and the API listens
on a free 127.0.0.1 port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.ops.roles_support import SIXBTC, env, make_home, query, wait_until

BIN = Path(sys.executable).parent
STATUS = re.compile(r"^(\S+)\s+(\w+)\s*(?:pid (\d+))?", re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(conf: Path) -> dict[str, tuple[str, int | None]]:
    out = subprocess.run([str(BIN / "supervisorctl"), "-c", str(conf), "status"], capture_output=True, text=True,
                         timeout=30, env=env()).stdout
    return {m[1]: (m[2], int(m[3]) if m[3] else None) for m in STATUS.finditer(out)}


@pytest.mark.timeout(900)  # eight Python processes start on a small shared machine
def test_supervisord_runs_every_role_and_restarts_a_killed_one(tmp_path: Path) -> None:
    home = make_home(tmp_path, f"generator:\n  daily_limit: 0\n  workers: 1\napi:\n  port: {_free_port()}\n"
                               "processes:\n  heartbeat_s: 1\n  stop_timeout_s: 5\n")
    made = subprocess.run([str(SIXBTC), "--home", str(home), "supervisor-config", "--run-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, env=env(), timeout=120)
    assert made.returncode == 0, made.stderr
    roles = re.search(r"roles: ([a-z, ]+)\)", made.stdout)[1].split(", ")
    conf = home / "supervisord.conf"
    expected = {f"{g}:sixbtc-{r}" for r, g in (("generator", "pipeline"), ("validator", "pipeline"),
                                                ("backtester", "pipeline"), ("rotator", "trading"),
                                                ("executor", "trading"), ("monitor", "trading"),
                                                ("scheduler", "orchestration"), ("api", "orchestration"))
                if r in roles} | {"sixbtc-crash-listener"}
    sd = subprocess.Popen([str(BIN / "supervisord"), "-n", "-c", str(conf)], env=env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        running = lambda: set(_status(conf)) == expected and all(s == "RUNNING" for s, _ in _status(conf).values())  # noqa: E731
        beating = lambda: {r for (r,) in query(home, "SELECT role FROM role_heartbeats WHERE state = 'running'")}  # noqa: E731
        assert wait_until(lambda: running() and beating() == set(roles), 420, every_s=1), (_status(conf), beating())
        _, pid = _status(conf)["trading:sixbtc-rotator"]
        os.kill(pid, signal.SIGKILL)
        crash = "SELECT key, severity, message FROM alerts WHERE kind = 'crash'"
        assert wait_until(lambda: len(query(home, crash)) == 1, 180, every_s=0.5), query(home, "SELECT * FROM alerts")
        key, severity, message = query(home, crash)[0]
        assert (key, severity) == ("trading:sixbtc-rotator", "CRITICAL")
        assert f"pid {pid}" in message and "exited unexpectedly" in message
        restarted = lambda: _status(conf)["trading:sixbtc-rotator"][0] == "RUNNING" and \
            _status(conf)["trading:sixbtc-rotator"][1] != pid  # noqa: E731
        assert wait_until(restarted, 120, every_s=0.5), _status(conf)
        assert all(s == "RUNNING" for s, _ in _status(conf).values()), _status(conf)
    finally:
        subprocess.run([str(BIN / "supervisorctl"), "-c", str(conf), "shutdown"], capture_output=True, timeout=120,
                       env=env())
        try:
            sd.wait(timeout=120)
        finally:
            sd.kill()
    assert sd.returncode == 0
    logs = sorted(p.name for p in (home / "logs").iterdir())
    assert "sixbtc-rotator.log" in logs and "supervisord.log" in logs and "sixbtc-crash-listener.log" in logs
    # every role stopped cleanly on supervisord's SIGTERM; only the SIGKILLed process never said so
    assert query(home, "SELECT pid FROM role_heartbeats WHERE state = 'running'") == [(pid,)]
