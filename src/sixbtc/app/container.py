"""The only place where adapters are constructed from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.results_repo import CoinRepository, ResultRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.trading_repo import TradingRepository
from sixbtc.adapters.storage.trials_repo import TrialRepository
from sixbtc.app.home import Home
from sixbtc.config import Settings, load_settings
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.strategy.sandbox import SandboxLimits


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
    def trading(self) -> TradingRepository:
        return TradingRepository(self.engine, self.clock)

    @cached_property
    def store(self) -> ParquetCandleStore:
        return ParquetCandleStore(self.home.store_dir)

    def sandbox_limits(self) -> SandboxLimits:
        """Sandbox limits from the ``validator`` section."""
        v = self.settings.validator
        return SandboxLimits(wall_s=v.wall_s, memory_mb=v.memory_mb, allow_unisolated=v.allow_unisolated_sandbox)
