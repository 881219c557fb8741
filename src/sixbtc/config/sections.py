"""Configuration sections, one model per SPEC section. Every number is a default (SPEC §0).

All models forbid unknown keys, so a typo fails at start naming its key path; booleans for
numbers (and numbers for flags), infinite or NaN floats, unknown timeframes, coin names that are
not plain symbols and unsupported database URLs are refused too (:mod:`sixbtc.config.fields`).
Every number has an upper bound: durations, counts of days or bars and worker counts the
bounds of :mod:`sixbtc.config.fields` (``MAX_DAYS``...), so that an extra digit fails at start
instead of overflowing a date or starting a process per unit; the others 64 bits / ``MAX_FLOAT``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AnyUrl, Field, SecretStr, model_validator

from sixbtc.config.fields import (
    MAX_BARS,
    MAX_DAYS,
    MAX_MINUTES,
    MAX_SECONDS,
    MAX_WORKERS,
    CoinList,
    CronExpr,
    DatabaseUrl,
    HttpUrl,
    LogLevel,
    Section,
    SourceList,
    TimeframeList,
    TimeframeName,
    WalletAddress,
    WebhookUrl,
)
from sixbtc.domain.sizing import SizingRule


class DatabaseSection(Section):
    url: DatabaseUrl = Field(None, description="SQLAlchemy URL; empty = SQLite (WAL) in the home directory. PostgreSQL: postgresql+psycopg://user@host/db")


class DataSection(Section):
    exchange_id: str = Field("binanceusdm", pattern=r"^[a-z0-9_]+$", description="ccxt id of the market-data venue (history and live candles)")
    coins: CoinList = Field(
        default_factory=lambda: ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LTC", "BCH", "AVAX"],
        description="Base assets downloaded when the store is empty (before the pairs updater has run)",
    )
    timeframes: TimeframeList = Field(default_factory=lambda: ["15m", "30m", "1h", "4h"], description="Timeframes kept in the store")
    history_days: int = Field(400, ge=1, le=MAX_DAYS, description="Days of history downloaded for a new symbol")
    from_listing: bool = Field(False, description="Download a new symbol from its listing date (Binance onboardDate) instead of the last history_days")
    archive_url: HttpUrl | None = Field(None, description="Bulk history: root of Binance's public monthly archives (https://data.binance.vision) used for whole past months before REST (zip + SHA-256 checksum); empty = REST only")
    network_probe_timeout_s: float = Field(5.0, gt=0, le=3_600, description="Seconds to wait for the venue before declaring the network unreachable")
    min_volume_usd: float = Field(1_000_000.0, ge=0, description="Pairs updater: minimum 24h volume (USD)")
    top_pairs_count: int = Field(50, ge=1, le=10_000, description="Pairs updater: keep this many pairs by volume")
    exchange_api_url: HttpUrl | None = Field(None, description="Base URL replacing the market-data venue's public REST API root (binanceusdm: {url}/fapi/v1/...), e.g. a mirror or a local test server; empty = the venue's own")
    frame_cache: int = Field(128, ge=0, le=100_000, description="Stored frames (one coin and timeframe of candles, or a coin's funding) each process keeps in memory after validating them (LRU; 0 = none). A backtest reads about two per coin of its timeframes plus BTC's, so fewer than that re-reads and re-validates every file for every strategy. Memory: a frame of 400 days of 15m candles is about 2 MB (the bundled data set: 99 frames, 45 MB in all)")
    hyperliquid_info_url: HttpUrl = Field("https://api.hyperliquid.xyz", description="Pairs updater: base URL of Hyperliquid's public info API (POST {url}/info metaAndAssetCtxs; read-only, no key)")
    live_feed: Literal["websocket", "rest"] = Field("websocket", description="Live candles of the service: websocket = ccxt pro watch_ohlcv pushes (LIVE streams and the stored universe's forward updates, flushed to the store, gaps backfilled over REST, staleness alarm); rest = the executor polls REST each step (LIVE streams only). `run --once` always replays the store")
    exchange_ws_url: AnyUrl | None = Field(None, description="Replaces the venue's kline websocket root (binanceusdm: wss://fstream.binance.com/ws), e.g. ws://127.0.0.1:PORT/ws of a local test server; empty = the venue's own")
    feed_batch_size: int = Field(50, ge=1, le=200, description="Websocket feed: streams per SUBSCRIBE message (Binance: at most 10 messages/s and 1024 streams per connection)")
    feed_stagger_s: float = Field(1.0, ge=0, le=60, description="Websocket feed: seconds between two subscription batches")
    feed_backoff_s: float = Field(1.0, gt=0, le=60, description="Websocket feed: first reconnect wait (s), doubled per failed attempt, at most 60 s")
    feed_idle_timeout_s: float = Field(120.0, gt=0, le=3_600, description="Websocket feed: a subscription batch without any update this long forces a reconnect (s)")
    feed_stale_grace_s: float = Field(60.0, ge=0, le=MAX_SECONDS, description="Staleness alarm: a stream is stale when its next candle is this many seconds overdue (last close + one bar + this); it then raises a `stale_feed` alert once and is polled over REST until it recovers")


class GeneratorSection(Section):
    daily_limit: int = Field(300, ge=0, description="Strategies generated per UTC day at most")
    workers: int = Field(3, ge=1, le=MAX_WORKERS, description="Parallel generator processes: with the llm source enabled, `sixbtc run` and `run --once` split each batch over up to this many (capped at the CPU count, >= 10 strategies each; the local sources alone are generated in-process, faster than a spawn); supervisor-config: numprocs of sixbtc worker generator. The daily limit and the GENERATED back-pressure hold for all of them together (counted in the database)")
    sources: SourceList = Field(default_factory=lambda: ["template", "unger", "pattern"], description="Enabled sources, drawn uniformly: template (indicator templates), unger (entry x filter x exit), pattern (price patterns x filter x exit), llm (an OpenAI-compatible model, off by default; see the llm section), grid (GRD: SMA ± k·ATR levels, off by default)")
    max_grid: int = Field(64, ge=1, description="Largest parameter grid a generated strategy may declare")
    evolution_share: float = Field(0.2, ge=0, le=1, description="Fraction of each batch bred by mutation/crossover of the genomes of pool members and near-misses (rejected at the DSR/PBO gate); 0 while there are none")
    max_generated_queue: int = Field(500, ge=1, description="Back-pressure: pause while GENERATED >= this")
    seed: int | None = Field(None, ge=0, description="Random seed for reproducible generation; empty = random")


class LLMSection(Section):
    base_url: HttpUrl = Field("https://api.openai.com/v1", description="OpenAI-compatible API root; POST {base_url}/chat/completions")
    model: str = Field("gpt-4o-mini", min_length=1, max_length=200, description="Model name sent in each request")
    api_key: SecretStr | None = Field(None, description="API key (env SIXBTC__LLM__API_KEY); never logged")
    timeout_s: float = Field(60.0, gt=0, le=600, description="Seconds to wait for one completion")
    max_tokens: int = Field(2000, ge=64, le=32_000, description="Upper bound of tokens in one answer")
    temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature")
    per_batch: int = Field(1, ge=0, le=50, description="Strategies asked from the LLM per generation batch (the other sources fill the rest)")


class RegimeSection(Section):
    enabled: bool = Field(True, description="Classify active coins TREND / REVERSAL / MIXED daily (01:05 UTC) for the unger source")
    timeframe: TimeframeName = Field("1h", description="Candles the breakout and reversal tests run on")
    window_days: int = Field(90, ge=7, le=MAX_DAYS, description="Days of history (ending where the replay window starts) the tests cover")
    breakout_bars: int = Field(20, ge=2, le=MAX_BARS, description="N of the N-bar high/low break")
    hold_bars: int = Field(10, ge=1, le=MAX_BARS, description="Fixed exit: bars a test position is held")
    min_edge: float = Field(0.0, ge=0, le=10, description="A test counts as profitable above this net return (fraction of the notional over the window)")


class ValidatorSection(Section):
    workers: int = Field(2, ge=1, le=MAX_WORKERS, description="Validator processes (capped at the CPU count)")
    max_validated_queue: int = Field(50, ge=1, description="Back-pressure: pause while VALIDATED >= this")
    wall_s: float = Field(30.0, gt=0, le=MAX_SECONDS, description="Wall-clock limit per sandbox call (s)")
    memory_mb: int = Field(1024, ge=128, le=1_048_576, description="Address-space limit of a sandbox worker (MB)")
    allow_unisolated_sandbox: bool = Field(False, description="UNSAFE: run strategy code where the sandbox namespaces (minimal read-only root, own network) cannot be created; default: refuse with an error")
    cut_points: int = Field(5, ge=1, le=1_000, description="Truncation test: number of cut points")
    sample_bars: int = Field(2000, ge=200, le=1_000_000, description="Bars of real data used as the validation sample")
    extra_cut_points: int = Field(2, ge=1, le=1_000, description="Truncation and shuffle tests on each extra sample (other coins, lengths, price/volume scales, start dates): number of cut points")


class BacktestSection(Section):
    timeframes: TimeframeList = Field(default_factory=lambda: ["15m", "30m", "1h", "4h"], description="Timeframes tried in the first backtest")
    max_coins: int = Field(30, ge=1, description="Coins per backtest at most")
    is_days: int = Field(120, ge=1, le=MAX_DAYS, description="In-sample window (days)")
    oos_days: int = Field(60, ge=1, le=MAX_DAYS, description="Out-of-sample window (days)")
    confirm_days: int = Field(30, ge=0, le=MAX_DAYS, description="Confirmation window: the last days before the replay window, never used for any choice, score or gate; each pool entrant's chosen parameters are traded on it afterwards (0 = none)")
    confirm_twins: int = Field(100, ge=0, le=10_000, description="Confirmation window: twins (the strategy's own signals shifted in time by >= 3 days) its return is ranked against; 0 = no twin percentile")
    warmup_bars: int = Field(250, ge=0, le=MAX_BARS, description="Bars before the in-sample window fed to indicators only")
    max_param_sets: int = Field(1000, ge=1, description="Parameter sets searched per strategy (larger grids are sampled; generated grids are also capped by generator.max_grid)")
    fee_rate: float = Field(0.00045, ge=0, lt=0.01, description="Fee per side as a fraction of notional (Hyperliquid taker 0.045 %)")
    slippage_bps: float = Field(2.0, ge=0, le=10_000, description="Adverse slippage per fill (basis points)")
    min_trades: int = Field(10, ge=1, description="Fewest out-of-sample trades (all coins) for a strategy to be scored")
    max_degradation: float = Field(0.6, ge=0, le=1, description="Largest allowed IS->OOS Sharpe degradation (fraction)")
    degradation_basis: Literal["excess", "return"] = Field("excess", description="Sharpe ratios the degradation gate compares: excess = of the daily excess over holding the strategy's direction on the same coins, matched to its exposure and position size, in each window (a change of the market's drift between IS and OOS cancels; a drift rider has no IS excess and is rejected); return = of the strategy's own daily returns")
    search_rungs: int = Field(3, ge=1, description="Successive halving: rungs of the parameter search (1 = exhaustive grid on every coin)")
    search_eta: int = Field(3, ge=2, description="Successive halving: keep the best 1/eta parameter sets per rung, use eta x more coins")
    screen_coins: int = Field(3, ge=1, description="Successive halving: coins (most liquid first) of the first, cheapest rung")
    search_method: Literal["halving", "optuna"] = Field("halving", description="Parameter search of a grid larger than max_param_sets: halving = successive halving over a seeded uniform sample of max_param_sets sets; optuna = successive halving whose first rung is optuna_trials TPE proposals of the whole grid (seeded by the code hash)")
    optuna_trials: int = Field(64, ge=1, le=100_000, description="search_method optuna: distinct parameter sets TPE proposes per timeframe (each one a trial of the ledger)")
    wfa_windows: int = Field(4, ge=0, description="Walk-forward folds (rolling) over the IS+OOS span; 0 = off")
    wfa_span: Literal["window", "history"] = Field("window", description="Walk-forward span: window = wfa_windows rolling folds over IS+OOS; history = rolling folds of is_days training + oos_days test over the coins' whole stored history before the confirmation window (several market regimes; wfa_windows 0 still switches it off)")
    wfa_min_consistency: float = Field(0.5, ge=0, le=1, description="Fewest walk-forward folds with a positive test return (fraction of folds)")
    shuffle_permutations: int = Field(50, ge=0, description="Shuffle test: permuted price paths per coin; 0 = off")
    shuffle_max_pvalue: float = Field(0.1, gt=0, le=1, description="Shuffle test: largest permutation p-value accepted")
    shuffle_coins: int = Field(3, ge=1, description="Shuffle test: coins (most liquid first) pooled into its metric")
    causality_cuts: int = Field(2, ge=1, description="In-backtest causality check: cuts per coin of the assigned timeframe; the chosen set's signals on each cut series must equal the full series' before the cut (backtest:lookahead)")
    plausible_max_sharpe: float = Field(15.0, gt=0, description="Plausibility gate: pooled OOS Sharpe above this is rejected as suspect:lookahead (best published records are about 1.4-2; the best 60-day buy-and-hold Sharpe of any coin in Binance 1h data 2019-2026 is 9.1)")
    plausible_rate_sharpe: float = Field(10.0, gt=0, description="Plausibility gate: above this pooled OOS Sharpe, near-certain profits (plausible_max_win_rate, plausible_max_bar_share) are suspect:lookahead")
    plausible_max_win_rate: float = Field(0.97, gt=0, le=1, description="Plausibility gate: OOS win rate counted as near-certain (fraction; with plausible_min_count trades)")
    plausible_max_bar_share: float = Field(0.8, gt=0, le=1, description="Plausibility gate: share of in-position OOS bars profitable counted as near-certain (fraction; with plausible_min_count bars)")
    plausible_min_count: int = Field(100, ge=1, description="Plausibility gate: OOS trades (or in-position bars) the win-rate (bar-share) rule needs")
    min_excess_return: float = Field(0.0, ge=-100, le=100, description="Smallest OOS excess return over holding the strategy's direction (buy-and-hold long, short-and-hold short) on the same coins, exposure-matched (fraction; at or below: backtest:excess; -100 = off)")
    workers: int = Field(4, ge=1, le=MAX_WORKERS, description="Backtest workers on VALIDATED (with elastic_workers, capped at the CPU count)")
    elastic_workers: int = Field(1, ge=0, le=MAX_WORKERS, description="Workers doing due re-tests first, else VALIDATED")
    executor: Literal["local", "dask"] = Field("local", description="Where the parameter search's grid simulations run: local = in the backtest worker; dask = fanned out to the Dask cluster at dask_scheduler (signals are still computed in the worker's sandbox; the Dask workers run only the engine's kernels and need this package installed)")
    dask_scheduler: str | None = Field(None, pattern=r"^((tcp|tls|inproc)://)?[A-Za-z0-9_.\-\[\]:/]+:\d+$", description="executor dask: address of the Dask scheduler, e.g. tcp://10.0.0.5:8786 (required then)")
    dask_min_sets: int = Field(64, ge=1, le=10_000_000, description="executor dask: a search rung is fanned out only when its parameter sets x coins reach this; smaller rungs run in the worker (the round trip costs more than they do)")
    dask_timeout_s: float = Field(600.0, gt=0, le=MAX_SECONDS, description="executor dask: seconds to wait for the scheduler at connect and for a rung's results")

    @model_validator(mode="after")
    def _dask_needs_a_scheduler(self) -> BacktestSection:
        if self.executor == "dask" and not self.dask_scheduler:
            raise ValueError("backtest.dask_scheduler is required when backtest.executor is dask")
        return self


class ScoringSection(Section):
    sharpe: float = Field(0.30, ge=0, description="Weight of the OOS Sharpe ratio")
    expectancy: float = Field(0.15, ge=0, description="Weight of OOS expectancy per trade")
    profit_factor: float = Field(0.15, ge=0, description="Weight of the OOS profit factor")
    win_rate: float = Field(0.10, ge=0, description="Weight of the OOS win rate")
    drawdown: float = Field(0.15, ge=0, description="Weight of (low) OOS max drawdown")
    consistency: float = Field(0.10, ge=0, description="Weight of the share of coins profitable out of sample")
    wfa_consistency: float = Field(0.10, ge=0, description="Weight of the share of walk-forward folds profitable")
    degradation: float = Field(0.10, ge=0, description="Weight of (low) IS->OOS Sharpe degradation")
    trades: float = Field(0.05, ge=0, description="Weight of the OOS trade count")
    multiple_testing_gate: bool = Field(True, description="Gate pool entry on the deflated Sharpe ratio and the PBO")
    dsr_min_prob: float = Field(0.95, ge=0, le=1, description="Smallest deflated Sharpe probability (fraction) to enter the pool")
    pbo_max: float = Field(0.5, ge=0, le=1, description="Largest probability of backtest overfitting (fraction) to enter the pool")
    pbo_splits: int = Field(16, ge=4, description="CSCV blocks of the PBO (even; fewer when days are few)")
    factory_trials: bool = Field(True, description="DSR: N and V also count the factory's whole search in the cycle's window (effective number of independent trials: trial-ledger return series clustered by correlation)")
    trial_cluster_correlation: float = Field(0.5, gt=-1, le=1, description="Effective number of trials: smallest correlation with a cluster's leader to join its cluster")
    trial_series_max: int = Field(500, ge=2, le=100_000, description="Effective number of trials: most trial return series clustered (newest first; bounds the cost)")
    penalty_min_trades: int = Field(50, ge=0, le=1_000_000, description="Score penalty: the backtest score is multiplied by min(1, sqrt(pooled OOS trades / this)); 0 = off")
    pbo_penalty_start: float = Field(0.2, ge=0, le=1, description="Score penalty: above this PBO the score is multiplied by (1 - PBO) / (1 - this); 1 = off")
    top_trade_share_start: float = Field(0.7, ge=0, le=1, description="Score penalty: above this share of the gross profit made by the best 10 % of trades, the score is multiplied by (1 - share) / (1 - this); 1 = off")
    best_day_share_start: float = Field(0.25, ge=0, le=1, description="Score penalty: above this share of the profit made on the best day, the score is multiplied by (1 - share) / (1 - this); 1 = off")

    @model_validator(mode="after")
    def _some_weight(self) -> ScoringSection:
        """All-zero weights leave the score undefined (the scorer would fail on every strategy)."""
        weights = ("sharpe", "expectancy", "profit_factor", "win_rate", "drawdown", "consistency",
                   "wfa_consistency", "degradation", "trades")
        if not any(getattr(self, w) > 0 for w in weights):
            raise ValueError("at least one weight must be > 0")
        return self


class ActivePoolSection(Section):
    max_size: int = Field(300, ge=1, description="Most strategies in the ACTIVE pool")
    min_score: float = Field(40.0, ge=0, le=100, description="Score needed to enter the pool")
    max_correlation: float = Field(0.9, gt=0, le=1, description="Pool entry: a newcomer whose OOS daily returns correlate above this with an ACTIVE member competes with it, the better score stays (pool:correlated / pool:correlated_evicted; 1 = off)")
    min_overlap_days: int = Field(20, ge=2, le=MAX_DAYS, description="Pool entry correlation cap: fewest common OOS days for a correlation to count")


class RetestSection(Section):
    interval_days: float = Field(3.0, gt=0, le=MAX_DAYS, description="Re-test ACTIVE strategies this often (days)")


class RotatorSection(Section):
    max_live_strategies: int = Field(10, ge=0, description="LIVE slots")
    min_score_live: float = Field(50.0, ge=0, le=100, description="Pool score needed for LIVE")
    max_per_type: int = Field(3, ge=1, description="LIVE strategies per type at most")
    max_per_timeframe: int = Field(3, ge=1, description="LIVE strategies per timeframe at most")
    check_interval_minutes: int = Field(15, ge=1, le=MAX_MINUTES, description="Rotation period")
    min_paper_days: float = Field(0.0, ge=0, le=MAX_DAYS, description="Paper track record required before real LIVE (days); paper-only version: reported as `incubated` by the monitor")
    max_correlation: float = Field(0.7, gt=0, le=1, description="Skip a candidate whose OOS daily returns correlate above this with a LIVE or chosen strategy (Pearson; 1 = off)")
    min_overlap_days: int = Field(20, ge=2, le=MAX_DAYS, description="Fewest common OOS days for the correlation cap to apply (fewer: treated as uncorrelated)")
    require_confirmation: bool = Field(True, description="Skip a candidate without a confirmation result (backtest.confirm_days), with a confirmation return <= 0, or with a twin percentile below min_confirm_percentile")
    min_confirm_percentile: float = Field(50.0, ge=0, le=100, description="With require_confirmation: lowest twin percentile of the confirmation return (percent; a candidate confirmed without twins is judged on its return alone)")


class ExecutorSection(Section):
    dry_run: bool = Field(True, description="Paper trading (default). Live trading is gated: it would take both dry_run: false and `sixbtc run --live` plus the agent key (environment or a chmod-600 exchange.agent_key_file); either signal alone refuses to start; `--live` prints what will trade and waits 5 s, then trades on exchange.execution_venue")
    subaccount_capital_usd: float = Field(100.0, gt=0, description="Paper capital per sub-account (USD)")
    replay_days: int = Field(30, ge=1, le=MAX_DAYS, description="Days of the store replayed by `run --once` (held out of backtests)")
    poll_interval_s: float = Field(30.0, gt=0, le=MAX_SECONDS, description="Live candle polling period (s)")
    sync_interval_s: float = Field(15.0, gt=0, le=MAX_SECONDS, description="Trade sync period of the service (s): venue fills -> positions, trades and protective stops between candles")
    fills_lookback_days: float = Field(7.0, gt=0, le=MAX_DAYS, description="Trade sync look-back (days): each sync reads the venue's fills of this window (de-duplicated by venue trade id)")
    order_query_attempts: int = Field(6, ge=1, le=100, description="Queries of an order's client order id after an ambiguous send (timeout, 5xx, reset, 429) before it is left UNKNOWN; reads are retried as often. The order is never sent twice")
    order_query_base_delay_s: float = Field(0.5, ge=0, le=MAX_SECONDS, description="Back-off of those queries (s): the k-th waits base x 2^(k-1), at most 8 s (defaults: 0.5+1+2+4+8 = 15.5 s in all; Hyperliquid may not show an order for a few seconds after its ack)")


class RiskSection(Section):
    sizing: Literal["risk", "equity"] = Field("risk", description="Position sizing of backtests, paper and live alike: risk = notional min(equity x risk_per_trade / sl_pct, equity x max_leverage, max_notional_usd) at max_leverage isolated (SPEC 3.4 and 3.7); equity = all-in 1x (notional = equity, capped at max_notional_usd). Backtests leave out the USD cap (they start at 10 000 USD whatever the capital)")
    risk_per_trade: float = Field(0.01, gt=0, le=0.1, description="Equity risked per trade (fraction), sized by stop distance")
    max_leverage: float = Field(5.0, ge=1, description="Leverage cap (also capped by the coin's max)")
    max_notional_usd: float = Field(10_000.0, gt=0, description="Notional cap per position (USD)")
    max_open_positions: int = Field(3, ge=1, description="Open positions per strategy at most")
    max_margin_use: float = Field(0.70, gt=0, le=1, description="Margin in use / equity at most, counting the new entry's margin (notional / leverage); refusal risk:margin")
    stale_data_bars: float = Field(2.0, gt=0, le=1_000, description="Data freshness: no entry when the newest candle opened more than stale_data_bars x timeframe + stale_data_grace_minutes before now; refusal risk:stale_data")
    stale_data_grace_minutes: float = Field(5.0, ge=0, le=MAX_MINUTES, description="Data freshness: minutes added to stale_data_bars x timeframe")
    max_submits_per_minute: int = Field(6, ge=1, le=10_000, description="Submit-rate limit: orders one strategy may send in any sliding 60 s (entries, exits, stops, targets); an entry beyond it is refused with risk:rate_limit")

    def sizing_rule(self) -> SizingRule:
        """The one sizing rule of backtests, paper and live (:class:`~sixbtc.domain.sizing.SizingRule`)."""
        return SizingRule(self.sizing, self.risk_per_trade, self.max_leverage, self.max_notional_usd)


class KillSwitchSection(Section):
    strategy_session_loss: float = Field(0.10, gt=0, le=1, description="Stop a strategy after this session loss (fraction of capital)")
    global_drawdown_24h: float = Field(0.15, gt=0, le=1, description="Stop all when equity drawdown over a sliding 24 h exceeds this")
    grace_minutes: int = Field(60, ge=0, le=MAX_MINUTES, description="Grace period after warm-up: no kill switch fires during the first grace_minutes after the executor started trading (the samples still count afterwards)")


class RetirementSection(Section):
    min_trades: int = Field(10, ge=1, description="Trades before the monitor judges a LIVE strategy")
    min_score: float = Field(30.0, ge=0, le=100, description="Retire when the live score falls below this")
    max_degradation: float = Field(0.50, ge=0, le=1, description="Retire when live expectancy is this much worse than backtest")
    max_drawdown: float = Field(0.30, gt=0, le=1, description="Retire when live drawdown exceeds this")
    check_interval_minutes: int = Field(15, ge=1, le=MAX_MINUTES, description="Monitor period")
    mc_paths: int = Field(1000, ge=0, description="Monte Carlo band: bootstrap paths of backtest OOS trades (0 = off)")
    mc_percentile: float = Field(5.0, gt=0, lt=50, description="Monte Carlo band: retire below this percentile of the simulated cumulative return, or above 100 minus it of the drawdown (percent)")
    min_psr: float = Field(0.01, ge=0, lt=1, description="Retire when PSR(live Sharpe > backtest Sharpe per trade) falls below this (0 = off)")
    psr_min_trades: int = Field(30, ge=2, description="Live trades before the PSR rule applies")


class ScheduledTask(Section):
    """One scheduled task: on/off and when (a 5-field crontab expression, UTC)."""

    enabled: bool = Field(True, description="Run this task on its schedule (`sixbtc scheduler --run TASK` runs it anyway)")
    cron: CronExpr = Field("0 0 * * *", description="When, as crontab 'minute hour day month weekday' in UTC (e.g. '45 1,13 * * *' = 01:45 and 13:45)")


class RetentionTask(ScheduledTask):
    """A cleanup task: also how old a row or file must be to be deleted."""

    retention_days: float = Field(7.0, gt=0, le=MAX_DAYS, description="Delete what is older than this (days)")


def _task(cron: str) -> ScheduledTask:
    return ScheduledTask(cron=cron)


def _retention(cron: str, days: float) -> RetentionTask:
    return RetentionTask(cron=cron, retention_days=days)


class SchedulerSection(Section):
    """The maintenance tasks of SPEC §3.9 (times UTC), each with its own block."""

    enabled: bool = Field(True, description="Run the scheduled tasks inside `sixbtc run` (the service; embedded default). Each task also has its own enabled flag")
    stale_claim_minutes: int = Field(30, ge=1, le=MAX_MINUTES, description="Release claims older than this (cleanup_stale_processing, and at the start of every run)")
    runs_retention_days: float = Field(30.0, gt=0, le=MAX_DAYS, description="cleanup_old_events also deletes scheduler_runs rows older than this (days)")
    daily_restart_services: ScheduledTask = Field(default_factory=lambda: _task("0 1 * * *"), description="Restart the supervised services (not the scheduler)")
    refresh_market_regimes: ScheduledTask = Field(default_factory=lambda: _task("5 1 * * *"), description="Regime per active coin (also needs regime.enabled)")
    renew_agent_wallets: ScheduledTask = Field(default_factory=lambda: _task("10 1 * * *"), description="Renew agent wallets expiring within accounts.agent_renew_days")
    check_subaccount_funds: ScheduledTask = Field(default_factory=lambda: _task("15 1 * * *"), description="Top up sub-accounts (accounts section)")
    cleanup_tmp_dir: RetentionTask = Field(default_factory=lambda: _retention("20 1 * * *", 1.0), description="Delete files of the home's tmp directory older than retention_days")
    cleanup_old_events: RetentionTask = Field(default_factory=lambda: _retention("25 1 * * *", 7.0), description="Fold strategy events older than retention_days into funnel_counts, then delete them")
    cleanup_stale_strategies: RetentionTask = Field(default_factory=lambda: _retention("30 1 * * *", 1.0), description="Delete unclaimed GENERATED/VALIDATED strategies unchanged for retention_days")
    cleanup_old_failed: RetentionTask = Field(default_factory=lambda: _retention("35 1 * * *", 7.0), description="Delete FAILED strategies unchanged for retention_days")
    cleanup_old_retired: RetentionTask = Field(default_factory=lambda: _retention("40 1 * * *", 7.0), description="Delete RETIRED strategies unchanged for retention_days (never one with an open position or a sub-account)")
    update_pairs: ScheduledTask = Field(default_factory=lambda: _task("45 1,13 * * *"), description="Pairs updater (data section)")
    download_data: ScheduledTask = Field(default_factory=lambda: _task("0 2,14 * * *"), description="Download/update the active coins x data.timeframes")
    cleanup_zombie_processes: ScheduledTask = Field(default_factory=lambda: _task("0 */3 * * *"), description="Stop the project's orphaned worker processes (recorded pids only)")
    cleanup_stale_processing: ScheduledTask = Field(default_factory=lambda: _task("*/30 * * * *"), description="Release claims older than stale_claim_minutes and claims of dead workers")
    refresh_data_cache: ScheduledTask = Field(default_factory=lambda: _task("0 */4 * * *"), description="Pre-load BTC candles of every data.timeframes into the read cache")


class MetricsSection(Section):
    interval_s: int = Field(60, ge=1, le=MAX_SECONDS, description="Metrics snapshot period (s): the monitor role (and `sixbtc run`) writes one row of pipeline_metrics_snapshots this often")
    prometheus_port: int = Field(0, ge=0, le=65535, description="Standalone Prometheus /metrics port served by the monitor role (0 = off; the API serves /metrics too)")
    prometheus_host: str = Field("127.0.0.1", min_length=1, max_length=255, description="Bind address of the standalone Prometheus port")


class NotifySection(Section):
    telegram_token: SecretStr | None = Field(None, description="Telegram bot token (set via env SIXBTC__NOTIFY__TELEGRAM_TOKEN); never logged")
    telegram_chat_id: str | None = Field(None, pattern=r"^-?[0-9]{1,20}$", description="Telegram chat id alerts go to; the only chat whose /status and /stop commands are obeyed")
    telegram_api_url: HttpUrl = Field("https://api.telegram.org", description="Telegram Bot API root (POST {url}/bot{token}/sendMessage); a local fake in tests")
    webhook_url: WebhookUrl = Field(None, description="Generic webhook for alerts (POST JSON {kind, key, severity, text, ts})")
    timeout_s: float = Field(10.0, gt=0, le=300, description="HTTP timeout of one notification request (s)")
    commands: bool = Field(True, description="Obey the Telegram commands /status and /stop (from telegram_chat_id only), polled by the monitor role")


class ApiSection(Section):
    host: str = Field("127.0.0.1", min_length=1, max_length=255, description="Bind address of the API and dashboard; an address other than loopback needs a strong api.token (at least 32 characters, about 128 bits)")
    port: int = Field(8080, ge=1, le=65535, description="Port")
    token: SecretStr | None = Field(None, description="Token for mutating routes and the WebSocket (env SIXBTC__API__TOKEN); empty = a random one kept in the home directory (api_token, mode 0600)")
    allowed_origins: list[str] = Field(default_factory=list, max_length=50, description="Browser origins (scheme://host:port) allowed besides the server's own (http://127.0.0.1:PORT, http://localhost:PORT, http://HOST:PORT) to call mutating routes and open the WebSocket")
    push_interval_s: float = Field(2.0, ge=0.2, le=300, description="Seconds between two WebSocket checks for changes (counts, positions and PnL, new events)")


class ExchangeSection(Section):
    execution_venue: Literal["hyperliquid"] = Field("hyperliquid", description="Execution venue for live trading")
    wallet_address: WalletAddress = Field(None, description="Master wallet address (public)")
    agent_private_key: SecretStr | None = Field(None, description="Agent wallet key (env SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY); the only signer of orders")
    agent_key_file: str | None = Field(None, min_length=1, description="File holding the agent key instead (must be mode 0600)")
    master_private_key: SecretStr | None = Field(None, description="Master wallet key (env SIXBTC__EXCHANGE__MASTER_PRIVATE_KEY), only for sub-account transfers and agent approval; leave unset to forbid them")
    master_key_file: str | None = Field(None, min_length=1, description="File holding the master key instead (must be mode 0600)")
    key_dir: str | None = Field(None, min_length=1, description="Directory where approved agent keys are written (0600 files); needed by agent approval")
    base_url: HttpUrl = Field("https://api.hyperliquid.xyz", description="Hyperliquid API base URL (testnet: https://api.hyperliquid-testnet.xyz)")
    timeout_s: float = Field(10.0, gt=0, le=MAX_SECONDS, description="HTTP timeout of one venue request (s); a write that times out is an ambiguous outcome")
    market_slippage: float = Field(0.05, gt=0, le=0.5, description="Market orders are IOC limits this far from the mark (fraction)")
    read_retries: int = Field(3, ge=0, le=10, description="Extra attempts of a failed read (writes are never retried)")
    retry_backoff_s: float = Field(0.5, ge=0, le=MAX_SECONDS, description="First back-off between read retries (s), doubled each attempt")


class AccountsSection(Section):
    top_up_below_usd: float = Field(50.0, ge=0, description="`accounts --top-up`: a sub-account whose equity is below this (USD) is topped up from the master")
    top_up_to_usd: float = Field(100.0, gt=0, description="`accounts --top-up`: equity a topped-up sub-account is brought to (USD)")
    master_reserve_usd: float = Field(100.0, ge=0, description="`accounts --top-up`: the master keeps at least this much available (USD); top-ups that would go below are skipped")
    agent_renew_days: float = Field(30.0, gt=0, le=MAX_DAYS, description="`accounts --renew-agents`: renew an agent wallet expiring within this many days")
    agent_valid_days: int = Field(180, ge=1, le=MAX_DAYS, description="`accounts --renew-agents`: validity of a renewed agent wallet (days)")

    @model_validator(mode="after")
    def _target_above_threshold(self) -> AccountsSection:
        if self.top_up_to_usd < self.top_up_below_usd:
            raise ValueError("top_up_to_usd must be >= top_up_below_usd")
        return self


class LoggingSection(Section):
    level: LogLevel = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL")
    json_logs: bool = Field(False, description="JSON logs (services) instead of pretty console logs")


class ProcessesSection(Section):
    stop_timeout_s: float = Field(20.0, gt=0, le=600, description="A role (`sixbtc worker ROLE`) exits within this many seconds of SIGTERM: it finishes or releases its current claim, rolls back and stops its children; past it the process ends itself (exit 124). supervisord's stopwaitsecs is set above it")
    idle_poll_s: float = Field(5.0, gt=0, le=MAX_SECONDS, description="Seconds a factory role waits when its queue is empty (or back-pressure holds it)")
    heartbeat_s: float = Field(10.0, gt=0, le=MAX_SECONDS, description="Each role writes its heartbeat (role_heartbeats) this often (s)")
    validators: int = Field(1, ge=1, le=MAX_WORKERS, description="supervisor-config: validator processes (numprocs)")
    backtesters: int = Field(1, ge=1, le=MAX_WORKERS, description="supervisor-config: backtester processes (numprocs); each does due re-tests first, else VALIDATED work")
    log_dir: str | None = Field(None, min_length=1, description="supervisor-config: directory of the log files (default HOME/logs)")
    log_max_bytes: int = Field(50_000_000, ge=1_000, le=2**40, description="supervisor-config: a log file is rotated at this size (bytes)")
    log_backups: int = Field(10, ge=0, le=1_000, description="supervisor-config: rotated log files kept per role")


class WatchdogSection(Section):
    interval_s: float = Field(30.0, gt=0, le=MAX_SECONDS, description="Watchdog period (s), run by the monitor role (and `sixbtc run`)")
    data_stale_minutes: float = Field(5.0, gt=0, le=MAX_MINUTES, description="Anomaly data_stale: the executor's newest candle is older than its timeframe plus this many minutes")
    heartbeat_timeout_s: float = Field(120.0, gt=0, le=MAX_SECONDS, description="Anomaly role_silent: a role's newest heartbeat is older than this (s) and it did not stop cleanly")
    cooldown_minutes: float = Field(30.0, ge=0, le=MAX_MINUTES, description="An anomaly of one kind (and subject) is notified at most once per this many minutes")
    critical_cooldown_minutes: float = Field(5.0, ge=0, le=5, description="Cooldown of missing_stop and kill_switch alerts (at most 5 minutes: they are never throttled longer)")
    heartbeat_minutes: float = Field(60.0, gt=0, le=MAX_MINUTES, description="Period of the summary heartbeat message (minutes)")
