"""The execution venue of a home: the one place an :class:`~sixbtc.executor.venue.ExchangeClient`
is built for the operations run from the command line (emergency stop, accounts, status).

Paper mode (``executor.dry_run: true``) gets the paper venue and never a signer; live mode
needs the checks of :mod:`sixbtc.app.live_mode` first. This build ships neither adapter yet
(the paper venue and the Hyperliquid client are being merged): :func:`open_venue` says so
with a :class:`~sixbtc.core.errors.ConfigError`, and the commands report it.
"""

from __future__ import annotations

from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError
from sixbtc.executor.venue import ExchangeClient

#: The master account's name on the paper venue (on Hyperliquid: ``exchange.wallet_address``).
PAPER_MASTER = "master"


def open_venue(c: Container) -> ExchangeClient:
    """The venue of ``c``'s mode.

    Raises
    ------
    ConfigError
        When no adapter for the mode is available in this build (the message names the mode).
    """
    mode = "paper" if c.settings.executor.dry_run else f"live ({c.settings.exchange.execution_venue})"
    raise ConfigError(f"no {mode} execution venue is available in this build: orders on the venue cannot be "
                      "listed or cancelled from the command line yet (the trading state in the database is "
                      "still honoured by the executor)")


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
