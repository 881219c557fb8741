"""The look-ahead / warm-up corpus: every biased strategy is caught, no clean one is rejected.

Each file under ``corpus/clean`` and ``corpus/biased`` is a strategy module whose first line
says what the validator must answer: ``# expect: passed`` or
``# expect: <phase> <reason>[|<other reason>]`` (alternatives where the catching test
depends on the sample, e.g. a whole-series maximum that truncation shows only if the
maximum lies after a cut).

Data-switching look-ahead (issue 8) carries a second line ``# switch: <when it cheats>``: it
behaves honestly on the primary sample (the last 2,000 BTC 1h candles) and reads the future
only when the data looks otherwise. The tests show which layer catches each one:

* ``# expect: lookahead …``: the validator, on one of the extra samples (the primary
  sample alone lets it pass — what the validator did before issue 8);
* ``# expect: backtest backtest:lookahead``: no validation sample reveals it (the validator
  passes it); the in-backtest causality check does, on the backtest's own series
  (``tests/unit/backtester/test_protocol_lookahead.py``).
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


def _switch(path: Path) -> str | None:
    second = path.read_text().splitlines()[1]
    return second.removeprefix("# switch:").strip() if second.startswith("# switch:") else None


CLEAN = sorted((CORPUS / "clean").glob("*.py"))
BIASED = sorted((CORPUS / "biased").glob("*.py"))
SWITCHING = [p for p in BIASED if _switch(p) is not None]
VALIDATOR_CAUGHT = [p for p in BIASED if _expectation(p)[0] != "backtest"]
BACKTEST_CAUGHT = [p for p in BIASED if _expectation(p)[0] == "backtest"]


def _skip_without_data(path: Path, has_real_data: bool) -> None:
    if "needs the real" in (_switch(path) or "") and not has_real_data:
        pytest.skip("needs the real early-BTC extra sample (../shared/data is absent)")


def test_corpus_is_big_and_varied_enough():
    phases = [_expectation(p)[0] for p in BIASED]
    assert len(CLEAN) >= 15 and len(BIASED) >= 45
    assert phases.count("lookahead") >= 28  # disguises the AST gate cannot see
    reasons = set().union(*(_expectation(p)[1] for p in BIASED))
    assert {"lookahead:truncation", "warmup:unbounded", "warmup:exceeds_config"} <= reasons
    assert len({r for r in reasons if r.startswith("ast:")}) >= 8
    assert len(SWITCHING) >= 20 and len(BACKTEST_CAUGHT) >= 4  # issue 8's data-switching kinds


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.stem)
def test_clean_strategy_passes_and_reports_its_warmup(path, sandbox, sample, extras):
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP, extra_samples=extras)
    assert report.passed, f"{report.phase} {report.reason}: {report.detail}"
    assert report.phase == "passed" and report.reason is None and report.findings == ()
    assert isinstance(report.warmup_bars, int) and 0 <= report.warmup_bars <= ALLOWED_WARMUP
    assert report.detail == f"warmup_bars={report.warmup_bars}" and report.sample is None


@pytest.mark.parametrize("path", VALIDATOR_CAUGHT, ids=lambda p: p.stem)
def test_biased_strategy_is_caught_with_phase_rule_and_location(path, sandbox, sample, extras, has_real_data):
    _skip_without_data(path, has_real_data)
    phase, reasons = _expectation(path)
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP, extra_samples=extras)
    assert not report.passed
    assert report.phase == phase and report.reason in reasons, report.detail
    lengths = {e.name: e.n_bars for e in extras}
    n_bars = lengths[report.sample] if report.sample is not None else len(sample["close"])
    if phase == "ast":  # the finding names the line of the offending code and the rule
        lines = path.read_text().splitlines()
        hit = next(f for f in report.findings if f.rule == report.reason)
        assert f"line {hit.line}: {hit.rule}" in report.detail
        assert "def signals" not in lines[hit.line - 1] and hit.line > 15
    elif report.reason.startswith("lookahead:"):
        assert "signals differ at bar" in report.detail
        bar = int(report.detail.split("bar ")[1].split()[0])
        cut = int(report.detail.split("cut at ")[1].split()[0])
        assert 0 <= bar < cut < n_bars
    elif report.reason == "warmup:exceeds_config":
        assert report.warmup_bars > ALLOWED_WARMUP
        assert f"needs {report.warmup_bars} bars" in report.detail
    else:
        assert (
            report.warmup_bars is None and "differ from the full-history signals" in report.detail
        )


@pytest.mark.parametrize("path", SWITCHING, ids=lambda p: p.stem)
def test_data_switching_lookahead_passes_the_primary_sample_alone(path, sandbox, sample, has_real_data):
    """Before issue 8 the validator had one sample: these all passed it."""
    _skip_without_data(path, has_real_data)
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP, extra_samples=())
    assert report.passed, f"{report.reason}: {report.detail}"


@pytest.mark.parametrize("path", [p for p in SWITCHING if p in VALIDATOR_CAUGHT], ids=lambda p: p.stem)
def test_data_switching_lookahead_is_caught_on_an_extra_sample_it_names(path, sandbox, sample, extras,
                                                                     has_real_data):
    _skip_without_data(path, has_real_data)
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP, extra_samples=extras)
    assert report.phase == "lookahead" and report.sample in {e.name for e in extras}, report.detail
    assert report.detail.endswith(f"on sample {report.sample}")
    assert report.warmup_bars is not None  # the primary sample's full tests passed first


@pytest.mark.parametrize("path", BACKTEST_CAUGHT, ids=lambda p: p.stem)
def test_lookahead_only_the_backtest_data_reveals_passes_every_validation_sample(path, sandbox, sample, extras):
    """The validator is blind to these; the in-backtest causality check catches them."""
    report = validate(path.read_text(), sandbox, sample, allowed_warmup=ALLOWED_WARMUP, extra_samples=extras)
    assert report.passed, f"{report.reason}: {report.detail}"
