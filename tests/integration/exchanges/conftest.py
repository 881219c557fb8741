"""Fixtures: a fake Hyperliquid venue on 127.0.0.1 and the real adapter (real SDK) against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidServer


@pytest.fixture
def hl() -> Iterator[FakeHyperliquidServer]:
    """A started fake venue with marks BTC 100 000, ETH 3 000, SOL 150."""
    with FakeHyperliquidServer() as server:
        for coin, px in (("BTC", 100_000.0), ("ETH", 3_000.0), ("SOL", 150.0)):
            server.set_mark(coin, px)
        yield server


@pytest.fixture
def master(hl: FakeHyperliquidServer) -> LocalAccount:
    """A funded master wallet (10 000 USDC)."""
    return hl.new_master(10_000.0)


@pytest.fixture
def agent(hl: FakeHyperliquidServer, master: LocalAccount) -> LocalAccount:
    """An agent wallet the master approved (no expiry)."""
    return hl.new_agent(master.address, "bot")


@pytest.fixture
def make_client(hl: FakeHyperliquidServer, master: LocalAccount) -> Callable[..., HyperliquidClient]:
    """Build the adapter against ``hl`` for ``master`` (fast timeouts, no back-off sleeps)."""

    def build(agent: LocalAccount | None, *, with_master_key: bool = True, **kwargs: Any) -> HyperliquidClient:
        options: dict[str, Any] = {"timeout_s": 0.5, "read_retries": 2, "retry_backoff_s": 0.0}
        options.update(kwargs)
        return HyperliquidClient(
            base_url=hl.base_url, master_address=master.address,
            agent_key=SecretStr(agent.key.hex()) if agent else None,
            master_key=SecretStr(master.key.hex()) if with_master_key else None, **options)

    return build


@pytest.fixture
def client(make_client: Callable[..., HyperliquidClient], agent: LocalAccount, tmp_path: Path) -> HyperliquidClient:
    """The adapter trading with ``agent`` for ``master`` (master key configured, keys in tmp)."""
    return make_client(agent, key_dir=str(tmp_path / "keys"))
