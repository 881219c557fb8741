"""The app's validator role: verdicts become StrategyEvents (phase, rule, detail, warm-up), on
the sample set drawn from the home's store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.factory_roles import validate_one, validation_sample
from sixbtc.app.home import Home
from sixbtc.app.window import CycleWindow
from sixbtc.config import load_settings
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.validator.sample import synthetic_extras, synthetic_sample

CORPUS = Path(__file__).resolve().parent / "corpus"


def _candidate(path: Path, name: str) -> StrategyCandidate:
    code = path.read_text().replace("Strategy_MOM_0badc0de", name)
    digest = hashlib.sha256(code.encode()).hexdigest()
    return StrategyCandidate(name, StrategyType("MOM"), StrategySource("template"), code, digest)


def test_verdicts_are_stored_with_phase_rule_detail_and_warmup(tmp_path, sandbox, sample):
    home = Home(tmp_path).ensure()
    c = Container(home, load_settings(home.config_path))
    ok = c.strategies.add(_candidate(CORPUS / "clean" / "sma_cross.py", "Strategy_MOM_00000001"))
    bad = c.strategies.add(_candidate(CORPUS / "biased" / "np_roll.py", "Strategy_MOM_00000002"))
    slow = c.strategies.add(_candidate(CORPUS / "biased" / "long_ema.py", "Strategy_MOM_00000003"))
    assert None not in (ok, bad, slow)
    while validate_one(c, sandbox, sample, "w1"):
        pass
    events = {
        e["strategy_id"]: e for e in c.strategies.events(limit=10) if e["phase"] != "generator"
    }
    assert events[ok]["to_status"] == str(StrategyStatus.VALIDATED)
    assert events[ok]["detail"].startswith("warmup_bars=")
    assert 0 < int(events[ok]["detail"].split("=")[1]) <= c.settings.backtest.warmup_bars
    assert (events[bad]["phase"], events[bad]["reason"]) == ("validator:ast", "ast:roll")
    lines = (CORPUS / "biased" / "np_roll.py").read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "np.roll(" in t and not t.startswith("#"))
    assert f"line {line}: ast:roll" in events[bad]["detail"] and events[bad]["to_status"] is None
    assert (events[slow]["phase"], events[slow]["reason"]) == ("validator:lookahead",
                                                                 "warmup:exceeds_config")  # fmt: skip
    by_reason = c.strategies.rejections_by_reason()
    assert by_reason == {"ast:roll": 1, "warmup:exceeds_config": 1}


T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _frame(n: int, hours: int, price: float, seed: int, start: pd.Timestamp = T0) -> pd.DataFrame:
    data = synthetic_sample(n, seed, price=price)
    return pd.DataFrame({"timestamp": start + pd.Timedelta(hours=hours) * np.arange(n), **data})


def test_data_switching_lookahead_is_rejected_on_a_store_sample_it_names(tmp_path, sandbox):
    home = Home(tmp_path).ensure()
    c = Container(home, load_settings(home.config_path))
    c.store.write_candles("BTC", "1h", _frame(3000, 1, 40_000.0, 1))
    c.store.write_candles("DOGE", "1h", _frame(3000, 1, 0.1, 2))
    c.store.write_candles("SOL", "4h", _frame(1800, 4, 150.0, 3, start=T0 - pd.Timedelta(days=250)))
    replay = T0 + pd.Timedelta(hours=2800)
    window = CycleWindow(T0, T0 + pd.Timedelta(hours=1000), replay, replay + pd.Timedelta(days=20))
    samples = validation_sample(c, window)
    assert [s.name for s in samples[:4]] == ["BTC 1h (2000 bars from 2024-02-03)",
                                             "DOGE 1h low price (2800 bars from 2024-01-01)",
                                             "BTC 1h early start (2000 bars from 2024-01-01)",
                                             "SOL 4h high volatility (1800 bars from 2023-04-26)"]
    assert [s.name for s in samples[4:]] == [s.name for s in synthetic_extras()]
    assert samples[0].data["close"][-1] == c.store.read_candles("BTC", "1h", None, replay)["close"].iloc[-1]
    cheat = c.strategies.add(_candidate(CORPUS / "biased" / "price_below_1000.py", "Strategy_MOM_00000004"))
    ok = c.strategies.add(_candidate(CORPUS / "clean" / "scale_free_zscore.py", "Strategy_MOM_00000005"))
    while validate_one(c, sandbox, samples, "w1"):
        pass
    events = {e["strategy_id"]: e for e in c.strategies.events(limit=10) if e["phase"] != "generator"}
    assert (events[cheat]["phase"], events[cheat]["reason"]) == ("validator:lookahead", "lookahead:truncation")
    assert events[cheat]["detail"].endswith("on sample DOGE 1h low price (2800 bars from 2024-01-01)")
    assert events[ok]["to_status"] == str(StrategyStatus.VALIDATED)
