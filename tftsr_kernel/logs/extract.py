"""Text from evidence that is not plain text: PDF, DOCX, pcap/pcapng, ``.gz`` and ``.zip`` archives.

:func:`extract_text` looks at the bytes (never only the file name) and returns an
:class:`Extracted` with the text a reader would see, or ``None`` when the bytes are not one of
these containers (plain text is stored as it is). The caller keeps the original bytes and scans
the extracted text for PII like any log.

- PDF: ``pypdf`` (pure Python), page by page; an encrypted PDF is refused with a clear message.
- DOCX: ``python-docx``; paragraphs and table rows in document order.
- pcap / pcapng: ``tshark -r FILE -n`` (one summary line per packet; ``-n``: no name lookups, so
  nothing goes to the network), when ``tshark`` is installed; else :class:`ToolMissingError`.
- ``.gz``: one member, decompressed with a size limit. ``.zip``: every text member, each under a
  ``==> name <==`` header; members are read with a size limit and the declared sizes, the member
  count and the compression ratio are checked first (decompression-bomb guard). Nested archives
  are not opened.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass

from .errors import ArchiveBombError, ExtractionError, ToolMissingError

#: the extracted text of one piece of evidence is at most this many bytes
MAX_EXTRACTED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
#: a member that claims to expand more than this many times is refused (typical logs: 5-20x)
MAX_RATIO = 200
TSHARK_TIMEOUT_S = 120

_PCAP_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass
class Extracted:
    #: ``pdf``, ``docx``, ``pcap``, ``gzip`` or ``zip``
    kind: str
    text: str
    #: a short note for the user (pages, packets, members)
    note: str = ""


def sniff_kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data[:4] in _PCAP_MAGIC or data.startswith(_PCAPNG_MAGIC):
        return "pcap"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise ExtractionError("the file looks like a ZIP archive but is damaged") from None
        return "docx" if "word/document.xml" in names else "zip"
    return None


def extract_text(name: str, data: bytes, limit: int = MAX_EXTRACTED_BYTES) -> Extracted | None:
    """The text of ``data`` if it is a PDF, DOCX, capture or archive; ``None`` for anything else."""
    kind = sniff_kind(data)
    if kind is None:
        return None
    return {"pdf": _pdf, "docx": _docx, "pcap": _pcap, "gzip": _gzip, "zip": _zip}[kind](name, data, limit)


def _check_size(text: str, limit: int, name: str) -> str:
    if len(text) > limit:
        raise ArchiveBombError(f"the text of {name} is larger than {limit // 1048576} MB; refused")
    return text


def _pdf(name: str, data: bytes, limit: int) -> Extracted:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pinned in pyproject.toml; only a broken install lacks it
        raise ToolMissingError("reading PDF needs the pypdf package (pip install pypdf)") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError(f"{name} is an encrypted PDF; remove the password and upload it again")
        pages, size = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            size += len(text)
            if size > limit:
                raise ArchiveBombError(f"the text of {name} is larger than {limit // 1048576} MB; refused")
            pages.append(text)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, zlib.error) as exc:
        raise ExtractionError(f"{name} is a damaged PDF and its text could not be read ({type(exc).__name__})") from None
    text = "\n\f\n".join(p.strip("\n") for p in pages)
    if not text.strip():
        raise ExtractionError(f"{name} has no text layer (a scanned PDF?); OCR it first or attach it as an image")
    return Extracted("pdf", text, f"{len(pages)} page(s)")


def _docx(name: str, data: bytes, limit: int) -> Extracted:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:
        raise ToolMissingError("reading DOCX needs the python-docx package (pip install python-docx)") from None
    _zip_guard(name, data)
    try:
        doc = docx.Document(io.BytesIO(data))
        out, size = [], 0
        for block in doc.element.body.iterchildren():
            tag = block.tag.rsplit("}", 1)[-1]
            if tag == "p":
                line = Paragraph(block, doc).text
            elif tag == "tbl":
                rows = []
                for row in Table(block, doc).rows:
                    rows.append(" | ".join(c.text.strip() for c in row.cells))
                line = "\n".join(rows)
            else:
                continue
            size += len(line) + 1
            if size > limit:
                raise ArchiveBombError(f"the text of {name} is larger than {limit // 1048576} MB; refused")
            out.append(line)
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(f"{name} is a damaged DOCX and its text could not be read ({type(exc).__name__})") from None
    except Exception as exc:  # lxml.etree.XMLSyntaxError and friends: malformed document XML
        if type(exc).__module__.startswith(("lxml", "docx")):
            raise ExtractionError(f"{name} is a damaged DOCX ({type(exc).__name__})") from None
        raise
    text = "\n".join(out).strip("\n")
    if not text.strip():
        raise ExtractionError(f"{name} is a DOCX with no text")
    return Extracted("docx", text, f"{len(out)} block(s)")


def _pcap(name: str, data: bytes, limit: int) -> Extracted:
    tshark = shutil.which("tshark")
    if tshark is None:
        raise ToolMissingError(f"{name} is a packet capture; reading it needs tshark, which is not installed"
                               " (apt-get install tshark), or export the packets as text and upload that")
    fd, path = tempfile.mkstemp(suffix=".pcap")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            proc = subprocess.run([tshark, "-r", path, "-n"], capture_output=True, timeout=TSHARK_TIMEOUT_S,
                                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()})
        except subprocess.TimeoutExpired:
            raise ExtractionError(f"tshark took longer than {TSHARK_TIMEOUT_S} s on {name}; upload a smaller capture") from None
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExtractionError(f"tshark could not read {name}: {reason[-1] if reason else 'unknown error'}")
    text = _check_size(proc.stdout.decode("utf-8", "surrogateescape"), limit, name)
    packets = text.count("\n")
    return Extracted("pcap", text, f"{packets} packet(s), decoded by tshark")


def _decode(raw: bytes) -> str:
    from .._text import decode_text, sniff_text

    return decode_text(raw, sniff_text(raw))


def _gzip(name: str, data: bytes, limit: int) -> Extracted:
    dec = zlib.decompressobj(31)
    try:
        raw = dec.decompress(data, limit + 1)
    except zlib.error:
        raise ExtractionError(f"{name} is a damaged gzip file") from None
    if len(raw) > limit or dec.unconsumed_tail:
        raise ArchiveBombError(f"{name} expands beyond {limit // 1048576} MB; refused (possible decompression bomb)")
    if not dec.eof:
        raise ExtractionError(f"{name} is a truncated gzip file")
    if extract_kind_nested(raw):
        raise ExtractionError(f"{name} holds another archive or document; unpack it and upload the inner file")
    return Extracted("gzip", _decode(raw), f"{len(raw)} bytes decompressed")


def extract_kind_nested(raw: bytes) -> bool:
    return raw.startswith((b"\x1f\x8b", b"PK\x03\x04", b"%PDF-"))


def _zip_guard(name: str, data: bytes, limit: int = MAX_EXTRACTED_BYTES) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ExtractionError(f"{name} is a damaged ZIP archive") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ArchiveBombError(f"{name} has {len(infos)} members (limit {MAX_ZIP_MEMBERS}); refused")
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise ArchiveBombError(f"{name} expands to {total // 1048576} MB (limit {limit // 1048576} MB); refused")
    for i in infos:
        if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 1 << 20:
            raise ArchiveBombError(f"{name}: member {i.filename} expands {i.file_size // i.compress_size}x;"
                                   " refused (possible decompression bomb)")
    return infos


def _zip(name: str, data: bytes, limit: int) -> Extracted:
    from .._text import utf8_clean
    from ..errors import FileRefusedError

    infos = _zip_guard(name, data, limit)
    parts, used, skipped, size = [], 0, [], 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in infos:
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ExtractionError(f"{name} is password-protected; unpack it and upload the logs")
            try:
                with zf.open(info) as fh:
                    raw = fh.read(info.file_size + 1)  # never more than declared (+1 to notice a lie)
            except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError):
                raise ExtractionError(f"{name}: member {info.filename} is damaged") from None
            if len(raw) > info.file_size:
                raise ArchiveBombError(f"{name}: member {info.filename} is larger than declared; refused")
            size += len(raw)
            if size > limit:
                raise ArchiveBombError(f"{name} expands beyond {limit // 1048576} MB; refused")
            if extract_kind_nested(raw):
                skipped.append(info.filename)
                continue
            try:
                text = _decode(raw)
            except FileRefusedError:  # binary member
                skipped.append(info.filename)
                continue
            parts.append(f"==> {utf8_clean(info.filename)} <==\n{text}")
            used += 1
    if not parts:
        raise ExtractionError(f"{name} holds no text files" + (f" (skipped: {', '.join(skipped[:5])})" if skipped else ""))
    note = f"{used} file(s)" + (f"; skipped {len(skipped)} binary or archive member(s)" if skipped else "")
    return Extracted("zip", "\n".join(parts), note)
