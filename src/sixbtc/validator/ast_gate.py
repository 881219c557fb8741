"""Static checks of strategy source (SPEC §3.3 phases 1–2): structure, safety, look-ahead.

The gate is a *quality filter*, not the security boundary (that is the sandbox process).
It rejects what well-meaning generators and LLMs get wrong and the obvious hostile
patterns, each reported as a :class:`Finding` naming the line and the rule:

=========================  ===============================================================
rule                       pattern
=========================  ===============================================================
``syntax``                 the source does not parse
``syntax:structure``       not exactly one top-level ``Strategy_*`` class with ``signals``
                           and the four contract attributes
``ast:forbidden_import``   import outside ``contract.ALLOWED_IMPORTS`` (or relative)
``ast:dunder``             ``__x__`` names/attributes (only ``def __init__`` is allowed)
``ast:private_attribute``  ``obj._x`` where ``obj`` is not ``self``/``cls``
``ast:forbidden_call``     ``open eval exec compile getattr setattr delattr globals locals
                           vars input breakpoint exit quit help memoryview type``
``ast:module_mutation``    assigning to an attribute of an imported module
``ast:negative_shift``     a negative literal in a ``shift(...)`` call
``ast:roll``               ``np.roll`` (wraps the future onto the past)
``ast:centered_window``    ``center=True``; ``mode="same"`` convolution
``ast:backfill``           ``.bfill()``, ``.backfill()``, ``fillna(method="bfill")``,
                           ``.interpolate()``
``ast:reverse``            negative-step slices, ``np.flip``
``ast:future_index``       ``x[i + k]`` (k >= 1) or ``x[i + k:]`` / ``x[:i + k]`` (k >= 2)
                           with ``i`` a loop variable
``ast:global_statistic``   a reduction over the whole series: ``np.mean(close)``,
                           ``close.max()``, ``np.percentile(x, q)``, ``.quantile(``,
                           ``.rank(`` — unless windowed (``.rolling``/``.expanding``/
                           ``.ewm`` receiver, a sliced window, or an explicit ``axis``)
=========================  ===============================================================

Sources of the look-ahead catalogue: M. López de Prado, *Advances in Financial Machine
Learning* (2018) ch. 7 and 11; D. Bailey et al., "Pseudo-Mathematics and Financial
Charlatanism" (2014).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from sixbtc.strategy.contract import ALLOWED_IMPORTS

FORBIDDEN_NAMES = frozenset(
    [
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "exit",
        "quit",
        "help",
        "memoryview",
        "type",
    ]
)
REDUCTIONS = frozenset(
    [
        "mean",
        "nanmean",
        "median",
        "nanmedian",
        "max",
        "min",
        "nanmax",
        "nanmin",
        "amax",
        "amin",
        "std",
        "nanstd",
        "var",
        "nanvar",
        "percentile",
        "nanpercentile",
        "quantile",
        "nanquantile",
        "ptp",
        "average",
        "argmax",
        "argmin",
    ]
)
METHOD_REDUCTIONS = frozenset(
    [
        "mean",
        "median",
        "max",
        "min",
        "std",
        "var",
        "quantile",
        "rank",
        "ptp",
        "argmax",
        "argmin",
        "idxmax",
        "idxmin",
    ]
)
WINDOW_METHODS = frozenset({"rolling", "expanding", "ewm"})
DECLARED_ATTRS = ("strategy_type", "direction", "timeframes", "param_space")


@dataclass(frozen=True)
class Finding:
    """One rule violation.

    Attributes
    ----------
    line : int
        1-based source line (0 when unknown).
    rule : str
        Machine-friendly rule name, e.g. ``"ast:negative_shift"``.
    detail : str
        Human-readable explanation.
    """

    line: int
    rule: str
    detail: str


def _negative_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return (
            isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and node.operand.value > 0
        )
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and node.value < 0
    )


def _forward_offset(node: ast.AST | None, loop_vars: set[str]) -> int | None:
    """``k`` if ``node`` is ``i + k`` / ``k + i`` / ``i - (-k)`` with ``i`` a loop variable."""
    if not isinstance(node, ast.BinOp):
        return None
    left, right = node.left, node.right
    if isinstance(node.op, ast.Add) and isinstance(left, ast.Constant):
        left, right = right, left
    if not (
        isinstance(left, ast.Name) and left.id in loop_vars and isinstance(right, ast.Constant)
    ):
        return None
    if not isinstance(right.value, int) or isinstance(right.value, bool):
        return None
    if isinstance(node.op, ast.Add):
        return right.value
    if isinstance(node.op, ast.Sub):
        return -right.value
    return None


class _Gate(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.modules: dict[str, str] = {}  # alias -> module name
        self.numpy_funcs: set[str] = set()  # names imported from numpy
        self.loop_vars: list[set[str]] = [set()]
        self.windowed: set[str] = set()  # names last assigned a window (slice, .rolling())

    def add(self, node: ast.AST, rule: str, detail: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), rule, detail))

    # ------------------------------------------------------------------ imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                self.add(node, "ast:forbidden_import", f"import of {alias.name!r} is not allowed")
            self.modules[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in ALLOWED_IMPORTS:
            self.add(
                node,
                "ast:forbidden_import",
                f"import from {'.' * node.level}{module!r} is not allowed",
            )
            return
        for alias in node.names:
            if module == "sixbtc.strategy" and alias.name != "indicators":
                self.add(
                    node, "ast:forbidden_import", f"only 'indicators' may be imported from {module}"
                )
            elif module == "sixbtc.strategy":
                self.modules[alias.asname or alias.name] = "sixbtc.strategy.indicators"
            elif module == "numpy":
                self.numpy_funcs.add(alias.asname or alias.name)

    # ------------------------------------------------------------------ names
    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__") and node.id.endswith("__"):
            self.add(node, "ast:dunder", f"access to {node.id!r}")
        elif node.id in FORBIDDEN_NAMES:
            self.add(node, "ast:forbidden_call", f"use of {node.id!r}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if node.attr.startswith("__") and node.attr.endswith("__"):
            self.add(node, "ast:dunder", f"access to attribute {node.attr!r}")
        elif node.attr.startswith("_") and not (
            isinstance(base, ast.Name) and base.id in {"self", "cls"}
        ):
            self.add(node, "ast:private_attribute", f"access to private attribute {node.attr!r}")
        if (
            isinstance(node.ctx, ast.Store | ast.Del)
            and isinstance(base, ast.Name)
            and base.id in self.modules
        ):
            self.add(node, "ast:module_mutation", f"assignment to {base.id}.{node.attr}")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("__") and node.name != "__init__":
            self.add(node, "ast:dunder", f"definition of {node.name!r}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        names = {t.id for t in node.targets if isinstance(t, ast.Name)}
        if _is_full_series(node.value):
            self.windowed -= names
        else:
            self.windowed |= names

    # ------------------------------------------------------------------ loops
    def _visit_loop(self, targets: list[ast.AST], body: list[ast.AST]) -> None:
        names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        self.loop_vars.append(self.loop_vars[-1] | names)
        for node in body:
            self.visit(node)
        self.loop_vars.pop()

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._visit_loop([node.target], [node.target, *node.body, *node.orelse])

    def _visit_comprehension(self, node: ast.AST) -> None:
        gens = node.generators  # type: ignore[attr-defined]
        for gen in gens:
            self.visit(gen.iter)
        elts = [getattr(node, f) for f in ("elt", "key", "value") if hasattr(node, f)]
        conds = [c for gen in gens for c in gen.ifs]
        self._visit_loop([g.target for g in gens], [*elts, *conds])

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_Subscript(self, node: ast.Subscript) -> None:
        loop_vars, index = self.loop_vars[-1], node.slice
        if isinstance(index, ast.Slice):
            lower = _forward_offset(index.lower, loop_vars)
            upper = _forward_offset(index.upper, loop_vars)
            if (lower is not None and lower >= 1) or (upper is not None and upper >= 2):
                self.add(node, "ast:future_index", "slice reaching past the current bar")
            if index.step is not None and _negative_literal(index.step):
                self.add(node, "ast:reverse", "negative-step slice reverses the series")
        else:
            offset = _forward_offset(index, loop_vars)
            if offset is not None and offset >= 1:
                self.add(node, "ast:future_index", f"index {offset} bar(s) past the loop variable")
        self.generic_visit(node)

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = (
            func.attr
            if isinstance(func, ast.Attribute)
            else func.id
            if isinstance(func, ast.Name)
            else ""
        )
        on_numpy = self._is_numpy(func)
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        if name == "shift" and any(_negative_literal(a) for a in [*node.args, *kwargs.values()]):
            self.add(node, "ast:negative_shift", "shift by a negative amount reads future bars")
        if on_numpy and name == "roll":
            self.add(node, "ast:roll", "np.roll wraps future values onto the past")
        if on_numpy and name in {"flip", "flipud"}:
            self.add(node, "ast:reverse", f"np.{name} reverses the series")
        if _is_true(kwargs.get("center")):
            self.add(node, "ast:centered_window", "center=True window uses future bars")
        mode = kwargs.get("mode")
        if isinstance(mode, ast.Constant) and mode.value == "same":
            self.add(node, "ast:centered_window", 'mode="same" convolution is centred')
        method = kwargs.get("method")
        if name in {"bfill", "backfill", "interpolate"} or (
            name == "fillna"
            and isinstance(method, ast.Constant)
            and method.value in {"bfill", "backfill"}
        ):
            self.add(node, "ast:backfill", f"{name} fills from future values")
        self._check_reduction(node, name, on_numpy, kwargs)
        self.generic_visit(node)

    def _is_numpy(self, func: ast.AST) -> bool:
        if isinstance(func, ast.Attribute):
            base = func.value
            return isinstance(base, ast.Name) and self.modules.get(base.id) == "numpy"
        return isinstance(func, ast.Name) and func.id in self.numpy_funcs

    def _check_reduction(self, node: ast.Call, name: str, on_numpy: bool, kwargs: dict) -> None:
        if "axis" in kwargs and not (
            isinstance(kwargs["axis"], ast.Constant) and kwargs["axis"].value is None
        ):
            return
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Name) and first.id in self.windowed:
            return
        if on_numpy and name in REDUCTIONS and first is not None and _is_full_series(first):
            self.add(node, "ast:global_statistic", f"np.{name} over the whole series")
        elif (
            not on_numpy
            and isinstance(node.func, ast.Attribute)
            and name in METHOD_REDUCTIONS
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in self.modules)
            and _is_full_series(node.func.value)
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in self.windowed)
        ):
            self.add(node, "ast:global_statistic", f".{name}() over the whole series")


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_full_series(node: ast.AST) -> bool:
    """False for windowed receivers: ``x[a:b]`` slices and ``.rolling()/.expanding()/.ewm()``."""
    if isinstance(node, ast.Subscript):
        return not isinstance(node.slice, ast.Slice | ast.Tuple)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr not in WINDOW_METHODS
    return isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.BinOp)


def check_structure(tree: ast.Module) -> list[Finding]:
    """Phase 1 beyond parsing: one top-level ``Strategy_*`` class with the contract members.

    Returns
    -------
    list of Finding
        Rule ``syntax:structure``; empty when the structure is right.
    """
    classes = [
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Strategy_")
    ]
    if len(classes) != 1:
        return [
            Finding(
                0,
                "syntax:structure",
                f"expected exactly one top-level Strategy_* class, found {len(classes)}",
            )
        ]
    cls = classes[0]
    findings = []
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    if "signals" not in methods:
        findings.append(
            Finding(cls.lineno, "syntax:structure", f"{cls.name} has no signals method")
        )
    assigned = {
        t.id
        for n in cls.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assigned |= {
        n.target.id
        for n in cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    for attr in DECLARED_ATTRS:
        if attr not in assigned:
            findings.append(
                Finding(cls.lineno, "syntax:structure", f"{cls.name} does not declare {attr}")
            )
    return findings


def check_ast(code: str) -> list[Finding]:
    """Run the static safety and look-ahead gate over strategy source.

    Parameters
    ----------
    code : str
        Python source of one strategy.

    Returns
    -------
    list of Finding
        Sorted by line; ``[Finding(line, "syntax", msg)]`` when the source does not parse;
        empty when the source is clean. Structure is checked by :func:`check_structure`.
    """
    try:
        tree = ast.parse(code, filename="<strategy>")
    except SyntaxError as exc:
        return [Finding(exc.lineno or 0, "syntax", exc.msg)]
    except ValueError as exc:  # e.g. null bytes
        return [Finding(0, "syntax", str(exc))]
    gate = _Gate()
    gate.visit(tree)
    return sorted(set(gate.findings), key=lambda f: (f.line, f.rule, f.detail))
