"""Telling text logs from binary files, and decoding them losslessly.

Dependency-free on purpose: ``tftsr pii scan|redact`` use it without loading the database layer.
"""

from __future__ import annotations

import codecs
import re

from .errors import BinaryFileError

#: binary detection looks at every block of this many bytes (the whole file, not only its head)
BLOCK = 65536
#: a block with more than this share of control characters is binary
CONTROL_SHARE = 0.10
_PIECE = 16 * BLOCK   # bytes checked per step (memory stays bounded whatever the file size)
# C0 controls that do not occur in text logs (tab, LF, VT, FF, CR and ESC for ANSI colours do)
_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))

_SURROGATE = re.compile("[\ud800-\udfff]")


def _controls(piece: bytes) -> int:
    return len(piece) - len(piece.translate(None, _CONTROLS))


def check_not_binary(data, start: int = 0) -> None:
    """Raise :class:`BinaryFileError` if ``data[start:]`` has a NUL byte anywhere, or a block of
    ``BLOCK`` bytes with more than ``CONTROL_SHARE`` control characters (a file shorter than a
    block is judged as a whole). Walks the data in pieces of 1 MiB: cheap, bounded memory."""
    n = len(data)
    nul = data.find(b"\x00", start)
    if nul >= 0:
        raise BinaryFileError(f"the file looks binary (a NUL byte at offset {nul:,}); only text logs are accepted")
    limit = int(BLOCK * CONTROL_SHARE)
    if n - start <= BLOCK:
        count = _controls(bytes(data[start:]))
        if n > start and count / (n - start) > CONTROL_SHARE:
            raise BinaryFileError("the file looks binary (too many control characters); only text logs are accepted")
        return
    for a in range(start, n, _PIECE):
        piece = bytes(data[a:a + _PIECE])
        if _controls(piece) <= limit:
            continue  # no block inside this piece can be over the share
        for b in range(a, min(a + _PIECE, n), BLOCK):
            lo = min(b, n - BLOCK)  # the last block is a full block ending at the end
            if _controls(bytes(data[lo:lo + BLOCK])) > limit:
                raise BinaryFileError(
                    f"the file looks binary (control characters around offset {lo:,}); only text logs are accepted")
    # a short tail block that straddles two pieces: the loop above checks it as [n-BLOCK, n)
    tail = bytes(data[n - BLOCK:])
    if _controls(tail) > limit:
        raise BinaryFileError(
            f"the file looks binary (control characters around offset {n - BLOCK:,}); only text logs are accepted")


def sniff_text(data) -> str:
    """The text encoding of a log, or raise :class:`BinaryFileError` if any part of it looks binary.

    Returns 'utf-8', 'utf-8-sig', 'utf-16' or 'utf-8+invalid' (invalid bytes are kept and
    decoded losslessly with surrogateescape). ``data``: bytes or bytearray.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            codecs.decode(data, "utf-16")
        except UnicodeDecodeError:
            raise BinaryFileError("the file has a UTF-16 byte-order mark but is not valid UTF-16") from None
        return "utf-16"
    bom = data.startswith(codecs.BOM_UTF8)
    check_not_binary(data, 3 if bom else 0)
    if bom:
        return "utf-8-sig"
    return "utf-8" if is_utf8(data) else "utf-8+invalid"


def is_utf8(data) -> bool:
    """Whether ``data`` is valid UTF-8, checked in 1 MiB pieces (no full decoded copy in memory)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        for a in range(0, len(data), _PIECE):
            piece = data[a:a + _PIECE]
            if piece.isascii() and not dec.getstate()[0]:
                continue  # plain ASCII (most logs): valid, and nothing pending from the last piece
            dec.decode(piece)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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
