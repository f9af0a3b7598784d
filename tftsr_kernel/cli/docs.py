"""``tftsr rca``, ``tftsr postmortem`` and ``tftsr doc ...``: generate, read, edit and export documents."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import NotFoundError, ValidationError
from ._common import Output, _table, _wb, path_arg


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _doc_json(wb, doc) -> dict:
    d = doc.to_dict()
    d["version"] = wb.documents.current_version(doc.id)
    return d


def _generate(args, kind: str):
    wb = _wb(args)
    gen = wb.documents.generate_rca if kind == "rca" else wb.documents.generate_postmortem
    doc = gen(args.issue_id, ai_draft=args.ai_draft)
    sections = sum(1 for line in doc.content_md.splitlines() if line.startswith("## "))
    label = "RCA" if kind == "rca" else "post-mortem"
    return Output(_doc_json(wb, doc),
                  f"generated {label} {doc.id}: {doc.title} ({sections} sections)\n"
                  f"read it with: tftsr doc show {doc.id}\n"
                  f"export it with: tftsr doc export {doc.id} --format pdf")


def cmd_rca(args):
    return _generate(args, "rca")


def cmd_postmortem(args):
    return _generate(args, "postmortem")


def cmd_doc_list(args):
    wb = _wb(args)
    rows = []
    for doc in wb.documents.list_documents(args.issue_id):
        rows.append({"id": doc.id, "issue_id": doc.issue_id, "doc_type": doc.doc_type, "title": doc.title,
                     "created_at": doc.created_at, "updated_at": doc.updated_at,
                     "version": wb.documents.current_version(doc.id), "content_length": len(doc.content_md)})
    shown = [dict(r, updated=_when(r["updated_at"])) for r in rows]
    return Output(rows, _table(shown, ["id", "doc_type", "version", "updated", "title"]))


def cmd_doc_show(args):
    wb = _wb(args)
    if args.version is not None:
        v = wb.documents.get_document_version(args.doc_id, args.version)
        return Output(v.to_dict(), v.content_md)
    doc = wb.documents.get_document(args.doc_id)
    d = _doc_json(wb, doc)
    # where it was published: [{service, id, url, version, ...}]
    d["published"] = [p.to_dict() for p in wb.integrations.pages_for_document(doc.id)]
    return Output(d, doc.content_md)


def cmd_doc_edit(args):
    wb = _wb(args)
    if args.file == "-":
        data = sys.stdin.buffer.read()
        where = "standard input"
    else:
        path = Path(args.file).expanduser()
        where = str(path)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"file {path} not found") from None
        except IsADirectoryError:
            raise ValidationError(f"{path} is a directory; give a Markdown file") from None
        except PermissionError:
            raise ValidationError(f"permission denied reading {path}") from None
        except OSError as exc:
            raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{where} is not UTF-8 text; save the Markdown as UTF-8") from None
    before = wb.documents.current_version(args.doc_id)
    doc = wb.documents.update_document(args.doc_id, text, title=args.title)
    d = _doc_json(wb, doc)
    if d["version"] == before:
        return Output(d, f"document {doc.id} unchanged (version {before})")
    return Output(d, f"saved document {doc.id} as version {d['version']} (version {before} kept; "
                     f"see tftsr doc versions {doc.id})")


def cmd_doc_versions(args):
    wb = _wb(args)
    doc = wb.documents.get_document(args.doc_id)
    rows = [{"version": v.version, "title": v.title, "created_at": v.created_at,
             "content_length": len(v.content_md), "current": False}
            for v in wb.documents.list_document_versions(args.doc_id)]
    rows.append({"version": len(rows) + 1, "title": doc.title, "created_at": doc.updated_at,
                 "content_length": len(doc.content_md), "current": True})
    shown = [dict(r, saved=_when(r["created_at"])) for r in rows]
    return Output({"document_id": doc.id, "current_version": len(rows), "versions": rows},
                  _table(shown, ["version", "saved", "current", "content_length", "title"]))


def cmd_doc_export(args):
    wb = _wb(args)
    path = wb.documents.export_document(args.doc_id, args.format, args.output, unredacted=args.unredacted)
    note = "UNREDACTED export (recorded in the audit log as export_unredacted): " if args.unredacted else ""
    return Output({"path": str(path), "format": args.format, "document_id": args.doc_id,
                   "bytes": path.stat().st_size, "redacted": not args.unredacted}, note + str(path))


def register(sub, add):
    for name, func, what in (("rca", cmd_rca, "a root cause analysis (RCA)"),
                             ("postmortem", cmd_postmortem, "a blameless post-mortem")):
        sp = add(sub, name, func, f"generate {what} for an issue from its data and store it as a document")
        sp.add_argument("issue_id")
        sp.add_argument("--ai-draft", action="store_true",
                        help="let the configured AI model improve the draft (text is PII-redacted first)")

    dsub = add.group(sub, "doc", "list, show, edit, version and export RCA and post-mortem documents")
    sp = add(dsub, "list", cmd_doc_list, "list an issue's documents")
    sp.add_argument("issue_id")
    sp = add(dsub, "show", cmd_doc_show, "print a document's Markdown (--json: the document)")
    sp.add_argument("doc_id")
    sp.add_argument("--version", type=int, help="an earlier version instead of the current text")
    sp = add(dsub, "edit", cmd_doc_edit, "replace a document's Markdown with a file's (the previous text is kept)")
    sp.add_argument("doc_id")
    path_arg(sp, "file", help="a UTF-8 Markdown file, or - for standard input")
    sp.add_argument("--title", help="also change the document's title")
    sp = add(dsub, "versions", cmd_doc_versions, "list a document's versions (1 = as generated)")
    sp.add_argument("doc_id")
    sp = add(dsub, "export", cmd_doc_export,
             "write a document as Markdown, self-contained HTML, PDF or DOCX (offline); prints the path")
    sp.add_argument("doc_id")
    sp.add_argument("--format", "-f", default="md", choices=["md", "html", "pdf", "docx"])
    path_arg(sp, "--output", "-o", metavar="DIR", help="output directory (default: <data dir>/exports)")
    sp.add_argument("--unredacted", action="store_true",
                    help="write the stored text instead of the redacted one (audited as export_unredacted)")


__all__ = ["register"]
