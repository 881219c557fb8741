"""Sub-accounts, transfers, agent wallets, signers and signatures against the fake venue."""

from __future__ import annotations

import os
import stat
import time

import eth_account
import pytest
import requests
from hyperliquid.exchange import Exchange
from hyperliquid.utils.signing import get_timestamp_ms, order_wires_to_order_action, sign_l1_action

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.adapters.exchanges.hyperliquid_keys import load_key
from sixbtc.config.sections import ExchangeSection
from sixbtc.core.errors import ConfigError, InsufficientFunds, OrderRejected
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType


def buy(symbol: str = "BTC", qty: float = 0.001, bar: int = 0) -> OrderRequest:
    return OrderRequest(client_order_id(5, symbol, bar, "entry"), symbol, OrderSide.BUY, OrderType.MARKET, qty)


def test_subaccount_create_is_idempotent_and_transfers_go_both_ways(client, hl, master) -> None:
    assert client.subaccounts() == []
    sub = client.create_subaccount("strat-1")
    assert client.create_subaccount("strat-1") == sub and client.subaccounts() == [sub]
    client.transfer_usd(sub.address, 250.5, to_subaccount=True)
    assert client.balance(sub.address).equity_usd == pytest.approx(250.5)
    assert client.balance(master.address).equity_usd == pytest.approx(10_000 - 250.5)
    client.transfer_usd(sub.address, 50.0, to_subaccount=False)
    assert client.balance(sub.address).equity_usd == pytest.approx(200.5)
    with pytest.raises(InsufficientFunds):
        client.transfer_usd(sub.address, 1_000.0, to_subaccount=False)


def test_trading_on_a_subaccount_uses_the_vault_address(client, hl, master) -> None:
    sub = client.create_subaccount("strat-2")
    client.transfer_usd(sub.address, 500.0, to_subaccount=True)
    ack = client.place_order(sub.address, buy())
    assert ack.status is OrderStatus.FILLED
    assert [p.symbol for p in client.positions(sub.address)] == ["BTC"] and client.positions(master.address) == []
    assert client.fills_since(sub.address, 0)[0].client_order_id == ack.client_order_id
    assert client.query_order(master.address, "BTC", ack.client_order_id) is None  # belongs to the sub-account


def test_sub_to_sub_transfers_are_refused(client, hl, master) -> None:
    a, b = client.create_subaccount("a"), client.create_subaccount("b")
    client.transfer_usd(a.address, 100.0, to_subaccount=True)
    stranger = eth_account.Account.create().address
    for target in (stranger, master.address):
        with pytest.raises(OrderRejected, match="never sub -> sub"):
            client.transfer_usd(target, 10.0, to_subaccount=True)
    with pytest.raises(OrderRejected, match="must be a finite number > 0"):
        client.transfer_usd(a.address, -1.0, to_subaccount=True)
    # the venue refuses too: the master's key acting as sub-account a, sending to b
    as_a = Exchange(master, hl.base_url, vault_address=a.address)
    answer = as_a.sub_account_transfer(b.address, True, 10_000_000)
    assert answer["status"] == "err"
    assert client.balance(b.address).equity_usd == 0.0 and client.balance(a.address).equity_usd == pytest.approx(100.0)


def test_agent_approval_writes_a_0600_key_and_lists_the_expiry(client, hl, master, tmp_path) -> None:
    before = int(time.time() * 1000)
    wallet = client.approve_agent("exec-1", valid_days=30)
    listed = {a.name: a for a in client.agents()}
    assert listed["exec-1"].address == wallet.address
    assert listed["exec-1"].valid_until_ms == wallet.valid_until_ms
    assert before + 30 * 86_400_000 <= wallet.valid_until_ms <= before + 30 * 86_400_000 + 60_000
    [key_file] = (tmp_path / "keys").iterdir()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and wallet.address in key_file.name
    key = load_key(None, key_file, "exchange.agent_key_file")
    assert key.get_secret_value() not in repr(client) + repr(wallet) + str(key)
    trader = HyperliquidClient(base_url=hl.base_url, master_address=master.address, agent_key=key, timeout_s=1.0)
    assert trader.place_order(master.address, buy()).status is OrderStatus.FILLED


def test_expired_or_unknown_agents_are_refused_by_the_venue(make_client, hl, master) -> None:
    expired = eth_account.Account.create()
    hl.add_agent(master.address, expired.address, "old", valid_until_ms=int(time.time() * 1000) - 1)
    for signer in (expired, eth_account.Account.create()):
        with pytest.raises(OrderRejected, match=f"User or API Wallet {signer.address.lower()} does not exist"):
            make_client(signer).place_order(master.address, buy())


def test_no_master_key_means_no_master_signer_and_nothing_sent(make_client, agent, hl, master, tmp_path) -> None:
    client = make_client(agent, with_master_key=False, key_dir=str(tmp_path))
    assert "master_key=unset" in repr(client)
    for call in (lambda: client.create_subaccount("x"), lambda: client.approve_agent("y", 10),
                 lambda: client.transfer_usd("0x" + "1" * 40, 1.0, to_subaccount=True)):
        with pytest.raises(ConfigError, match="exchange.master_private_key"):
            call()
    assert client._master_exchange is None and hl.exchange_requests() == 0
    assert list(tmp_path.iterdir()) == []  # no agent key written either


def test_no_agent_key_allows_reads_only(make_client, master, hl) -> None:
    client = make_client(None, with_master_key=False)
    assert client.balance(master.address).equity_usd == pytest.approx(10_000.0)
    with pytest.raises(ConfigError, match="exchange.agent_private_key"):
        client.place_order(master.address, buy())
    assert hl.exchange_requests() == 0


def test_bad_signature_and_replayed_nonce_are_refused(hl, master, agent) -> None:
    exchange = Exchange(agent, hl.base_url, account_address=master.address)
    wire = {"a": 0, "b": True, "p": "101000", "s": "0.001", "r": False, "t": {"limit": {"tif": "Ioc"}}}
    action = order_wires_to_order_action([wire])
    nonce = get_timestamp_ms()
    signature = sign_l1_action(agent, action, None, nonce, None, False)
    payload = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None, "expiresAfter": None}
    tampered = dict(payload, action=dict(action, orders=[dict(wire, s="0.002")]))
    answer = requests.post(hl.base_url + "/exchange", json=tampered, timeout=5).json()
    assert answer["status"] == "err" and "does not exist" in answer["response"]
    assert requests.post(hl.base_url + "/exchange", json=payload, timeout=5).json()["status"] == "ok"
    replay = requests.post(hl.base_url + "/exchange", json=payload, timeout=5).json()
    assert replay == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
    no_sig = requests.post(hl.base_url + "/exchange", json=dict(payload, signature={"r": "0x1"}), timeout=5)
    assert no_sig.status_code == 422
    assert exchange.info.user_state(master.address)["assetPositions"][0]["position"]["szi"] == "0.001"


def test_vault_address_must_be_a_subaccount_of_the_signer(make_client, agent, hl, master) -> None:
    other = eth_account.Account.create()
    hl.fund(other.address, 1_000.0)
    with pytest.raises(OrderRejected, match="is not a sub-account of"):
        make_client(agent).place_order(other.address, buy())


def test_from_config_checks_key_files(tmp_path, master, agent, hl) -> None:
    key_file = tmp_path / "agent.key"
    key_file.write_text(agent.key.hex() + "\n")
    os.chmod(key_file, 0o644)
    section = ExchangeSection(wallet_address=master.address, agent_key_file=str(key_file), base_url=hl.base_url)
    with pytest.raises(ConfigError, match=r"exchange.agent_key_file: .* readable or writable by group or others \(mode 0644\)"):
        HyperliquidClient.from_config(section)
    os.chmod(key_file, 0o600)
    client = HyperliquidClient.from_config(section)
    assert agent.key.hex() not in repr(client) and client.place_order(master.address, buy()).status is OrderStatus.FILLED
    key_file.write_text("not-a-key")
    with pytest.raises(ConfigError, match="exchange.agent_key_file: not an agent private key"):
        HyperliquidClient.from_config(section)
    with pytest.raises(ConfigError, match="exchange.wallet_address"):
        HyperliquidClient.from_config(ExchangeSection())


def test_concurrent_writes_of_two_clients_sharing_the_agent_all_land(make_client, agent, hl, master,
                                                                      monkeypatch) -> None:
    import threading
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: int(real() * 50) / 50)  # a coarse 20 ms wall clock (SDK nonces)

    from sixbtc.core.ids import client_order_id
    from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType

    clients = [make_client(agent, timeout_s=5.0), make_client(agent, timeout_s=5.0)]
    for c in clients:
        c.markets()
    errors: list[Exception] = []

    def work(worker: int) -> None:
        client = clients[worker % 2]
        for i in range(5):
            request = OrderRequest(client_order_id(worker, "SOL", i, "entry"), "SOL", OrderSide.BUY,
                                   OrderType.LIMIT, 0.1, price=100.0)
            try:
                client.place_order(master.address, request)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(clients[0].open_orders(master.address)) == 30
    nonces = hl.venue.state["nonces"][agent.address.lower()]
    assert len(nonces) == len(set(nonces)) == 30
