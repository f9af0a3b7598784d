"""Attachments: logs round-trip byte for byte, bad files are refused clearly, images, no BLOBs in lists."""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from tests.conftest import loghub_logs
from tftsr_kernel import errors

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.mark.skipif(not loghub_logs(), reason="loghub corpus not available")
def test_every_loghub_log_round_trips_through_cli(cli, wb, issue, tmp_path):
    logs = loghub_logs()
    assert len(logs) == 16
    for path in logs:
        r = cli("log", "upload", issue.id, path, "--json")
        assert r.code == 0, r.stderr
        doc = r.json
        assert doc["file_name"] == path.name and doc["file_size"] == path.stat().st_size
        import hashlib

        assert doc["content_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
        out = cli("log", "cat", doc["id"])
        assert out.code == 0 and out.stdout_bytes == path.read_bytes(), path.name


@pytest.mark.parametrize("content", [
    b"a\r\nb\r\nc\r\n",                 # CRLF
    b"a\rb\rc",                         # bare CR, no final newline
    b"no final newline",
    b"\xef\xbb\xbfBOM first\n",         # UTF-8 BOM
    "caf\u00e9 \u2603 \U0001F525\n".encode(),
    b"\x1b[31mred\x1b[0m ansi colours\n",
])
def test_text_edge_cases_round_trip(cli, wb, issue, tmp_path, content):
    f = tmp_path / "edge.log"
    f.write_bytes(content)
    r = cli("log", "upload", issue.id, f, "--json")
    assert r.code == 0, r.stderr
    assert cli("log", "cat", r.json["id"]).stdout_bytes == content


def test_invalid_utf8_is_stored_and_kept_exactly(wb, issue):
    data = b"ok line\nbad \xff\xfe bytes \xc3\x28 here\n"
    log = wb.attachments.upload_log_file_by_content(issue.id, "bad.log", data)
    assert log.text_encoding == "utf-8+invalid"
    assert wb.attachments.get_log_file_bytes(log.id) == data
    text = wb.attachments.get_log_file_content(log.id)
    assert text.encode("utf-8", "surrogateescape") == data


def test_utf16_log_with_bom(wb, issue):
    data = "Event 4625: logon failure\r\n".encode("utf-16")
    log = wb.attachments.upload_log_file_by_content(issue.id, "security.evtx.txt", data)
    assert log.text_encoding == "utf-16"
    assert wb.attachments.get_log_file_content(log.id) == "Event 4625: logon failure\r\n"
    assert wb.attachments.get_log_file_bytes(log.id) == data


@pytest.mark.parametrize("content,match,kind", [
    (b"", "empty", "FileRefusedError"),
    (bytes(range(256)) * 40, "binary", "BinaryFileError"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" + b"\x00" * 100, "binary", "BinaryFileError"),
])
def test_bad_files_refused_with_clear_message_and_nothing_stored(cli, issue, wb, tmp_path, content, match, kind):
    f = tmp_path / "bad.bin"
    f.write_bytes(content)
    r = cli("log", "upload", issue.id, f, "--json")
    assert r.code == 1
    assert match in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.json["error"]["type"] == kind
    assert wb.attachments.list_log_files(issue.id) == []


def test_missing_file_and_directory_and_missing_issue(cli, issue, tmp_path, wb):
    assert cli("log", "upload", issue.id, tmp_path / "nope.log").code == 1
    assert cli("log", "upload", issue.id, tmp_path).code == 1
    f = tmp_path / "ok.log"
    f.write_text("x\n")
    r = cli("log", "upload", "no-such-issue", f)
    assert r.code == 1 and "not found" in r.stderr


def test_oversized_upload_refused(wb, issue, monkeypatch):
    from tftsr_kernel import attachments

    monkeypatch.setattr(attachments, "MAX_LOG_BYTES", 1000)
    with pytest.raises(errors.FileRefusedError, match="larger than"):
        wb.attachments.upload_log_file_by_content(issue.id, "big.log", b"x" * 1001)


def test_gzip_bomb_in_row_is_refused_on_read(wb, issue, cli):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"small\n")
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = comp.compress(b"\0" * (101 * 1024 * 1024)) + comp.flush()
    assert len(bomb) < 200_000
    wb.db.execute("UPDATE log_files SET content_compressed = ? WHERE id = ?", (bomb, log.id))
    with pytest.raises(errors.DecompressionBombError, match="100 MB"):
        wb.attachments.get_log_file_bytes(log.id)
    r = cli("log", "cat", log.id)
    assert r.code == 1 and "decompression bomb" in r.stderr and r.stdout_bytes == b""


def test_upload_records_timeline_and_audit(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "app.log", b"hello\n")
    events = wb.timeline.get_timeline_events(issue.id)
    assert [e.event_type for e in events] == ["log_uploaded"]
    assert events[0].metadata["log_file_id"] == log.id and events[0].metadata["file_size"] == 6
    actions = [e.action for e in wb.audit.get_audit_log(limit=10)]
    assert "upload_log_file" in actions and "log_uploaded" in actions


def test_list_across_incidents_with_search_and_filter(wb):
    a = wb.issues.create_issue("Alpha incident")
    b = wb.issues.create_issue("Beta incident")
    wb.attachments.upload_log_file_by_content(a.id, "nginx_access.log", b"1\n")
    wb.attachments.upload_log_file_by_content(b.id, "kernel.log", b"2\n")
    wb.attachments.upload_log_file_by_content(b.id, "app%_.log", b"3\n")
    assert {l.file_name for l in wb.attachments.list_all_log_files()} == {"nginx_access.log", "kernel.log", "app%_.log"}
    assert [l.issue_title for l in wb.attachments.list_all_log_files(search="nginx")] == ["Alpha incident"]
    assert [l.file_name for l in wb.attachments.list_all_log_files(search="%_")] == ["app%_.log"]
    assert {l.file_name for l in wb.attachments.list_all_log_files(issue_id=b.id)} == {"kernel.log", "app%_.log"}


def test_lists_never_select_blobs(wb, issue):
    wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"x\n")
    wb.attachments.upload_paste_image(issue.id, base64.b64encode(PNG).decode(), "p.png")
    seen = []
    wb.db.conn.set_trace_callback(seen.append)
    try:
        wb.attachments.list_all_log_files()
        wb.attachments.list_log_files(issue.id)
        wb.attachments.list_image_attachments(issue.id)
        wb.attachments.list_all_image_attachments()
        wb.issues.get_issue(issue.id)
        wb.issues.list_issues()
    finally:
        wb.db.conn.set_trace_callback(None)
    assert seen
    for sql in seen:
        assert "content_compressed" not in sql and "image_data" not in sql, sql
        assert not re.search(r"SELECT\s+\*|\.\*", sql), sql


def test_images_upload_paste_list_dataurl_delete(wb, issue, tmp_path, cli):
    f = tmp_path / "screen.png"
    f.write_bytes(PNG)
    r = cli("image", "add", issue.id, f, "--json")
    assert r.code == 0, r.stderr
    img = r.json
    assert img["mime_type"] == "image/png" and img["is_paste"] is False
    pasted = wb.attachments.upload_paste_image(issue.id, "data:image/png;base64," + base64.b64encode(PNG).decode())
    assert pasted.is_paste
    assert wb.attachments.get_image_attachment_data(img["id"]) == "data:image/png;base64," + base64.b64encode(PNG).decode()
    listed = cli("image", "list", "--issue", issue.id, "--json").json
    assert {i["id"] for i in listed} == {img["id"], pasted.id} and listed[0]["issue_title"] == issue.title
    assert cli("image", "delete", img["id"]).code == 0
    assert [i.id for i in wb.attachments.list_image_attachments(issue.id)] == [pasted.id]


@pytest.mark.parametrize("data,match", [
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG is refused"),
    (b"plain text", "not a supported image"),
])
def test_bad_images_refused(wb, issue, data, match):
    with pytest.raises(errors.FileRefusedError, match=match):
        wb.attachments.upload_image_attachment_by_content(issue.id, "x.png", data)
    with pytest.raises(errors.ValidationError, match="base64"):
        wb.attachments.upload_paste_image(issue.id, "not base64 !!!")
