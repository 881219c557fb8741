"""normalise / code_hash: class names, docstrings and comments do not matter; code does."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.core.ids import sha256_hex
from sixbtc.generator import code_hash, normalise, random_genome, render


@pytest.fixture(scope="module")
def genome():
    return random_genome("unger", np.random.default_rng(8))


def test_hash_ignores_class_name_comments_and_docstrings(genome):
    a = render(genome, "Strategy_BRK_aaaaaaaa")
    b = render(genome, "Strategy_BRK_bbbbbbbb")
    assert a != b and code_hash(a) == code_hash(b)
    commented = b.replace("        exits = ", "        # leave the trade\n        exits = ")
    redocumented = b.replace('    """', '    """Another description.\n\n    ', 1)
    assert commented != b and redocumented != b
    assert code_hash(commented) == code_hash(a) == code_hash(redocumented)
    assert code_hash(a) == sha256_hex(normalise(a)) and len(code_hash(a)) == 64


def test_hash_changes_when_the_code_changes(genome):
    a = render(genome, "Strategy_BRK_aaaaaaaa")
    first_param = next(iter(genome["blocks"][0]["grid"]))
    changed = dict(genome, blocks=[dict(genome["blocks"][0],
                                        grid={first_param: [999]}), *genome["blocks"][1:]])
    flipped = dict(genome, direction="short" if genome["direction"] == "long" else "long")
    hashes = {code_hash(a), code_hash(render(changed, "Strategy_BRK_aaaaaaaa")),
              code_hash(render(flipped, "Strategy_BRK_aaaaaaaa"))}
    assert len(hashes) == 3


def test_normalise_replaces_class_names_everywhere():
    code = (
        "class Strategy_MOM_12345678:\n"
        '    """Doc."""\n'
        "    def signals(self, data, params):\n"
        '        """Method doc."""\n'
        "        return Strategy_MOM_12345678\n"
    )
    canon = normalise(code)
    assert "Strategy_MOM_12345678" not in canon and "_Strategy0" in canon
    assert "Doc." not in canon and "Method doc." not in canon
    assert normalise(code.replace("12345678", "87654321")) == canon


def test_normalise_rejects_unparsable_code():
    with pytest.raises(StrategyRejected, match="syntax:parse_error") as info:
        normalise("class Broken(:\n    pass\n")
    assert info.value.reason == "syntax:parse_error" and "line 1" in info.value.detail
