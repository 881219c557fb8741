"""Look-ahead rules of the static gate (SPEC §3.3 phase 2), used by :mod:`ast_gate`.

=========================  ===============================================================
rule                       pattern
=========================  ===============================================================
``ast:negative_shift``     a negative literal in ``shift(...)``, ``diff(...)`` or
                           ``pct_change(...)`` (compares with *future* bars)
``ast:roll``               ``np.roll`` (wraps the future onto the past)
``ast:centered_window``    ``center=True``; ``mode="same"`` convolution; ``np.gradient``
                           (central differences)
``ast:backfill``           ``.bfill()``, ``.backfill()``, ``fillna(method="bfill")``,
                           ``.interpolate()``
``ast:reverse``            negative-step slices, ``np.flip``/``np.flipud``
``ast:future_index``       ``x[i + k]`` (k >= 1) or ``x[i + k:]`` / ``x[:i + k]`` (k >= 2)
                           with ``i`` a loop variable
``ast:last_bar``           ``x[-k]``, ``x[len(x) - k]``, ``.iloc[-k]``, ``.iat[-k]`` on a
                           whole series: the last bars of the sample, seen by every bar
``ast:global_statistic``   a reduction over the whole series: ``np.mean(close)``,
                           ``close.max()``, ``np.percentile(x, q)``, ``np.sort``,
                           ``np.polyfit``, ``.quantile(``, ``.rank(`` — unless windowed
                           (``.rolling``/``.expanding``/``.ewm`` receiver, a sliced
                           window, or an explicit ``axis``)
``ast:resample``           ``.resample(...)``: a higher-timeframe bar is labelled with
                           its open time although its value is known only at its close;
                           ``groupby(...).transform(...)`` broadcasts a block aggregate
                           (e.g. the block's last close) to the block's earlier bars
=========================  ===============================================================

Sources of the look-ahead catalogue: M. López de Prado, *Advances in Financial Machine
Learning* (2018) ch. 7 and 11; D. Bailey et al., "Pseudo-Mathematics and Financial
Charlatanism" (2014); freqtrade's documentation "Lookahead analysis" (common mistakes).
"""

from __future__ import annotations

import ast

REDUCTIONS = frozenset({
    "mean", "nanmean", "median", "nanmedian", "max", "min", "nanmax", "nanmin", "amax",
    "amin", "std", "nanstd", "var", "nanvar", "percentile", "nanpercentile", "quantile",
    "nanquantile", "ptp", "average", "argmax", "argmin", "sum", "nansum", "sort", "argsort",
    "polyfit"
})  # fmt: skip
METHOD_REDUCTIONS = frozenset({
    "mean", "median", "max", "min", "std", "var", "quantile", "rank", "ptp", "argmax",
    "argmin", "idxmax", "idxmin", "sort_values", "nlargest", "nsmallest", "describe"
})  # fmt: skip
WINDOW_METHODS = frozenset({"rolling", "expanding", "ewm"})
LAG_METHODS = frozenset({"shift", "diff", "pct_change"})


def negative_literal(node: ast.AST) -> bool:
    """True for ``-k`` / a negative constant (``k > 0``)."""
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


def forward_offset(node: ast.AST | None, loop_vars: set[str]) -> int | None:
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


def _is_len_minus(node: ast.AST) -> bool:
    """``len(x) - k`` (or ``len(x)``): an index from the end of the whole series."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        node = node.left
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_full_series(node: ast.AST) -> bool:
    """False for windowed receivers: ``x[a:b]`` slices and ``.rolling()/.expanding()/.ewm()``
    (and ``.resample()/.groupby()``, which ``ast:resample`` judges)."""
    if isinstance(node, ast.Subscript):
        return not isinstance(node.slice, ast.Slice | ast.Tuple)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr not in WINDOW_METHODS | {"resample", "groupby"}
    return isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.BinOp)


def _attr_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


class BiasRules:
    """Mixin of look-ahead checks; the host visitor provides ``add``, ``loop_vars``,
    ``windowed`` (names holding a window) and ``modules`` (alias -> module)."""

    def check_subscript(self, node: ast.Subscript) -> None:
        loop_vars, index = self.loop_vars[-1], node.slice  # type: ignore[attr-defined]
        if isinstance(index, ast.Slice):
            lower = forward_offset(index.lower, loop_vars)
            upper = forward_offset(index.upper, loop_vars)
            if (lower is not None and lower >= 1) or (upper is not None and upper >= 2):
                self.add(node, "ast:future_index", "slice reaching past the current bar")  # type: ignore[attr-defined]
            if index.step is not None and negative_literal(index.step):
                self.add(node, "ast:reverse", "negative-step slice reverses the series")  # type: ignore[attr-defined]
            return
        offset = forward_offset(index, loop_vars)
        if offset is not None and offset >= 1:
            self.add(node, "ast:future_index", f"index {offset} bar(s) past the loop variable")  # type: ignore[attr-defined]
        if (negative_literal(index) or _is_len_minus(index)) and self._whole_series(node.value):
            self.add(node, "ast:last_bar", "indexing from the end reads the sample's last bars")  # type: ignore[attr-defined]

    def _whole_series(self, node: ast.AST) -> bool:
        """A whole input series (not a known window); any pandas ``.iloc``/``.iat`` receiver
        that is not a known window; a call converting a whole series (``pd.Series(close)``)."""
        windowed = self.windowed  # type: ignore[attr-defined]
        if isinstance(node, ast.Attribute) and node.attr in {"iloc", "iat"}:
            return not (isinstance(node.value, ast.Name) and node.value.id in windowed)
        if isinstance(node, ast.Name):
            return node.id in self.series and node.id not in windowed  # type: ignore[attr-defined]
        if isinstance(node, ast.Subscript):  # data["close"][-1]
            return isinstance(node.value, ast.Name) and node.value.id == "data"
        return isinstance(node, ast.Call) and self._derives_series(node)  # type: ignore[attr-defined]

    def check_call_bias(self, node: ast.Call, on_numpy: bool) -> None:
        name = _attr_name(node.func)
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        add = self.add  # type: ignore[attr-defined]
        if name in LAG_METHODS and any(negative_literal(a) for a in [*node.args, *kwargs.values()]):
            add(node, "ast:negative_shift", f"{name} by a negative amount reads future bars")
        if on_numpy and name == "roll":
            add(node, "ast:roll", "np.roll wraps future values onto the past")
        if on_numpy and name in {"flip", "flipud"}:
            add(node, "ast:reverse", f"np.{name} reverses the series")
        if on_numpy and name == "gradient":
            add(node, "ast:centered_window", "np.gradient uses central differences")
        if is_true(kwargs.get("center")):
            add(node, "ast:centered_window", "center=True window uses future bars")
        mode = kwargs.get("mode")
        if isinstance(mode, ast.Constant) and mode.value == "same":
            add(node, "ast:centered_window", 'mode="same" convolution is centred')
        method = kwargs.get("method")
        if name in {"bfill", "backfill", "interpolate"} or (
            name == "fillna"
            and isinstance(method, ast.Constant)
            and method.value in {"bfill", "backfill"}
        ):
            add(node, "ast:backfill", f"{name} fills from future values")
        if isinstance(node.func, ast.Attribute) and (
            name == "resample"
            or (
                name == "transform"
                and _attr_name(getattr(node.func.value, "func", None)) == "groupby"
            )
        ):
            add(node, "ast:resample", f".{name}() labels bars with values not closed yet")
        self._check_reduction(node, name, on_numpy, kwargs)

    def _check_reduction(self, node: ast.Call, name: str, on_numpy: bool, kwargs: dict) -> None:
        if "axis" in kwargs and not (
            isinstance(kwargs["axis"], ast.Constant) and kwargs["axis"].value is None
        ):
            return
        first = node.args[0] if node.args else None
        windowed, modules = self.windowed, self.modules  # type: ignore[attr-defined]
        if isinstance(first, ast.Name) and first.id in windowed:
            return
        if on_numpy and name in REDUCTIONS and first is not None and is_full_series(first):
            self.add(node, "ast:global_statistic", f"np.{name} over the whole series")  # type: ignore[attr-defined]
        elif name == "sorted" and isinstance(node.func, ast.Name) and first is not None:
            if self._whole_series(first):
                self.add(node, "ast:global_statistic", "sorted() over the whole series")  # type: ignore[attr-defined]
        elif (
            not on_numpy
            and isinstance(node.func, ast.Attribute)
            and name in METHOD_REDUCTIONS
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in modules)
            and is_full_series(node.func.value)
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in windowed)
        ):
            self.add(node, "ast:global_statistic", f".{name}() over the whole series")  # type: ignore[attr-defined]
