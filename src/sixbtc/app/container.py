"""The only place where adapters are constructed from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from sixbtc.adapters.compute.dask_runner import DaskGridRunner
from sixbtc.adapters.llm.openai_chat import OpenAIChatClient
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.coins_repo import CoinRepository
from sixbtc.adapters.storage.dashboard_repo import DashboardRepository
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.execution_repo import ExecutionRepository
from sixbtc.adapters.storage.funnel_repo import FunnelRepository
from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.adapters.storage.ops_repo import OpsRepository
from sixbtc.adapters.storage.parents_repo import ParentRepository
from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.process_repo import ProcessRegistry
from sixbtc.adapters.storage.reconcile_repo import ReconcileRepository
from sixbtc.adapters.storage.regime_repo import RegimeRepository
from sixbtc.adapters.storage.results_repo import ResultRepository
from sixbtc.adapters.storage.risk_repo import TradingStateRepository
from sixbtc.adapters.storage.scheduler_repo import SchedulerRunRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.trading_repo import TradingRepository
from sixbtc.adapters.storage.trials_repo import TrialRepository
from sixbtc.app.home import Home
from sixbtc.backtester.grid_jobs import LocalGridRunner
from sixbtc.backtester.ports import GridRunner
from sixbtc.config import Settings, load_settings
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.data.registry import CoinRegistry
from sixbtc.strategy.sandbox import SandboxLimits

if TYPE_CHECKING:  # the signing libraries are imported only when live mode builds its client
    from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient


@dataclass
class Container:
    """Settings plus lazily built adapters for one process.

    Worker processes build their own container from the same home (engines and sandboxes
    are never shared across processes).
    """

    home: Home
    settings: Settings
    clock: Clock = field(default_factory=LiveClock)

    @classmethod
    def open(cls, home: Home) -> Container:
        """Load settings from ``home`` (raises ConfigError) and create the directories."""
        home.ensure()
        return cls(home, load_settings(home.config_path))

    @cached_property
    def engine(self) -> Engine:
        """Database engine, migrated to the newest schema."""
        url = self.settings.database.url or f"sqlite:///{self.home.db_path}"
        engine = make_engine(url)
        migrate(engine)
        return engine

    @cached_property
    def strategies(self) -> StrategyRepository:
        return StrategyRepository(self.engine, self.clock)

    @cached_property
    def parents(self) -> ParentRepository:
        """Evolution parents: pool genomes and near-misses."""
        return ParentRepository(self.engine, self.clock)

    @cached_property
    def pool(self) -> PoolRepository:
        return PoolRepository(self.strategies)

    @cached_property
    def results(self) -> ResultRepository:
        return ResultRepository(self.engine, self.clock)

    @cached_property
    def trials(self) -> TrialRepository:
        return TrialRepository(self.engine, self.clock)

    @cached_property
    def coins(self) -> CoinRepository:
        return CoinRepository(self.engine, self.clock)

    @cached_property
    def registry(self) -> CoinRegistry:
        """Cached view of ``coins`` (SPEC §3.1 coin registry): most liquid first, TTL 5 min."""
        return CoinRegistry(self.coins)

    @cached_property
    def regimes(self) -> RegimeRepository:
        return RegimeRepository(self.engine, self.clock)

    @cached_property
    def trading(self) -> TradingRepository:
        return TradingRepository(self.engine, self.clock)

    @cached_property
    def trading_states(self) -> TradingStateRepository:
        """Trading states (ACTIVE / REDUCING / HALTED) and the kill switches' equity samples."""
        return TradingStateRepository(self.engine, self.clock)

    @cached_property
    def dashboard(self) -> DashboardRepository:
        """Read-only queries of the dashboard and its API."""
        return DashboardRepository(self.engine)

    @cached_property
    def leases(self) -> LeaseRepository:
        """The executor lease, timed by the database's clock (not this host's: hosts may disagree)."""
        return LeaseRepository(self.engine)

    @cached_property
    def scheduler_runs(self) -> SchedulerRunRepository:
        """The scheduler's run log (``scheduler_runs``)."""
        return SchedulerRunRepository(self.engine, self.clock)

    @cached_property
    def processes(self) -> ProcessRegistry:
        """The pid registry of the project's worker processes."""
        return ProcessRegistry(self.engine, self.clock)

    @cached_property
    def funnel(self) -> FunnelRepository:
        """Counts of strategy events folded before ``cleanup_old_events`` deleted them."""
        return FunnelRepository(self.engine)

    @cached_property
    def ops(self) -> OpsRepository:
        """Role heartbeats, metrics snapshots and alerts (operations)."""
        return OpsRepository(self.engine, self.clock)

    @cached_property
    def reconciliations(self) -> ReconcileRepository:
        """The executor's reconciliations with its venue (``sixbtc status``)."""
        return ReconcileRepository(self.engine, self.clock)

    def execution_store(self, fence: int | None) -> ExecutionRepository:
        """The executor's store, fenced by lease token ``fence`` (None: unfenced) and checking
        ``risk.max_open_positions`` in the database."""
        return ExecutionRepository(self.engine, self.strategies, self.clock, lease=self.leases, fence=fence,
                                   max_open_positions=self.settings.risk.max_open_positions)

    @cached_property
    def store(self) -> ParquetCandleStore:
        return ParquetCandleStore(self.home.store_dir, cache_size=self.settings.data.frame_cache, clock=self.clock)

    @cached_property
    def llm(self) -> OpenAIChatClient:
        """The ``llm`` source's chat client from the ``llm`` section (built only when used)."""
        cfg = self.settings.llm
        return OpenAIChatClient(cfg.base_url, cfg.model, cfg.api_key, timeout_s=cfg.timeout_s,
                                max_tokens=cfg.max_tokens, temperature=cfg.temperature)

    def live_venue(self) -> HyperliquidClient:
        """A new Hyperliquid client of live mode from the ``exchange`` section (the master key is
        read only when configured); :func:`sixbtc.app.venues.open_venue` keeps one per process
        and venue, so the process has one agent signer, shared by every sub-account and use.

        The agent key comes from :func:`sixbtc.config.secrets.agent_key` (environment, or a
        mode-0600 file). Nothing is imported, read or signed until this is first used, so paper
        mode never loads a signing library.

        Raises
        ------
        ConfigError
            No agent key, a key file readable by others, no ``exchange.wallet_address``.
        """
        from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient  # noqa: PLC0415 — live mode only
        from sixbtc.config.secrets import agent_key  # noqa: PLC0415

        key, _ = agent_key(self.settings, config_path=self.home.config_path)
        return HyperliquidClient.from_config(self.settings.exchange, agent_key=key)

    @cached_property
    def grid_runner(self) -> GridRunner:
        """Where the parameter search's grid simulations run (``backtest.executor``): in this
        process, or on the Dask cluster at ``backtest.dask_scheduler`` (connected lazily)."""
        bt = self.settings.backtest
        if bt.executor == "dask" and bt.dask_scheduler:
            return DaskGridRunner(bt.dask_scheduler, bt.dask_min_sets, bt.dask_timeout_s)
        return LocalGridRunner()

    def sandbox_limits(self) -> SandboxLimits:
        """Sandbox limits from the ``validator`` section."""
        return SandboxLimits.from_section(self.settings.validator)
