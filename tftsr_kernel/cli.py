"""The ``tftsr`` command line.

Contract: every command takes ``--json`` and then prints exactly one JSON document on stdout.
Exit 0 on success, 1 on an operation error, 2 on a usage or key error. Errors are one line on
stderr (and, with ``--json``, an ``{"error": ...}`` document on stdout), never a traceback;
set ``TFTSR_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from .errors import TftsrError, ValidationError

COMMANDS: dict[str, Callable] = {}


class UsageError(TftsrError):
    exit_code = 2


def _terminal_columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter without its ``import shutil``: argparse builds a formatter for
    every ``add_argument``, and that import alone cost ~3 ms of every command's start-up."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2
        raise UsageError(f"{self.prog}: {message}")


class Output:
    """What a command returns: the JSON document and its human rendering."""

    def __init__(self, data, text: str | None = None, raw: bytes | None = None):
        self.data = data
        self.text = text
        self.raw = raw


# --- helpers -------------------------------------------------------------------------------------
def _wb(args):
    import tftsr_kernel

    return tftsr_kernel.open(args.data_dir)


def _dump(obj) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)


def _table(rows: list[dict], cols: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: min(60, max(len(c), *(len(_cell(r.get(c))) for r in rows))) for c in cols}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in cols)]
    for r in rows:
        lines.append("  ".join(_cell(r.get(c))[: widths[c]].ljust(widths[c]) for c in cols))
    return "\n".join(lines)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return " ".join(str(v).split())


def _records(items) -> list[dict]:
    return [i.to_dict() for i in items]


# --- commands: store -----------------------------------------------------------------------------
def cmd_init(args):
    wb = _wb(args)
    data = {"data_dir": str(wb.data_dir), "database": str(wb.db_path), "key": wb.key_origin,
            "migrations": len(wb.db.applied_migrations())}
    return Output(data, f"data directory: {data['data_dir']}\ndatabase:       {data['database']}\n"
                        f"key:            {data['key']}")


def cmd_issue_create(args):
    issue = _wb(args).issues.create_issue(args.title, args.description, args.severity, args.category,
                                          source=args.source, assigned_to=args.assigned_to, tags=args.tags)
    return Output(issue.to_dict(), f"created issue {issue.id}: {issue.title}")


def cmd_issue_list(args):
    wb = _wb(args)
    items = wb.issues.list_issues(status=args.status, severity=args.severity, category=args.category,
                                  sort_by=args.sort, sort_order=args.order, limit=args.limit, offset=args.offset)
    rows = _records(items)
    return Output(rows, _table(rows, ["id", "severity", "status", "category", "created_at", "title"]))


def cmd_issue_show(args):
    detail = _wb(args).issues.get_issue(args.id)
    d = detail.to_dict()
    i = d["issue"]
    lines = [f"{i['title']}", f"id {i['id']}  severity {i['severity']}  status {i['status']}  "
             f"category {i['category'] or '-'}", f"created {i['created_at']}  updated {i['updated_at']}"]
    if i["description"]:
        lines += ["", i["description"]]
    if d["log_files"]:
        lines += ["", "Logs:", _table(d["log_files"], ["id", "file_name", "file_size", "redacted"])]
    if d["resolution_steps"]:
        lines += ["", "5 Whys:"] + [f"  {s['step_order']}. {s['why_question']}\n     {s['answer'] or '(no answer)'}"
                                     for s in d["resolution_steps"]]
    if d["timeline_events"]:
        lines += ["", "Timeline:"] + [f"  {e['created_at']}  {e['event_type']}: {e['description']}"
                                      for e in d["timeline_events"]]
    return Output(d, "\n".join(lines))


def cmd_issue_update(args):
    fields = {k: getattr(args, k) for k in ("title", "description", "severity", "status", "category",
                                            "source", "assigned_to", "tags") if getattr(args, k) is not None}
    if not fields:
        raise UsageError("issue update: give at least one field to change (--title, --status, ...)")
    detail = _wb(args).issues.update_issue(args.id, **fields)
    return Output(detail.to_dict(), f"updated issue {args.id}")


def cmd_issue_delete(args):
    _wb(args).issues.delete_issue(args.id)
    return Output({"deleted": args.id}, f"deleted issue {args.id}")


def cmd_issue_search(args):
    rows = _records(_wb(args).issues.search_issues(args.query, limit=args.limit))
    return Output(rows, _table(rows, ["id", "severity", "status", "title"]))


def cmd_log_upload(args):
    log = _wb(args).attachments.upload_log_file(args.issue_id, args.file)
    note = "" if log.text_encoding in ("utf-8", "utf-8-sig") else f" (encoding: {log.text_encoding})"
    return Output(log.to_dict(), f"uploaded {log.file_name} as {log.id} ({log.file_size} bytes){note}")


def cmd_log_list(args):
    rows = _records(_wb(args).attachments.list_all_log_files(args.search, args.issue))
    return Output(rows, _table(rows, ["id", "file_name", "file_size", "redacted", "issue_title"]))


def cmd_log_cat(args):
    import base64

    wb = _wb(args)
    if args.redacted:
        text = wb.pii.get_redacted_content(args.log_id)
        if text is None:
            raise ValidationError(f"log {args.log_id} has no applied redaction yet; run: tftsr pii apply {args.log_id} --all")
        data = text.encode("utf-8", "surrogateescape")
    else:
        data = wb.attachments.get_log_file_bytes(args.log_id)
    return Output({"id": args.log_id, "content_base64": base64.b64encode(data).decode("ascii"),
                   "size": len(data)}, raw=data)


def cmd_log_delete(args):
    _wb(args).attachments.delete_log_file(args.log_id)
    return Output({"deleted": args.log_id}, f"deleted log {args.log_id}")


def cmd_image_add(args):
    img = _wb(args).attachments.upload_image_attachment(args.issue_id, args.file)
    return Output(img.to_dict(), f"added image {img.file_name} as {img.id}")


def cmd_image_list(args):
    rows = _records(_wb(args).attachments.list_all_image_attachments(args.search, args.issue))
    return Output(rows, _table(rows, ["id", "file_name", "mime_type", "file_size", "issue_title"]))


def cmd_image_delete(args):
    _wb(args).attachments.delete_image_attachment(args.id)
    return Output({"deleted": args.id}, f"deleted image {args.id}")


def cmd_timeline(args):
    wb = _wb(args)
    if args.add:
        wb.issues.require(args.issue_id)
        meta = None
        if args.metadata:
            import json

            try:
                meta = json.loads(args.metadata)
            except ValueError:
                raise ValidationError("--metadata must be a JSON object") from None
        ev = wb.timeline.add_timeline_event(args.issue_id, args.add, args.description or args.add, meta)
        return Output(ev.to_dict(), f"recorded {ev.event_type} at {ev.created_at}")
    wb.issues.require(args.issue_id)
    rows = _records(wb.timeline.get_timeline_events(args.issue_id))
    return Output(rows, _table(rows, ["created_at", "event_type", "description"]))


def cmd_audit(args):
    rows = _records(_wb(args).audit.get_audit_log(action=args.action, entity_type=args.entity_type,
                                                  entity_id=args.entity_id, limit=args.limit))
    return Output(rows, _table(rows, ["timestamp", "action", "entity_type", "entity_id"]))


def cmd_verify(args):
    wb = _wb(args)
    problems, chain = wb.verify()
    data = {"ok": not problems and chain.ok, "integrity": problems or "ok", "audit_chain": chain.to_dict()}
    if not data["ok"]:
        if chain.first_bad_id:
            msg = f"audit chain broken at entry {chain.first_bad_id} (#{chain.first_bad_index + 1}): {chain.reason}"
        elif not chain.ok:
            msg = f"audit log: {chain.reason}"
        else:
            msg = "database integrity: " + "; ".join(problems[:3])
        raise VerifyFailed(msg, data)
    return Output(data, f"ok: database integrity verified, audit chain of {chain.entries} entries intact")


class VerifyFailed(TftsrError):
    def __init__(self, message, data):
        super().__init__(message)
        self.data = data


def cmd_rekey(args):
    wb = _wb(args)
    where = wb.rekey()
    return Output({"rekeyed": True, "new_key": where}, f"database re-encrypted; the new key is in {where}")


def cmd_backup(args):
    dest = _wb(args).backup(args.dest)
    return Output({"backup": str(dest)}, f"encrypted backup written to {dest} (same key as the database)")


def cmd_demo(args):
    from .demo import create_demo

    wb = _wb(args)
    if args.if_empty and wb.issues.count_issues() > 0:
        return Output({"created": False, "reason": "database already has issues"}, "demo skipped: issues exist")
    issue, log = create_demo(wb)
    return Output({"created": True, "issue": issue.to_dict(), "log_file": log.to_dict()},
                  f"demo incident {issue.id}: {issue.title}")


def cmd_settings_show(args):
    import json

    data = _wb(args).settings.get_settings()
    return Output(data, "\n".join(f"{k} = {json.dumps(v)}" for k, v in data.items()))


def cmd_settings_set(args):
    import json

    wb = _wb(args)
    value = wb.settings.parse_cli_value(args.key, args.value)
    data = wb.settings.update_settings({args.key: value})
    return Output(data, f"{args.key} = {json.dumps(data[args.key])}")


# --- parser --------------------------------------------------------------------------------------
def build_parser(hooks: list[Callable] | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``hooks``, only the commands those extension hooks register (the
    start-up fast path of :func:`main` for ``tftsr pii ...``)."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print exactly one JSON document on stdout")
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data directory (default: TFTSR_DATA_DIR or ~/.local/share/tftsr)")
    p = _Parser(prog="tftsr", description="TFTSR Workbench: incident investigation in an encrypted store.",
                parents=[common])
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(parent, name, func, help_):
        """A leaf command: ``add(sub, "show", cmd_show, "help")``; returns its parser."""
        sp = parent.add_parser(name, help=help_, description=help_, parents=[common])
        sp.set_defaults(func=func)
        return sp

    def group(parent, name, help_):
        """A command group (``tftsr doc ...``); returns the subparsers to ``add`` leaves to."""
        gp = parent.add_parser(name, help=help_, description=help_, parents=[common])
        gsub = gp.add_subparsers(dest="sub", metavar="ACTION", parser_class=_Parser)
        gsub.required = True
        return gsub

    add.group = group  # extensions call add.group(sub, "name", "help")
    if hooks is not None:
        for hook in hooks:
            hook(sub, add)
        return p

    add(sub, "init", cmd_init, "create the data directory, key and database; print where they are")

    isub = group(sub, "issue", "create, list, show, update, delete and search issues")
    sp = add(isub, "create", cmd_issue_create, "create an issue")
    sp.add_argument("--title", required=True)
    sp.add_argument("--description")
    sp.add_argument("--severity", default="medium", choices=["critical", "high", "medium", "low"])
    sp.add_argument("--category", help="one of the 16 domains, e.g. linux, kubernetes, databases")
    sp.add_argument("--source")
    sp.add_argument("--assigned-to")
    sp.add_argument("--tags", help="comma-separated")
    sp = add(isub, "list", cmd_issue_list, "list issues (newest first)")
    sp.add_argument("--status", choices=["open", "investigating", "resolved", "closed"])
    sp.add_argument("--severity", choices=["critical", "high", "medium", "low"])
    sp.add_argument("--category")
    sp.add_argument("--sort", default="created_at", choices=["created_at", "updated_at", "severity", "status", "title"])
    sp.add_argument("--order", default="desc", choices=["asc", "desc"])
    sp.add_argument("--limit", type=int, default=50)
    sp.add_argument("--offset", type=int, default=0)
    sp = add(isub, "show", cmd_issue_show, "show an issue with its logs, steps, conversations and timeline")
    sp.add_argument("id")
    sp = add(isub, "update", cmd_issue_update, "change some fields of an issue")
    sp.add_argument("id")
    for f in ("--title", "--description", "--category", "--source", "--assigned-to", "--tags"):
        sp.add_argument(f)
    sp.add_argument("--severity", choices=["critical", "high", "medium", "low"])
    sp.add_argument("--status", choices=["open", "investigating", "resolved", "closed"])
    sp = add(isub, "delete", cmd_issue_delete, "delete an issue and everything attached (audit entries stay)")
    sp.add_argument("id")
    sp = add(isub, "search", cmd_issue_search, "full-text search over titles and descriptions")
    sp.add_argument("query")
    sp.add_argument("--limit", type=int, default=50)

    lsub = group(sub, "log", "upload, list and read log files")
    sp = add(lsub, "upload", cmd_log_upload, "store a log file (gzip in the database) for an issue")
    sp.add_argument("issue_id")
    sp.add_argument("file")
    sp = add(lsub, "list", cmd_log_list, "list logs across incidents")
    sp.add_argument("--issue")
    sp.add_argument("--search")
    sp = add(lsub, "cat", cmd_log_cat, "write a log's original bytes to stdout")
    sp.add_argument("log_id")
    sp.add_argument("--redacted", action="store_true", help="the stored redacted text instead")
    sp = add(lsub, "delete", cmd_log_delete, "delete a log file")
    sp.add_argument("log_id")

    msub = group(sub, "image", "add, list and delete images")
    sp = add(msub, "add", cmd_image_add, "attach an image (PNG, JPEG, GIF, WebP, BMP) to an issue")
    sp.add_argument("issue_id")
    sp.add_argument("file")
    sp = add(msub, "list", cmd_image_list, "list images across incidents")
    sp.add_argument("--issue")
    sp.add_argument("--search")
    sp = add(msub, "delete", cmd_image_delete, "delete an image")
    sp.add_argument("id")

    sp = add(sub, "timeline", cmd_timeline, "show an issue's timeline (or --add an event)")
    sp.add_argument("issue_id")
    sp.add_argument("--add", metavar="EVENT_TYPE", help="record an event of this type")
    sp.add_argument("--description")
    sp.add_argument("--metadata", help="JSON object")

    sp = add(sub, "audit", cmd_audit, "show audit log entries, newest first")
    sp.add_argument("--action")
    sp.add_argument("--entity-type")
    sp.add_argument("--entity-id")
    sp.add_argument("--limit", type=int, default=100)

    add(sub, "verify", cmd_verify, "check SQLCipher integrity, the search index and the audit chain")
    add(sub, "rekey", cmd_rekey, "re-encrypt under a new key (TFTSR_NEW_DB_KEY, else a new key file)")
    sp = add(sub, "backup", cmd_backup, "write an encrypted copy of the database")
    sp.add_argument("dest")
    sp = add(sub, "demo", cmd_demo, "create a sample incident with a sample log")
    sp.add_argument("--if-empty", action="store_true", help="only when the database has no issues")

    ssub = group(sub, "settings", "show and change settings")
    add(ssub, "show", cmd_settings_show, "print every setting")
    sp = add(ssub, "set", cmd_settings_set, "change one setting (value as JSON or text)")
    sp.add_argument("key")
    sp.add_argument("value")

    for hook in _EXTENSIONS:
        hook(sub, add)
    return p


#: functions(sub, add) that register more commands (PII, AI, documents, dashboard);
#: ``add(parent, name, func, help)`` makes a leaf, ``add.group(parent, name, help)`` a group
_EXTENSIONS: list[Callable] = []


def _load_extensions():
    import importlib

    for mod in ("tftsr_kernel.cli_pii", "tftsr_kernel.cli_ai", "tftsr_kernel.cli_docs", "tftsr_kernel.cli_serve"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        if m.register not in _EXTENSIONS:
            _EXTENSIONS.append(m.register)


#: command groups served entirely by one extension module: ``tftsr pii ...`` imports and builds
#: only that (importing every extension and building the whole parser costs ~40 ms of start-up)
_FAST_COMMANDS = {"pii": "tftsr_kernel.cli_pii"}


def _command_word(argv: list[str]) -> str | None:
    """The command name in ``argv`` (the first word that is not a global option)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--data-dir":
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    mod = _FAST_COMMANDS.get(_command_word(argv))
    if mod is not None:
        import importlib

        try:
            return build_parser([importlib.import_module(mod).register])
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    _load_extensions()
    return build_parser()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        args = _parser_for(argv).parse_args(argv)
        args.json = getattr(args, "json", False)
        args.data_dir = getattr(args, "data_dir", None)
        out = args.func(args)
    except VerifyFailed as err:
        return _fail(err, as_json, extra=err.data)
    except TftsrError as err:
        return _fail(err, as_json)
    except KeyboardInterrupt:
        print("tftsr: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # a bug: one line, unless debugging
        if os.environ.get("TFTSR_DEBUG"):
            raise
        return _fail(TftsrError(f"internal error ({type(exc).__name__}): {exc}. "
                                "Set TFTSR_DEBUG=1 for details."), as_json)
    _emit(out, args.json)
    return 0


def _emit(out: Output, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(_dump(out.data) + "\n")
    elif out.raw is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(out.raw)
        sys.stdout.buffer.flush()
    elif out.text is not None:
        sys.stdout.write(out.text + ("\n" if not out.text.endswith("\n") else ""))
    else:
        sys.stdout.write(_dump(out.data) + "\n")
    sys.stdout.flush()


def _fail(err: TftsrError, as_json: bool, extra=None) -> int:
    print(f"tftsr: error: {err}", file=sys.stderr)
    if as_json:
        doc = {"error": {"type": type(err).__name__, "message": str(err)}}
        if extra is not None:
            doc["result"] = extra
        sys.stdout.write(_dump(doc) + "\n")
    return err.exit_code


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
