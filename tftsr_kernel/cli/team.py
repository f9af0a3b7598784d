"""``tftsr user ...``, ``tftsr apikey ...`` and ``tftsr hub``: the team's users, roles, API keys
and JupyterHub.

Passwords never come from an argument: from a prompt when there is a terminal (asked twice),
else from ``TFTSR_PASSWORD``. An API key is printed once, when it is created.
"""

from __future__ import annotations

import os
import sys

from ._common import Output, UsageError, _records, _table, _wb

ROLE_CHOICES = ("admin", "analyst", "viewer")


def read_password(prompt: str, *, confirm: bool) -> str:
    """``TFTSR_PASSWORD``, else a terminal prompt (twice with ``confirm``); never an argument."""
    env = os.environ.get("TFTSR_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: set TFTSR_PASSWORD")
    import getpass

    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def _user_row(u) -> dict:
    d = u.to_dict()
    d["state"] = "enabled" if u.enabled else "disabled"
    return d


def cmd_user_add(args):
    wb = _wb(args)
    password = None if args.no_password else read_password(f"password for {args.name}: ", confirm=True)
    u = wb.team.create_user(args.name, args.role, email=args.email, password=password,
                            display_name=args.display_name, os_user=args.os_user)
    note = "" if u.has_password else " (no password: signs in with an API key or through JupyterHub only)"
    return Output(u.to_dict(), f"added {u.role} {u.username} ({u.id}){note}")


def cmd_user_list(args):
    rows = [_user_row(u) for u in _wb(args).team.list_users()]
    return Output(rows, _table(rows, ["username", "role", "state", "email", "os_user", "last_login_at"]))


def cmd_user_show(args):
    u = _wb(args).team.get_user(args.name)
    d = _user_row(u)
    return Output(u.to_dict(), "\n".join(f"{k:14} {'-' if v is None else v}" for k, v in d.items()))


def cmd_user_disable(args):
    u = _wb(args).team.disable_user(args.name)
    return Output(u.to_dict(), f"disabled {u.username}: its sessions are revoked and its API keys stop working")


def cmd_user_enable(args):
    u = _wb(args).team.enable_user(args.name)
    return Output(u.to_dict(), f"enabled {u.username}")


def cmd_user_role(args):
    u = _wb(args).team.set_role(args.name, args.role)
    return Output(u.to_dict(), f"{u.username} is now {u.role}")


def cmd_user_passwd(args):
    wb = _wb(args)
    wb.team.get_user(args.name)  # refuse (or say "no user") before asking for a password
    password = read_password(f"new password for {args.name}: ", confirm=True)
    u = wb.team.set_password(args.name, password)
    return Output(u.to_dict(), f"password of {u.username} changed; its sessions were signed out")


def cmd_user_revoke_sessions(args):
    n = _wb(args).team.revoke_sessions(args.name)
    return Output({"user": args.name, "revoked": n}, f"revoked {n} session(s) of {args.name}")


def cmd_apikey_create(args):
    k = _wb(args).team.create_api_key(args.name, args.scope, expires=args.expires, user=args.user)
    data = {"id": k.id, "name": k.name, "prefix": k.prefix, "key": k.key, "scopes": k.scopes,
            "expires_at": k.expires_at}
    text = (f"API key {k.name} ({k.id}) for {k.user}, scopes {', '.join(k.scopes)}, "
            f"expires {k.expires_at or 'never'} UTC\n\n{k.key}\n\n"
            "This is the only time the key is shown; only its SHA-256 is stored. "
            "Send it as: Authorization: Bearer <key>")
    return Output(data, text)


def cmd_apikey_list(args):
    keys = _wb(args).team.list_api_keys(args.user, all_users=args.all)
    rows = _records(keys)
    for r in rows:
        r["scopes"] = ",".join(r["scopes"])
    return Output(_records(keys), _table(rows, ["id", "name", "username", "prefix", "scopes", "state",
                                                 "expires_at", "last_used_at"]))


def cmd_apikey_revoke(args):
    k = _wb(args).team.revoke_api_key(args.id)
    return Output(k.to_dict(), f"revoked API key {k.name} ({k.prefix}) of {k.username}")


def cmd_hub(args):
    """Write the JupyterHub config and (unless --write-config) run JupyterHub on it."""
    from ..errors import ConflictError, TftsrError

    wb = _wb(args)
    if wb.team.single_user:
        raise ConflictError("JupyterHub signs in project users, and there are none yet: "
                            "tftsr user add NAME --role admin")
    try:
        from ..team import hub
    except ImportError:
        raise TftsrError("JupyterHub is not installed: pip install 'tftsr-workbench[hub]' "
                         "(the README's set-up, .ci/workbench, installs it)") from None
    path = hub.write_config(wb.data_dir, ip=args.ip, port=args.port, hub_port=args.hub_port,
                            proxy_api_port=args.proxy_api_port)
    url = f"http://{args.ip}:{args.port}/hub/login"
    data = {"config": str(path), "url": url, "data_dir": str(wb.data_dir)}
    if args.write_config:
        return Output(data, f"wrote {path}\nstart it with: jupyterhub -f {path}")
    if hub.chp_command() is None:
        raise TftsrError("configurable-http-proxy is not installed: npm install -g configurable-http-proxy "
                         "(the README's set-up installs it under .venv/node)")
    import os

    exe = os.path.join(os.path.dirname(sys.executable), "jupyterhub")
    if not os.path.exists(exe):
        raise TftsrError(f"{exe} is missing: pip install 'tftsr-workbench[hub]'")
    print(f"TFTSR hub on {url} (config {path})", file=sys.stderr, flush=True)
    env = dict(os.environ, TFTSR_DATA_DIR=str(wb.data_dir))
    os.chdir(path.parent)
    wb.close()
    os.execve(exe, [exe, "-f", str(path)], env)


def cmd_api(args):
    """Serve the HTTP API (/api/v1: issues, Alertmanager intake) until interrupted."""
    import asyncio

    from tornado.httpserver import HTTPServer

    from ..team.api import MAX_BODY, make_app

    from ..errors import TftsrError

    wb = _wb(args)

    async def serve():
        server = HTTPServer(make_app(wb), max_body_size=MAX_BODY + 1024, xheaders=args.behind_proxy)
        try:
            server.listen(args.port, args.host)
        except OSError as exc:
            raise TftsrError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        print(f"TFTSR HTTP API on http://{args.host}:{args.port}/api/v1/ (every request needs "
              "Authorization: Bearer <key>; put TLS in front beyond loopback)", file=sys.stderr, flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return Output({"stopped": True}, "stopped")


def register(sub, add):
    usub = add.group(sub, "user", "the team's users and roles (admin, analyst, viewer)")
    sp = add(usub, "add", cmd_user_add, "add a user (password from a prompt or TFTSR_PASSWORD); the first must be admin")
    sp.add_argument("name")
    sp.add_argument("--role", required=True, choices=ROLE_CHOICES)
    sp.add_argument("--email")
    sp.add_argument("--display-name")
    sp.add_argument("--os-user", help="the OS login that acts as this user (default: the same name)")
    sp.add_argument("--no-password", action="store_true",
                    help="no password sign-in (API keys or JupyterHub only)")
    add(usub, "list", cmd_user_list, "list users with their role and state")
    for name, func, help_ in (("show", cmd_user_show, "show one user"),
                              ("disable", cmd_user_disable, "disable a user (sessions revoked, keys stop working)"),
                              ("enable", cmd_user_enable, "enable a disabled user"),
                              ("passwd", cmd_user_passwd, "set a user's password (prompt or TFTSR_PASSWORD)"),
                              ("revoke-sessions", cmd_user_revoke_sessions, "sign a user out everywhere")):
        add(usub, name, func, help_).add_argument("name")
    sp = add(usub, "role", cmd_user_role, "change a user's role")
    sp.add_argument("name")
    sp.add_argument("role", choices=ROLE_CHOICES)

    ksub = add.group(sub, "apikey", "API keys for the HTTP API and automation (shown once, stored hashed)")
    sp = add(ksub, "create", cmd_apikey_create, "create a key and print it once")
    sp.add_argument("name")
    sp.add_argument("--scope", required=True,
                    help="comma-separated: issues:read, issues:write, alerts:write, logs:write, logs:original, "
                         "audit:read, admin")
    sp.add_argument("--expires", default=None, help="e.g. 90d, 12h, 30m (default: never)")
    sp.add_argument("--user", help="the key's owner (default: you; another user needs the admin role)")
    sp = add(ksub, "list", cmd_apikey_list, "list keys (yours; --user U or --all with the admin role)")
    sp.add_argument("--user")
    sp.add_argument("--all", action="store_true")
    sp = add(ksub, "revoke", cmd_apikey_revoke, "revoke a key by id or prefix (tftsr_xxxxxxxx)")
    sp.add_argument("id")

    sp = add(sub, "api", cmd_api, "serve the HTTP API alone (/api/v1: issues, Alertmanager intake); "
                                   "every request needs an API key")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8867)
    sp.add_argument("--behind-proxy", action="store_true",
                    help="trust X-Forwarded-For / X-Real-Ip from a reverse proxy for client addresses")

    sp = add(sub, "hub", cmd_hub, "serve the team through JupyterHub: project users sign in, each gets a "
                                   "dashboard and JupyterLab acting as themselves")
    sp.add_argument("--ip", default="127.0.0.1", help="address the hub listens on (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--hub-port", type=int, help="the hub's own API on loopback (default: port + 1)")
    sp.add_argument("--proxy-api-port", type=int, help="the proxy's API on loopback (default: port + 2)")
    sp.add_argument("--write-config", action="store_true", help="only write <data_dir>/hub/jupyterhub_config.py")
