"""Text from evidence that is not plain text: PDF, DOCX, pcap/pcapng, ``.gz`` and ``.zip`` archives.

:func:`extract_text` looks at the bytes (never only the file name) and returns an
:class:`Extracted` with the text a reader would see, or ``None`` when the bytes are not one of
these containers (plain text is stored as it is). The caller keeps the original bytes and scans
the extracted text for PII like any log.

- PDF: ``pypdf`` (pure Python), page by page, in a child process with capped memory and CPU
  (``pdf_child.py``: a stream can inflate without limit); an encrypted PDF is refused clearly.
- DOCX: ``python-docx``; paragraphs and table rows in document order.
- pcap / pcapng: ``tshark -r FILE -n`` (one summary line per packet; ``-n``: no name lookups, so
  nothing goes to the network), when ``tshark`` is installed; else :class:`ToolMissingError`.
- ``.gz``: one member, decompressed with a size limit. ``.zip``: every text member, each under a
  ``==> name <==`` header; members are read with a size limit and the declared sizes, the member
  count and the compression ratio are checked first (decompression-bomb guard). Nested archives
  are not opened; a member that is a symbolic link or has an absolute or ``..`` path refuses the
  whole archive (:class:`UnsafeArchiveError`), though nothing is ever written to disk.

A name that promises one of these formats (``.pdf``, ``.docx``, ``.pcap``/``.pcapng``, ``.gz``,
``.zip``) must hold it: ``notes.docx`` that is a ZIP of something else, or ``app.log.gz`` that is
not gzip, is refused with :class:`FormatMismatchError` rather than read as something it is not.
Every refusal is an :class:`ExtractionError` (a :class:`~tftsr_kernel.errors.FileRefusedError`).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass

from .errors import (ArchiveBombError, EncryptedDocumentError, ExtractionError, FormatMismatchError, ToolMissingError,
                     UnsafeArchiveError)

#: the extracted text of one piece of evidence is at most this many bytes
MAX_EXTRACTED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
#: a member that claims to expand more than this many times is refused (typical logs: 5-20x)
MAX_RATIO = 200
MAX_PDF_PAGES = 20_000
#: the PDF reader's child process: address space (base + 10x the file + 4x the text limit, capped)
PDF_MEMORY_BASE = 768 * 1024 * 1024
PDF_MEMORY_MAX = 4 * 1024 * 1024 * 1024
PDF_CPU_S = 120
TSHARK_TIMEOUT_S = 120

_PCAP_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: an OLE compound file: what Word writes for a password-protected .docx (and for an old .doc)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: what each kind is called in messages, the panel and ``tftsr log show``
KIND_LABELS = {"pdf": "PDF", "docx": "DOCX", "pcap": "packet capture", "gzip": "gzip archive", "zip": "ZIP archive"}
#: MIME type stored for a log extracted from each kind (the bytes decide, not the name)
KIND_MIME = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pcap": "application/vnd.tcpdump.pcap", "gzip": "application/gzip", "zip": "application/zip"}
#: file-name endings that promise a kind
_SUFFIX_KIND = {".pdf": "pdf", ".docx": "docx", ".pcap": "pcap", ".pcapng": "pcap",
                ".gz": "gzip", ".tgz": "gzip", ".zip": "zip"}
# C0 controls a document's text layer may carry but a log reader should not see (tab, LF, VT, FF,
# CR and ESC stay); they become U+FFFD
_STRAY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


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


def expected_kind(name: str) -> str | None:
    """The kind a file name promises by its ending (``notes.PDF`` -> ``pdf``), else ``None``."""
    lower = str(name).lower()
    for suffix, kind in _SUFFIX_KIND.items():
        if lower.endswith(suffix):
            return kind
    return None


def _described(kind: str | None, want: str) -> str:
    if kind == "zip" and want == "docx":
        return "a ZIP archive without a Word document in it"
    return f"a {KIND_LABELS[kind]}" if kind else "something else (its first bytes are not that format's)"


def extract_text(name: str, data: bytes, limit: int = MAX_EXTRACTED_BYTES) -> Extracted | None:
    """The text of ``data`` if it is a PDF, DOCX, capture or archive; ``None`` for anything else
    (plain text, or binary the caller refuses). Raises an :class:`ExtractionError` subclass."""
    want = expected_kind(name)
    try:
        kind = sniff_kind(data)
    except ExtractionError:
        if want in (None, "zip", "docx"):
            raise ExtractionError(f"{name} looks like a ZIP archive (or DOCX) but is damaged; nothing was stored") \
                from None
        kind = "zip"  # damaged ZIP bytes under another format's name: say the name is wrong
    if want == "docx" and data[:8] == _OLE_MAGIC:
        raise EncryptedDocumentError(f"{name} is a password-protected Word document (or an old binary .doc "
                                     "renamed); open it in Word, remove the password and save it as .docx")
    if want == "zip" and kind == "docx":
        want = "docx"  # a Word document is a ZIP: read it as the document it is
    if want is not None and kind != want:
        raise FormatMismatchError(f"{name} is named like a {KIND_LABELS[want]} but it is {_described(kind, want)}; "
                                  "nothing was stored. Rename it to what it holds, or upload the right file")
    if kind is None:
        return None
    ex = {"pdf": _pdf, "docx": _docx, "pcap": _pcap, "gzip": _gzip, "zip": _zip}[kind](name, data, limit)
    if kind in ("pdf", "docx", "pcap"):
        ex.text = _STRAY_CONTROLS.sub("\ufffd", ex.text)
    return ex


def _check_size(text: str, limit: int, name: str) -> str:
    if len(text) > limit:
        raise ArchiveBombError(f"the text of {name} is larger than {limit // 1048576} MB; refused")
    return text


def _pdf(name: str, data: bytes, limit: int) -> Extracted:
    """The text layer, read by pypdf in a child process with bounded memory and CPU
    (``pdf_child.py``): a PDF's streams can inflate without limit, so a bomb ends the child, not
    the kernel or the dashboard."""
    import json
    import sys

    memory = min(PDF_MEMORY_MAX, PDF_MEMORY_BASE + 10 * len(data) + 4 * limit)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pdf_child.py")
    try:
        proc = subprocess.run([sys.executable, "-I", script, str(memory), str(PDF_CPU_S), str(limit),
                               str(MAX_PDF_PAGES)], input=bytes(data), capture_output=True,
                              timeout=PDF_CPU_S + 30)
    except subprocess.TimeoutExpired:
        raise ExtractionError(f"reading the text of {name} took longer than {PDF_CPU_S} s; refused") from None
    except OSError as exc:
        raise ExtractionError(f"could not start the PDF reader for {name}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(proc.stdout.decode("utf-8"))
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        if proc.returncode and proc.returncode < 0:  # killed: the CPU limit (SIGXCPU/SIGKILL)
            raise ExtractionError(f"reading the text of {name} took longer than {PDF_CPU_S} s of CPU; refused")
        raise ExtractionError(f"{name} is a PDF whose text could not be read (the reader stopped, "
                              f"exit status {proc.returncode})")
    err = doc.get("error")
    if err == "missing":  # pinned in pyproject.toml; only a broken install lacks it
        raise ToolMissingError("reading PDF needs the pypdf package (pip install pypdf)")
    if err == "encrypted":
        raise EncryptedDocumentError(f"{name} is an encrypted PDF; remove the password and upload it again")
    if err == "pages":
        raise ArchiveBombError(f"{name} has {int(doc['detail']):,} pages (limit {MAX_PDF_PAGES:,}); refused")
    if err == "size":
        raise ArchiveBombError(f"the text of {name} is larger than {limit // 1048576} MB; refused")
    if err == "memory":
        raise ArchiveBombError(f"{name} needs more than {memory // 1048576} MB of memory to read (its streams "
                               "expand enormously: a possible decompression bomb); refused")
    if err:
        raise ExtractionError(f"{name} is a damaged PDF and its text could not be read ({doc.get('detail')})")
    pages = [p if isinstance(p, str) else "" for p in doc.get("pages", [])]
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
        out, size, tables = [], 0, 0
        for block in doc.element.body.iterchildren():
            tag = block.tag.rsplit("}", 1)[-1]
            if tag == "p":
                line = Paragraph(block, doc).text
            elif tag == "tbl":
                rows = []
                for row in Table(block, doc).rows:
                    rows.append(" | ".join(c.text.strip() for c in row.cells))
                line = "\n".join(rows)
                tables += 1
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
    return Extracted("docx", text, f"{len(out) - tables} paragraph(s), {tables} table(s)")


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
    from ..errors import FileRefusedError

    try:
        text = _decode(raw)
    except FileRefusedError:
        what = "a tar archive" if raw[257:262] == b"ustar" else "a binary file"
        raise ExtractionError(f"{name} decompresses to {what}, not a text log; unpack it and upload the logs") from None
    return Extracted("gzip", text, f"{len(raw):,} bytes decompressed")


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
        _check_member(name, i)
        if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 1 << 20:
            raise ArchiveBombError(f"{name}: member {i.filename} expands {i.file_size // i.compress_size}x;"
                                   " refused (possible decompression bomb)")
    return infos


def _check_member(name: str, info: zipfile.ZipInfo) -> None:
    """Refuse a member that is a symbolic link or whose path is absolute or climbs out (``..``):
    nothing is unpacked to disk, but such an archive is not a plain bundle of logs."""
    from .._text import utf8_clean

    member = utf8_clean(info.filename)
    parts = member.replace("\\", "/").split("/")
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member) or ".." in parts:
        raise UnsafeArchiveError(f"{name}: member {member[:200]!r} has an absolute or '..' path; the archive "
                                 "was refused (nothing was unpacked). Unpack it yourself and upload the logs")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchiveError(f"{name}: member {member[:200]!r} is a symbolic link; the archive was refused "
                                 "(nothing was unpacked). Upload the files themselves")


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
                raise EncryptedDocumentError(f"{name} is password-protected; unpack it and upload the logs")
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
