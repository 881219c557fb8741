"""The names strategy code may take from its modules (the AST gate's allow-list).

A strategy may use, of each importable module, only the names listed here (as
``module.name``, ``from module import name`` or a longer chain such as
``np.lib.stride_tricks.sliding_window_view``); a module object itself may not be
aliased, passed, stored or returned. Everything else of numpy, pandas and the indicator
library — file I/O (``np.load``, ``np.fromfile``, ``np.lib.format.open_memmap``,
``pd.read_*``), global state (``np.seterr``, ``pd.set_option``, ``pd.options``), random
numbers, the paths to ``os`` (``pd.io``, ``pd.compat``, ``np.ctypeslib``), raw memory
(``np.lib.stride_tricks.as_strided``, ``np.frombuffer``) — is refused by not being listed.

Built from what the generators emit (``sixbtc.generator``: ``np.asarray``,
``np.nan_to_num``, ``np.zeros``, ``pd.Series`` and the indicators), the clean corpus
(``tests/unit/validator/corpus/clean``) and the common numerics of NumPy's and pandas'
reference ("Mathematical functions", "Array manipulation routines", "Logic functions",
"Sorting, searching, and counting", "Statistics"; ``pandas.Series``/``DataFrame``).
"""

from __future__ import annotations

import math

_NUMPY_NAMES = """
array asarray asanyarray ascontiguousarray copy zeros ones empty full zeros_like ones_like
empty_like full_like arange linspace logspace geomspace eye identity fromiter
abs absolute add subtract multiply divide true_divide floor_divide power float_power mod
remainder fmod divmod negative positive sign sqrt cbrt square exp exp2 expm1 log log2 log10
log1p sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh hypot
degrees radians deg2rad rad2deg floor ceil trunc rint round around fix clip maximum minimum
fmax fmin reciprocal heaviside
logical_and logical_or logical_not logical_xor greater greater_equal less less_equal equal
not_equal isnan isinf isfinite isneginf isposinf isclose allclose array_equal where select
choose any all nonzero flatnonzero argwhere count_nonzero bitwise_and bitwise_or bitwise_xor
invert isin
sum nansum prod nanprod cumsum nancumsum cumprod nancumprod mean nanmean median nanmedian std
nanstd var nanvar min max amin amax nanmin nanmax argmin argmax nanargmin nanargmax ptp
percentile nanpercentile quantile nanquantile average diff ediff1d gradient convolve correlate
cov corrcoef dot matmul inner outer cross interp polyfit polyval searchsorted sort argsort
partition argpartition unique histogram digitize bincount trapezoid
reshape ravel concatenate stack vstack hstack dstack column_stack append insert delete repeat
tile roll flip fliplr flipud pad squeeze expand_dims broadcast_to broadcast_arrays atleast_1d
atleast_2d transpose swapaxes moveaxis split array_split take resize r_ c_ nan_to_num
isscalar ndim shape size
nan inf pi e euler_gamma newaxis
float64 float32 float16 int64 int32 int16 int8 uint64 uint32 uint16 uint8 intp bool_ dtype
ndarray generic number integer floating finfo iinfo errstate vectorize
"""
_NUMPY_CHAINS = """
lib.stride_tricks.sliding_window_view
linalg.norm linalg.lstsq linalg.solve linalg.inv linalg.pinv linalg.det linalg.eigvals
"""
_PANDAS_NAMES = """
Series DataFrame Index RangeIndex DatetimeIndex isna isnull notna notnull concat to_numeric NA NaT cut
qcut date_range Timestamp Timedelta to_datetime
"""
#: Public functions of :mod:`sixbtc.strategy.indicators` (its ``__all__``; a test keeps
#: the two equal).
INDICATOR_NAMES = frozenset(
    ["adx", "atr", "bbands", "cross_above", "cross_below", "ema", "highest", "lowest", "macd", "roc", "rsi", "shift", "sma", "stoch", "true_range", "zscore"]
)
_INDICATORS = "sixbtc.strategy.indicators"

#: Fully dotted names a strategy may reach from a module (``numpy.mean``,
#: ``numpy.linalg.norm``, ``sixbtc.strategy.indicators.sma``, ``math.log``...).
ALLOWED_MODULE_NAMES = frozenset(
    [f"numpy.{n}" for n in (_NUMPY_NAMES + _NUMPY_CHAINS).split()]
    + [f"pandas.{n}" for n in _PANDAS_NAMES.split()]
    + [f"math.{n}" for n in dir(math) if not n.startswith("_")]
    + [f"{_INDICATORS}.{n}" for n in INDICATOR_NAMES]
)

#: Methods and attributes refused on any value (a value's type is not known statically):
#: file I/O, serialisation and string evaluation.
IO_METHODS = frozenset({
    "to_csv", "to_pickle", "to_parquet", "to_json", "to_hdf", "to_sql", "to_excel",
    "to_feather", "to_stata", "to_html", "to_clipboard", "to_latex", "to_markdown",
    "to_xml", "to_orc", "to_gbq", "to_string", "tofile", "dump", "dumps", "load", "loads",
    "save", "savez", "savetxt", "loadtxt", "fromfile", "memmap", "open_memmap", "eval",
    "query", "read", "write", "open", "fileno",
})  # fmt: skip
#: numpy I/O names (reported as ``ast:io`` rather than as a name outside the allow-list).
IO_NUMPY = frozenset({
    "load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "save", "savez",
    "savez_compressed", "savetxt", "memmap", "DataSource", "open_memmap", "frombuffer",
})  # fmt: skip
#: Attribute names leading from numpy/pandas objects to interpreter/OS modules.
ESCAPE_ATTRS = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "ctypeslib", "importlib", "builtins",
    "shutil", "pickle", "marshal", "io", "compat", "pathlib", "multiprocessing",
    "threading", "urllib", "http", "tempfile", "glob", "mmap", "resource", "gc", "inspect",
    "runpy", "pty", "fcntl", "posix", "f2py", "distutils", "testing",
})  # fmt: skip


def is_io_name(dotted: str) -> bool:
    """``True`` for a file-I/O name of numpy or pandas (``numpy.load``, ``pandas.read_csv``)."""
    leaf = dotted.rsplit(".", 1)[-1]
    root = dotted.split(".", 1)[0]
    return (root == "numpy" and leaf in IO_NUMPY) or (
        root == "pandas" and (leaf.startswith("read_") or leaf in IO_METHODS)
    )
