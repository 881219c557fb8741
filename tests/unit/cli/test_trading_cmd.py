"""`sixbtc emergency-stop` and `sixbtc resume` through the CLI, on a home's SQLite database
(the use case itself is tested against a venue in tests/unit/app/test_emergency.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.cli.main import app
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState

runner = CliRunner()


def test_emergency_stop_halts_even_without_a_venue_and_resume_lifts_it(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    res = runner.invoke(app, [*home, "emergency-stop"])
    assert res.exit_code == 1, res.output  # the venue could not be reached: said, and exit 1
    assert "trading HALTED" in res.output and "no paper execution venue" in res.output
    c = Container.open(Home(tmp_path))
    rec = c.trading_states.get(GLOBAL_SCOPE)
    assert rec.state is TradingState.HALTED and rec.reason == "emergency_stop"
    again = runner.invoke(app, [*home, "emergency-stop", "--json"])
    out = json.loads(again.stdout)
    assert out["newly_halted"] is False and out["complete"] is False and out["failures"][0][0] == "venue"
    res = runner.invoke(app, [*home, "resume"])
    assert res.exit_code == 0 and "HALTED (emergency_stop) -> ACTIVE" in res.output
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE
    res = runner.invoke(app, [*home, "resume", "--strategy", "4"])
    assert res.exit_code == 0 and "strategy:4: already ACTIVE" in res.output
