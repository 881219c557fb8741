"""The llm source's pure parts: code-block extraction and the class renaming."""

from __future__ import annotations

import pytest

from sixbtc.core.errors import SourceUnavailable
from sixbtc.domain.strategy import StrategyType
from sixbtc.generator.llm_prompt import extract_code, system_prompt, user_prompt
from sixbtc.generator.llm_source import _named


def test_extract_prefers_the_block_with_the_strategy_class():
    answer = "Try:\n```bash\npip install x\n```\nthen\n```python\nclass Strategy_MOM_a:\n    pass\n```\n"
    assert extract_code(answer) == "class Strategy_MOM_a:\n    pass\n"
    assert extract_code("```\nx = 1\n```") == "x = 1\n"


@pytest.mark.parametrize("answer", ["no code at all", "```python\n```", "`inline` only"])
def test_no_code_block(answer):
    with pytest.raises(SourceUnavailable) as info:
        extract_code(answer)
    assert info.value.reason == "llm:no_code_block"


def test_the_class_is_renamed_to_its_declared_type_and_our_id():
    code = 'class Foo:\n    strategy_type = "REV"\n    def signals(self, data, params):\n        return Foo\n'
    renamed, kind, name = _named(code, "0000abcd", StrategyType.MOM)
    assert (kind, name) == (StrategyType.REV, "Strategy_REV_0000abcd")
    assert "Foo" not in renamed and renamed.count(name) == 2
    # an unknown declared type keeps the asked one; unparsable code is left to the validator
    assert _named(code.replace('"REV"', '"XYZ"'), "00000001", StrategyType.MOM)[1:] == (StrategyType.MOM, "Strategy_MOM_00000001")
    assert _named("class (:", "00000001", StrategyType.BRK) == ("class (:", StrategyType.BRK, "Strategy_BRK_00000001")


def test_prompts_state_the_contract_and_the_request():
    system = system_prompt()
    assert "sl_pct" in system and "numpy" in system and "ind.rsi(" in system
    user = user_prompt("Strategy_BRK_1", "BRK", "short", ("1h",), 16)
    assert "Strategy_BRK_1" in user and "short" in user and "at most 16 parameter sets" in user
