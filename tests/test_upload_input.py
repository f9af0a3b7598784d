"""Upload input rules in the kernel (every interface): regular files only, binary detection over
the whole file, server-path import inside the allowed directories, chunked uploads (the
dashboard's protocol) through a private temporary file. Each refusal is a typed error and stores
nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import stat

import pytest

from tftsr_kernel import attachments, errors

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
LINE = b"2024-05-01T10:00:00Z INFO request served in 12 ms client=10.1.2.3\n"


def _text(size: int) -> bytes:
    return (LINE * (size // len(LINE) + 1))[:size]


def _nothing_stored(wb, issue):
    assert wb.attachments.list_log_files(issue.id) == []
    assert wb.attachments.list_image_attachments(issue.id) == []


# -- regular files only ------------------------------------------------------------------------
def test_symlink_to_a_secret_is_refused_by_cli_and_kernel(cli, wb, issue, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$hash:19000:0:99999:7:::\n")
    link = tmp_path / "app.log"
    link.symlink_to(secret)
    r = cli("log", "upload", issue.id, link, "--json")
    assert r.code == 1 and "symbolic link" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.json["error"]["type"] == "NotRegularFileError"
    with pytest.raises(errors.NotRegularFileError, match="symbolic link"):
        wb.attachments.upload_log_file(issue.id, link)
    img_link = tmp_path / "screen.png"
    (tmp_path / "real.png").write_bytes(PNG)
    img_link.symlink_to(tmp_path / "real.png")
    r = cli("image", "add", issue.id, img_link, "--json")
    assert r.code == 1 and r.json["error"]["type"] == "NotRegularFileError"
    _nothing_stored(wb, issue)


def test_symlink_to_etc_shadow_is_refused(wb, issue, tmp_path):
    link = tmp_path / "shadow.log"
    link.symlink_to("/etc/shadow")
    with pytest.raises(errors.NotRegularFileError, match="symbolic link"):
        wb.attachments.upload_log_file(issue.id, link)
    _nothing_stored(wb, issue)


def test_fifo_is_refused_without_blocking(cli, wb, issue, tmp_path):
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    r = cli("log", "upload", issue.id, fifo, "--json")  # would hang forever if it opened for reading
    assert r.code == 1 and "FIFO" in r.stderr and r.json["error"]["type"] == "NotRegularFileError"
    with pytest.raises(errors.NotRegularFileError, match="FIFO"):
        wb.attachments.upload_image_attachment(issue.id, fifo)
    _nothing_stored(wb, issue)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(cli, wb, issue, device):
    r = cli("log", "upload", issue.id, device, "--json")
    assert r.code == 1 and "a device" in r.stderr and r.json["error"]["type"] == "NotRegularFileError"
    with pytest.raises(errors.NotRegularFileError, match="device"):
        wb.attachments.upload_image_attachment(issue.id, device)
    _nothing_stored(wb, issue)


def test_directory_and_socket_are_refused(cli, wb, issue, tmp_path):
    r = cli("log", "upload", issue.id, tmp_path, "--json")
    assert r.code == 1 and "is a directory" in r.stderr and r.json["error"]["type"] == "NotRegularFileError"
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        r = cli("log", "upload", issue.id, path, "--json")
    assert r.code == 1 and r.json["error"]["type"] == "NotRegularFileError" and "socket" in r.stderr
    _nothing_stored(wb, issue)


def test_symlinked_directory_on_the_way_is_followed_for_the_cli(cli, wb, issue, tmp_path):
    """The CLI takes any path the OS user can read: only the file itself may not be a link."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "app.log").write_bytes(LINE)
    (tmp_path / "via").symlink_to(real)
    r = cli("log", "upload", issue.id, tmp_path / "via" / "app.log", "--json")
    assert r.code == 0, r.stderr
    assert r.json["file_path"] == str(real / "app.log")


# -- binary detection over the whole file --------------------------------------------------------
@pytest.mark.parametrize("where", [65536, 1 << 20, 5 * (1 << 20) + 17])
def test_nul_bytes_after_the_first_64k_are_refused(cli, wb, issue, tmp_path, where):
    data = bytearray(_text(6 << 20))
    data[where:where + 4] = b"\x00\x01\x00\x02"
    f = tmp_path / "tail.log"
    f.write_bytes(bytes(data))
    r = cli("log", "upload", issue.id, f, "--json")
    assert r.code == 1 and r.json["error"]["type"] == "BinaryFileError"
    assert f"offset {where:,}" in r.stderr
    with pytest.raises(errors.BinaryFileError):
        wb.attachments.upload_log_file_by_content(issue.id, "t.log", bytes(data))
    _nothing_stored(wb, issue)


def test_control_characters_in_one_block_late_in_the_file_are_refused(wb, issue):
    data = bytearray(_text(3 << 20))
    noise = bytes(b for b in range(1, 32) if b not in (9, 10, 11, 12, 13, 27)) * 400  # ~10 KB, no NUL
    at = (2 << 20) + 1000
    data[at:at + len(noise)] = noise
    with pytest.raises(errors.BinaryFileError, match="control characters around offset"):
        wb.attachments.upload_log_file_by_content(issue.id, "t.log", bytes(data))
    tail = _text(1 << 20) + noise  # binary at the very end, in a short last block
    with pytest.raises(errors.BinaryFileError):
        wb.attachments.upload_log_file_by_content(issue.id, "t.log", tail)
    _nothing_stored(wb, issue)


def test_binary_after_a_utf8_bom_is_refused_and_text_with_ansi_and_bom_is_kept(wb, issue):
    with pytest.raises(errors.BinaryFileError):
        wb.attachments.upload_log_file_by_content(issue.id, "b.log", b"\xef\xbb\xbf" + _text(200_000) + b"\x00\x00")
    _nothing_stored(wb, issue)
    ok = b"\xef\xbb\xbf" + (b"\x1b[32mOK\x1b[0m\tdone\r\n\x0c" * 50_000)
    log = wb.attachments.upload_log_file_by_content(issue.id, "ok.log", ok)
    assert log.text_encoding == "utf-8-sig" and wb.attachments.get_log_file_bytes(log.id) == ok


def test_sparse_control_characters_in_a_big_log_are_text(wb, issue):
    data = bytearray(_text(2 << 20))
    for i in range(0, len(data), 70_000):
        data[i] = 7  # a BEL now and then is still a log
    log = wb.attachments.upload_log_file_by_content(issue.id, "bel.log", bytes(data))
    assert log.file_size == len(data)


def test_too_large_file_is_refused_before_reading(wb, issue, tmp_path, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_LOG_BYTES", 1000)
    f = tmp_path / "big.log"
    f.write_bytes(_text(1001))
    with pytest.raises(errors.FileTooLargeError, match="limit is"):
        wb.attachments.upload_log_file(issue.id, f)
    _nothing_stored(wb, issue)


def test_progress_is_reported_while_reading_scanning_and_storing(wb, issue, tmp_path):
    f = tmp_path / "p.log"
    f.write_bytes(_text(9 << 20))
    seen = []
    log = wb.attachments.upload_log_file(issue.id, f, progress=lambda *a: seen.append(a))
    reads = [d for s, d, t in seen if s == "reading"]
    assert len(reads) >= 3 and reads == sorted(reads) and reads[-1] == 9 << 20
    assert [s for s, _d, _t in seen if s != "reading"] == ["scanning", "scanning", "storing", "storing"]
    assert log.pii_summary["total"] > 0


# -- server-path import ----------------------------------------------------------------------------
def test_server_import_is_off_by_default_and_says_how_to_enable(wb, issue, tmp_path):
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    with pytest.raises(errors.FileRefusedError, match="log_import_dirs"):
        wb.attachments.import_server_log(issue.id, f)
    _nothing_stored(wb, issue)


def test_server_import_inside_allowed_dir_only(wb, issue, tmp_path):
    allowed = tmp_path / "logs"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "sub" / "app.log").write_bytes(LINE * 3)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.log").write_bytes(b"password=hunter2\n")
    (allowed / "escape").symlink_to(outside)                      # a directory link out of the root
    (allowed / "link.log").symlink_to(outside / "secret.log")     # a file link out of the root
    (tmp_path / "logs-evil").mkdir()                              # a sibling with the root as prefix
    (tmp_path / "logs-evil" / "x.log").write_bytes(LINE)
    wb.settings.update_settings({"log_import_dirs": [str(allowed)]})

    log = wb.attachments.import_server_log(issue.id, str(allowed / "sub" / "app.log"))
    assert wb.attachments.get_log_file_bytes(log.id) == LINE * 3 and log.file_path == str(allowed / "sub" / "app.log")
    for bad in [outside / "secret.log", allowed / "escape" / "secret.log", allowed / ".." / "private" / "secret.log",
                tmp_path / "logs-evil" / "x.log"]:
        with pytest.raises(errors.FileRefusedError, match="not inside an allowed import directory"):
            wb.attachments.import_server_log(issue.id, str(bad))
    with pytest.raises(errors.NotRegularFileError, match="symbolic link"):
        wb.attachments.import_server_log(issue.id, str(allowed / "link.log"))
    with pytest.raises(errors.NotRegularFileError, match="directory"):
        wb.attachments.import_server_log(issue.id, str(allowed / "sub"))
    with pytest.raises(errors.ValidationError, match="absolute"):
        wb.attachments.import_server_log(issue.id, "sub/app.log")
    assert [l.id for l in wb.attachments.list_log_files(issue.id)] == [log.id]


def test_import_dirs_setting_is_validated(wb, cli):
    with pytest.raises(errors.ValidationError, match="absolute"):
        wb.settings.update_settings({"log_import_dirs": ["relative/dir"]})
    r = cli("settings", "set", "log_import_dirs", '["/var/log/app/", "/var/log/app"]', "--json")
    assert r.code == 0, r.stderr
    assert wb.settings.get("log_import_dirs") == ["/var/log/app"]


# -- chunked upload (the dashboard's uploader) ------------------------------------------------------
def _temp_files(wb):
    return [p for p in wb.data_dir.iterdir() if p.name.startswith(".tftsr-upload")]


def test_chunked_upload_round_trips_and_leaves_no_file(wb, issue):
    data = _text((5 << 20) + 123)
    up = wb.attachments.begin_log_upload(issue.id, "big.log", len(data))
    assert _temp_files(wb) == []  # never a name in the data directory (O_TMPFILE or unlinked)
    assert stat.S_IMODE(os.fstat(up._fd).st_mode) == 0o600
    step = 2 << 20
    for off in range(0, len(data), step):
        assert up.write(off, memoryview(data)[off:off + step]) == min(len(data), off + step)
    log = up.finish()
    assert up.closed and up._fd is None
    assert wb.attachments.get_log_file_bytes(log.id) == data
    assert log.content_hash == hashlib.sha256(data).hexdigest() and log.file_path == ""
    assert log.pii_summary["total"] > 0


def test_chunked_upload_refusals(wb, issue, monkeypatch):
    with pytest.raises(errors.FileTooLargeError, match="limit is 100 MB"):
        wb.attachments.begin_log_upload(issue.id, "huge.log", 100 * 1048576 + 1)
    with pytest.raises(errors.FileRefusedError, match="empty"):
        wb.attachments.begin_log_upload(issue.id, "e.log", 0)
    with pytest.raises(errors.NotFoundError):
        wb.attachments.begin_log_upload("no-such-issue", "a.log", 10)
    up = wb.attachments.begin_log_upload(issue.id, "a.log", 10)
    with pytest.raises(errors.UploadError, match="out of order"):
        up.write(5, b"12345")
    with pytest.raises(errors.UploadError, match="no longer open"):
        up.write(0, b"12345")
    up = wb.attachments.begin_log_upload(issue.id, "a.log", 10)
    with pytest.raises(errors.UploadError, match="longer than"):
        up.write(0, b"x" * 11)
    up = wb.attachments.begin_log_upload(issue.id, "a.log", 10)
    up.write(0, b"12345")
    with pytest.raises(errors.UploadError, match="incomplete"):
        up.finish()
    up = wb.attachments.begin_log_upload(issue.id, "a.log", 4)
    up.write(0, b"\x00\x01\x02\x03")
    with pytest.raises(errors.BinaryFileError):
        up.finish()
    assert up.closed
    up = wb.attachments.begin_log_upload(issue.id, "a.log", 4)
    up.abort()
    up.abort()
    with pytest.raises(errors.UploadError):
        up.finish()
    _nothing_stored(wb, issue)


def test_chunked_image_upload(wb, issue):
    up = wb.attachments.begin_image_upload(issue.id, "s.png", len(PNG))
    up.write(0, PNG)
    img = up.finish()
    assert img.mime_type == "image/png" and wb.attachments.list_image_attachments(issue.id)[0].id == img.id
    with pytest.raises(errors.FileTooLargeError):
        wb.attachments.begin_image_upload(issue.id, "s.png", 10 * 1048576 + 1)


def test_utf8_validity_is_checked_over_the_whole_file_in_pieces(wb, issue):
    from tftsr_kernel._text import sniff_text

    piece = 1 << 20
    accent = "\u00e9".encode()
    assert sniff_text(b"a" * (piece - 1) + accent + b"a" * 10) == "utf-8"          # split over two pieces
    assert sniff_text(b"a" * (piece - 1) + accent[:1] + b"a" * 10) == "utf-8+invalid"
    assert sniff_text(b"a" * (3 * piece) + b"\xff\n") == "utf-8+invalid"
    data = b"a" * (3 * piece) + b" bad \xff\xfe bytes\n"
    log = wb.attachments.upload_log_file_by_content(issue.id, "late-invalid.log", data)
    assert log.text_encoding == "utf-8+invalid" and wb.attachments.get_log_file_bytes(log.id) == data


def test_chunked_upload_refused_up_front_when_the_disk_is_too_full(wb, issue, monkeypatch):
    monkeypatch.setattr(attachments, "free_bytes", lambda _d: 5 * 1048576)
    with pytest.raises(errors.UploadError, match="not enough disk space"):
        wb.attachments.begin_log_upload(issue.id, "big.log", 4 * 1048576)
    monkeypatch.setattr(attachments, "free_bytes", lambda _d: None)  # unknown: no check
    wb.attachments.begin_log_upload(issue.id, "big.log", 4 * 1048576).abort()
    _nothing_stored(wb, issue)
