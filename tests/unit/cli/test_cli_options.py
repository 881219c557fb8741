"""Issue 8, what a new user meets first: ``--home`` after the command, flags in help, tables
that cut values, ``validate DIR --json``, slow static rejections, tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.container import Container
from sixbtc.app.home import Home, resolve_home
from sixbtc.cli import context
from sixbtc.cli.main import app, hoist_global_option
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

runner = CliRunner()
CORPUS = Path(__file__).resolve().parents[1] / "validator" / "corpus"
SIXBTC = Path(sys.executable).with_name("sixbtc")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "COLUMNS" and not k.startswith("SIXBTC")}


# --------------------------------------------------------------------------- --home
def test_home_may_follow_the_command(tmp_path: Path) -> None:
    for args in (["status", "--home", str(tmp_path), "--json"], ["status", "--json", f"--home={tmp_path}"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["pool"]["count"] == 0
    assert (tmp_path / "sixbtc.db").exists()
    src = tmp_path / "src"
    src.mkdir()
    res = runner.invoke(app, ["data", "import", str(src), "--home", str(tmp_path / "h2")])
    assert res.exit_code == 3, res.output  # an empty folder imports nothing (data error), in home h2
    assert "nothing imported" in res.output
    assert (tmp_path / "h2" / "data" / "binance").is_dir()


def test_hoisting_keeps_everything_else_in_place() -> None:
    assert hoist_global_option(["pool", "--limit", "3", "--home", "H", "--json"]) == [
        "--home", "H", "pool", "--limit", "3", "--json"]
    assert hoist_global_option(["validate", "--", "--home"]) == ["validate", "--", "--home"]


# --------------------------------------------------------------------------- help
@pytest.mark.parametrize("args", [[], ["run"], ["status"], ["pool"], ["validate"], ["init"], ["data"],
                                  ["data", "import"], ["data", "download"]])
def test_flags_show_no_value_type_in_help(args: list[str]) -> None:
    res = runner.invoke(app, [*args, "--help"])
    assert res.exit_code == 0, res.output
    assert "--help" in res.output and "<bool>" not in res.output


# --------------------------------------------------------------------------- tables
def _long_status_home(tmp_path: Path) -> Path:
    c = Container.open(resolve_home(tmp_path))
    for i in range(3):
        sid = c.strategies.add(StrategyCandidate(f"Strategy_TRN_{i:08x}", StrategyType.TRN, StrategySource.TEMPLATE,
                                                 f"# {i}\n", f"{i:064x}"))
        rec = c.strategies.claim(StrategyStatus.GENERATED, "t")
        c.strategies.transition(sid, rec.claim_token, StrategyStatus.FAILED, phase="validator",
                                reason=f"lookahead:truncation_at_cut_point_{i}_of_five")
    return tmp_path


def test_tables_written_to_a_pipe_cut_no_value(tmp_path: Path) -> None:
    home = _long_status_home(tmp_path)
    out = subprocess.run([str(SIXBTC), "--home", str(home), "status"], capture_output=True, text=True,
                         env=_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "…" not in out.stdout
    for i in range(3):  # each full value on one line
        assert any(f"Strategy_TRN_{i:08x}" in line and f"lookahead:truncation_at_cut_point_{i}_of_five" in line
                   for line in out.stdout.splitlines()), out.stdout


def test_narrow_tables_fold_instead_of_cutting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _long_status_home(tmp_path)
    monkeypatch.setattr(context.console, "width", 60)
    res = runner.invoke(app, ["--home", str(home), "status"])
    assert res.exit_code == 0, res.output
    assert "…" not in res.output
    transitions = res.output[res.output.index("last transitions"):].splitlines()
    rows = [line.split("│") for line in transitions if line.startswith("│")]
    strategy, reason = ("".join(r[i].strip() for r in rows) for i in (2, 5))  # the columns, top to bottom
    for i in range(3):  # folded over several lines, every character kept
        assert f"Strategy_TRN_{i:08x}" in strategy and f"lookahead:truncation_at_cut_point_{i}_of_five" in reason


# --------------------------------------------------------------------------- validate
def test_validate_errors_are_json_with_json(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    for target, needle in ((folder, "is a directory"), (tmp_path / "nope.py", "no such file")):
        res = runner.invoke(app, ["--home", str(tmp_path / "h"), "validate", str(target), "--json"])
        assert res.exit_code == 2
        out = json.loads(res.stdout)
        assert out["passed"] is False and needle in out["error"] and out["file"] == str(target)
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "config.yaml").write_text("validator:\n  wall_s: lots\n")
    bad = runner.invoke(app, ["--home", str(tmp_path / "h"), "validate", str(CORPUS / "clean" / "sma_cross.py"),
                              "--json"])
    assert bad.exit_code == 2 and "validator.wall_s: expected number" in json.loads(bad.stdout)["error"]


def _btc_store(home: Path, n: int = 2000) -> None:
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[close[0], close[:-1]]
    df = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
                       "open": open_, "high": np.maximum(open_, close) * 1.002,
                       "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1.0})
    ParquetCandleStore(Home(home).store_dir).write_candles("BTC", "1h", df)


def test_static_rejection_loads_no_store_worker_or_heavy_library(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _btc_store(home)
    (home / "config.yaml").write_text("validator:\n  wall_s: 0.001\n")  # a worker could not even boot
    bad = CORPUS / "biased" / "negative_shift.py"
    probe = ("import atexit, sys\n"
             "heavy = ('numba', 'ccxt', 'sqlalchemy', 'pyarrow', 'pandas', 'apscheduler')\n"
             "atexit.register(lambda: print('HEAVY=' + ','.join(m for m in heavy if m in sys.modules)))\n"
             "from sixbtc.cli.main import app\n"
             f"app(['--home', {str(home)!r}, 'validate', {str(bad)!r}, '--json'])\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.returncode == 1, out.stderr
    report_line, heavy_line = out.stdout.strip().splitlines()
    report = json.loads(report_line)
    assert (report["phase"], report["reason"]) == ("ast", "ast:negative_shift")
    assert report["data"] == "not loaded (rejected by the static phases)"
    assert heavy_line == "HEAVY="


def test_files_passing_the_static_phases_still_use_the_home_store(tmp_path: Path) -> None:
    _btc_store(tmp_path)
    res = runner.invoke(app, ["--home", str(tmp_path), "validate", str(CORPUS / "clean" / "sma_cross.py"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["data"].startswith("BTC 1h, last 2000 candles")


def test_markup_in_a_file_name_is_printed_not_interpreted(tmp_path: Path) -> None:
    bad = tmp_path / "[red]bad.py"
    bad.write_text("import os\n")
    res = runner.invoke(app, ["--home", str(tmp_path), "validate", str(bad)])
    assert res.exit_code == 1, res.output
    assert f"{bad}" in res.output.splitlines()[0] and "REJECTED" in res.output


# --------------------------------------------------------------------------- one-line errors
@pytest.mark.parametrize(("config", "code", "needle"), [
    ("database:\n  url: mysql://u@h/db\n", 2, "database.url: unsupported database URL (scheme 'mysql')"),
    ("database:\n  url: postgresql+psycopg://u:pw@127.0.0.1:1/sixbtc\n", 3,
     "cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/sixbtc (database.url)"),
    (b"logging:\n  level: INFO # \xe9\n", 2, "line 2: not UTF-8 text (byte 0xe9"),
])
@pytest.mark.parametrize("command", [["status"], ["pool"], ["run", "--once"]])
def test_database_and_file_errors_are_one_line_not_tracebacks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str | bytes, code: int, needle: str,
        command: list[str]) -> None:
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing may reach the internet
    path = tmp_path / "config.yaml"
    path.write_bytes(config if isinstance(config, bytes) else config.encode())
    res = runner.invoke(app, ["--home", str(tmp_path), *command])
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert needle in " ".join(res.output.split()) and "Traceback" not in res.output
    assert "pw" not in res.output.replace("pwd", "")


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "sixbtc.db").write_text("not a database, " * 100)
    res = runner.invoke(app, ["--home", str(tmp_path), "status"])
    assert res.exit_code == 3, res.output
    assert "sixbtc.db (database.url): file is not a database" in " ".join(res.output.split())


def test_a_database_of_an_unknown_schema_revision_is_one_line(tmp_path: Path) -> None:
    """A schema revision this version does not know (a newer SixBTC wrote it) or another
    application's tables: one line naming the database, exit 3 (before: "unexpected error", exit 1)."""
    import sqlite3

    runner.invoke(app, ["--home", str(tmp_path), "status"])  # creates and migrates sixbtc.db
    with sqlite3.connect(tmp_path / "sixbtc.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    res = runner.invoke(app, ["--home", str(tmp_path), "status"])
    assert res.exit_code == 3, res.output
    assert "has a schema this version of SixBTC does not know" in " ".join(res.output.split())
    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / "sixbtc.db") as db:
        db.execute("CREATE TABLE strategies (id INTEGER PRIMARY KEY, foreign_column TEXT)")
    res = runner.invoke(app, ["--home", str(other), "status"])
    assert res.exit_code == 3, res.output
    assert "cannot migrate the database" in " ".join(res.output.split())


@pytest.mark.parametrize("command", [["init"], ["status"], ["pool", "--json"]])
def test_a_home_that_cannot_be_created_is_one_line(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "file").write_text("x")
    home = tmp_path / "file" / "home"
    res = runner.invoke(app, ["--home", str(home), *command])
    assert res.exit_code == 2, res.output
    assert f"cannot use the home directory {home}" in " ".join(res.output.split())
    assert res.exception is None or isinstance(res.exception, SystemExit)
