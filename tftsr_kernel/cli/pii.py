"""``tftsr pii ...``: scan and redact files (no database needed), review and apply for stored logs."""

from __future__ import annotations

import sys

from ..errors import ValidationError
from ._common import Output, UsageError, _records, _table, _wb, path_arg


def _file_config(args):
    from ..pii import PII_TYPES, DetectorConfig
    from ..pii._types import KNOWN_TYPE_NAMES, TYPE_GROUPS

    if getattr(args, "settings", False):
        return _wb(args).pii.config()
    types = None
    if args.types:
        types = frozenset(t.strip() for t in args.types.split(",") if t.strip())
        unknown = types - KNOWN_TYPE_NAMES  # toggles, family types (SendGridKey) and groups (secrets)
        if unknown:
            raise ValidationError(f"unknown PII type(s): {', '.join(sorted(unknown))}; types: {', '.join(PII_TYPES)}; "
                                  f"groups: {', '.join(TYPE_GROUPS)}; or a family type (tftsr pii types lists the toggles)")
    patterns = []
    for item in args.pattern or []:
        name, sep, rx = item.partition("=")
        if not sep or not rx:
            raise UsageError("--pattern takes NAME=REGEX")
        patterns.append((name.strip(), rx))
    return DetectorConfig(enabled_types=types, custom_patterns=tuple(patterns), allowlist=tuple(args.allow or ()))


def _workers(args) -> int:
    from ..pii import auto_workers

    if args.workers is not None:
        if args.workers < 1:
            raise UsageError("--workers must be 1 or more")
        return min(args.workers, 2)
    return auto_workers(args.file)


def _check_text(path) -> None:
    """Refuse binary files as ``log upload`` does (a clear message instead of garbage output)."""
    from .._text import sniff_text

    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return  # the scanner reports missing files and directories itself
    sniff_text(head)


def cmd_pii_scan(args):
    from ..pii import Pseudonymizer, scan_file

    _check_text(args.file)

    pseudo = Pseudonymizer()
    spans = [{"type": s.type, "start": s.start, "end": s.end, "text": s.text, "replacement": pseudo.placeholder(s)}
             for s in scan_file(args.file, _file_config(args), workers=_workers(args))]
    data = {"spans": spans, "total_found": len(spans)}
    text = _table(spans, ["start", "end", "type", "replacement", "text"]) + f"\n{len(spans)} span(s)"
    return Output(data, text)


def _tune_malloc() -> None:
    """Keep freed memory in the heap for this short-lived command: redaction allocates and
    frees buffers of a few MB per chunk, and glibc's defaults hand them back to the kernel
    (mmap/trim) each time, so every chunk paid fresh page faults (measured ~6 % of the run
    time on 49 MB).  glibc only; elsewhere this does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (ImportError, OSError, AttributeError):
        pass


def cmd_pii_redact(args):
    from ..pii import redact_file

    _check_text(args.file)
    _tune_malloc()

    if args.json:
        import io

        buf = io.BytesIO()
        stats = redact_file(args.file, buf, _file_config(args), workers=_workers(args))
        return Output({"redacted": buf.getvalue().decode("utf-8", "replace"), "bytes_in": stats.bytes_in,
                       "spans": stats.spans, "by_type": stats.by_type})
    out = sys.stdout.buffer
    sys.stdout.flush()
    redact_file(args.file, out, _file_config(args), workers=_workers(args))
    out.flush()
    return Output(None, raw=b"")


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def cmd_pii_review(args):
    wb = _wb(args)
    log = wb.attachments.get_log_file(args.log_id)
    spans = wb.pii.detect_pii(args.log_id).spans if args.rescan else wb.pii.list_spans(args.log_id)
    rows = _records(spans)
    if not args.json:
        text = wb.attachments.get_log_file_content(args.log_id)
        for r in rows:
            r["at"] = _line_col(text, r["start_offset"])
    by_type: dict[str, int] = {}
    for s in spans:
        by_type[s.pii_type] = by_type.get(s.pii_type, 0) + 1
    data = {"log_file_id": args.log_id, "file_name": log.file_name, "redacted": log.redacted,
            "spans": rows, "total_found": len(rows), "by_type": by_type}
    human = _table(rows, ["id", "at", "pii_type", "status", "replacement", "original_value"])
    human += f"\n{len(rows)} span(s) in {log.file_name}; approve with: tftsr pii apply {args.log_id} --all | --spans ID,ID"
    return Output(data, human)


def cmd_pii_apply(args):
    wb = _wb(args)
    if sum(bool(x) for x in (args.all, args.spans is not None, args.none)) != 1:
        raise UsageError("pii apply: give exactly one of --all, --spans ID,ID or --none")
    if args.all:
        ids = "all"
    elif args.none:
        ids = []
    else:
        ids = [s.strip() for s in args.spans.split(",") if s.strip()]
    result = wb.pii.apply_redactions(args.log_id, ids)
    return Output(result.to_dict(), f"redacted {result.approved} span(s), kept {result.rejected}; "
                                    f"redacted text sha256 {result.redacted_sha256[:16]}…")


def cmd_pii_types(args):
    wb = _wb(args)
    from ..pii import PII_TYPES

    for t in args.enable or []:
        wb.pii.set_type_enabled(t, True)
    for t in args.disable or []:
        wb.pii.set_type_enabled(t, False)
    enabled = set(wb.pii.enabled_types())
    rows = [{"type": t, "enabled": t in enabled} for t in PII_TYPES]
    return Output(rows, _table(rows, ["type", "enabled"]))


def register(sub, add):
    psub = add.group(sub, "pii", "detect, review and redact PII")

    def file_opts(sp):
        path_arg(sp, "file")
        sp.add_argument("--types", help="only these PII types, comma-separated")
        sp.add_argument("--allow", action="append", metavar="VALUE", help="never redact this exact value")
        sp.add_argument("--pattern", action="append", metavar="NAME=REGEX", help="an extra pattern")
        sp.add_argument("--settings", action="store_true",
                        help="use the PII settings stored in the database (types, patterns, allow-list)")
        sp.add_argument("--workers", type=int, metavar="N",
                        help="1: scan in this process; 2: a helper process runs the pattern scan ahead "
                             "(default: 2 for files of 8 MB or more on Linux with two CPUs, else 1)")

    file_opts(add(psub, "scan", cmd_pii_scan, "list the PII spans found in a file (no database needed)"))
    file_opts(add(psub, "redact", cmd_pii_redact, "print a file with every PII span replaced (no database needed)"))
    sp = add(psub, "review", cmd_pii_review, "scan a stored log (first time) and list its spans for review")
    sp.add_argument("log_id")
    sp.add_argument("--rescan", action="store_true", help="scan again (resets the review)")
    sp = add(psub, "apply", cmd_pii_apply, "apply the review: redact the approved spans of a stored log")
    sp.add_argument("log_id")
    sp.add_argument("--all", action="store_true", help="approve every span")
    sp.add_argument("--spans", metavar="ID,ID", help="approve these spans, reject the rest")
    sp.add_argument("--none", action="store_true", help="reject every span")
    sp = add(psub, "types", cmd_pii_types, "list PII types and turn them on or off")
    sp.add_argument("--enable", action="append", metavar="TYPE")
    sp.add_argument("--disable", action="append", metavar="TYPE")
