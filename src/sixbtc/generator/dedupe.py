"""Duplicate detection: canonical form and hash of strategy source (SPEC §3.2).

Two sources are "the same strategy" when their syntax trees are equal once docstrings are
dropped and class names replaced by a placeholder. Comments and formatting never reach
the tree, so they are ignored too.
"""

from __future__ import annotations

import ast

from sixbtc.core.errors import StrategyRejected
from sixbtc.core.ids import sha256_hex

#: Placeholder that replaces the i-th class name (``{i}`` is its position in the source).
CLASS_PLACEHOLDER = "_Strategy{i}"

_DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


class _Canonicaliser(ast.NodeTransformer):
    """Drops docstrings and renames classes (and every use of their names)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, _DOC_OWNERS) and node.body and _is_docstring(node.body[0]):
            node.body = node.body[1:] or [ast.Pass()]
        return super().generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.names.get(node.id, node.id)
        return node


def normalise(code: str) -> str:
    """Canonical form of strategy source, used for duplicate detection.

    The result is ``ast.dump`` of the parsed module after (1) removing the docstring of
    the module, of every class and of every function, and (2) renaming each class, in
    order of appearance, to ``_Strategy0``, ``_Strategy1``... (uses of the names follow).
    Comments, blank lines, quoting style and formatting are not part of the tree.

    Parameters
    ----------
    code : str
        Python source.

    Returns
    -------
    str
        The canonical dump (no line/column attributes).

    Raises
    ------
    StrategyRejected
        ``reason="syntax:parse_error"`` if ``code`` does not parse.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise StrategyRejected("syntax:parse_error", f"line {exc.lineno}: {exc.msg}") from None
    classes = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    names: dict[str, str] = {}
    for name in classes:
        names.setdefault(name, CLASS_PLACEHOLDER.format(i=len(names)))
    tree = _Canonicaliser(names).visit(tree)
    return ast.dump(tree, annotate_fields=True, include_attributes=False)


def code_hash(code: str) -> str:
    """SHA-256 hex digest (64 chars) of :func:`normalise` ``(code)``.

    Raises
    ------
    StrategyRejected
        ``reason="syntax:parse_error"`` if ``code`` does not parse.
    """
    return sha256_hex(normalise(code))
