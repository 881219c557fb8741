"""Live mode (``executor.dry_run: false``) against the fake Hyperliquid venue on 127.0.0.1,
through the real SDK: the home's venue built from its config (agent key in a 0600 file; the
master key only when configured), `sixbtc accounts` and `sixbtc emergency-stop`, the
executor's sub-accounts (labels = venue sub-account names), and the refusal to trade live on
stored candles alone."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.app.container import Container
from sixbtc.app.executor_build import live_accounts
from sixbtc.app.home import Home
from sixbtc.app.service import Service
from sixbtc.app.venues import open_venue
from sixbtc.core.errors import NetworkUnavailable
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState
from sixbtc.domain.trading import Direction
from sixbtc.executor.book import LiveStrategy
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidServer

runner = CliRunner()


def _key_file(path: Path, account: LocalAccount) -> Path:
    path.write_text(account.key.hex() + "\n")
    path.chmod(0o600)
    return path


def _live_home(tmp_path: Path, hl: FakeHyperliquidServer, master: LocalAccount, agent: LocalAccount, *,
               with_master_key: bool) -> list[str]:
    lines = ["executor:", "  dry_run: false", "exchange:", f'  wallet_address: "{master.address}"',
             f"  agent_key_file: {_key_file(tmp_path / 'agent.key', agent)}", f"  base_url: {hl.base_url}",
             "  timeout_s: 2", "  retry_backoff_s: 0.0", f"  key_dir: {tmp_path / 'keys'}"]
    if with_master_key:
        lines.append(f"  master_key_file: {_key_file(tmp_path / 'master.key', master)}")
    Home(tmp_path / "home").ensure().config_path.write_text("\n".join(lines) + "\n")
    return ["--home", str(tmp_path / "home")]


def test_open_venue_in_live_mode_is_the_one_hyperliquid_client_of_the_process(tmp_path: Path, hl, master,
                                                                              agent) -> None:
    _live_home(tmp_path, hl, master, agent, with_master_key=False)
    c = Container.open(Home(tmp_path / "home"))
    venue = open_venue(c)
    assert isinstance(venue, HyperliquidClient) and venue.mode == "live" and venue is open_venue(c)
    assert venue.base_url == hl.base_url and "master_key=unset" in repr(venue) and "agent_key=set" in repr(venue)


def test_accounts_tops_up_from_the_master_only_when_its_key_is_configured(tmp_path: Path, hl, master, agent,
                                                                          client, monkeypatch) -> None:
    from sixbtc.cli.context import PIPE_WIDTH, console

    monkeypatch.setattr(console, "width", PIPE_WIDTH)  # output to a pipe (the width is fixed at import)
    sub = client.create_subaccount("live-001")
    client.transfer_usd(sub.address, 30.0, to_subaccount=True)
    without = _live_home(tmp_path, hl, master, agent, with_master_key=False)
    res = runner.invoke(app_(), [*without, "accounts", "--top-up", "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 1 and out["top_up"]["done"] == []
    assert "master_key_file: no key configured" in out["top_up"]["failures"][0][1]
    assert client.balance(sub.address).equity_usd == 30.0  # nothing moved
    home = _live_home(tmp_path, hl, master, agent, with_master_key=True)
    res = runner.invoke(app_(), [*home, "accounts", "--top-up", "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0, res.output
    assert out["top_up"]["done"] == [["live-001", 70.0]]
    subs = {s["name"]: b for s, b, _ in out["overview"]["subs"]}
    assert subs["live-001"]["equity_usd"] == 100.0
    assert out["overview"]["master"]["account"].lower() == master.address.lower()
    table = runner.invoke(app_(), [*home, "accounts"])
    assert table.exit_code == 0 and "live-001" in table.output and sub.address in " ".join(table.output.split())


def test_emergency_stop_cancels_and_closes_on_the_venue_and_is_idempotent(tmp_path: Path, hl, master, agent,
                                                                          client) -> None:
    sub = client.create_subaccount("live-002")
    client.transfer_usd(sub.address, 500.0, to_subaccount=True)
    entry, stop = (client_order_id(7, "ETH", 1_700_000_000_000, leg) for leg in ("entry", "sl"))
    client.place_order("live-002", OrderRequest(entry, "ETH", OrderSide.BUY, OrderType.MARKET, 0.05))
    client.place_order("live-002", OrderRequest(stop, "ETH", OrderSide.SELL, OrderType.STOP_MARKET, 0.05,
                                                trigger_price=2_900.0, reduce_only=True))
    assert len(client.open_orders(sub.address)) == 1 and len(client.positions(sub.address)) == 1
    home = _live_home(tmp_path, hl, master, agent, with_master_key=False)  # cancels and closes: the agent signs
    res = runner.invoke(app_(), [*home, "emergency-stop", "--close-positions", "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0, res.output
    assert out["newly_halted"] is True and out["complete"] is True and out["failures"] == []
    assert out["cancelled"] == [[sub.address, "ETH", stop]]
    assert [x[:2] for x in out["closed"]] == [[sub.address, "ETH"]] and out["closed"][0][2].startswith("sxe5")
    assert client.open_orders(sub.address) == [] and client.positions(sub.address) == []
    c = Container.open(Home(tmp_path / "home"))
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.HALTED
    again = json.loads(runner.invoke(app_(), [*home, "emergency-stop", "--close-positions", "--json"]).stdout)
    assert again["newly_halted"] is False and again["cancelled"] == [] and again["closed"] == []
    assert again["complete"] is True


def test_a_missing_sub_account_is_created_with_the_master_key_and_left_out_without(tmp_path: Path, hl, master,
                                                                                agent, client) -> None:
    client.create_subaccount("live-001")
    _live_home(tmp_path, hl, master, agent, with_master_key=False)
    c, logs = Container.open(Home(tmp_path / "home")), []
    labels = [c.trading.assign_subaccount(sid, mode, 100.0) for sid, mode in ((1, "live"), (2, "live"), (3, "paper"))]
    assert labels == ["live-001", "live-002", "paper-003"]
    strategies = [LiveStrategy(i + 1, f"s{i + 1}", "1h", ("BTC",), Direction.LONG, {}, label, 100.0)
                  for i, label in enumerate(labels)]
    kept = live_accounts(c, open_venue(c), strategies, logs.append)
    assert [s.subaccount for s in kept] == ["live-001"] and "no sub-account live-002" in logs[0]
    assert "s3 not traded live: its sub-account paper-003 was given in paper mode" in logs[1]
    assert {s.name for s in client.subaccounts()} == {"live-001"}  # nothing signed by a master
    _live_home(tmp_path, hl, master, agent, with_master_key=True)
    c, logs = Container.open(Home(tmp_path / "home")), []
    kept = live_accounts(c, open_venue(c), strategies, logs.append)
    assert [s.subaccount for s in kept] == ["live-001", "live-002"]
    assert {s.name for s in client.subaccounts()} == {"live-001", "live-002"}
    assert "created sub-account live-002" in logs[0] and "sixbtc accounts --top-up" in logs[0]


def test_live_mode_refuses_to_start_without_live_candles(tmp_path: Path) -> None:
    import socket

    from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData

    with socket.socket() as sock:  # a closed port on 127.0.0.1: the market-data venue is unreachable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    Home(tmp_path / "home").ensure().config_path.write_text(
        f"executor:\n  dry_run: false\ndata:\n  exchange_api_url: http://127.0.0.1:{port}\n"
        "  network_probe_timeout_s: 1\n")
    c, logs = Container.open(Home(tmp_path / "home")), []
    service = Service(c, logs.append, client=CcxtMarketData("binanceusdm", timeout_ms=1000,
                                                            api_url=f"http://127.0.0.1:{port}"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.run_forever()
    except NetworkUnavailable as exc:
        assert "live trading needs live candles" in str(exc) and "nothing was sent" in str(exc)
    else:
        raise AssertionError("a live service started without live candles")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert c.leases.current().holder is None and not any("service started" in m for m in logs)


def app_():  # the CLI application (imported late: the fixtures' modules first)
    from sixbtc.cli.main import app

    return app
