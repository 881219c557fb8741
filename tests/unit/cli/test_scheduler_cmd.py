"""``sixbtc scheduler``: the task table with last/next runs, ``--run TASK`` by hand, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sixbtc.cli import context
from sixbtc.cli.main import app
from sixbtc.scheduler.tasks import TASKS

runner = CliRunner()


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context.console, "width", 250)


def test_run_a_task_by_hand_then_list_it_with_its_outcome(tmp_path: Path, wide_console: None) -> None:
    home = str(tmp_path / "h")
    res = runner.invoke(app, ["--home", home, "scheduler", "--run", "cleanup_old_events"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("cleanup_old_events: ok 0 events folded into funnel counts and deleted")
    res = runner.invoke(app, ["--home", home, "scheduler", "--run", "daily_restart_services", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["outcome"] == "skipped"
    res = runner.invoke(app, ["--home", home, "scheduler", "--json"])
    view = json.loads(res.output)
    assert [t["task"] for t in view["tasks"]] == list(TASKS)
    by = {t["task"]: t for t in view["tasks"]}
    assert by["cleanup_old_events"]["last"]["outcome"] == "ok" and by["update_pairs"]["last"] is None
    assert by["update_pairs"]["cron"] == "45 1,13 * * *" and by["update_pairs"]["next_run"].endswith(":45:00+00:00")
    res = runner.invoke(app, ["--home", home, "scheduler"])
    assert res.exit_code == 0
    line = next(ln for ln in res.output.splitlines() if "cleanup_old_events" in ln)
    assert "25 1 * * *" in line and " ok " in line


def test_a_failed_task_exits_1_and_an_unknown_one_2(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.yaml").write_text("data:\n  hyperliquid_info_url: http://127.0.0.1:9\n"
                                      "  exchange_api_url: http://127.0.0.1:9\n  network_probe_timeout_s: 1\n")
    res = runner.invoke(app, ["--home", str(home), "scheduler", "--run", "update_pairs"])
    assert res.exit_code == 1 and "update_pairs: failed NetworkUnavailable" in res.output
    res = runner.invoke(app, ["--home", str(home), "scheduler", "--run", "nope"])
    assert res.exit_code == 2 and "unknown task 'nope'" in res.output
