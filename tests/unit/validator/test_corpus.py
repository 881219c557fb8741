"""The look-ahead / warm-up corpus: every biased strategy is caught, no clean one is rejected.

Each file under ``corpus/clean`` and ``corpus/biased`` is a strategy module whose first line
says what the validator must answer: ``# expect: passed`` or
``# expect: <phase> <reason>[|<other reason>]`` (alternatives where the catching test
depends on the sample, e.g. a whole-series maximum that truncation shows only if the
maximum lies after a cut).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sixbtc.validator import validate

CORPUS = Path(__file__).resolve().parent / "corpus"
ALLOWED_WARMUP = 250  # backtest.warmup_bars default


def _expectation(path: Path) -> tuple[str, set[str]]:
    first = path.read_text().splitlines()[0]
    words = first.removeprefix("# expect:").split()
    return words[0], set(words[1].split("|")) if len(words) > 1 else set()


CLEAN = sorted((CORPUS / "clean").glob("*.py"))
BIASED = sorted((CORPUS / "biased").glob("*.py"))


def test_corpus_is_big_and_varied_enough():
    phases = [_expectation(p)[0] for p in BIASED]
    assert len(CLEAN) >= 10 and len(BIASED) >= 20
    assert phases.count("lookahead") >= 8  # disguises the AST gate cannot see
    reasons = set().union(*(_expectation(p)[1] for p in BIASED))
    assert {"lookahead:truncation", "warmup:unbounded", "warmup:exceeds_config"} <= reasons
    assert len({r for r in reasons if r.startswith("ast:")}) >= 8


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.stem)
def test_clean_strategy_passes_and_reports_its_warmup(path, sandbox, sample):
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP)
    assert report.passed, f"{report.phase} {report.reason}: {report.detail}"
    assert report.phase == "passed" and report.reason is None and report.findings == ()
    assert isinstance(report.warmup_bars, int) and 0 <= report.warmup_bars <= ALLOWED_WARMUP
    assert report.detail == f"warmup_bars={report.warmup_bars}"


@pytest.mark.parametrize("path", BIASED, ids=lambda p: p.stem)
def test_biased_strategy_is_caught_with_phase_rule_and_location(path, sandbox, sample):
    phase, reasons = _expectation(path)
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP)
    assert not report.passed
    assert report.phase == phase and report.reason in reasons, report.detail
    if phase == "ast":  # the finding names the line of the offending code and the rule
        lines = path.read_text().splitlines()
        hit = next(f for f in report.findings if f.rule == report.reason)
        assert f"line {hit.line}: {hit.rule}" in report.detail
        assert "def signals" not in lines[hit.line - 1] and hit.line > 15
    elif report.reason.startswith("lookahead:"):
        assert "signals differ at bar" in report.detail
        bar = int(report.detail.split("bar ")[1].split()[0])
        cut = int(report.detail.split("cut at ")[1].split()[0])
        assert 0 <= bar < cut < len(sample["close"])
    elif report.reason == "warmup:exceeds_config":
        assert report.warmup_bars > ALLOWED_WARMUP
        assert f"needs {report.warmup_bars} bars" in report.detail
    else:
        assert (
            report.warmup_bars is None and "differ from the full-history signals" in report.detail
        )
