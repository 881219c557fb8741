"""Static checks of strategy source (SPEC §3.3 phases 1–2): structure, safety, look-ahead.

The gate is a *quality filter*, not the security boundary (that is the sandbox process).
Module names are **allow-listed** (:mod:`sixbtc.validator.ast_names`); attributes of other
values cannot be typed statically, so dunders and I/O method names are refused on them.
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
``ast:module_mutation``    assigning to an attribute of an imported module (any depth)
``ast:module_attribute``   a module name outside the allow-list
                           (:data:`~sixbtc.validator.ast_names.ALLOWED_MODULE_NAMES`), in
                           a chain (``np.lib.format``) or ``from numpy import lib``
``ast:module_object``      a module alias used as a value (aliased, passed, stored,
                           returned): only ``alias.allowed_name`` chains are accepted
``ast:module_escape``      attribute named after an interpreter/OS module (``pd.io``,
                           ``pd.compat``, ``x.os``, ``x.sys``, ``np.ctypeslib``...): paths
                           from numpy/pandas to ``os``
``ast:io``                 file I/O: numpy/pandas loaders and writers however reached
                           (``np.load``, ``from pandas import read_csv``, a default
                           argument ``r=np.fromfile``...), and I/O / serialisation /
                           string-evaluation methods on any value (``.to_csv``,
                           ``.tofile``, ``.dump``, ``.save``, ``.eval()``, ``.query()``...)
``ast:dunder``             also a ``"{0.__class__}"``-style format string (dunder
                           traversal through ``str.format``)
``ast:dynamic_dispatch``   ``.agg``/``.aggregate``/``.apply``/``.transform`` given a computed
                           string (pandas calls the value's method of that name: a
                           ``getattr``); a literal I/O name there is ``ast:io``
the look-ahead rules       see :mod:`sixbtc.validator.ast_bias`
=========================  ===============================================================

Source of the safety list: the escape techniques catalogued for Python sandboxes
(e.g. "Python sandbox escape" write-ups: ``().__class__.__bases__``, ``str.format``
attribute traversal, module attributes leading to ``os``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from sixbtc.strategy.contract import ALLOWED_IMPORTS
from sixbtc.validator.ast_bias import BiasRules, is_full_series
from sixbtc.validator.ast_names import (
    ALLOWED_MODULE_NAMES,
    ESCAPE_ATTRS,
    IO_METHODS,
    is_io_name,
)

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
#: A ``str.format`` replacement field whose name part reaches an attribute or item.
_DUNDER_FIELD = re.compile(r"\{[^{}:!]*[.\[][^{}]*\}")
DECLARED_ATTRS = ("strategy_type", "direction", "timeframes", "param_space")
#: pandas methods that call ``getattr(value, name)`` for a string argument (and numpy's
#: function of that name when the value has none).
DISPATCHERS = frozenset({"agg", "aggregate", "apply", "transform"})


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


class _Gate(BiasRules, ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.modules: dict[str, str] = {}  # alias -> module name
        self.numpy_funcs: set[str] = set()  # names imported from numpy
        self.loop_vars: list[set[str]] = [set()]
        self.windowed: set[str] = set()  # names last assigned a window (slice, .rolling())
        self.series: set[str] = set()  # names holding a whole input series (data["close"]...)
        self.covered: set[int] = set()  # inner attributes of module chains already checked
        self.chain_roots: set[int] = set()  # module-alias names that start a checked chain
        self.defined: set[str] = set()  # functions and lambdas bound to a name (callable args)

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
            bound = alias.asname or alias.name
            if module == "sixbtc.strategy" and alias.name == "indicators":
                self.modules[bound] = "sixbtc.strategy.indicators"
            elif module == "sixbtc.strategy" or alias.name == "*":
                self.add(node, "ast:forbidden_import",
                         f"'from {module} import {alias.name}' is not allowed")  # fmt: skip
            elif f"{module}.{alias.name}" not in ALLOWED_MODULE_NAMES:
                self._refuse_name(node, f"{module}.{alias.name}")
            elif module == "numpy":
                self.numpy_funcs.add(bound)

    # ------------------------------------------------------------------ names
    def _refuse_name(self, node: ast.AST, dotted: str) -> None:
        """Report a module name outside the allow-list with its most specific rule."""
        parts = dotted.split(".")
        if any(p.startswith("_") for p in parts[1:]):
            return  # reported as ast:private_attribute / ast:dunder
        if any(p in ESCAPE_ATTRS for p in parts[1:]):
            return  # reported as ast:module_escape
        if is_io_name(dotted):
            self.add(node, "ast:io", f"{dotted} reads/writes files")
        else:
            self.add(node, "ast:module_attribute",
                     f"{dotted} is not among the names a strategy may use")  # fmt: skip

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__") and node.id.endswith("__"):
            self.add(node, "ast:dunder", f"access to {node.id!r}")
        elif node.id in FORBIDDEN_NAMES:
            self.add(node, "ast:forbidden_call", f"use of {node.id!r}")
        if node.id in self.modules and id(node) not in self.chain_roots:
            self.add(node, "ast:module_object",
                     f"module {node.id!r} used as a value (aliased, passed, stored or returned)")  # fmt: skip

    def _module_chain(self, node: ast.Attribute) -> None:
        """Check ``alias.a.b...`` against the allow-list (outermost attribute of a chain)."""
        parts, base = [], node
        while isinstance(base, ast.Attribute):
            parts.append(base.attr)
            base = base.value
            if isinstance(base, ast.Attribute):
                self.covered.add(id(base))
        if not (isinstance(base, ast.Name) and base.id in self.modules):
            return
        self.chain_roots.add(id(base))
        dotted = [self.modules[base.id], *reversed(parts)]
        for k in range(len(dotted), 1, -1):
            if ".".join(dotted[:k]) in ALLOWED_MODULE_NAMES:
                break
        else:
            self._refuse_name(node, ".".join(dotted))
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.add(node, "ast:module_mutation", f"assignment to {'.'.join([base.id, *reversed(parts)])}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if node.attr.startswith("__") and node.attr.endswith("__"):
            self.add(node, "ast:dunder", f"access to attribute {node.attr!r}")
        elif node.attr.startswith("_") and not (
            isinstance(base, ast.Name) and base.id in {"self", "cls"}
        ):
            self.add(node, "ast:private_attribute", f"access to private attribute {node.attr!r}")
        if node.attr in ESCAPE_ATTRS:
            self.add(node, "ast:module_escape", f"access to attribute {node.attr!r}")
        if node.attr in IO_METHODS or node.attr.startswith("read_"):
            self.add(node, "ast:io", f"{node.attr} reads/writes files or evaluates strings")
        if id(node) not in self.covered:
            self._module_chain(node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.defined.add(node.name)
        if node.name.startswith("__") and node.name != "__init__":
            self.add(node, "ast:dunder", f"definition of {node.name!r}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        names = {t.id for t in node.targets if isinstance(t, ast.Name)}
        if is_full_series(node.value):
            self.windowed -= names
        else:
            self.windowed |= names
        if self._derives_series(node.value):
            self.series |= names
        else:
            self.series -= names

    def _derives_series(self, value: ast.AST) -> bool:
        """``data[k]``, or a call/attribute/conversion applied to a whole input series."""
        if isinstance(value, ast.Subscript):
            return isinstance(value.value, ast.Name) and value.value.id == "data"
        if isinstance(value, ast.Attribute):
            return self._derives_series(value.value)
        if isinstance(value, ast.Call):
            if isinstance(value.func, ast.Attribute) and value.func.attr in {
                "to_numpy",
                "copy",
                "astype",
            }:
                return self._derives_series(value.func.value)
            first = value.args[0] if value.args else None
            return (
                _attr_name(value.func) in {"Series", "asarray", "array"}
                and first is not None
                and (
                    self._derives_series(first)
                    or (isinstance(first, ast.Name) and first.id in self.series)
                )
            )
        return isinstance(value, ast.Name) and value.id in self.series

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
        self.check_subscript(node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "{" in node.value and _DUNDER_FIELD.search(node.value):
            self.add(node, "ast:dunder", "format string with attribute access in a field")

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        on_numpy = self._is_numpy(func)
        self._check_dispatch(node)
        self.check_call_bias(node, on_numpy)
        self.generic_visit(node)

    def _check_dispatch(self, node: ast.Call) -> None:
        """``s.agg("to_pickle", path)``: pandas looks a string up as a method of the value
        (a ``getattr`` in disguise); only a literal name that is not I/O or a dunder passes."""
        if _attr_name(node.func) not in DISPATCHERS or not node.args:
            return
        name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            if name.value in IO_METHODS or name.value.startswith(("read_", "_")):
                self.add(node, "ast:io", f"{_attr_name(node.func)}({name.value!r}) calls an I/O or private method")
        elif isinstance(name, ast.JoinedStr | ast.BinOp | ast.Subscript) or (
            isinstance(name, ast.Name) and name.id not in self.defined
        ) or (isinstance(name, ast.Call) and not self._module_function(name.func)):
            self.add(node, "ast:dynamic_dispatch",
                     f"{_attr_name(node.func)}() with a computed method name (only literal names)")  # fmt: skip

    def _module_function(self, func: ast.AST) -> bool:
        """``alias.name(...)`` on an imported module (e.g. ``np.vectorize(f)``)."""
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.modules

    def _on_module(self, func: ast.Attribute, module: str) -> bool:
        base = func.value
        return isinstance(base, ast.Name) and self.modules.get(base.id) == module

    def _is_numpy(self, func: ast.AST) -> bool:
        if isinstance(func, ast.Attribute):
            return self._on_module(func, "numpy")
        return isinstance(func, ast.Name) and func.id in self.numpy_funcs


def _attr_name(func: ast.AST | None) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


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
