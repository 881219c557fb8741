"""Review of issue 8: ``--json`` gives JSON on every path, errors are one line (never a
traceback), ``--home`` without a value says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sixbtc.cli.main import app

runner = CliRunner()


def _bad_config(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text("active_pool:\n  max_size: abc\n")


def _not_a_database(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "sixbtc.db").write_text("not a database, " * 100)


@pytest.mark.parametrize(("args", "prepare", "code", "needle"), [
    (["status", "--json"], _bad_config, 2, "configuration error: invalid configuration in"),
    (["pool", "--json"], _bad_config, 2, "active_pool.max_size: expected int"),
    (["pool", "--json"], _not_a_database, 3, "file is not a database"),
    (["status", "--json"], _not_a_database, 3, "file is not a database"),
    (["pool", "--json", "--limit", "0"], None, 2, "usage error: Invalid value for '--limit'"),
    (["status", "--json", "--bogus"], None, 2, "usage error: No such option: --bogus"),
    (["--json", "status", "--home"], None, 2, "requires an argument"),
])
def test_json_is_printed_for_every_error(tmp_path: Path, args: list[str], prepare, code: int, needle: str) -> None:
    """Before: a configuration, database or usage error with ``--json`` printed text on stderr
    and nothing on stdout, so ``sixbtc pool --json | jq`` saw no JSON."""
    home = tmp_path / "home"
    if prepare is not None:
        prepare(home)
    res = runner.invoke(app, ["--home", str(home), *args] if "--home" not in args else args)
    assert res.exit_code == code, res.output
    out = json.loads(res.stdout)
    assert needle in out["error"], out


def test_validate_usage_errors_keep_the_validate_shape(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "validate", "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout) == {"file": None, "passed": False,
                                      "error": "usage error: Missing argument 'file'."}


@pytest.mark.parametrize("args", [["status", "--home"], ["pool", "--json", "--home"]])
def test_home_without_a_value_after_the_command_says_so(args: list[str]) -> None:
    """Before: ``sixbtc status --home`` took ``status`` for the home and said "Missing command"."""
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "Option '--home' requires an argument" in res.output
    assert "Missing command" not in res.output


def _database_of_an_unknown_version(home: Path) -> None:
    home.mkdir()
    with sqlite3.connect(home / "sixbtc.db") as db:  # as a newer SixBTC would leave it
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unforeseen_error_is_one_line_not_a_traceback(tmp_path: Path, as_json: bool) -> None:
    """Before: a database written by an unknown version ended ``sixbtc status`` in a traceback."""
    home = tmp_path / "home"
    _database_of_an_unknown_version(home)
    res = runner.invoke(app, ["--home", str(home), "status", *(["--json"] if as_json else [])])
    assert res.exit_code != 0
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    if as_json:
        assert "ffffffffffff" in json.loads(res.stdout)["error"]
    else:
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "ffffffffffff" in lines[0], res.output
