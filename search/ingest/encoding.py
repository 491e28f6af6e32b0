"""Bytes to text, as Chinese files come: UTF-8 (with or without a BOM), else GB18030.

Shared by the corpus reader and by the command line's query files; imports nothing
heavy.
"""

from __future__ import annotations

import re

from ..errors import CorpusError

# Control characters text files do not hold (all below 32 but tab, newlines and form feed).
_BINARY_SIGNS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def decode(data: bytes) -> str:
    """Text of a file: UTF-8 (with or without BOM), else GB18030; binary is refused."""
    return decode_with_encoding(data)[0]


def decode_with_encoding(data: bytes) -> tuple[str, str]:
    """:func:`decode`, also naming the encoding that worked (``UTF-8`` or ``GB18030``)."""
    if b"\x00" in data[:8192]:
        raise CorpusError("binary file (contains NUL bytes)")
    text, encoding = _utf8_else_gb18030(data, "utf-8-sig")
    sample = text[:4096]
    controls = len(_BINARY_SIGNS.findall(sample))
    if controls > 8 and controls > len(sample) // 10:
        raise CorpusError("binary file (control characters)")
    return text, encoding


def decode_line(line: bytes, *, first: bool = False) -> str:
    """One line of a text file read as :func:`decode` reads files (a BOM is dropped
    from the ``first`` line only); :class:`CorpusError` if it is neither encoding."""
    return _utf8_else_gb18030(line, "utf-8-sig" if first else "utf-8")[0]


def _utf8_else_gb18030(data: bytes, utf8: str) -> tuple[str, str]:
    try:
        return data.decode(utf8), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError:
        raise CorpusError("not UTF-8 or GB18030 text") from None
