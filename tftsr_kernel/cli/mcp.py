"""``tftsr mcp ...``: MCP servers (register, sign in, discover, enable/disable, remove), their tools,
and a direct tool call through the same approval and egress guard as chat."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import ValidationError
from ._common import Output, UsageError, _records, _table, _wb, loopback_sign_in


def terminal_approver(allow_prompt: bool | None = None):
    """Ask each ``ask`` call on the terminal; without one, deny (never wait for nobody)."""
    interactive = sys.stdin.isatty() and sys.stderr.isatty() if allow_prompt is None else allow_prompt

    def approve(req):
        if not interactive:
            sys.stderr.write(f"tool call {req.summary} denied: no terminal to ask "
                             "(approve it with --allow-tool SERVER.TOOL)\n")
            return "deny"
        sys.stderr.write(f"\nThe model wants to call {req.summary}\n"
                         "  [o] allow once  [s] allow for this session  [d] deny: ")
        sys.stderr.flush()
        answer = (sys.stdin.readline() or "").strip().lower()
        return {"o": "allow_once", "once": "allow_once", "s": "allow_session", "session": "allow_session"}.get(
            answer, "deny")

    return approve


def cmd_add(args):
    if bool(args.stdio) == bool(args.http):
        raise UsageError("give exactly one of --stdio CMD [ARGS...] or --http URL")
    value = None
    oauth = {}
    if args.auth == "oauth2":
        if args.auth_env:
            raise UsageError("--auth oauth2 signs in with tftsr mcp login NAME; it takes no --auth-env "
                             "(a confidential client's secret: --client-secret-env VAR)")
        oauth = {"oauth_client_id": args.client_id, "oauth_scope": args.scope}
        if args.client_secret_env:
            oauth["oauth_client_secret"] = os.environ.get(args.client_secret_env)
            if not oauth["oauth_client_secret"]:
                raise ValidationError(f"environment variable {args.client_secret_env} is not set or empty")
    elif args.client_id or args.client_secret_env or args.scope:
        raise UsageError("--client-id, --client-secret-env and --scope go with --auth oauth2")
    elif args.auth != "none":
        if not args.auth_env:
            raise UsageError(f"--auth {args.auth} needs --auth-env VAR (the variable holding the secret)")
        value = os.environ.get(args.auth_env)
        if not value:
            raise ValidationError(f"environment variable {args.auth_env} is not set or empty")
    secret_env = {}
    for name in args.secret_env or ():
        if not os.environ.get(name):
            raise ValidationError(f"environment variable {name} is not set or empty")
        secret_env[name] = os.environ[name]
    headers = {}
    for h in args.header or ():
        k, sep, v = h.partition(":")
        if not sep:
            raise UsageError(f"--header {h!r}: use NAME:VALUE")
        headers[k.strip()] = v.strip()
    env = {}
    for e in args.env or ():
        k, sep, v = e.partition("=")
        if not sep:
            raise UsageError(f"--env {e!r}: use NAME=VALUE")
        env[k] = v
    wb = _wb(args)
    if args.stdio:
        server = wb.mcp.create_mcp_server(args.name, "stdio", command=args.stdio[0], args=args.stdio[1:], env=env,
                                          secret_env=secret_env or None, trusted=args.trusted)
    else:
        server = wb.mcp.create_mcp_server(args.name, "http", url=args.http, headers=headers, auth_type=args.auth,
                                          auth_value=value, api_key_header=args.api_key_header, trusted=args.trusted,
                                          **oauth)
    nxt = f"tftsr mcp login {server.name}" if server.auth_type == "oauth2" else f"tftsr mcp discover {server.name}"
    return Output(server.to_dict(), f"added MCP server {server.name} ({server.transport_type}"
                                    f"{', trusted' if server.trusted else ''}); next: {nxt}")


def cmd_list(args):
    rows = _records(_wb(args).mcp.list_mcp_servers())
    return Output(rows, _table(rows, ["name", "transport_type", "url", "auth_type", "enabled", "trusted",
                                      "discovery_status"]))


def cmd_show(args):
    wb = _wb(args)
    server = wb.mcp.get_mcp_server(args.name)
    status = wb.mcp.get_mcp_server_status(args.name)
    data = {**server.to_dict(), "status": status.to_dict()}
    lines = [f"{k}: {v}" for k, v in server.to_dict().items() if k != "auth_value"]
    lines.append(f"tools: {status.tool_count}, resources: {status.resource_count}, prompts: {status.prompt_count}")
    return Output(data, "\n".join(lines))


def cmd_discover(args):
    status = _wb(args).mcp.discover_mcp_server(args.name)
    text = (f"{args.name}: {status.status}, {status.tool_count} tool(s), {status.resource_count} resource(s)"
            + (f" — {status.error}" if status.error else ""))
    if status.status != "connected" and not args.json:
        from ..mcp.errors import McpError

        raise McpError(text)
    return Output(status.to_dict(), text)


def cmd_login(args):
    """Sign in to an oauth2 server: the authorization URL is printed (and opened), the browser
    comes back to a loopback listener, the code is exchanged and the tokens stored encrypted."""
    wb = _wb(args)
    server = wb.mcp.get_mcp_server(args.name)
    loopback_sign_in(lambda redirect: wb.mcp.begin_login(args.name, redirect),
                     lambda state, code, error: wb.mcp.complete_login(state, code, error=error),
                     port=args.port, timeout=args.timeout, no_browser=args.no_browser,
                     command=f"tftsr mcp login {server.name}", what=f"MCP server {server.name}",
                     done=f"MCP server {server.name} is signed in to TFTSR Workbench.")
    server = wb.mcp.get_mcp_server(args.name)
    return Output(server.to_dict(), f"signed in to MCP server {server.name} (token expires "
                                    f"{(server.oauth or {}).get('expires_at')} UTC, refreshed automatically); "
                                    f"next: tftsr mcp discover {server.name}")


def cmd_toggle(args):
    server = _wb(args).mcp.toggle_mcp_server(args.name, args.enable)
    return Output(server.to_dict(), f"{server.name} is {'enabled' if server.enabled else 'disabled'}")


def cmd_remove(args):
    _wb(args).mcp.delete_mcp_server(args.name)
    return Output({"removed": args.name}, f"removed MCP server {args.name} with its tools")


def cmd_tools(args):
    wb = _wb(args)
    if args.set_approval:
        if not args.name or not args.tool:
            raise UsageError("--set-approval needs NAME and --tool TOOL")
        wb.mcp.set_tool_approval(args.name, args.tool, args.set_approval)
    rows = _records(wb.mcp.list_mcp_tools(args.name))
    for r in rows:
        r.pop("parameters", None) if not args.json else None
    return Output(rows, _table(rows, ["server", "name", "approval", "tool_key", "description"]))


def cmd_call(args):
    try:
        arguments = json.loads(args.args or "{}")
    except ValueError as exc:
        raise UsageError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object")
    res = _wb(args).mcp.call_tool(args.name, args.tool, arguments, issue_id=args.issue,
                                  approver=terminal_approver(), allow=args.allow_tool or ())
    if res.status == "denied":
        from ..mcp.errors import McpError

        raise McpError(f"the call was not run ({res.decision}); approve it on a terminal or with "
                       f"--allow-tool {args.name}.{args.tool}")
    return Output(res.to_dict(), res.content)


def register(sub, add):
    grp = add.group(sub, "mcp", "MCP servers and their tools (auth values stored encrypted)")
    sp = add(grp, "add", cmd_add, "register an MCP server: --stdio CMD [ARGS...] (last) or --http URL")
    sp.add_argument("name")
    sp.add_argument("--http", metavar="URL", help="a Streamable HTTP server")
    sp.add_argument("--auth", choices=["none", "bearer", "api_key", "oauth2"], default="none",
                    help="HTTP auth (oauth2: sign in afterwards with tftsr mcp login NAME)")
    sp.add_argument("--auth-env", metavar="VAR", help="read the token or key from this environment variable")
    sp.add_argument("--api-key-header", metavar="NAME", help="--auth api_key: the header (default X-API-Key)")
    sp.add_argument("--client-id", metavar="ID",
                    help="--auth oauth2: a client id registered at the authorization server (else the client "
                         "registers itself when the server offers dynamic registration)")
    sp.add_argument("--client-secret-env", metavar="VAR",
                    help="--auth oauth2: a confidential client's secret, read from this variable, stored encrypted")
    sp.add_argument("--scope", help="--auth oauth2: the scope to ask for (default: what the server asks for)")
    sp.add_argument("--header", action="append", metavar="NAME:VALUE", help="a custom HTTP header")
    sp.add_argument("--env", action="append", metavar="NAME=VALUE", help="stdio: an environment variable")
    sp.add_argument("--secret-env", action="append", metavar="VAR",
                    help="stdio: pass this variable from the environment, stored encrypted")
    sp.add_argument("--trusted", action="store_true",
                    help="send tool arguments with the original values (placeholders restored): local tools only")
    sp.add_argument("--stdio", nargs=argparse.REMAINDER, metavar="CMD",
                    help="a program speaking MCP on stdin/stdout, then its arguments (put this option last)")
    add(grp, "list", cmd_list, "list MCP servers (auth values are never shown)")
    for name, func, help_ in (("show", cmd_show, "show one server and its discovery status"),
                              ("discover", cmd_discover, "connect, list tools/resources/prompts and store them"),
                              ("remove", cmd_remove, "remove a server with its tools")):
        sp = add(grp, name, func, help_)
        sp.add_argument("name")
    sp = add(grp, "login", cmd_login, "sign in to an oauth2 server (browser, PKCE; the token is stored encrypted)")
    sp.add_argument("name")
    sp.add_argument("--port", type=int, default=0,
                    help="loopback port for the callback (default: any free one; a pre-registered client id "
                         "needs the port its redirect URI names)")
    sp.add_argument("--timeout", type=float, default=300, help="seconds to wait for the browser (default 300)")
    sp.add_argument("--no-browser", action="store_true", help="only print the URL")
    sp = add(grp, "enable", cmd_toggle, "offer a server's tools to chat again")
    sp.add_argument("name")
    sp.set_defaults(enable=True)
    sp = add(grp, "disable", cmd_toggle, "stop offering a server's tools to chat")
    sp.add_argument("name")
    sp.set_defaults(enable=False)
    sp = add(grp, "tools", cmd_tools, "list discovered tools (of one server) and their approval policy")
    sp.add_argument("name", nargs="?")
    sp.add_argument("--tool", help="with --set-approval: the tool")
    sp.add_argument("--set-approval", choices=["auto", "ask", "deny"], help="set the tool's approval policy")
    sp = add(grp, "call", cmd_call, "call a tool directly (through its approval and the egress guard)")
    sp.add_argument("name")
    sp.add_argument("tool")
    sp.add_argument("--args", metavar="JSON", default="{}", help="the arguments, a JSON object")
    sp.add_argument("--issue", metavar="ISSUE_ID", help="the issue whose placeholders apply")
    sp.add_argument("--allow-tool", action="append", metavar="SERVER.TOOL", help="approve this call")
