"""``tftsr issue ...``: create, list, show, update, delete and search issues."""

from __future__ import annotations

from ._common import Output, UsageError, _records, _table, _wb

SEVERITIES = ["critical", "high", "medium", "low"]
STATUSES = ["open", "investigating", "resolved", "closed"]


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
    wb = _wb(args)
    detail = wb.issues.get_issue(args.id)
    d = detail.to_dict()
    # where the issue went: tickets opened from it ({service, id, ticket_number, url}) and pages
    d["tickets"] = [t.to_dict() for t in wb.integrations.tickets_for_issue(args.id)]
    d["published"] = [p.to_dict() for p in wb.integrations.pages_for_issue(args.id)]
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
        lines += ["", "Timeline:"] + [f"  {e['at']}  {e['event_type']}: {e['description']}"
                                      for e in d["timeline_events"]]
    if d["tickets"] or d["published"]:
        lines += ["", "Tickets and pages:"] + [f"  {t['service']} {t['ticket_number'] or t['id']}: {t['url']}"
                                              for t in d["tickets"] + d["published"]]
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


def register(sub, add):
    isub = add.group(sub, "issue", "create, list, show, update, delete and search issues")
    sp = add(isub, "create", cmd_issue_create, "create an issue")
    sp.add_argument("--title", required=True)
    sp.add_argument("--description")
    sp.add_argument("--severity", default="medium", choices=SEVERITIES)
    sp.add_argument("--category", help="one of the 16 domains, e.g. linux, kubernetes, databases")
    sp.add_argument("--source")
    sp.add_argument("--assigned-to")
    sp.add_argument("--tags", help="comma-separated")
    sp = add(isub, "list", cmd_issue_list, "list issues (newest first)")
    sp.add_argument("--status", choices=STATUSES)
    sp.add_argument("--severity", choices=SEVERITIES)
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
    sp.add_argument("--severity", choices=SEVERITIES)
    sp.add_argument("--status", choices=STATUSES)
    sp = add(isub, "delete", cmd_issue_delete, "delete an issue and everything attached (audit entries stay)")
    sp.add_argument("id")
    sp = add(isub, "search", cmd_issue_search, "full-text search over titles and descriptions")
    sp.add_argument("query")
    sp.add_argument("--limit", type=int, default=50)
