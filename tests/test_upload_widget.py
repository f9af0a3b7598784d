"""Headless tests of the chunked uploader in the Logs & PII panel: the messages the browser sends
(tests/upload_frontend.py) go to the widget's handler; the panel stores, reports and keeps
working after failures and cancels. Server-path import from the panel."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.upload_frontend import CHUNK, FrontEnd

LINE = b"2024-05-01T10:00:00Z ERROR pool exhausted user=alice@example.com client=10.1.2.3\n"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _log(size: int) -> bytes:
    return (LINE * (size // len(LINE) + 1))[:size]


def _temp_files(wb):
    return [p.name for p in wb.data_dir.iterdir() if p.name.startswith(".tftsr-upload")]


@pytest.fixture
def panel(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    p.layout
    return p


def test_large_log_in_chunks_is_stored_byte_for_byte_with_progress(panel, wb, issue):
    data = _log(12 * 1024 * 1024 + 5)  # over the 10 MiB WebSocket limit that broke FileUpload
    fe = FrontEnd(panel._w_upload)
    replies = fe.upload("big.log", data)
    acks = [r["received"] for r in replies if r["type"] == "ack"]
    assert acks == [min(len(data), (i + 1) * CHUNK) for i in range(len(acks))] and acks[-1] == len(data)
    stages = [(r["stage"], r["done"]) for r in replies if r["type"] == "stage"]
    assert stages == [("scanning", 0), ("scanning", len(data)), ("storing", 0), ("storing", stages[3][1]),
                      ("finishing", 0)]
    assert replies[-1]["type"] == "done" and "big.log" in replies[-1]["message"]
    assert "PII scan found" in replies[-1]["message"]
    [log] = panel.logs
    assert wb.attachments.get_log_file_bytes(log.id) == data
    assert log.content_hash == hashlib.sha256(data).hexdigest() and log.pii_summary["total"] > 0
    assert panel.selected_log_id == log.id and panel.status_kind == "ok"
    assert panel._w_upload.active == 0 and _temp_files(wb) == []
    assert panel._w_upload.progress[fe.replies[0]["id"]][0] == "done"


def test_limits_are_told_to_the_front_end(panel):
    from tftsr_kernel.attachments import MAX_IMAGE_BYTES, MAX_LOG_BYTES

    assert panel._w_upload.max_bytes == MAX_LOG_BYTES == 100 * 1024 * 1024
    assert panel._w_image_upload.max_bytes == MAX_IMAGE_BYTES
    assert panel._w_upload.chunk_bytes < 10 * 1024 * 1024  # under the server's message limit
    state = panel._w_upload.get_state()
    assert "_esm" in state and "msg:custom" in state["_esm"] and "http" not in state["_esm"].split("Protocol")[1]


def test_too_large_refused_by_the_browser_is_reported_and_nothing_starts(panel, wb, issue):
    fe = FrontEnd(panel._w_upload)
    fe.send({"type": "refused", "files": [{"name": "huge.log", "size": 150 * 1024 * 1024}]})
    assert panel.status_kind == "error" and "huge.log is 150 MB" in panel.status and "limit is 100 MB" in panel.status
    # a front end that skips the check is refused by the kernel before any byte
    out = fe.send({"type": "start", "id": "x:1", "name": "huge.log", "size": 100 * 1024 * 1024 + 1})
    assert out == [{"type": "error", "id": "x:1", "message": out[0]["message"]}] and "limit is 100 MB" in out[0]["message"]
    assert panel._w_upload.active == 0 and wb.attachments.list_log_files(issue.id) == []


def test_failed_upload_then_small_one_works(panel, wb, issue):
    fe = FrontEnd(panel._w_upload)
    uid = fe.new_id()
    fe.send({"type": "start", "id": uid, "name": "a.log", "size": 3 * CHUNK})
    fe.send({"type": "chunk", "id": uid, "offset": 0}, [_log(CHUNK)])
    out = fe.send({"type": "chunk", "id": uid, "offset": 2 * CHUNK}, [_log(CHUNK)])  # a lost chunk
    assert out[-1]["type"] == "error" and "out of order" in out[-1]["message"]
    assert panel.status_kind == "error" and panel._w_upload.active == 0 and _temp_files(wb) == []
    out = fe.send({"type": "end", "id": uid})
    assert out[-1]["type"] == "error" and "no longer open" in out[-1]["message"]
    # binary content is refused at the end, clearly
    bad = bytearray(_log(3 * 1024 * 1024))
    bad[2_000_000] = 0
    out = fe.upload("bin.log", bytes(bad))
    assert out[-1]["type"] == "error" and "binary" in out[-1]["message"] and "offset 2,000,000" in panel.status
    # the next small upload works
    out = fe.upload("small.log", LINE)
    assert out[-1]["type"] == "done"
    assert [l.file_name for l in panel.logs] == ["small.log"] and panel.status_kind == "ok"


def test_cancel_mid_upload_removes_it_and_the_panel_keeps_working(panel, wb, issue):
    fe = FrontEnd(panel._w_upload)
    data = _log(5 * CHUNK)
    fe.upload("c.log", data, stop_after=2)
    assert panel._w_upload.active == 1
    uid = fe.replies[0]["id"]
    assert fe.send({"type": "cancel", "id": uid}) == [{"type": "cancelled", "id": uid}]
    assert panel._w_upload.active == 0 and _temp_files(wb) == []
    out = fe.send({"type": "chunk", "id": uid, "offset": 2 * CHUNK}, [data[:CHUNK]])  # late chunk: refused
    assert out[-1]["type"] == "error"
    assert fe.send({"type": "cancel", "id": uid})[-1]["type"] == "error"  # not open: no claim of a cancel
    assert fe.upload("c.log", data)[-1]["type"] == "done"
    assert wb.attachments.get_log_file_bytes(panel.logs[0].id) == data


def test_abandoned_uploads_are_bounded_and_closed_with_the_widget(panel, wb, issue):
    fe = FrontEnd(panel._w_upload)
    for _ in range(4):
        fe.upload("x.log", _log(2 * CHUNK), stop_after=1)  # the page went away mid-upload
    assert panel._w_upload.active == 2  # older ones are aborted when new ones start
    panel._w_upload.close()
    assert panel._w_upload.active == 0 and _temp_files(wb) == []


def test_messages_without_data_or_garbage_do_not_break_it(panel, wb, issue):
    fe = FrontEnd(panel._w_upload)
    uid = fe.new_id()
    fe.send({"type": "start", "id": uid, "name": "a.log", "size": 10})
    out = fe.send({"type": "chunk", "id": uid, "offset": 0})
    assert out[-1]["type"] == "error" and "without its data" in out[-1]["message"]
    assert fe.send({"type": "start", "id": "v:9", "name": "a.log", "size": "ten"})[-1]["type"] == "error"
    assert fe.send({"type": "nonsense"}) == []
    assert fe.upload("ok.log", LINE)[-1]["type"] == "done"


def test_image_upload_in_chunks_and_svg_refused(panel, wb, issue):
    fe = FrontEnd(panel._w_image_upload)
    assert fe.upload("<b>s.png", PNG)[-1]["type"] == "done"
    assert panel.status_kind == "ok" and "&lt;b&gt;s.png" not in panel.status  # status is plain text
    out = fe.upload("evil.svg", b"<svg onload=alert(1)>")
    assert out[-1]["type"] == "error" and "SVG" in panel.status
    assert len(wb.attachments.list_image_attachments(issue.id)) == 1


def test_server_import_off_then_on(panel, wb, issue, tmp_path):
    assert panel._w_server_import.disabled and "log_import_dirs" in panel._w_server_note.value
    logs = tmp_path / "srv"
    logs.mkdir()
    (logs / "app.log").write_bytes(LINE * 2)
    (tmp_path / "secret.log").write_bytes(b"password=hunter2\n")
    (logs / "link.log").symlink_to(tmp_path / "secret.log")
    wb.settings.update_settings({"log_import_dirs": [str(logs)]})
    panel.refresh()
    assert not panel._w_server_import.disabled and str(logs) in panel._w_server_note.value
    panel._w_server_path.value = str(logs / "link.log")
    panel._w_server_import.click()
    assert panel.status_kind == "error" and "symbolic link" in panel.status
    panel._w_server_path.value = str(tmp_path / "secret.log")
    panel._w_server_import.click()
    assert panel.status_kind == "error" and "not inside an allowed import directory" in panel.status
    panel._w_server_path.value = str(logs / "app.log")
    panel._w_server_import.click()
    assert panel.status_kind == "ok" and panel.status.startswith("Imported app.log")
    assert [l.file_name for l in panel.logs] == ["app.log"] and panel._w_server_path.value == ""
    assert wb.attachments.get_log_file_bytes(panel.logs[0].id) == LINE * 2
