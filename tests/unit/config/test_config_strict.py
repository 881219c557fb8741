"""Issue 8: typos in environment overrides, unreadable files and loose values fail at start,
each with one line that names the variable or the file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixbtc.config import Settings, load_settings
from sixbtc.core.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path | None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------- environment
@pytest.mark.parametrize(("name", "nearest"), [
    ("SIXBTC__EXECUTER__DRY_RUN", "SIXBTC__EXECUTOR__DRY_RUN"),
    ("SIXBTC__ACTIVE_POOL_MAX_SIZE", "SIXBTC__ACTIVE_POOL__MAX_SIZE"),
    ("SIXBTC__ACTIVE_POOL__MAX_SIZ", "SIXBTC__ACTIVE_POOL__MAX_SIZE"),
    ("sixbtc__risk__max_leverag", "SIXBTC__RISK__MAX_LEVERAGE"),  # names are case-insensitive
])
def test_unknown_env_variable_fails_naming_it_and_the_nearest_key(
        monkeypatch: pytest.MonkeyPatch, name: str, nearest: str) -> None:
    monkeypatch.setenv(name, "false")
    msg = _error(None)
    assert f"unknown environment variable {name} (did you mean {nearest}?)" in msg


def test_unknown_env_variable_without_a_near_key_is_still_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__ZZZ", "1")
    assert "unknown environment variable SIXBTC__ZZZ:" in _error(None)


def test_valid_env_names_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__EXECUTOR__DRY_RUN", "true")
    monkeypatch.setenv("sixbtc__rotator__max_per_type", "2")
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL", '{"max_size": 5}')
    monkeypatch.setenv("SIXBTC_HOME", "/tmp/elsewhere")  # not a SIXBTC__ override
    s = load_settings(None)
    assert (s.rotator.max_per_type, s.active_pool.max_size) == (2, 5)


def test_env_error_names_the_variable_not_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "active_pool:\n  max_size: 12\n")
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MAX_SIZE", "abc")
    msg = _error(path)
    assert msg.startswith("invalid environment variable SIXBTC__ACTIVE_POOL__MAX_SIZE: "
                          "active_pool.max_size: expected int (got 'abc')")
    assert str(path) not in msg


def test_file_and_env_errors_each_name_their_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "active_pool:\n  max_size: abc\n")
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MIN_SCORE", "high")
    msg = _error(path)
    assert f"invalid configuration in {path}: active_pool.max_size: expected int" in msg
    assert "invalid environment variable SIXBTC__ACTIVE_POOL__MIN_SCORE: active_pool.min_score: expected number" in msg


def test_env_boolean_for_an_integer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MAX_SIZE", "true")
    assert "SIXBTC__ACTIVE_POOL__MAX_SIZE: active_pool.max_size: expected int" in _error(None)


# --------------------------------------------------------------------------- the file itself
def test_non_utf8_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes("active_pool:\n  # caf\xe9\n  max_size: 3\n".encode("latin-1"))
    msg = _error(path)
    assert f"{path}, line 2: not UTF-8 text (byte 0xe9" in msg


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.mkdir()
    assert f"{path}: cannot read the configuration file" in _error(path)


def test_dangling_symlink_is_not_taken_for_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.symlink_to(tmp_path / "gone.yaml")
    assert f"{path}: cannot read the configuration file" in _error(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("active_pool:\n  max_size: 10\n  min_score: 45\n  max_size: 300\n",
     "line 4: duplicate key active_pool.max_size (first set on line 2)"),
    ("rotator:\n  max_per_type: 2\nrotator:\n  max_per_type: 3\n", "line 3: duplicate key rotator (first set on line 1)"),
])
def test_duplicate_yaml_keys_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(_write(tmp_path, text))


def test_empty_section_means_its_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "active_pool:\n  # max_size: 10\nrisk:\n")) == Settings()


# --------------------------------------------------------------------------- loose values
@pytest.mark.parametrize(("text", "expected"), [
    ("logging:\n  level: LOUD\n", "logging.level: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
    ("backtest:\n  timeframes: [1h, 7m]\n", "backtest.timeframes.1: unknown timeframe '7m'"),
    ("data:\n  timeframes: [banana]\n", "data.timeframes.0: unknown timeframe 'banana'"),
    ("backtest:\n  timeframes: []\n", "backtest.timeframes: must not be empty"),
    ("backtest:\n  timeframes: [1h, 1h]\n", "backtest.timeframes: duplicate values 1h"),
    ("data:\n  coins: [BTC, ../../etc]\n", "data.coins.1: coin '../../etc' must be"),
    ("data:\n  coins: [BTC/USDT]\n", "data.coins.0: coin 'BTC/USDT' must be"),
    ("data:\n  coins: [btc]\n", "data.coins.0: coin 'btc' must be"),
    ("data:\n  coins: []\n", "data.coins: must not be empty"),
    ("data:\n  exchange_id: ../binance\n", "data.exchange_id: String should match pattern"),
    ("executor:\n  subaccount_capital_usd: .inf\n", "executor.subaccount_capital_usd: Input should be a finite number"),
    ("executor:\n  subaccount_capital_usd: .nan\n", "executor.subaccount_capital_usd: Input should be a finite number"),
    ("risk:\n  max_notional_usd: .inf\n", "risk.max_notional_usd: Input should be a finite number"),
    ("active_pool:\n  max_size: true\n", "active_pool.max_size: expected a number, not the boolean true"),
    ("backtest:\n  fee_rate: false\n", "backtest.fee_rate: expected a number, not the boolean false"),
    ("generator:\n  seed: true\n", "generator.seed: expected a number, not the boolean true"),
    ("generator:\n  seed: -1\n", "generator.seed: Input should be greater than or equal to 0"),
    ("generator:\n  sources: [template, gpt]\n", "generator.sources.1: Input should be 'template', 'unger', 'pattern', 'llm' or 'grid'"),
    ("database:\n  url: mysql://u@h/db\n", "database.url: unsupported database URL (scheme 'mysql')"),
    ("database:\n  url: postgres://u@h/db\n", "database.url: unsupported database URL (scheme 'postgres')"),
    ("database:\n  url: just-a-name\n", "database.url: unsupported database URL"),
    ("scoring:\n" + "".join(f"  {w}: 0\n" for w in (
        "sharpe", "expectancy", "profit_factor", "win_rate", "drawdown", "consistency",
        "wfa_consistency", "degradation", "trades")), "scoring: at least one weight must be > 0"),
    ("notify:\n  webhook_url: ftp://example.org/hook\n", "notify.webhook_url: must be an http:// or https:// URL"),
    ("exchange:\n  execution_venue: binance\n", "exchange.execution_venue: Input should be 'hyperliquid'"),
    ("exchange:\n  wallet_address: '0xabc'\n", "exchange.wallet_address: must be a 0x-prefixed address"),
])
def test_loose_values_are_refused_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    msg = _error(_write(tmp_path, text))
    assert f"invalid configuration in {tmp_path / 'config.yaml'}: " in msg
    assert expected in msg


def test_database_url_password_is_not_echoed(tmp_path: Path) -> None:
    msg = _error(_write(tmp_path, "database:\n  url: mysql://user:hunter2@db/x\n"))
    assert "hunter2" not in msg


def test_strict_values_keep_what_is_valid(tmp_path: Path) -> None:
    text = ("database:\n  url: postgresql+psycopg://sixbtc@db-host:5432/sixbtc\n"
            "data:\n  coins: [BTC, 1000PEPE]\n  timeframes: [5m, 1d]\n"
            "executor:\n  dry_run: true\n  subaccount_capital_usd: 250\n"
            "generator:\n  seed: 0\n"
            "notify:\n  webhook_url: https://example.org/hook\n"
            "exchange:\n  wallet_address: '0x" + "ab" * 20 + "'\n"
            "logging:\n  level: DEBUG\n")
    s = load_settings(_write(tmp_path, text))
    assert s.data.coins == ["BTC", "1000PEPE"] and s.data.timeframes == ["5m", "1d"]
    assert s.executor.subaccount_capital_usd == 250.0 and s.generator.seed == 0
    assert s.logging.level == "DEBUG" and s.database.url.startswith("postgresql+psycopg://")
    assert load_settings(_write(tmp_path, "database:\n  url: ''\n")).database.url is None


# --------------------------------------------------------------------------- review of issue 8
@pytest.mark.parametrize(("text", "expected"), [
    ("executor:\n  dry_run: 1\n", "executor.dry_run: expected true/false, not the number 1"),
    ("scheduler:\n  enabled: 0\n", "scheduler.enabled: expected true/false, not the number 0"),
    ("validator:\n  allow_unisolated_sandbox: 1.0\n",
     "validator.allow_unisolated_sandbox: expected true/false, not the number 1.0"),
])
def test_a_number_for_a_flag_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    """The mirror of ``max_size: true``: pydantic reads ``dry_run: 1`` as true."""
    assert expected in _error(_write(tmp_path, text))


def _numeric_fields() -> list[tuple[str, str, type]]:
    fields = []
    for name, section in Settings.model_fields.items():
        for key, field in section.annotation.model_fields.items():
            kind = next((t for t in (int, float) if t is field.annotation or t in getattr(
                field.annotation, "__args__", ())), None)
            if kind is not None:
                fields.append((name, key, kind))
    return fields


@pytest.mark.parametrize(("section", "key", "kind"), _numeric_fields())
def test_every_number_has_an_upper_bound(tmp_path: Path, section: str, key: str, kind: type) -> None:
    """A huge value (a typo, an extra digit) fails at start naming its key path, instead of an
    overflow traceback in the run (``backtest.is_days: 100000000``: OverflowError in the window
    planner; ``generator.workers: 100000``: as many processes)."""
    huge = "1.0e+300" if kind is float else str(10**30)  # YAML 1.1 floats need the dot
    msg = _error(_write(tmp_path, f"{section}:\n  {key}: {huge}\n"))
    assert f"{section}.{key}: " in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("backtest:\n  is_days: 100000000\n", "backtest.is_days: Input should be less than or equal to 10000"),
    ("executor:\n  replay_days: 10001\n", "executor.replay_days: Input should be less than or equal to 10000"),
    ("generator:\n  workers: 100000\n", "generator.workers: Input should be less than or equal to 256"),
    ("active_pool:\n  max_size: 100000000000000000000\n",
     "active_pool.max_size: Input should be less than or equal to"),
])
def test_out_of_range_values_name_the_bound(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(_write(tmp_path, text))


def test_the_largest_windows_plan_without_overflow(tmp_path: Path) -> None:
    """Every day/bar count at its upper bound still gives valid timestamps (no OverflowError)."""
    import pandas as pd

    from sixbtc.adapters.storage.candle_store import ParquetCandleStore
    from sixbtc.app.window import plan_window, symbols_by_timeframe

    bounds = {name: Settings.model_fields[section].annotation.model_fields[name].metadata
              for section, name in (("backtest", "is_days"), ("backtest", "oos_days"),
                                    ("executor", "replay_days"), ("backtest", "warmup_bars"))}
    top = {name: next(m.le for m in meta if getattr(m, "le", None) is not None) for name, meta in bounds.items()}
    s = load_settings(_write(tmp_path, (
        f"backtest:\n  timeframes: [1d]\n  is_days: {top['is_days']}\n  oos_days: {top['oos_days']}\n"
        f"  warmup_bars: {top['warmup_bars']}\nexecutor:\n  replay_days: {top['replay_days']}\n")))
    store = ParquetCandleStore(tmp_path / "store")
    days = pd.date_range("2024-01-01", periods=5, freq="1D", tz="UTC")
    store.write_candles("BTC", "1d", pd.DataFrame({"timestamp": days, "open": 1.0, "high": 1.0, "low": 1.0,
                                                   "close": 1.0, "volume": 1.0}))
    window = plan_window(store, s)
    assert window.is_start < window.oos_start < window.replay_start < window.replay_end
    assert symbols_by_timeframe(store, s, window, []) == {}  # five days cover no window


@pytest.mark.parametrize("text", [
    "notify:\n  telegram_token: 12345:SECRETTOKEN: x\n",  # a colon too many
    "notify:\n  telegram_token: \"12345:SECRETTOKEN\n",  # an unclosed quote
    "database:\n  url: 'postgresql+psycopg://u:SECRETTOKEN@h/db\n",
    "exchange:\n  {agent_private_key: SECRETTOKEN}: 1\n",  # a mapping used as a key
    "notify:\n  webhook_url: https//hooks.example.org/services/T0/SECRETTOKEN\n",  # a webhook URL is a credential
])
def test_secrets_in_a_bad_file_are_not_echoed(tmp_path: Path, text: str) -> None:
    msg = _error(_write(tmp_path, text))
    assert "SECRETTOKEN" not in msg
    assert "line 2" in msg or "notify.webhook_url: must be" in msg
