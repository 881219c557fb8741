"""The execution venue of a home: the one place an :class:`~sixbtc.executor.venue.ExchangeClient`
is chosen, for the service and ``run --once`` (through the executor builder) and for the
operations run from the command line (emergency stop, accounts, kill-switch samples).

Paper mode (``executor.dry_run: true``) gets the paper venue on the home's database (fees and
slippage of the ``backtest`` section) and never a signer (no signing library is even
imported). Live mode (``executor.dry_run: false``; ``sixbtc run`` also needs ``--live``, see
:mod:`sixbtc.app.live_mode`) gets the process's Hyperliquid client
(:meth:`sixbtc.app.container.Container.live_venue`: ``exchange.base_url``, the agent key from
the environment or a 0600 file, the master key only when configured), built once per process
and venue configuration: every container of the process (the service's, the dashboard's)
shares it, so there is one agent signer per trading process.
"""

from __future__ import annotations

import hashlib
import threading

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError
from sixbtc.executor.venue import ExchangeClient

#: The master account's name on the paper venue (on Hyperliquid: ``exchange.wallet_address``).
PAPER_MASTER = "master"
_LIVE: dict[str, ExchangeClient] = {}
_LIVE_LOCK = threading.Lock()


def open_venue(c: Container) -> ExchangeClient:
    """The venue of ``c``'s mode: the paper venue (state in ``c``'s database) when
    ``executor.dry_run`` is true, else the Hyperliquid client of this process (the same
    object at every call, so one agent signer per process).

    Raises
    ------
    ConfigError
        Live mode without the agent key (or with a key file readable by others), or without
        ``exchange.wallet_address``.
    """
    if c.settings.executor.dry_run:
        bt = c.settings.backtest
        return PaperVenue(c.engine, fee_rate=bt.fee_rate, slippage_bps=bt.slippage_bps, initial_master_usd=0.0,
                          master=PAPER_MASTER, clock=c.clock)
    key = _config_key(c)
    with _LIVE_LOCK:
        if key not in _LIVE:
            _LIVE[key] = c.live_venue()
        return _LIVE[key]


def _config_key(c: Container) -> str:
    """Digest of the ``exchange`` section, secrets included (never kept in clear): one client per
    distinct venue configuration of the process."""
    ex = c.settings.exchange
    secrets = [k.get_secret_value() if k is not None else "" for k in (ex.agent_private_key, ex.master_private_key)]
    return hashlib.sha256("\n".join([ex.model_dump_json(), *secrets]).encode()).hexdigest()


def master_account(c: Container) -> str:
    """The master's account on the venue of ``c``'s mode: ``exchange.wallet_address`` live,
    :data:`PAPER_MASTER` on paper.

    Raises
    ------
    ConfigError
        Live mode without ``exchange.wallet_address``.
    """
    if c.settings.executor.dry_run:
        return PAPER_MASTER
    if not c.settings.exchange.wallet_address:
        raise ConfigError("exchange.wallet_address: the master wallet address is needed for sub-account transfers "
                          "and agent wallets")
    return c.settings.exchange.wallet_address
