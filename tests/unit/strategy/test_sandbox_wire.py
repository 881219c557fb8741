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
