"""The array wire format: round trips, and refusal of pickles, oversize and truncated input."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from sixbtc.strategy import wire


def test_round_trip_keeps_header_arrays_dtype_and_shape():
    arrays = {"a": np.arange(12, dtype=np.float64).reshape(3, 4), "b": np.array([True, False])}
    buf = io.BytesIO(wire.encode_message({"op": "x", "n": 3}, arrays))
    header, got = wire.read_message(buf)
    assert header["op"] == "x" and header["n"] == 3
    assert list(got) == ["a", "b"]
    np.testing.assert_array_equal(got["a"], arrays["a"])
    assert got["a"].dtype == np.float64 and got["b"].dtype == np.bool_
    assert buf.read() == b""  # consumed exactly one message


def test_object_arrays_cannot_be_sent():
    with pytest.raises(ValueError):
        wire.encode_message({}, {"o": np.array([object()], dtype=object)})


def test_pickled_object_record_is_refused_on_read():
    # Hand-craft an object-dtype .npy record (what a hostile worker could send).
    out = io.BytesIO()
    np.lib.format.write_array(out, np.array([1, "x"], dtype=object), allow_pickle=True)
    blob = out.getvalue()
    raw = f'{{"arrays":[{{"name":"o","nbytes":{len(blob)}}}]}}'.encode()
    with pytest.raises(wire.WireError, match="malformed array"):
        wire.read_message(io.BytesIO(struct.pack(">I", len(raw)) + raw + blob))


def test_oversize_header_and_payload_are_refused_before_reading():
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.read_message(io.BytesIO(struct.pack(">I", 10_000) + b"{}"), max_header_bytes=100)
    msg = wire.encode_message({}, {"a": np.zeros(1000)})
    with pytest.raises(wire.WireError, match="payload"):
        wire.read_message(io.BytesIO(msg), max_payload_bytes=1000)


@pytest.mark.parametrize("cut", [0, 2, 10])
def test_truncated_stream_raises_wire_error(cut):
    msg = wire.encode_message({"op": "y"}, {"a": np.ones(5)})
    with pytest.raises(wire.WireError):
        wire.read_message(io.BytesIO(msg[: len(msg) - 3] if cut == 10 else msg[:cut]))


def test_bad_json_and_bad_array_specs_are_refused():
    for raw in (b"[1, 2]", b"{not json", b'{"arrays": [{"name": 1, "nbytes": 2}]}'):
        with pytest.raises(wire.WireError):
            wire.read_message(io.BytesIO(struct.pack(">I", len(raw)) + raw))


def test_plain_numeric_records_decode_as_read_only_views_and_are_size_checked():
    for arr in (np.arange(7.0), np.zeros((3, 4), np.uint8), np.array([True, False])):
        got = wire.decode_array(wire.encode_array(arr))
        np.testing.assert_array_equal(got, arr)
        assert got.dtype == arr.dtype and not got.flags.writeable
    blob = wire.encode_array(np.arange(4.0))
    for bad in (blob[:-8], blob + b"\x00" * 8):
        with pytest.raises(wire.WireError, match="trailing|missing|malformed"):
            wire.decode_array(bad)


def _npy(header: str, data: bytes = b"") -> bytes:
    """A hand-made version-1.0 ``.npy`` record (what a hostile call can write)."""
    raw = header.encode()
    raw += b" " * (63 - (10 + len(raw)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw + data


HOSTILE_RECORDS = {
    "shape of 5,000 digits": "(" + "9" * 5000 + ",)",  # int(): over the 4,300-digit limit
    "shape overflowing int64 to 0": "(4294967296, 4294967296)",
    "dimension over int64": "(18446744073709551616,)",
    "zero-size shape with a huge dimension": "(0, 99999999999999999999)",
    "1.5 TiB claimed, nothing sent": "(100000000000,)",
    "negative dimension": "(-1,)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_RECORDS))
@pytest.mark.parametrize("descr,fortran", [("|u1", "False"), ("<c16", "False"), ("|u1", "True")])
def test_a_hostile_record_is_a_wire_error_and_allocates_nothing(name, descr, fortran):
    """Before: ValueError/OverflowError/MemoryError escaped to the parent (a crash of the
    validator) or the parent allocated what the record claimed (the generic numpy path)."""
    record = _npy(f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {HOSTILE_RECORDS[name]}, }}")
    raw = f'{{"ok":true,"arrays":[{{"name":"entries","nbytes":{len(record)}}}]}}'.encode()
    with pytest.raises(wire.WireError, match="malformed array record"):
        wire.read_message(io.BytesIO(struct.pack(">I", len(raw)) + raw + record), max_payload_bytes=1 << 20)


def test_fortran_and_big_endian_records_are_read_as_sent():
    arrays = {"f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "b": np.arange(4, dtype=">i4")}
    _, got = wire.read_message(io.BytesIO(wire.encode_message({}, arrays)))
    np.testing.assert_array_equal(got["f"], arrays["f"])
    np.testing.assert_array_equal(got["b"], arrays["b"])
    assert not got["f"].flags.writeable and not got["b"].flags.writeable
