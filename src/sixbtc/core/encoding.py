"""Decoding of user-written text files (``config.yaml``, CSV imports): one rule, one message.

Accepted: UTF-8, with or without a byte-order mark, and (where the caller allows it) UTF-16
with its byte-order mark, as spreadsheets save "Unicode text". Anything else is refused with
the line, byte and offset of the first undecodable byte, never guessed (a wrong guess would
silently change names and numbers).
"""

from __future__ import annotations

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class NotUtf8(ValueError):
    """The bytes are not UTF-8 text; ``str()`` is ``"line L: not UTF-8 text (byte 0xe9 at
    offset N); save it as UTF-8"``.

    Attributes
    ----------
    line : int
        1-based line of the first undecodable byte.
    byte : int
        Its value.
    offset : int
        Its 0-based offset in the data.
    """

    def __init__(self, data: bytes, offset: int) -> None:
        self.line = data[:offset].count(b"\n") + 1
        self.byte = data[offset]
        self.offset = offset
        super().__init__(f"line {self.line}: not UTF-8 text (byte 0x{self.byte:02x} at offset "
                         f"{offset}); save it as UTF-8")


def decode_text(data: bytes, *, utf16: bool = False) -> str:
    """``data`` as text (a UTF-8 byte-order mark is dropped).

    Parameters
    ----------
    data : bytes
        The file's content.
    utf16 : bool
        Also accept UTF-16 introduced by its byte-order mark.

    Raises
    ------
    NotUtf8
        If ``data`` is neither (the message names the first bad byte and its line).
    """
    if utf16 and data.startswith(UTF16_BOMS):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data, exc.start) from None
