"""The execution venue of a home: the one place an :class:`~sixbtc.executor.venue.ExchangeClient`
is built for the operations run from the command line (emergency stop, accounts, status).

Paper mode (``executor.dry_run: true``) gets the paper venue on the home's database (fees and
slippage of the ``backtest`` section) and never a signer; live mode needs the checks of
:mod:`sixbtc.app.live_mode` first and is not wired in this build: :func:`open_venue` says so
with a :class:`~sixbtc.core.errors.ConfigError`, and the commands report it.
"""

from __future__ import annotations

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError
from sixbtc.executor.venue import ExchangeClient

#: The master account's name on the paper venue (on Hyperliquid: ``exchange.wallet_address``).
PAPER_MASTER = "master"


def open_venue(c: Container) -> ExchangeClient:
    """The venue of ``c``'s mode: the paper venue (state in ``c``'s database) when
    ``executor.dry_run`` is true.

    Raises
    ------
    ConfigError
        Live mode: no live adapter is wired in this build (the message names the venue).
    """
    if c.settings.executor.dry_run:
        bt = c.settings.backtest
        return PaperVenue(c.engine, fee_rate=bt.fee_rate, slippage_bps=bt.slippage_bps, initial_master_usd=0.0,
                          master=PAPER_MASTER, clock=c.clock)
    raise ConfigError(f"no live ({c.settings.exchange.execution_venue}) execution venue is available in this build: "
                      "orders on the venue cannot be listed or cancelled from the command line yet (the trading "
                      "state in the database is still honoured by the executor)")


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
