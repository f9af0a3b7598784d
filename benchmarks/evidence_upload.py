"""Upload time of evidence that is extracted (PDF, DOCX, .gz, .zip) next to the same text uploaded
as a plain log, in the same run: what extraction adds to ``wb.attachments.upload_log_file``.

The files are built here from one synthetic log (LINES lines, with e-mails and IPs so the PII scan
has work): a PDF written by hand (PAGES pages of Helvetica text), a DOCX by python-docx, a gzip
and a zip of the log. Each is uploaded RUNS times into a fresh store; the best and median wall
times are printed, with the plain log as the peer.

    .venv/bin/python benchmarks/evidence_upload.py [--lines 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_lines(n: int) -> list[str]:
    return [f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z INFO checkout served order {i:07d} in {i % 97} ms"
            + (f" user=user{i}@example.com" if i % 20 == 0 else "")
            + (f" client=10.{i % 200}.{i // 200 % 250}.{i % 7 + 1}" if i % 5 == 0 else "") for i in range(n)]


def make_pdf(lines: list[str], per_page: int = 50) -> bytes:
    pages = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
    kids = []
    for k, page in enumerate(pages):
        pid, cid = 4 + 2 * k, 5 + 2 * k
        kids.append(b"%d 0 R" % pid)
        ops = ["BT", "/F1 7 Tf", "20 780 Td", "9 TL"]
        ops += [f"({ln.replace(chr(92), chr(92) * 2).replace('(', '[').replace(')', ']')}) Tj T*" for ln in page]
        stream = "\n".join(ops + ["ET"]).encode("latin-1")
        objs[pid] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
                     b" /Contents %d 0 R >>" % cid)
        objs[cid] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % n
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = {}
    for i in sorted(objs):
        offsets[i] = out.tell()
        out.write(b"%d 0 obj\n" % i + objs[i] + b"\nendobj\n")
    xref = out.tell()
    size = max(objs) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    out.write(b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, size)))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def make_docx(lines: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for ln in lines:
        d.add_paragraph(ln)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import tftsr_kernel

    lines = make_lines(args.lines)
    text = ("\n".join(lines) + "\n").encode()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.log", text)
    files = {"app.log": text, "app.pdf": make_pdf(lines), "app.docx": make_docx(lines),
             "app.log.gz": gzip.compress(text), "app.zip": zbuf.getvalue()}
    print(f"text: {args.lines:,} lines, {len(text) / 1048576:.2f} MB; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        wb = tftsr_kernel.open(Path(tmp) / "data")
        issue = wb.issues.create_issue("bench", "evidence upload", "low", "application")
        paths = {}
        for name, data in files.items():
            paths[name] = Path(tmp) / name
            paths[name].write_bytes(data)
        results = {}
        for _ in range(args.runs):  # interleaved, so load changes touch every format alike
            for name, path in paths.items():
                t = time.perf_counter()
                log = wb.attachments.upload_log_file(issue.id, path)
                results.setdefault(name, []).append(time.perf_counter() - t)
                assert len(wb.attachments.get_log_file_content(log.id)) >= len(text) * 0.9, name
        wb.close()
    peer = min(results["app.log"])
    for name, times in results.items():
        print(f"{name:<11} {len(files[name]) / 1048576:7.2f} MB file  best {min(times):6.3f} s  median "
              f"{statistics.median(times):6.3f} s  ({min(times) / peer:4.1f}x the plain log)")


if __name__ == "__main__":
    main()
