"""Validator stage (SPEC §3.3): static gate, sandboxed execution and look-ahead tests."""

from sixbtc.validator.ast_gate import Finding, check_ast, check_structure
from sixbtc.validator.lookahead import (
    LookaheadFinding,
    choose_cuts,
    run_lookahead_tests,
    shuffle_after,
)
from sixbtc.validator.pipeline import ValidationReport, spread_param_sets, validate
from sixbtc.validator.warmup import WarmupResult, required_warmup

__all__ = [
    "Finding",
    "LookaheadFinding",
    "ValidationReport",
    "WarmupResult",
    "check_ast",
    "check_structure",
    "choose_cuts",
    "required_warmup",
    "run_lookahead_tests",
    "shuffle_after",
    "spread_param_sets",
    "validate",
]
