"""The array wire format between the sandbox parent and its worker process.

One message is::

    [4 bytes, big-endian uint32: header length H] [H bytes: UTF-8 JSON object]
    [for each entry of header["arrays"]: nbytes bytes of one ``.npy`` record]

``header["arrays"]`` is a list of ``{"name": str, "nbytes": int}``; each record is written
with :func:`numpy.lib.format.write_array` (``allow_pickle=False``) and read back by
:func:`decode_array` as a read-only view over exactly ``nbytes`` bytes, once its header
(parsed by :func:`numpy.lib.format.read_array_header_1_0`/``_2_0``) is shown to describe
exactly those bytes. Object arrays therefore can never cross the wire, and nothing is ever
unpickled. The reader enforces byte budgets *before* reading, so a hostile peer cannot make
the parent allocate without bound; shapes and dtypes are checked by the caller (see
:mod:`sixbtc.strategy.sandbox`).

Source of the record format: NumPy NEP 1, "A simple file format for NumPy arrays".
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import time
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

_LEN = struct.Struct(">I")

#: Default cap on one JSON header (bytes).
MAX_HEADER_BYTES = 4 * 1024 * 1024
#: Default cap on the array payload of one message (bytes).
MAX_PAYLOAD_BYTES = 512 * 1024 * 1024


class WireError(Exception):
    """The peer sent a malformed, truncated or oversized message (or closed the pipe)."""


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks, got = [], 0
    while got < n:  # raw pipes return short reads
        chunk = stream.read(n - got)
        if not chunk:
            raise WireError(f"stream closed after {got} of {n} expected bytes")
        chunks.append(chunk)
        got += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def encode_array(array: np.ndarray) -> bytes:
    """Serialise one array as a ``.npy`` record.

    Parameters
    ----------
    array : numpy.ndarray
        Any shape; numeric or bool dtype (object dtype raises ``ValueError`` from numpy
        because pickling is disabled).

    Returns
    -------
    bytes
        The ``.npy`` record (header + raw C-order data).
    """
    out = io.BytesIO()
    npy_format.write_array(out, np.ascontiguousarray(array), allow_pickle=False)
    return out.getvalue()


_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


def decode_array(blob: bytes) -> np.ndarray:
    """Parse one ``.npy`` record (never unpickles, never allocates what the record claims).

    The header is parsed (``.npy`` versions 1.0 and 2.0) and the declared shape and dtype
    must account for exactly the bytes that follow, checked in exact integer arithmetic
    before any array exists; the result is a **read-only** view over ``blob`` (no copy).
    A hostile peer can therefore not make the reader allocate by declaring a huge shape,
    nor crash it with a shape of thousands of digits or one that overflows ``int64``.

    Raises
    ------
    WireError
        If the record is malformed, holds an object dtype, or its shape and dtype do not
        match its length.
    """
    buf = io.BytesIO(blob)
    try:
        version = npy_format.read_magic(buf)
        shape, fortran, dtype = _HEADER_READERS[version](buf)
    except (KeyError, ValueError, SyntaxError, OverflowError, EOFError, OSError) as exc:
        raise WireError(f"malformed array record: {exc!r}"[:300]) from None
    if dtype.hasobject or any(d < 0 for d in shape):
        raise WireError(f"malformed array record: dtype {dtype}, shape {shape} not allowed"[:300])
    offset, count = buf.tell(), math.prod(shape)
    if count * dtype.itemsize != len(blob) - offset:
        raise WireError(f"malformed array record: declares {count} x {dtype.itemsize} bytes, "
                        f"holds {len(blob) - offset} (trailing or missing bytes)")  # fmt: skip
    try:
        flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
        return flat.reshape(shape, order="F" if fortran else "C")
    except (ValueError, OverflowError) as exc:  # e.g. a zero-size shape too large for numpy
        raise WireError(f"malformed array record: {exc}"[:300]) from None


def json_default(value: Any) -> Any:
    """``json.dumps`` hook: numpy scalars become Python scalars; anything else raises.

    Raises
    ------
    TypeError
        For values that are not numpy scalars (e.g. arrays, objects).
    """
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"value of type {type(value).__name__} is not JSON-serialisable")


def encode_message(header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """Encode one message (JSON header + arrays) as bytes.

    Parameters
    ----------
    header : dict
        JSON-serialisable; the key ``"arrays"`` is filled in by this function.
    arrays : dict of str -> numpy.ndarray, optional
        Arrays to send after the header, in insertion order.

    Returns
    -------
    bytes
        The framed message, ready to be written to a pipe.
    """
    blobs = [(name, encode_array(arr)) for name, arr in (arrays or {}).items()]
    full = dict(header, arrays=[{"name": n, "nbytes": len(b)} for n, b in blobs])
    raw = json.dumps(full, separators=(",", ":"), default=json_default).encode("utf-8")
    return b"".join([_LEN.pack(len(raw)), raw, *(b for _, b in blobs)])


def write_message(
    stream: IO[bytes], header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
) -> None:
    """Write one message (see :func:`encode_message`) to ``stream`` and flush it."""
    stream.write(encode_message(header, arrays))
    stream.flush()


def read_message(
    stream: IO[bytes],
    *,
    max_header_bytes: int = MAX_HEADER_BYTES,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read one message written by :func:`write_message`.

    Parameters
    ----------
    stream : binary file object
    max_header_bytes, max_payload_bytes : int
        Budgets checked before any allocation (bytes).

    Returns
    -------
    header : dict
    arrays : dict of str -> numpy.ndarray

    Raises
    ------
    WireError
        Closed stream, oversize header/payload, invalid JSON or array records.
    """
    (length,) = _LEN.unpack(_read_exact(stream, _LEN.size))
    if length > max_header_bytes:
        raise WireError(f"header of {length} bytes exceeds the {max_header_bytes}-byte cap")
    try:
        header = json.loads(_read_exact(stream, length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"invalid JSON header: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    specs = header.get("arrays", [])
    if not isinstance(specs, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("name"), str)
        and isinstance(s.get("nbytes"), int)
        and s["nbytes"] >= 0
        for s in specs
    ):
        raise WireError("header 'arrays' must be a list of {name: str, nbytes: int >= 0}")
    total = sum(s["nbytes"] for s in specs)
    if total > max_payload_bytes:
        raise WireError(f"payload of {total} bytes exceeds the {max_payload_bytes}-byte cap")
    arrays = {s["name"]: decode_array(_read_exact(stream, s["nbytes"])) for s in specs}
    return header, arrays


#: Longest single ``poll`` wait (ms) of :class:`DeadlineReader` and :func:`write_all`. A
#: process-directed signal (Ctrl-C, SIGTERM) may be delivered to another thread of this process
#: (e.g. a BLAS worker), which does not interrupt the main thread's ``poll``; its Python handler
#: (``KeyboardInterrupt``, a service's stop handler) then runs only when ``poll`` returns. Waiting
#: in slices bounds that delay to this value instead of the call's whole wall-clock budget.
POLL_SLICE_MS = 250


def wait_ready(poller: select.poll, deadline: float) -> bool:
    """Poll ``poller`` until an event or ``deadline`` (``time.monotonic()`` s), in slices of at
    most :data:`POLL_SLICE_MS`; True when an event came, False at the deadline (a deadline already
    past still polls once, without waiting)."""
    while True:
        remaining_ms = max(0.0, (deadline - time.monotonic()) * 1000)
        if poller.poll(min(remaining_ms, POLL_SLICE_MS)):
            return True
        if remaining_ms <= POLL_SLICE_MS:
            return False


class DeadlineReader:
    """File-like ``read(n)`` over a pipe fd that raises ``TimeoutError`` at a deadline.

    Parameters
    ----------
    fd : int
        Readable pipe file descriptor (``poll`` is used, so any fd number works).
    deadline : float
        ``time.monotonic()`` value (seconds) after which ``read`` raises ``TimeoutError``.
    """

    def __init__(self, fd: int, deadline: float) -> None:
        self.fd, self.deadline = fd, deadline
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN)

    def read(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            if not wait_ready(self.poller, self.deadline):
                raise TimeoutError
            chunk = os.read(self.fd, min(n - got, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def write_all(fd: int, payload: bytes, deadline: float) -> None:
    """Write ``payload`` to a non-blocking pipe fd, raising ``TimeoutError`` at ``deadline``."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    view = memoryview(payload)
    while view:
        if not wait_ready(poller, deadline):
            raise TimeoutError
        try:
            view = view[os.write(fd, view[: 1 << 20]) :]
        except BlockingIOError:
            continue
