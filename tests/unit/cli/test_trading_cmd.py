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


def _live_home(tmp_path: Path) -> list[str]:
    Home(tmp_path).ensure().config_path.write_text("executor:\n  dry_run: false\n")
    return ["--home", str(tmp_path)]


def test_emergency_stop_halts_even_without_a_venue_and_resume_lifts_it(tmp_path: Path) -> None:
    home = _live_home(tmp_path)  # live mode without the agent key: the venue client cannot be built
    res = runner.invoke(app, [*home, "emergency-stop"])
    assert res.exit_code == 1, res.output  # the venue could not be reached: said, and exit 1
    assert "trading HALTED" in res.output  # the venue's failure is checked on the JSON report below
    c = Container.open(Home(tmp_path))
    rec = c.trading_states.get(GLOBAL_SCOPE)
    assert rec.state is TradingState.HALTED and rec.reason == "emergency_stop"
    again = runner.invoke(app, [*home, "emergency-stop", "--json"])
    out = json.loads(again.stdout)
    assert out["newly_halted"] is False and out["complete"] is False and out["failures"][0][0] == "venue"
    assert "live trading needs the agent wallet key" in " ".join(str(f) for f in out["failures"][0])
    res = runner.invoke(app, [*home, "resume"])
    assert res.exit_code == 0 and "HALTED (emergency_stop) -> ACTIVE" in res.output
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE
    res = runner.invoke(app, [*home, "resume", "--strategy", "4"])
    assert res.exit_code == 0 and "strategy:4: already ACTIVE" in res.output


def test_emergency_stop_on_the_paper_venue_completes(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    res = runner.invoke(app, [*home, "emergency-stop", "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["newly_halted"] is True and out["complete"] is True and out["failures"] == []


def test_accounts_without_a_venue_says_so(tmp_path: Path) -> None:
    res = runner.invoke(app, [*_live_home(tmp_path), "accounts", "--top-up"])
    assert res.exit_code == 2 and "live trading needs the agent wallet key" in " ".join(res.output.split())


def test_accounts_tables_and_operation_lines(capsys) -> None:
    from dataclasses import asdict

    from sixbtc.app.accounts import overview, renew_agents, top_up
    from sixbtc.cli.accounts_cmd import render_accounts
    from sixbtc.config.sections import AccountsSection
    from sixbtc.domain.orders import AgentWallet
    from sixbtc.testing.fake_exchange import MASTER, FakeExchange

    v = FakeExchange({}, {}, master_usd=250.0, now_ms=0)
    v.add_subaccount("s1", 20.0)
    v.add_subaccount("s2", 10.0)
    v.agent_wallets["bot"] = AgentWallet("bot", "0xabc", 86_400_000)
    cfg = AccountsSection()
    out = {"top_up": asdict(top_up(v, MASTER, cfg)), "renew_agents": asdict(renew_agents(v, cfg, 0)),
           "overview": asdict(overview(v, MASTER))}
    render_accounts(out)
    text = " ".join(capsys.readouterr().out.split())
    assert "skipped s1 (equity 20.00 USD): needs 80.00 USD, the master has 60.00 USD above its reserve" in text
    assert "topped up s2: +90.00 USD from the master" in text
    assert "renewed agent bot: valid until 1970-06-30 00:00" in text
    assert "master master: equity 160.00 USD" in text and "s1 │ s1" in text
