"""The ``llm`` source end to end through the app's generator role, against a local fake
OpenAI-compatible server (real HTTP, real httpx): its code is stored as GENERATED and goes
through the same validator and sandbox; a failing LLM never stops the other sources."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.app.container import Container
from sixbtc.app.factory_roles import generate_batch, validate_one
from sixbtc.app.home import Home
from sixbtc.config import load_settings
from sixbtc.domain.strategy import StrategySource, StrategyStatus
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.testing.fake_llm import FakeLLMServer, Reply
from sixbtc.validator.sample import synthetic_sample

GOOD = '''Here is the strategy:

```python
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_TRN_whatever:
    """Long when the fast SMA crosses above the slow SMA; out on the cross back."""

    strategy_type = "TRN"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"fast": [5, 10], "slow": [30, 50], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        fast = ind.sma(close, params["fast"])
        slow = ind.sma(close, params["slow"])
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
```
'''


def hostile(marker) -> str:
    return f'''```python
import os
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_MOM_evil:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {{"n": [5, 10], "sl_pct": [0.01], "tp_pct": [0.02]}}

    def signals(self, data, params):
        os.system("touch {marker}")
        close = data["close"]
        return close > ind.sma(close, params["n"]), close < ind.sma(close, params["n"])
```'''


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


def _container(tmp_path, server: FakeLLMServer, sources: list[str], per_batch: int = 1,
               timeout_s: float = 5.0) -> Container:
    home = Home(tmp_path).ensure()
    c = Container(home, load_settings(home.config_path))
    c.settings.generator.sources = sources
    c.settings.llm.base_url = server.base_url
    c.settings.llm.per_batch = per_batch
    c.settings.llm.timeout_s = timeout_s
    return c


@pytest.fixture(scope="module")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=2.0), keep_spare=True) as sb:
        yield sb


def test_llm_code_goes_through_the_same_validator_and_sandbox(tmp_path, server, sandbox):
    marker = tmp_path / "pwned"
    server.reply(Reply.chat(GOOD), Reply.chat(hostile(marker)))
    c = _container(tmp_path, server, ["llm"], per_batch=2)
    created, dropped = generate_batch(c, 5, np.random.default_rng(1))
    assert (created, dropped) == (2, 0)  # only the LLM is enabled: two asked, two stored
    stored = c.strategies.list_by_status(StrategyStatus.GENERATED)
    assert {s.source for s in stored} == {StrategySource.LLM}
    good = next(s for s in stored if "ind.sma(close, params[\"fast\"])" in s.code)
    evil = next(s for s in stored if "os.system" in s.code)
    assert good.name.startswith("Strategy_TRN_") and f"class {good.name}:" in good.code
    assert evil.name.startswith("Strategy_MOM_") and f"class {evil.name}:" in evil.code
    # the prompt gives the contract, the allowed imports, the indicators and the class name
    system, user = (m["content"] for m in server.requests[0].body["messages"])
    assert "def signals(self, data, params)" in system and "sixbtc.strategy.indicators" in system
    assert "ind.cross_above(" in system and "ind.atr(" in system
    assert "class name: Strategy_" in user
    while validate_one(c, sandbox, synthetic_sample(2000), "w1"):
        pass
    events = {e["strategy_id"]: e for e in c.strategies.events(limit=10) if e["phase"] != "generator"}
    assert events[good.id]["to_status"] == str(StrategyStatus.VALIDATED)
    assert events[evil.id]["phase"] == "validator:ast" and events[evil.id]["to_status"] is None
    assert events[evil.id]["reason"] == "ast:forbidden_import" and "os" in events[evil.id]["detail"]
    assert not marker.exists()


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply.error(500, "internal"), "llm:http_500"),
    (Reply.error(401, "invalid key"), "llm:auth"),
    (Reply.chat("Sorry, I cannot write code today."), "llm:no_code_block"),
    (Reply.chat("late", delay_s=1.0), "llm:timeout"),
])
def test_a_failing_llm_never_stops_the_other_sources(tmp_path, server, reply, reason):
    server.reply(reply)
    c = _container(tmp_path, server, ["template", "llm"], per_batch=2, timeout_s=0.3)
    errors: list[str] = []
    created, _ = generate_batch(c, 6, np.random.default_rng(2), on_error=errors.append)
    assert created == 6  # the template source filled the whole room
    assert {s.source for s in c.strategies.list_by_status(StrategyStatus.GENERATED)} == {StrategySource.TEMPLATE}
    assert errors and all(e.startswith(reason) for e in errors)
    # a dead service ends the LLM batch at once; an answer without code only skips itself
    assert len(server.requests) == (2 if reason == "llm:no_code_block" else 1)


def test_no_request_when_llm_is_not_in_sources(tmp_path, server):
    server.reply(Reply.chat(GOOD))
    c = _container(tmp_path, server, ["template", "unger"], per_batch=5)
    created, _ = generate_batch(c, 4, np.random.default_rng(3))
    assert created == 4 and server.requests == []
