"""The root ``Settings`` model: every SPEC section, with defaults."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sixbtc.config import sections as s


class Settings(BaseSettings):
    """All of SixBTC's configuration. Load it with :func:`sixbtc.config.load_settings`.

    Environment variables ``SIXBTC__SECTION__KEY`` override ``config.yaml``.
    """

    model_config = SettingsConfigDict(
        extra="forbid", env_prefix="SIXBTC__", env_nested_delimiter="__", validate_assignment=True
    )

    database: s.DatabaseSection = Field(default_factory=s.DatabaseSection)
    data: s.DataSection = Field(default_factory=s.DataSection)
    generator: s.GeneratorSection = Field(default_factory=s.GeneratorSection)
    llm: s.LLMSection = Field(default_factory=s.LLMSection)
    regime: s.RegimeSection = Field(default_factory=s.RegimeSection)
    validator: s.ValidatorSection = Field(default_factory=s.ValidatorSection)
    backtest: s.BacktestSection = Field(default_factory=s.BacktestSection)
    scoring: s.ScoringSection = Field(default_factory=s.ScoringSection)
    active_pool: s.ActivePoolSection = Field(default_factory=s.ActivePoolSection)
    retest: s.RetestSection = Field(default_factory=s.RetestSection)
    rotator: s.RotatorSection = Field(default_factory=s.RotatorSection)
    executor: s.ExecutorSection = Field(default_factory=s.ExecutorSection)
    risk: s.RiskSection = Field(default_factory=s.RiskSection)
    kill_switch: s.KillSwitchSection = Field(default_factory=s.KillSwitchSection)
    retirement: s.RetirementSection = Field(default_factory=s.RetirementSection)
    scheduler: s.SchedulerSection = Field(default_factory=s.SchedulerSection)
    metrics: s.MetricsSection = Field(default_factory=s.MetricsSection)
    notify: s.NotifySection = Field(default_factory=s.NotifySection)
    api: s.ApiSection = Field(default_factory=s.ApiSection)
    exchange: s.ExchangeSection = Field(default_factory=s.ExchangeSection)
    accounts: s.AccountsSection = Field(default_factory=s.AccountsSection)
    logging: s.LoggingSection = Field(default_factory=s.LoggingSection)
    processes: s.ProcessesSection = Field(default_factory=s.ProcessesSection)
    watchdog: s.WatchdogSection = Field(default_factory=s.WatchdogSection)
