"""Telling text logs from binary files, and decoding them losslessly.

Dependency-free on purpose: ``tftsr pii scan|redact`` use it without loading the database layer.
"""

from __future__ import annotations

import codecs
import re

from .errors import FileRefusedError

_SURROGATE = re.compile("[\ud800-\udfff]")


def sniff_text(data: bytes) -> str:
    """The text encoding of a log, or raise FileRefusedError if it looks binary.

    Returns 'utf-8', 'utf-8-sig', 'utf-16' or 'utf-8+invalid' (invalid bytes are kept and
    decoded losslessly with surrogateescape).
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileRefusedError("the file has a UTF-16 byte-order mark but is not valid UTF-16") from None
        return "utf-16"
    head = data[:65536]
    if b"\x00" in head:
        raise FileRefusedError("the file looks binary (it contains NUL bytes); only text logs are accepted")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27, 11))
    if head and controls / len(head) > 0.10:
        raise FileRefusedError("the file looks binary (too many control characters); only text logs are accepted")
    try:
        codecs.decode(data, "utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "utf-8+invalid"


def decode_text(data: bytes, encoding: str) -> str:
    """Decode stored bytes for reading; lossless for UTF-8 (invalid bytes become surrogates)."""
    if encoding == "utf-16":
        return data.decode("utf-16")
    if encoding == "utf-8-sig":
        return data[3:].decode("utf-8", "surrogateescape")
    return data.decode("utf-8", "surrogateescape")




def is_valid_utf8(text: str) -> bool:
    """False when ``text`` holds lone surrogates: bytes that were not UTF-8, kept by
    surrogateescape (file names and command-line arguments on POSIX)."""
    return _SURROGATE.search(text) is None


def utf8_clean(text: str) -> str:
    """``text`` with each lone surrogate (an undecodable byte) replaced by U+FFFD: valid UTF-8,
    safe to store, print and put in JSON."""
    return _SURROGATE.sub("\ufffd", text)
