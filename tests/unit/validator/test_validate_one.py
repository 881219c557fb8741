"""The app's validator role: verdicts become StrategyEvents (phase, rule, detail, warm-up)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.app.factory_roles import validate_one
from sixbtc.app.home import Home
from sixbtc.config import load_settings
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

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
