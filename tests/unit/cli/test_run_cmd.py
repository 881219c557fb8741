"""Issue 8, ``sixbtc run``: paper-only refusals, the store message, signal exit codes.

The signal tests start the real command in a subprocess. The market-data venue is made
unreachable through a proxy on a closed local port (127.0.0.1:9), so the service starts
offline without trying the internet.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.home import Home
from sixbtc.cli.main import app

runner = CliRunner()
SIXBTC = Path(sys.executable).with_name("sixbtc")
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}


def _candles(n: int, freq: str, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame({"timestamp": ts, "open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1.0})


def _home(tmp_path: Path, config: str, tf: str = "1h", n: int = 6000) -> Path:
    home = tmp_path / "home"
    store = ParquetCandleStore(Home(home).store_dir)
    store.write_candles("BTC", tf, _candles(n, tf.replace("m", "min").replace("d", "D")))
    (home / "config.yaml").write_text("data:\n  network_probe_timeout_s: 1\n" + config)
    return home


# --------------------------------------------------------------------------- paper only
@pytest.mark.parametrize("how", ["file", "env"])
def test_dry_run_false_without_live_refuses_naming_both_switches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for k, v in OFFLINE.items():  # should the refusal ever be lost, no download reaches the internet
        monkeypatch.setenv(k, v)
    if how == "file":
        (home / "config.yaml").write_text("executor:\n  dry_run: false\n")
    else:
        monkeypatch.setenv("SIXBTC__EXECUTOR__DRY_RUN", "false")
    for args in (["run"], ["run", "--once"]):
        res = runner.invoke(app, ["--home", str(home), *args])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert "executor.dry_run is false but --live was not given: refusing to start" in text
    assert not (home / "sixbtc.db").exists()  # nothing was created, no sub-account marked live


def test_live_needs_both_signals_and_the_key_then_warns_and_refuses_without_a_wallet(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "run", "--live"])
    assert res.exit_code == 2 and "--live was given but executor.dry_run is true" in " ".join(res.output.split())
    (tmp_path / "config.yaml").write_text("executor:\n  dry_run: false\n")
    alone = runner.invoke(app, ["--home", str(tmp_path), "run"])
    assert alone.exit_code == 2 and "executor.dry_run is false but --live was not given" in " ".join(alone.output.split())
    nokey = runner.invoke(app, ["--home", str(tmp_path), "run", "--live"])
    assert nokey.exit_code == 2 and "exchange.agent_private_key: live trading needs the agent wallet key" in \
        " ".join(nokey.output.split())
    key = tmp_path / "agent.key"
    key.write_text("0x" + "ab" * 32 + "\n")
    key.chmod(0o644)
    (tmp_path / "config.yaml").write_text(f"executor:\n  dry_run: false\nexchange:\n  agent_key_file: {key}\n")
    loose = runner.invoke(app, ["--home", str(tmp_path), "run", "--live"])
    text = " ".join(loose.output.split())
    assert loose.exit_code == 2 and "exchange.agent_key_file" in text and "mode 0644" in text and "ab" * 32 not in text
    key.chmod(0o600)
    both = runner.invoke(app, ["--home", str(tmp_path), "run", "--live", "--live-delay-s", "0"])
    text = " ".join(both.output.split())
    assert both.exit_code == 2, both.output
    assert "LIVE TRADING on hyperliquid" in text and f"agent key from {key}" in text and "0 LIVE strategies" in text
    assert "exchange.wallet_address: the master address is required for Hyperliquid" in text
    assert "ab" * 32 not in text
    help_text = " ".join(runner.invoke(app, ["run", "--help"]).output.replace("│", " ").split())
    assert "needs executor.dry_run: false as well" in help_text and "waits 5 s" in help_text
    assert "--live-delay-s" not in help_text  # the tests' option is hidden
    once = runner.invoke(app, ["--home", str(tmp_path), "run", "--live", "--once"])
    assert once.exit_code == 2 and "--live cannot be combined with --once" in " ".join(once.output.split())


def test_live_countdown_prints_each_second(tmp_path: Path) -> None:
    key = tmp_path / "agent.key"
    key.write_text("ab" * 32)
    key.chmod(0o600)
    (tmp_path / "config.yaml").write_text(f"executor:\n  dry_run: false\nexchange:\n  agent_key_file: {key}\n")
    res = runner.invoke(app, ["--home", str(tmp_path), "run", "--live", "--live-delay-s", "2"])
    assert res.exit_code == 2
    assert "starting in 2 s (Ctrl-C aborts)" in res.output and "starting in 1 s" in res.output
    assert runner.invoke(app, ["--home", str(tmp_path), "run", "--live", "--live-delay-s", "6"]).exit_code == 2
    # above 5 s is refused by the option itself: the wait can only be shortened, for tests


# --------------------------------------------------------------------------- store message
def test_store_with_other_timeframes_says_what_it_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path, "", tf="1d", n=300)
    for k, v in OFFLINE.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    res = runner.invoke(app, ["--home", str(home), "run", "--once"])
    text = " ".join(res.output.split())
    assert res.exit_code == 3, res.output
    assert "candle store is empty" not in text
    assert "holds no candles of backtest.timeframes (15m, 30m, 1h, 4h); it holds 1d (1 coin: BTC)" in text
    assert "or set backtest.timeframes to stored ones (1d)" in text


# --------------------------------------------------------------------------- signals
def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("SIXBTC", "NO_PROXY"))}
    return env | OFFLINE


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(SIXBTC), "--home", str(home), "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(), start_new_session=True)


def _wait_for(proc: subprocess.Popen[str], needle: str, timeout_s: float = 60) -> str:
    seen = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    for line in proc.stdout:  # the service prints its start line before waiting
        seen.append(line)
        if needle in line or time.monotonic() > deadline:
            break
    assert any(needle in s for s in seen), "".join(seen)
    return "".join(seen)


@pytest.mark.parametrize(("sig", "group", "code"), [
    (signal.SIGTERM, False, 143), (signal.SIGTERM, True, 143), (signal.SIGINT, True, 130)])
def test_service_exits_128_plus_the_signal(tmp_path: Path, sig: signal.Signals, group: bool, code: int) -> None:
    home = _home(tmp_path, "generator:\n  daily_limit: 0\n")  # no factory work: the loop only waits
    proc = _start(home)
    try:
        _wait_for(proc, "service started")
        if group:
            os.killpg(proc.pid, sig)  # as systemd or Ctrl-C do: the workers get it too
        else:
            proc.send_signal(sig)  # as `kill PID` does
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, out
    assert f"stopped by {sig.name}" in out


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def test_once_sigterm_stops_cleanly_with_143(tmp_path: Path) -> None:
    home = _home(tmp_path, "")
    proc = subprocess.Popen([str(SIXBTC), "--home", str(home), "run", "--once", "--generate", "12"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    try:
        deadline = time.monotonic() + 60
        while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the validator workers have started: the cycle is under way
        proc.send_signal(signal.SIGTERM)  # to `sixbtc` alone: it passes the signal on to its workers
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, out
    assert "stopped by SIGTERM" in out
    with sqlite3.connect(home / "sixbtc.db") as db:
        assert db.execute("SELECT count(*) FROM strategies WHERE processing_by IS NOT NULL").fetchone() == (0,)


def test_cycle_summary_prints_the_window_planners_notes(capsys: pytest.CaptureFixture[str]) -> None:
    """A series the planner ignored (it ends in the future) is said in the cycle summary, not
    only in the log (before: the note never reached the terminal)."""
    from sixbtc.app.once import CycleReport
    from sixbtc.app.window import CycleWindow
    from sixbtc.cli.run_cmd import render_cycle

    t = pd.Timestamp("2026-01-01", tz="UTC")
    note = "BTC 1h: ignored by the window planner, its last candle closes after now"
    render_cycle(CycleReport(CycleWindow(t, t, t, t, notes=(note,))))
    err = capsys.readouterr().err
    assert "warning:" in err and note in " ".join(err.split())


def test_the_live_warning_names_what_trades_and_what_stays_on_paper() -> None:
    from sixbtc.app.live_mode import LivePlan, live_warning

    plan = LivePlan("hyperliquid", "0xabc", "environment", (("Strategy_MOM_00000001", "live-001", ("BTC", "ETH"), 100.0),),
                    ("Strategy_MOM_00000002",))
    text = live_warning(plan)
    assert "1 LIVE strategies, capital 100.00 USD" in text and "on sub-account live-001: BTC, ETH" in text
    assert "Not traded live (promoted in paper mode, paper balances): Strategy_MOM_00000002" in text
