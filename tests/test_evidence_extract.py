"""Text extraction from PDF, DOCX, pcap and archives, with files made here (no fixtures shipped)."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import zipfile

import pytest

from tftsr_kernel.errors import FileRefusedError
from tftsr_kernel.logs.errors import ArchiveBombError, ExtractionError, ToolMissingError
from tftsr_kernel.logs.extract import extract_text, sniff_kind

EMAIL = "oncall.lead@example.org"


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with a Helvetica text layer, offsets computed for a valid xref."""
    ops = ["BT", "/F1 11 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({esc}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return pdf_bytes(objs)


def pdf_bytes(objs: list[bytes]) -> bytes:
    """A PDF 1.4 file of the objects ``objs`` (object 1 is the catalog), with a valid xref."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def make_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Incident notes", 1)
    d.add_paragraph(f"Escalated to {EMAIL} at 14:02.")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "host", "state"
    t.cell(1, 0).text, t.cell(1, 1).text = "db-1", "failover"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_pcap() -> bytes:
    """Classic pcap (Ethernet) with two UDP packets to port 514 (syslog) carrying text."""
    def ip_checksum(hdr: bytes) -> int:
        s = sum(struct.unpack("!10H", hdr))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, msg in enumerate([f"<13>login failed for {EMAIL}", "<13>disk /dev/sda1 95% full"]):
        payload = msg.encode()
        udp = struct.pack("!HHHH", 40000 + i, 514, 8 + len(payload), 0) + payload
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                          bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
        frame = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00" + hdr + udp
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


def test_pdf_text():
    data = make_pdf(["Post-incident evidence", f"Contact: {EMAIL}"])
    assert sniff_kind(data) == "pdf"
    ex = extract_text("notes.pdf", data)
    assert ex.kind == "pdf" and EMAIL in ex.text and "Post-incident evidence" in ex.text and "1 page" in ex.note


def test_damaged_and_empty_pdf_are_refused_clearly():
    with pytest.raises(ExtractionError, match="damaged PDF|no text layer"):
        extract_text("broken.pdf", b"%PDF-1.4\n1 0 obj garbage\n")
    with pytest.raises(ExtractionError, match="no text layer"):
        extract_text("scan.pdf", make_pdf([]))


def test_docx_text_in_order_with_tables():
    ex = extract_text("notes.docx", make_docx())
    assert ex.kind == "docx"
    assert ex.text.splitlines()[:4] == ["Incident notes", f"Escalated to {EMAIL} at 14:02.", "host | state",
                                        "db-1 | failover"]


def test_damaged_docx():
    data = make_docx()
    zin = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            zout.writestr(item, b"<w:document" if item.filename == "word/document.xml" else body)
    with pytest.raises(ExtractionError, match="damaged DOCX"):
        extract_text("bad.docx", buf.getvalue())


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed (.ci/workbench test installs it)")
def test_pcap_through_tshark():
    ex = extract_text("capture.pcap", make_pcap())
    assert ex.kind == "pcap" and "2 packet" in ex.note
    first, second = ex.text.splitlines()
    assert "10.0.0.1" in first and "Syslog" in first and EMAIL in first and "95% full" in second


def test_pcap_without_tshark_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match="needs tshark, which is not installed"):
        extract_text("capture.pcap", make_pcap())


def test_gzip_and_zip_of_logs():
    log = f"2024-01-01 00:00:00 user {EMAIL} logged in\n".encode()
    ex = extract_text("app.log.gz", gzip.compress(log))
    assert ex.kind == "gzip" and ex.text == log.decode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.log", log)
        z.writestr("logs/b.log", b"second file\n")
        z.writestr("core.bin", b"\x00\x01\x02" * 100)
    ex = extract_text("logs.zip", buf.getvalue())
    assert ex.kind == "zip" and "==> a.log <==" in ex.text and "==> logs/b.log <==" in ex.text
    assert EMAIL in ex.text and "core.bin" not in ex.text and "skipped 1" in ex.note


def test_bomb_guard():
    zeros = b"\0" * (4 << 20)
    with pytest.raises(ArchiveBombError, match="decompression bomb"):
        extract_text("bomb.gz", gzip.compress(zeros), limit=1 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.log", b"a" * (4 << 20))
    with pytest.raises(ArchiveBombError, match="refused"):
        extract_text("bomb.zip", buf.getvalue())  # 4 MB of one byte: over 200x
    assert issubclass(ArchiveBombError, FileRefusedError)


def test_plain_text_and_damaged_archives():
    assert extract_text("app.log", b"plain text\n") is None
    with pytest.raises(ExtractionError, match="damaged"):
        extract_text("x.zip", b"PK\x03\x04garbage")
    with pytest.raises(ExtractionError, match="truncated|damaged"):
        extract_text("x.gz", gzip.compress(b"hello world" * 100)[:30])
