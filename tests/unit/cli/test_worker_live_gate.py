"""``sixbtc worker executor`` goes through the same live gate as ``sixbtc run``: real orders
need ``--live`` and ``executor.dry_run: false``, and one without the other refuses to start
(exit 2) before any database, feed or venue is touched."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sixbtc.cli.main import app

runner = CliRunner()


def _text(res) -> str:  # noqa: ANN001
    return " ".join(res.output.split())


def test_a_live_configuration_without_live_does_not_start_the_executor(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("executor:\n  dry_run: false\n")
    res = runner.invoke(app, ["--home", str(tmp_path), "worker", "executor"])
    assert res.exit_code == 2 and "executor.dry_run is false but --live was not given" in _text(res)
    assert not (tmp_path / "sixbtc.db").exists(), "refused before the database was opened"


def test_live_without_the_configuration_or_the_key_does_not_start_the_executor(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "worker", "executor", "--live"])
    assert res.exit_code == 2 and "--live was given but executor.dry_run is true" in _text(res)
    (tmp_path / "config.yaml").write_text("executor:\n  dry_run: false\n")
    nokey = runner.invoke(app, ["--home", str(tmp_path), "worker", "executor", "--live", "--live-delay-s", "0"])
    assert nokey.exit_code == 2 and "live trading needs the agent wallet key" in _text(nokey)


def test_live_is_refused_for_the_roles_that_place_no_order(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "worker", "validator", "--live"])
    assert res.exit_code == 2 and "--live applies to the executor role only" in _text(res)
