"""Hyperliquid behind the venue port: :class:`HyperliquidClient` (hyperliquid-python-sdk).

Implements :class:`sixbtc.executor.venue.ExchangeClient` with the SDK's ``Info`` (reads,
``skip_ws=True``) and ``Exchange`` (signed writes). ``account`` is the address acted on: the
master's own address or one of its sub-accounts (sent as ``vaultAddress``).

``account`` may also be the *name* of one of the master's sub-accounts (the executor's labels,
e.g. ``live-001``): it is resolved to its address (:meth:`~.hyperliquid_accounts.AccountOps.address_of`)
before anything is sent, so the journal keeps the stable label.

Signers: orders, cancels and leverage are signed by the one agent (API) wallet of this client;
the master key signs only sub-account creation, transfers and agent approval, and is loaded
only when one of those is called (``ConfigError`` if not configured). No key is read or signer
built at construction, so a read-only client needs none. Writes take the process's nonce turn
(:mod:`~sixbtc.adapters.exchanges.hyperliquid_nonce`: strictly increasing nonces across threads
and clients; the venue refuses a reused nonce) and are never retried; reads are retried with
back-off (honouring a 429's ``Retry-After``) (:mod:`~sixbtc.adapters.exchanges.hyperliquid_errors`). Precision and minimum value are
applied before sending (:mod:`~sixbtc.adapters.exchanges.hyperliquid_precision`). Account and
master operations: :mod:`~sixbtc.adapters.exchanges.hyperliquid_accounts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid
from pydantic import SecretStr

from sixbtc.adapters.exchanges import hyperliquid_parse as parse
from sixbtc.adapters.exchanges.hyperliquid_accounts import AccountOps
from sixbtc.adapters.exchanges.hyperliquid_errors import call_read, call_write, refusal, statuses
from sixbtc.adapters.exchanges.hyperliquid_keys import load_key, wallet
from sixbtc.adapters.exchanges.hyperliquid_nonce import NONCES
from sixbtc.adapters.exchanges.hyperliquid_precision import (
    check_min_notional,
    limit_rounding,
    market_from_meta,
    round_price,
    round_size,
    to_cloid,
)
from sixbtc.config.sections import ExchangeSection
from sixbtc.core.errors import AmbiguousOrderOutcome, ConfigError, OrderRejected
from sixbtc.domain.orders import (
    Balance,
    FundingPayment,
    Market,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    VenueFill,
    VenueOrder,
    VenuePosition,
)

_CANCEL_GONE = "never placed, already canceled, or filled"
_PAGE = 2000
_MAX_PAGES = 50


class HyperliquidClient(AccountOps):
    """The Hyperliquid venue (``mode`` ``"live"``).

    Parameters
    ----------
    base_url : str
        API base, e.g. ``https://api.hyperliquid.xyz`` or a local fake's ``http://127.0.0.1:PORT``.
    master_address : str
        The master account's public address (``exchange.wallet_address``).
    agent_key, master_key : SecretStr, optional
        Agent (trading) and master (transfers, agent approval) keys.
    key_dir : str, optional
        Where :meth:`approve_agent` writes new agent keys (0600 files).
    timeout_s : float
        HTTP timeout per request (s).
    market_slippage : float
        Market orders are IOC limits at mark × (1 ± this) (fraction).
    read_retries, retry_backoff_s : int, float
        Extra read attempts and the first back-off (s, doubled per attempt).
    """

    mode = "live"
    venue = "hyperliquid"
    #: Hyperliquid does not document refusing a reused cloid: an order left SENT is only queried.
    unique_client_order_ids = False

    def __init__(self, *, base_url: str, master_address: str, agent_key: SecretStr | None = None,
                 master_key: SecretStr | None = None, key_dir: str | None = None, timeout_s: float = 10.0,
                 market_slippage: float = 0.05, read_retries: int = 3, retry_backoff_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.master_address = master_address.lower()
        self._agent_key, self._master_key, self.key_dir = agent_key, master_key, key_dir
        self.timeout_s, self.market_slippage = timeout_s, market_slippage
        self.read_retries, self.retry_backoff_s, self._sleep = read_retries, retry_backoff_s, sleep
        self._info_api: Info | None = None
        self._raw_meta: dict[str, Any] | None = None
        self._markets: dict[str, Market] | None = None
        self._traders: dict[str, Exchange] = {}
        self._master_exchange: Exchange | None = None
        self._agent: LocalAccount | None = None

    @classmethod
    def from_config(cls, section: ExchangeSection, agent_key: SecretStr | None = None) -> HyperliquidClient:
        """A client from the ``exchange`` config block (key files checked: 0600, hex key).

        ``agent_key``: the agent key already read and checked by the caller (the live gate's
        :func:`sixbtc.config.secrets.agent_key`); None reads it from the section. The master
        key is read only when configured (else master operations raise ``ConfigError``).

        Raises
        ------
        ConfigError
            No ``exchange.wallet_address``; a key file readable by others or not a key.
        """
        if not section.wallet_address:
            raise ConfigError("exchange.wallet_address: the master address is required for Hyperliquid")
        if agent_key is None:
            agent_key = load_key(section.agent_private_key, section.agent_key_file, "exchange.agent_key_file")
        return cls(base_url=str(section.base_url), master_address=section.wallet_address, agent_key=agent_key,
                   master_key=load_key(section.master_private_key, section.master_key_file, "exchange.master_key_file"),
                   key_dir=section.key_dir, timeout_s=section.timeout_s, market_slippage=section.market_slippage,
                   read_retries=section.read_retries, retry_backoff_s=section.retry_backoff_s)

    def __repr__(self) -> str:
        return (f"HyperliquidClient(base_url={self.base_url!r}, master={self.master_address!r}, "
                f"agent_key={'set' if self._agent_key else 'unset'}, master_key={'set' if self._master_key else 'unset'})")

    # -- plumbing ----------------------------------------------------------------------------
    def _read(self, fn: Callable[[], Any], what: str) -> Any:
        return call_read(fn, what, retries=self.read_retries, backoff_s=self.retry_backoff_s, sleep=self._sleep)

    def _write(self, fn: Callable[[], Any], what: str) -> Any:
        """One signed request in the process's nonce turn (:mod:`.hyperliquid_nonce`), never retried."""
        with NONCES.turn():
            return call_write(fn, what)

    @property
    def _info(self) -> Info:
        if self._info_api is None:
            self._info_api = self._read(lambda: Info(self.base_url, skip_ws=True, timeout=self.timeout_s), "connect")
        return self._info_api

    def _signer(self, key: SecretStr | None, key_path: str, purpose: str) -> LocalAccount:
        if key is None:
            raise ConfigError(f"{key_path}: no key configured; {purpose} needs it")
        return wallet(key)

    def _exchange(self, signer: LocalAccount, vault: str | None) -> Exchange:
        self.markets()
        return Exchange(signer, self.base_url, meta=self._raw_meta, vault_address=vault,
                        account_address=self.master_address, spot_meta={"universe": [], "tokens": []},
                        timeout=self.timeout_s)

    def _trader(self, account: str) -> Exchange:
        """The agent-signed ``Exchange`` acting on ``account`` (vault = a sub-account)."""
        account = self.address_of(account)
        if account not in self._traders:
            if self._agent is None:  # one agent signer per client, shared by every sub-account
                self._agent = self._signer(self._agent_key, "exchange.agent_private_key / exchange.agent_key_file",
                                           "trading")
            vault = None if account == self.master_address else account
            self._traders[account] = self._exchange(self._agent, vault)
        return self._traders[account]

    def _master(self) -> Exchange:
        """The master-signed ``Exchange`` (built on first use; ``ConfigError`` without a master key)."""
        if self._master_exchange is None:
            master = self._signer(self._master_key, "exchange.master_private_key / exchange.master_key_file",
                                  "sub-account transfers and agent approval")
            if master.address.lower() != self.master_address:
                raise ConfigError("exchange.master_private_key: the key does not belong to exchange.wallet_address")
            self._master_exchange = self._exchange(master, None)
        return self._master_exchange

    # -- reference data ------------------------------------------------------------------------
    def markets(self) -> dict[str, Market]:
        """Rules per coin from the venue's ``meta`` (fetched once per client)."""
        if self._markets is None:
            meta = self._read(lambda: self._info.meta(), "meta")
            self._raw_meta = meta
            self._markets = {e["name"]: market_from_meta(e) for e in meta["universe"] if not e.get("isDelisted")}
        return self._markets

    def _market(self, symbol: str) -> Market:
        market = self.markets().get(symbol)
        if market is None:
            raise OrderRejected(f"{symbol}: not a Hyperliquid perp (not in meta)")
        return market

    def mark(self, symbol: str) -> float:
        """The venue's mid price of ``symbol`` (USD)."""
        mids = self._read(lambda: self._info.all_mids(), "allMids")
        if symbol not in mids:
            raise OrderRejected(f"{symbol}: no mid price on Hyperliquid")
        return float(mids[symbol])

    # -- orders ----------------------------------------------------------------------------------
    def _wire(self, request: OrderRequest, market: Market) -> tuple[float, float, dict[str, Any], float]:
        """Rounded (size, limit price, SDK order type, reference price for the value check)."""
        qty = round_size(request.qty, market)
        buy = request.side is OrderSide.BUY
        bound = 1 + self.market_slippage if buy else 1 - self.market_slippage
        if request.order_type is OrderType.LIMIT:
            if request.price is None:
                raise OrderRejected(f"{request.symbol}: a limit order needs a price")
            px = round_price(request.price, market, limit_rounding(request.side))
            return qty, px, {"limit": {"tif": "Gtc"}}, px
        if request.order_type is OrderType.MARKET:
            ref = self.mark(request.symbol)
            px = round_price(request.price or ref * bound, market, limit_rounding(request.side))
            return qty, px, {"limit": {"tif": "Ioc"}}, ref
        if request.trigger_price is None:
            raise OrderRejected(f"{request.symbol}: a {request.order_type} order needs a trigger price")
        trigger = round_price(request.trigger_price, market, "nearest")
        px = round_price(request.price or trigger * bound, market, limit_rounding(request.side))
        tpsl = "sl" if request.order_type is OrderType.STOP_MARKET else "tp"
        return qty, px, {"trigger": {"triggerPx": trigger, "isMarket": True, "tpsl": tpsl}}, trigger

    def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
        """Send one order with its cloid (see :class:`~sixbtc.executor.venue.ExchangeClient`)."""
        market = self._market(request.symbol)
        try:
            cloid = Cloid(to_cloid(request.client_order_id))
        except ValueError as exc:
            raise OrderRejected(str(exc)) from exc
        qty, px, order_type, ref = self._wire(request, market)
        check_min_notional(qty, ref, market, reduce_only=request.reduce_only)
        trader = self._trader(account)
        answer = self._write(lambda: trader.order(request.symbol, request.side is OrderSide.BUY, qty, px, order_type,
                                                  reduce_only=request.reduce_only, cloid=cloid),
                             f"order {request.client_order_id}")
        status = statuses(answer)[0]
        if isinstance(status, dict) and "error" in status:
            raise refusal(f"hyperliquid order {request.client_order_id}: {status['error']}")
        try:
            return self._ack(request, qty, px, order_type, status)
        except (KeyError, TypeError, ValueError) as exc:  # sent and answered, but not readable
            raise AmbiguousOrderOutcome(f"hyperliquid order {request.client_order_id}: unreadable ack "
                                        f"{status!r}; outcome unknown") from exc

    def _ack(self, request: OrderRequest, qty: float, px: float, order_type: dict[str, Any], status: Any) -> VenueOrder:
        trigger = order_type.get("trigger", {}).get("triggerPx")
        filled, avg, oid, state = 0.0, None, "", OrderStatus.OPEN
        if isinstance(status, dict) and "filled" in status:
            info = status["filled"]
            filled, avg, oid = float(info["totalSz"]), float(info["avgPx"]), str(info["oid"])
            state = OrderStatus.FILLED if filled >= qty - 1e-12 else (
                OrderStatus.CANCELED if request.order_type is OrderType.MARKET else OrderStatus.PARTIALLY_FILLED)
        elif isinstance(status, dict) and "resting" in status:
            oid = str(status["resting"]["oid"])
        return VenueOrder(client_order_id=request.client_order_id, venue_order_id=oid, symbol=request.symbol,
                          side=request.side, order_type=request.order_type, qty=qty, filled_qty=filled,
                          avg_fill_price=avg, price=px, trigger_price=trigger, reduce_only=request.reduce_only,
                          status=state, ts_ms=int(time.time() * 1000))

    def cancel_order(self, account: str, symbol: str, client_order_id: str) -> bool:
        """Cancel by cloid; False when the venue says it is not open (filled, cancelled, unknown)."""
        self._market(symbol)
        cloid = Cloid(to_cloid(client_order_id))
        trader = self._trader(account)
        answer = self._write(lambda: trader.cancel_by_cloid(symbol, cloid), f"cancel {client_order_id}")
        status = statuses(answer)[0]
        if status == "success":
            return True
        message = status.get("error", "") if isinstance(status, dict) else str(status)
        if _CANCEL_GONE in message:
            return False
        raise refusal(f"hyperliquid cancel {client_order_id}: {message}")

    def query_order(self, account: str, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order with this cloid (``orderStatus``), or None while the venue does not know it."""
        cloid = Cloid(to_cloid(client_order_id))
        what, user = f"orderStatus {client_order_id}", self.address_of(account)
        body = self._read(lambda: parse.order_status_body(self._info.query_order_by_cloid(user, cloid)), what)
        if body is None:
            return None
        return self._with_averages(account, [parse.order(body["order"], body["status"])])[0]

    def open_orders(self, account: str) -> list[VenueOrder]:
        """Resting limits and triggers of ``account`` (``frontendOpenOrders``); a partly filled
        one carries its filled size and average fill price."""
        user = self.address_of(account)
        rows = self._read(lambda: [parse.order(r) for r in self._info.frontend_open_orders(user)],
                          "frontendOpenOrders")
        return self._with_averages(account, rows)

    def _with_averages(self, account: str, orders: list[VenueOrder]) -> list[VenueOrder]:
        """Average fill prices from ``userFillsByTime`` for the orders that have fills (one read)."""
        started = [o.ts_ms for o in orders if o.filled_qty > 0]
        if not started:
            return orders
        fills = self.fills_since(account, min(started))
        return [parse.with_average(o, fills) if o.filled_qty > 0 else o for o in orders]

    # -- account state ---------------------------------------------------------------------------
    def positions(self, account: str) -> list[VenuePosition]:
        """Open positions of ``account`` (net, one per coin)."""
        user = self.address_of(account)
        return self._read(lambda: parse.positions(self._info.user_state(user)), "clearinghouseState")

    def balance(self, account: str) -> Balance:
        """Equity (account value), available (withdrawable) and margin used, USD."""
        user = self.address_of(account)
        return self._read(lambda: parse.balance(account, self._info.user_state(user)), "clearinghouseState")

    def fills_since(self, account: str, since_ms: int) -> list[VenueFill]:
        """Fills at or after ``since_ms``, oldest first, de-duplicated by trade id (pages of 2000)."""
        rows: list[dict[str, Any]] = []
        start, user = int(since_ms), self.address_of(account)
        for _ in range(_MAX_PAGES):
            page = self._read(lambda s=start: parse.fill_page(self._info.user_fills_by_time(user, s)),
                              "userFillsByTime")
            rows.extend(page)
            if len(page) < _PAGE:
                break
            start = max(int(r["time"]) for r in page)
        return self._read(lambda: [f for f in parse.fills(rows) if f.ts_ms >= since_ms], "userFillsByTime")

    def funding_since(self, account: str, since_ms: int) -> list[FundingPayment]:
        """Funding settled on ``account`` at or after ``since_ms``, oldest first."""
        user = self.address_of(account)
        return self._read(lambda: parse.fundings(self._info.user_funding_history(user, int(since_ms)), since_ms),
                          "userFunding")

    def set_leverage(self, account: str, symbol: str, leverage: int, *, isolated: bool = True) -> None:
        """Set leverage and margin mode of ``symbol`` (capped by the coin's max from ``meta``).

        Idempotent: after an ``AmbiguousOrderOutcome`` it may simply be sent again.
        """
        market = self._market(symbol)
        if isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= market.max_leverage:
            raise OrderRejected(f"{symbol}: leverage {leverage!r} outside 1..{market.max_leverage:g} "
                                "(coin max leverage from Hyperliquid meta)")
        trader = self._trader(account)
        self._write(lambda: trader.update_leverage(leverage, symbol, is_cross=not isolated), f"leverage {symbol}")
