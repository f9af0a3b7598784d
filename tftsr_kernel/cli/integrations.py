"""``tftsr integration ...``, ``tftsr confluence ...``, ``tftsr servicenow ...``, ``tftsr azuredevops ...``.

Secrets come only from an environment variable (``--token-env VAR``, ``--password-env VAR``,
``--client-secret-env VAR``) or a terminal prompt; never from an argument (it would be in the
shell history and the process list).
"""

from __future__ import annotations

from ..errors import ValidationError
from ._common import Output, UsageError, _records, _table, _wb, loopback_sign_in, secret_input

SERVICES = ["confluence", "servicenow", "azuredevops"]


def _info_text(i: dict) -> str:
    cred = "no credential" if not i["has_credential"] else (
        f"credential sha256 {i['token_hash_prefix']}…" + (f", expires {i['credential_expires_at']}"
                                                         if i["credential_expires_at"] else ""))
    extra = " ".join(x for x in (f"user {i['username']}" if i["username"] else "",
                                 f"project {i['project_name']}" if i["project_name"] else "",
                                 f"space {i['space_key']}" if i["space_key"] else "") if x)
    return f"{i['service']}: {i['base_url']} ({i['auth_type']}; {cred}){' ' + extra if extra else ''}"


# --- integration ---------------------------------------------------------------------------------------
def cmd_add(args):
    wb = _wb(args)
    oauth = None
    token = password = client_secret = None
    if args.oauth:
        oauth = {"auth_url": args.auth_url, "token_url": args.token_url, "client_id": args.client_id,
                 "scope": args.scope}
        client_secret = secret_input(args.client_secret_env, "OAuth client secret", required=False)
        auth = "oauth"
    elif args.service == "servicenow" or args.password_env:
        password = secret_input(args.password_env, f"{args.service} password")
        auth = "basic"
    else:
        token = secret_input(args.token_env, f"{args.service} API token")
        auth = "token"
    info = wb.integrations.add_integration(args.service, args.url, auth_type=auth, username=args.user,
                                           token=token, password=password, project=args.project,
                                           space_key=args.space, oauth=oauth, client_secret=client_secret)
    d = info.to_dict()
    note = f"\nlog in with: tftsr integration login {args.service}" if auth == "oauth" else \
        f"\ncheck it with: tftsr integration test {args.service}"
    return Output(d, "configured " + _info_text(d) + note)


def cmd_list(args):
    rows = _records(_wb(args).integrations.list_integrations())
    return Output(rows, "\n".join(_info_text(r) for r in rows) or "(no integrations configured)")


def cmd_test(args):
    r = _wb(args).integrations.test_connection(args.service)
    if not r.success:
        raise ValidationError(f"{args.service} connection failed: {r.message}")
    return Output(r.to_dict(), r.message)


def cmd_remove(args):
    _wb(args).integrations.remove_integration(args.service)
    return Output({"removed": args.service}, f"removed {args.service} and its stored credential")


def cmd_login(args):
    wb = _wb(args)
    loopback_sign_in(lambda redirect: wb.integrations.begin_login(args.service, redirect),
                     lambda state, code, error: wb.integrations.complete_login(state, code, error=error),
                     port=args.port, timeout=args.timeout, no_browser=args.no_browser,
                     command="tftsr integration login", what=args.service,
                     done=f"{args.service} is connected to TFTSR Workbench.")
    info = wb.integrations.get_integration(args.service).to_dict()
    return Output(info, f"signed in: {_info_text(info)}")


# --- confluence --------------------------------------------------------------------------------------
def cmd_spaces(args):
    rows = _records(_wb(args).integrations.list_confluence_spaces())
    return Output(rows, _table(rows, ["key", "name", "type"]))


def cmd_csearch(args):
    rows = _records(_wb(args).integrations.search_confluence_pages(args.query, args.space))
    return Output(rows, _table(rows, ["id", "space_key", "version", "title", "url"]))


def _unredacted_note(r) -> str:
    return "" if r.redacted else " (UNREDACTED: the stored originals were sent; recorded in the audit log)"


def cmd_publish(args):
    wb = _wb(args)
    if args.preview:
        view = wb.integrations.preview_publish(args.doc_id, unredacted=args.unredacted)
        return Output(view, f"title: {view['title']}\n\n{view['storage']}")
    r = wb.integrations.publish_to_confluence(args.doc_id, args.space, args.parent, unredacted=args.unredacted)
    return Output(r.to_dict(), f"published document {args.doc_id} as Confluence page {r.id} (version {r.version}): "
                               f"{r.url}{_unredacted_note(r)}")


def cmd_update(args):
    r = _wb(args).integrations.update_confluence_page(args.doc_id, page_id=args.page, version=args.version,
                                                      unredacted=args.unredacted)
    return Output(r.to_dict(), f"updated Confluence page {r.id} to version {r.version}: {r.url}{_unredacted_note(r)}")


# --- tickets ---------------------------------------------------------------------------------------------
def _fields(pairs) -> dict:
    out = {}
    for p in pairs or []:
        name, sep, value = p.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set takes FIELD=VALUE, not {p!r}")
        out[name.strip()] = value
    if not out:
        raise UsageError("give at least one --set FIELD=VALUE")
    return out


def _ticket_text(r, verb: str) -> str:
    return f"{verb} {r.service} {r.ticket_number} for issue {r.issue_id or '-'}: {r.url}{_unredacted_note(r)}"


def cmd_sn_search(args):
    rows = _records(_wb(args).integrations.search_servicenow_incidents(args.query))
    return Output(rows, _table(rows, ["number", "state", "urgency", "impact", "short_description"]))


def cmd_sn_create(args):
    r = _wb(args).integrations.create_servicenow_incident(args.issue_id, unredacted=args.unredacted)
    return Output(r.to_dict(), _ticket_text(r, "opened"))


def cmd_sn_get(args):
    inc = _wb(args).integrations.get_servicenow_incident(args.id)
    return Output(inc.to_dict(), f"{inc.number} ({inc.sys_id}) state {inc.state} urgency {inc.urgency} impact "
                                 f"{inc.impact}\n{inc.short_description}\n{inc.url}")


def cmd_sn_update(args):
    r = _wb(args).integrations.update_servicenow_incident(args.sys_id, _fields(args.set), unredacted=args.unredacted)
    return Output(r.to_dict(), _ticket_text(r, "updated"))


def cmd_ado_search(args):
    rows = _records(_wb(args).integrations.search_azuredevops_workitems(args.query))
    for r in rows:
        r.pop("fields", None)
    return Output(rows, _table(rows, ["id", "work_item_type", "state", "title"]))


def cmd_ado_create(args):
    r = _wb(args).integrations.create_azuredevops_workitem(args.issue_id, args.type, unredacted=args.unredacted)
    return Output(r.to_dict(), _ticket_text(r, "created"))


def cmd_ado_get(args):
    w = _wb(args).integrations.get_azuredevops_workitem(args.id)
    return Output(w.to_dict(), f"{w.work_item_type} {w.id} ({w.state}, rev {w.rev}): {w.title}\n{w.url}")


def cmd_ado_update(args):
    r = _wb(args).integrations.update_azuredevops_workitem(args.id, _fields(args.set), unredacted=args.unredacted)
    return Output(r.to_dict(), _ticket_text(r, "updated"))


def _unredacted_arg(sp):
    sp.add_argument("--unredacted", action="store_true",
                    help="send the stored originals instead of the redacted text (analysts and admins; audited "
                         "as send_unredacted)")


def register(sub, add):
    isub = add.group(sub, "integration", "configure Confluence, ServiceNow and Azure DevOps (admin)")
    sp = add(isub, "add", cmd_add, "configure a service (replaces its configuration and credential)")
    sp.add_argument("service", choices=SERVICES)
    sp.add_argument("--url", required=True, help="Confluence base URL, ServiceNow instance URL or Azure DevOps "
                                                 "organization URL")
    sp.add_argument("--user", help="Confluence Cloud e-mail (with an API token) or ServiceNow user")
    sp.add_argument("--token-env", metavar="VAR", help="environment variable holding the API token or PAT")
    sp.add_argument("--password-env", metavar="VAR", help="environment variable holding the password (ServiceNow)")
    sp.add_argument("--project", help="Azure DevOps project")
    sp.add_argument("--space", help="default Confluence space key")
    sp.add_argument("--oauth", action="store_true", help="sign in with OAuth2 (Confluence Cloud, Azure DevOps); "
                                                         "then run tftsr integration login SERVICE")
    sp.add_argument("--auth-url", help="OAuth authorization endpoint (default: the service's real one)")
    sp.add_argument("--token-url", help="OAuth token endpoint (default: the service's real one)")
    sp.add_argument("--client-id", help="OAuth client (application) id")
    sp.add_argument("--client-secret-env", metavar="VAR", help="environment variable holding the OAuth client secret")
    sp.add_argument("--scope", help="OAuth scopes (default: the service's read/write scopes)")
    add(isub, "list", cmd_list, "list the configured services (never a secret)")
    for name, func, help_ in (("test", cmd_test, "call the service with the stored credential"),
                              ("remove", cmd_remove, "remove a service's configuration and credential")):
        sp = add(isub, name, func, help_)
        sp.add_argument("service", choices=SERVICES)
    sp = add(isub, "login", cmd_login, "OAuth2 sign-in: prints the authorization URL and waits for the callback "
                                       "on http://127.0.0.1:PORT/oauth/callback")
    sp.add_argument("service", choices=["confluence", "azuredevops"])
    sp.add_argument("--no-browser", action="store_true", help="print the URL only; do not open a browser")
    sp.add_argument("--port", type=int, default=8765, help="loopback port of the callback (default 8765; it must "
                                                           "match the redirect URI registered for the client)")
    sp.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the callback (default 300)")

    csub = add.group(sub, "confluence", "publish documents to Confluence and search it")
    add(csub, "spaces", cmd_spaces, "list the Confluence spaces you can see")
    sp = add(csub, "search", cmd_csearch, "search pages (CQL text search; the query passes the egress guard)")
    sp.add_argument("query")
    sp.add_argument("--space", help="only this space")
    sp = add(csub, "publish", cmd_publish, "publish a document as a new page (redacted; storage format)")
    sp.add_argument("doc_id")
    sp.add_argument("--space", help="space key (default: the configured space)")
    sp.add_argument("--parent", help="parent page id")
    sp.add_argument("--preview", action="store_true", help="print exactly what would be sent, and send nothing")
    _unredacted_arg(sp)
    sp = add(csub, "update", cmd_update, "write the document's current text over its published page")
    sp.add_argument("doc_id")
    sp.add_argument("--page", help="the page id, when the document was published more than once")
    sp.add_argument("--version", type=int, help="the page's current version in Confluence (default: the one "
                                                "this workbench last wrote; a newer one there is a conflict)")
    _unredacted_arg(sp)

    ssub = add.group(sub, "servicenow", "open and follow ServiceNow incidents")
    sp = add(ssub, "search", cmd_sn_search, "incidents whose short description contains the text (up to 10)")
    sp.add_argument("query")
    sp = add(ssub, "create", cmd_sn_create, "open an incident from an issue (severity -> urgency/impact) and link it")
    sp.add_argument("issue_id")
    _unredacted_arg(sp)
    sp = add(ssub, "get", cmd_sn_get, "show an incident by sys_id or number (INC0010001)")
    sp.add_argument("id")
    sp = add(ssub, "update", cmd_sn_update, "change fields of an incident")
    sp.add_argument("sys_id")
    sp.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a field to set (repeatable)")
    _unredacted_arg(sp)

    asub = add.group(sub, "azuredevops", "create and follow Azure DevOps work items")
    sp = add(asub, "search", cmd_ado_search, "work items by WIQL (SELECT ...) or by text in the title")
    sp.add_argument("query")
    sp = add(asub, "create", cmd_ado_create, "create a work item from an issue and link it")
    sp.add_argument("issue_id")
    sp.add_argument("--type", default="Bug", help="Bug (default), Task, User Story, Issue or Incident")
    _unredacted_arg(sp)
    sp = add(asub, "get", cmd_ado_get, "show a work item")
    sp.add_argument("id")
    sp = add(asub, "update", cmd_ado_update, "change fields of a work item (JSON Patch)")
    sp.add_argument("id")
    sp.add_argument("--set", action="append", metavar="FIELD=VALUE", help="e.g. System.State=Active (repeatable)")
    _unredacted_arg(sp)


__all__ = ["register"]
