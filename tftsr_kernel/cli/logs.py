"""``tftsr log ...``, ``tftsr image ...`` and ``tftsr audit``: what is attached to an issue and
what happened to it (``tftsr timeline`` is in ``timeline.py``)."""

from __future__ import annotations

import os

from ..errors import ValidationError
from ._common import Output, _records, _table, _wb, clean_text, is_utf8, path_arg


def _read_odd_path(path: str, limit: int, what: str) -> bytes:
    """The bytes of a regular file whose name is not UTF-8 (the store keeps names as UTF-8 text,
    so the CLI reads it and stores it under the name with U+FFFD for each such byte). Refuses
    what ``log upload`` refuses: a missing file, a directory or other non-regular file, a
    symbolic link, more than ``limit`` bytes."""
    import errno
    import stat

    from ..errors import FileRefusedError, NotFoundError

    shown = clean_text(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"file {shown} not found") from None
    except PermissionError:
        raise FileRefusedError(f"permission denied reading {shown}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefusedError(f"{shown} is a symbolic link; give the {what} itself") from None
        raise FileRefusedError(f"cannot read {shown}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefusedError(f"{shown} is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefusedError(f"{clean_text(os.path.basename(path))} is larger than {limit // 1048576} MB")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefusedError(f"cannot read {shown}: {exc.strerror}") from None
    finally:
        os.close(fd)


def cmd_log_upload(args):
    wb = _wb(args)
    if is_utf8(args.file):
        log = wb.attachments.upload_log_file(args.issue_id, args.file)
    else:
        from ..attachments import MAX_LOG_BYTES

        data = _read_odd_path(args.file, MAX_LOG_BYTES, "log file")
        log = wb.attachments.upload_log_file_by_content(args.issue_id, clean_text(os.path.basename(args.file)), data,
                                                        source_path=clean_text(os.path.realpath(args.file)))
    if log.extracted_from:
        note = f"; {log.source}, the original file kept"
    else:
        note = "" if log.text_encoding in ("utf-8", "utf-8-sig") else f" (encoding: {log.text_encoding})"
    found = (log.pii_summary or {}).get("total")
    pii = f"\nthe PII scan found {found} finding(s); review them with: tftsr pii review {log.id}" if found else ""
    return Output(log.to_dict(), f"uploaded {log.file_name} as {log.id} ({log.file_size} bytes){note}{pii}")


def cmd_log_show(args):
    log = _wb(args).attachments.get_log_file(args.log_id)
    summary = log.pii_summary or {}
    by_type = ", ".join(f"{t} x{n}" for t, n in sorted((summary.get("by_type") or {}).items()))
    rows = [("id", log.id), ("issue", log.issue_id), ("file", clean_text(log.file_name)),
            ("size", f"{log.file_size} bytes"), ("type", log.mime_type or "-"), ("sha256", log.content_hash),
            ("uploaded", log.uploaded_at),
            ("text", log.source + "; `tftsr log cat --text` prints it, `tftsr log cat` the original file"
             if log.extracted_from else f"the file itself ({log.text_encoding})"),
            ("pii", f"{summary.get('total', 0)} finding(s)" + (f": {by_type}" if by_type else "")
             if summary else "not scanned"),
            ("redacted", "yes" if log.redacted else "no")]
    d = log.to_dict()
    d["source"] = log.source
    return Output(d, "\n".join(f"{k:<9} {v}" for k, v in rows))


def cmd_log_list(args):
    rows = _records(_wb(args).attachments.list_all_log_files(args.search, args.issue))
    return Output(rows, _table(rows, ["id", "file_name", "file_size", "redacted", "issue_title"]))


def cmd_log_cat(args):
    import base64

    wb = _wb(args)
    if args.redacted:  # the reviewed redaction, else every detected value replaced (viewers may read it)
        data = wb.pii.redacted_view(args.log_id).text.encode("utf-8", "surrogateescape")
    elif args.text:
        data = wb.attachments.get_log_file_content(args.log_id).encode("utf-8", "surrogateescape")
    else:
        data = wb.attachments.get_log_file_bytes(args.log_id)
    return Output({"id": args.log_id, "content_base64": base64.b64encode(data).decode("ascii"),
                   "size": len(data)}, raw=data)


def cmd_log_delete(args):
    _wb(args).attachments.delete_log_file(args.log_id)
    return Output({"deleted": args.log_id}, f"deleted log {args.log_id}")


def cmd_log_templates(args):
    wb = _wb(args)
    wb.attachments.get_log_file(args.log_id)  # a clear "not found" before any work
    if args.top is not None and args.top < 1:
        raise ValidationError("--top must be at least 1")
    ts = wb.logs.get_log_templates(args.log_id, recompute=args.recompute)
    doc = ts.to_dict(top=args.top)
    shown = ts.top(args.top if args.top is not None else 20)
    rows = [{"id": t.id, "count": t.count, "first_seen": t.first_seen or "-", "last_seen": t.last_seen or "-",
             "template": clean_text(t.template)[:120]} for t in shown]
    text = _table(rows, ["id", "count", "first_seen", "last_seen", "template"])
    text += f"\n{ts.lines} lines, {len(ts.templates)} templates"
    if ts.bursts:
        text += "\nbursts:\n" + "\n".join(f"  template {b.template_id}: {b.kind} at {b.at} ({b.count} lines,"
                                         f" baseline {b.baseline:.1f}/min)" for b in ts.bursts)
    return Output(doc, text)


def cmd_image_add(args):
    wb = _wb(args)
    if is_utf8(args.file):
        img = wb.attachments.upload_image_attachment(args.issue_id, args.file)
    else:
        from ..attachments import MAX_IMAGE_BYTES

        data = _read_odd_path(args.file, MAX_IMAGE_BYTES, "image")
        img = wb.attachments.upload_image_attachment_by_content(args.issue_id, clean_text(os.path.basename(args.file)),
                                                                data, source_path=clean_text(os.path.realpath(args.file)))
    return Output(img.to_dict(), f"added image {img.file_name} as {img.id}")


def cmd_image_list(args):
    rows = _records(_wb(args).attachments.list_all_image_attachments(args.search, args.issue))
    return Output(rows, _table(rows, ["id", "file_name", "mime_type", "file_size", "issue_title"]))


def cmd_image_delete(args):
    _wb(args).attachments.delete_image_attachment(args.id)
    return Output({"deleted": args.id}, f"deleted image {args.id}")


def cmd_audit(args):
    rows = _records(_wb(args).audit.get_audit_log(action=args.action, entity_type=args.entity_type,
                                                  entity_id=args.entity_id, limit=args.limit,
                                                  user_id=(args.actor or "").strip().lower() or None))
    return Output(rows, _table(rows, ["timestamp", "user_id", "action", "entity_type", "entity_id"]))


def register(sub, add):
    lsub = add.group(sub, "log", "upload, list and read log files")
    sp = add(lsub, "upload", cmd_log_upload,
             "store a log file (gzip in the database) for an issue; PDF, DOCX, pcap, .gz and .zip as their text")
    sp.add_argument("issue_id")
    path_arg(sp, "file")
    sp = add(lsub, "list", cmd_log_list, "list logs across incidents")
    sp.add_argument("--issue")
    sp.add_argument("--search")
    sp = add(lsub, "show", cmd_log_show, "a log's details: size, hash, PII findings, what its text was extracted from")
    sp.add_argument("log_id")
    sp = add(lsub, "cat", cmd_log_cat, "write a log's original bytes to stdout")
    sp.add_argument("log_id")
    how = sp.add_mutually_exclusive_group()
    how.add_argument("--redacted", action="store_true",
                     help="the redacted text instead: the reviewed redaction, else every detected value replaced "
                          "(viewers may read it)")
    how.add_argument("--text", action="store_true",
                     help="the log's text (for a PDF, DOCX, capture or archive: the text extracted from it)")
    sp = add(lsub, "templates", cmd_log_templates,
             "the log's templates (Drain) with counts, first/last seen, and bursts; mined once, then stored")
    sp.add_argument("log_id")
    sp.add_argument("--top", type=int, metavar="N", help="only the N most frequent templates")
    sp.add_argument("--recompute", action="store_true", help="mine again instead of reading the stored result")
    sp = add(lsub, "delete", cmd_log_delete, "delete a log file")
    sp.add_argument("log_id")

    msub = add.group(sub, "image", "add, list and delete images")
    sp = add(msub, "add", cmd_image_add, "attach an image (PNG, JPEG, GIF, WebP, BMP) to an issue")
    sp.add_argument("issue_id")
    path_arg(sp, "file")
    sp = add(msub, "list", cmd_image_list, "list images across incidents")
    sp.add_argument("--issue")
    sp.add_argument("--search")
    sp = add(msub, "delete", cmd_image_delete, "delete an image")
    sp.add_argument("id")

    sp = add(sub, "audit", cmd_audit, "show audit log entries, newest first")
    sp.add_argument("--action")
    sp.add_argument("--entity-type")
    sp.add_argument("--entity-id")
    sp.add_argument("--actor", metavar="NAME", help="only what this user did (local: single-user mode)")
    sp.add_argument("--limit", type=int, default=100)
