"""``wb.mcp``: MCP server configurations, discovery, and tool calls through approval and the guard.

(Past 600 lines because configuration, discovery, resource reads and tool calls share one
connection cache and its retry rules (``_connection``/``_using``); the OAuth2 sign-in is the
mixin in ``_signin.py``, the discovery of authorization servers ``oauth.py``.)

Servers (``mcp_servers``): stdio (an absolute or PATH-resolved executable, stored resolved;
loader variables refused; secret environment values AES-256-GCM encrypted in ``env_config``) or
Streamable HTTP (custom headers; ``bearer`` / ``api_key`` auth encrypted in ``auth_value``, or
``oauth2``: :meth:`McpService.begin_login` / :meth:`McpService.complete_login` sign in with PKCE
and a single-use state (:mod:`.oauth` finds the authorization server, the integrations'
``OAuthFlow`` does the protocol); the tokens, a registered client and a configured client secret
are one JSON object encrypted in ``auth_value``; the access token is sent as a bearer on every
request and refreshed before it expires, or after the server refuses it).
No result ever carries a secret. Discovery stores the full JSON Schema of each tool.

Tool calls (:meth:`McpService.call_tool`, and chat through :class:`McpToolSource`): the policy
(``auto | ask | deny``) is applied, the arguments reach the server with placeholders restored only
when the server is marked trusted (untrusted servers get what the model sent, cleared by the
egress guard), the result passes ``wb.pii.guard_outbound`` before anything else sees it, and the
call is audited (``mcp_tool_call``: tool, server, SHA-256 of arguments and result; the acting
user is the audit row's user).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import threading
from typing import Any, Sequence

from .._util import sha256_hex, utc_now, uuid7
from ..errors import ConflictError, NotFoundError, ValidationError
from . import _runtime
from .errors import McpAuthError, McpConnectionError, McpError
from ._signin import McpSignIn
from .models import McpCallResult, McpResource, McpResourceContent, McpServer, McpServerStatus, McpTool

TRANSPORTS = ("stdio", "http")
AUTH_TYPES = ("none", "api_key", "bearer", "oauth2")
#: environment variables that change what a program loads: refused for stdio servers
LOADER_VARIABLES = ("LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
                    "PYTHONUSERBASE", "RUBYLIB", "RUBYOPT", "NODE_PATH", "NODE_OPTIONS", "PERL5LIB", "PERL5OPT",
                    "PERLLIB", "BASH_ENV", "ENV", "JAVA_TOOL_OPTIONS", "GCONV_PATH")
_RESERVED_HEADERS = {"accept", "content-type", "content-length", "host", "mcp-session-id", "last-event-id",
                     "mcp-protocol-version", "authorization"}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_COLS = ("id, name, url, transport_type, transport_config, auth_type, auth_value, env_config, enabled, trusted,"
         " last_discovered_at, discovery_status, discovery_error, created_at, updated_at")
_EDITABLE = ("name", "url", "command", "args", "env", "secret_env", "headers", "auth_type", "auth_value",
             "enabled", "trusted", "api_key_header", "oauth_client_id", "oauth_client_secret", "oauth_scope")
#: seconds ``tftsr mcp login`` waits for the browser to come back
LOGIN_TIMEOUT_S = 300
#: seconds reading one resource may take, and the characters of it kept at most
RESOURCE_TIMEOUT_S = 20.0
RESOURCE_MAX_CHARS = 200_000


def sanitize(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "_", (text or "").lower()).strip("_")
    return out or "x"


def tool_key(server: str, tool: str) -> str:
    """``mcp_{server}_{tool}``, at most 64 characters (the providers' limit for function names)."""
    key = f"mcp_{sanitize(server)}_{sanitize(tool)}"
    return key if len(key) <= 64 else key[:55] + "_" + sha256_hex(key)[:8]


def default_policy(annotations: dict) -> str:
    """``auto`` for tools their server marks read-only, else ``ask``."""
    return "auto" if (annotations or {}).get("readOnlyHint") is True else "ask"


def _check_env(env: dict | None, what: str) -> dict[str, str]:
    env = dict(env or {})
    for k, v in env.items():
        if not isinstance(k, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            raise ValidationError(f"{what}: {k!r} is not a valid environment variable name")
        if k.upper() in LOADER_VARIABLES or k.upper().startswith("DYLD_"):
            raise ValidationError(f"{what}: {k} changes what the server program loads and is refused; "
                                  "install the server so it runs without it")
        if not isinstance(v, str) or "\x00" in v:
            raise ValidationError(f"{what}: the value of {k} must be text")
    return env


def _resolve_command(command: str) -> str:
    command = (command or "").strip()
    if not command:
        raise ValidationError("a stdio MCP server needs a command (an absolute path or a program on PATH)")
    if "\x00" in command:
        raise ValidationError("the command contains a NUL character")
    if os.path.isabs(command):
        path = command
    elif os.sep in command:
        raise ValidationError(f"the command {command!r} must be an absolute path or a program name on PATH")
    else:
        found = shutil.which(command)
        if found is None:
            raise ValidationError(f"the program {command!r} is not on PATH; give its absolute path")
        path = os.path.abspath(found)
    try:
        st = os.stat(path)
    except OSError:
        raise ValidationError(f"the command {path} does not exist") from None
    if not stat.S_ISREG(st.st_mode) or not os.access(path, os.X_OK):
        raise ValidationError(f"the command {path} is not an executable file")
    return path


def _check_headers(headers: dict | None) -> dict[str, str]:
    headers = dict(headers or {})
    for k, v in headers.items():
        if not isinstance(k, str) or not _HEADER_NAME.match(k):
            raise ValidationError(f"{k!r} is not a valid HTTP header name")
        if k.lower() in _RESERVED_HEADERS:
            raise ValidationError(f"the header {k} is set by the MCP client itself (use --auth for credentials)")
        if not isinstance(v, str) or any(c in v for c in "\r\n\x00"):
            raise ValidationError(f"the value of header {k} must be one line of text")
    return headers


def _check_url(url: str) -> str:
    import httpx

    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("an HTTP MCP server needs a URL starting with http:// or https://")
    try:
        httpx.URL(url)
    except Exception:
        raise ValidationError(f"{url!r} is not a valid URL") from None
    return url


class McpService(McpSignIn):
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._live: dict[str, _runtime.Connection] = {}
        self._lock = threading.RLock()

    # -- configuration ---------------------------------------------------------------------------------
    def _row(self, ref: str):
        row = self._db.query_one(f"SELECT {_COLS} FROM mcp_servers WHERE id = ? OR name = ?", (ref, ref))
        if row is None:
            raise NotFoundError(f"no MCP server named {ref!r}; see: tftsr mcp list")
        return row

    def _server(self, row) -> McpServer:
        names = []
        if row["env_config"]:
            names = sorted(json.loads(self._wb.secrets.decrypt(row["env_config"], "mcp_env")))
        oauth, has_auth = None, row["auth_value"] is not None
        if row["auth_type"] == "oauth2":
            blob = self._oauth_blob(row)
            cfg = json.loads(row["transport_config"] or "{}").get("oauth") or {}
            has_auth = bool(blob.get("access_token"))
            oauth = {"client_id": cfg.get("client_id") or blob.get("client_id"),
                     "client_registered": bool(blob.get("registered")), "scope": cfg.get("scope") or blob.get("scope"),
                     "has_client_secret": bool(blob.get("client_secret")), "issuer": blob.get("issuer"),
                     "signed_in": has_auth, "expires_at": blob.get("expires_at") if has_auth else None}
        return McpServer(row["id"], row["name"], row["url"], row["transport_type"], row["transport_config"],
                         row["auth_type"], None, bool(row["enabled"]), bool(row["trusted"]),
                         row["last_discovered_at"], row["discovery_status"], row["discovery_error"],
                         row["created_at"], row["updated_at"], has_auth, names, oauth)

    def list_mcp_servers(self) -> list[McpServer]:
        """Every server (auth values are never returned)."""
        return [self._server(r) for r in self._db.query(f"SELECT {_COLS} FROM mcp_servers ORDER BY name")]

    def get_mcp_server(self, ref: str) -> McpServer:
        return self._server(self._row(ref))

    def _validated(self, name, transport_type, url, command, args, env, secret_env, headers, auth_type,
                   auth_value, api_key_header, oauth_client_id=None, oauth_scope=None):
        name = (name or "").strip()
        if not name or len(name) > 100 or any(c in name for c in "\r\n\x00"):
            raise ValidationError("an MCP server needs a name of one line (at most 100 characters)")
        if transport_type not in TRANSPORTS:
            raise ValidationError(f"transport must be one of {', '.join(TRANSPORTS)}")
        if auth_type not in AUTH_TYPES:
            raise ValidationError(f"auth must be one of {', '.join(AUTH_TYPES)}")
        if auth_type != "none" and transport_type == "stdio":
            raise ValidationError("auth applies to HTTP servers; give a stdio server its secrets with secret env")
        if auth_type not in ("none", "oauth2") and not auth_value:
            raise ValidationError(f"auth {auth_type} needs a value (e.g. --auth-env VAR)")
        config: dict[str, Any]
        if transport_type == "stdio":
            path = _resolve_command(command)
            if any(not isinstance(a, str) or "\x00" in a for a in args or ()):
                raise ValidationError("every argument must be text without NUL characters")
            config = {"command": path, "args": list(args or ()), "env": _check_env(env, "env")}
            _check_env(secret_env, "secret env")
            url = path
        else:
            url = _check_url(url)
            config = {"headers": _check_headers(headers)}
            if auth_type == "api_key":
                hdr = api_key_header or "X-API-Key"
                if not _HEADER_NAME.match(hdr):
                    raise ValidationError(f"{hdr!r} is not a valid HTTP header name")
                config["api_key_header"] = hdr
            if auth_type == "oauth2":
                for what, v in (("client id", oauth_client_id), ("scope", oauth_scope)):
                    if v is not None and (not isinstance(v, str) or len(v) > 500 or any(c in v for c in "\r\n\x00")):
                        raise ValidationError(f"the OAuth {what} must be one line of text")
                config["oauth"] = {"client_id": (oauth_client_id or "").strip() or None,
                                   "scope": (oauth_scope or "").strip() or None}
        return name, url, config

    def create_mcp_server(self, name: str, transport_type: str, *, url: str | None = None,
                          command: str | None = None, args: Sequence[str] = (), env: dict | None = None,
                          secret_env: dict | None = None, headers: dict | None = None, auth_type: str = "none",
                          auth_value: str | None = None, api_key_header: str | None = None,
                          enabled: bool = True, trusted: bool = False, oauth_client_id: str | None = None,
                          oauth_client_secret: str | None = None, oauth_scope: str | None = None) -> McpServer:
        """Register a server (secrets encrypted). Status is ``pending`` until discovery.

        ``auth_type="oauth2"``: sign in with :meth:`begin_login` (``tftsr mcp login NAME``);
        ``oauth_client_id`` (and a confidential client's ``oauth_client_secret``) when the
        authorization server has no dynamic client registration; ``oauth_scope`` overrides the
        scope the server asks for."""
        if auth_type == "oauth2" and auth_value:
            raise ValidationError("auth oauth2 takes no token: add the server, then sign in with tftsr mcp login NAME")
        name, url, config = self._validated(name, transport_type, url, command, args, env, secret_env, headers,
                                            auth_type, auth_value, api_key_header, oauth_client_id, oauth_scope)
        if auth_type == "oauth2":
            auth_value = json.dumps({"type": "oauth2", "client_secret": oauth_client_secret}) \
                if oauth_client_secret else None
        sid, now = uuid7(), utc_now()
        box = self._wb.secrets
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM mcp_servers WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"an MCP server named {name!r} exists; remove it first or choose another name")
            conn.execute(
                "INSERT INTO mcp_servers(id, name, url, transport_type, transport_config, auth_type, auth_value,"
                " env_config, enabled, trusted, discovery_status, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
                (sid, name, url, transport_type, json.dumps(config), auth_type,
                 box.encrypt(auth_value, "mcp_auth") if auth_type != "none" and auth_value else None,
                 box.encrypt(json.dumps(secret_env), "mcp_env") if secret_env else None,
                 int(bool(enabled)), int(bool(trusted)), now, now))
            self._wb.audit.write_audit_event("create_mcp_server", "mcp_server", sid, {
                "name": name, "transport_type": transport_type, "auth_type": auth_type, "trusted": bool(trusted),
                "secret_env_names": sorted(secret_env or {})})
        return self.get_mcp_server(sid)

    def update_mcp_server(self, ref: str, **fields) -> McpServer:
        """Partial update: only the given fields change; a new auth value or secret env replaces the
        encrypted one. A change of how to reach the server closes its live connection."""
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))}")
        row = self._row(ref)
        config = json.loads(row["transport_config"] or "{}")
        box = self._wb.secrets
        cur_auth = box.decrypt(row["auth_value"], "mcp_auth") if row["auth_value"] else None
        cur_env = json.loads(box.decrypt(row["env_config"], "mcp_env")) if row["env_config"] else None
        merged = {
            "name": fields.get("name", row["name"]), "transport_type": row["transport_type"],
            "url": fields.get("url", row["url"]), "command": fields.get("command", config.get("command")),
            "args": fields.get("args", config.get("args", [])), "env": fields.get("env", config.get("env")),
            "secret_env": fields.get("secret_env", cur_env), "headers": fields.get("headers", config.get("headers")),
            "auth_type": fields.get("auth_type", row["auth_type"]), "auth_value": fields.get("auth_value", cur_auth),
            "api_key_header": fields.get("api_key_header", config.get("api_key_header")),
            "oauth_client_id": fields.get("oauth_client_id", (config.get("oauth") or {}).get("client_id")),
            "oauth_scope": fields.get("oauth_scope", (config.get("oauth") or {}).get("scope")),
        }
        if merged["auth_type"] == "none" or (row["auth_type"] == "oauth2" and merged["auth_type"] != "oauth2"
                                             and "auth_value" not in fields):
            merged["auth_value"] = None
        if merged["auth_type"] == "oauth2":
            # the stored sign-in holds while the server, the client and the scope stay the same
            blob = json.loads(cur_auth) if row["auth_type"] == "oauth2" and cur_auth else {}
            if ("url" in fields and fields["url"] != row["url"]) or row["auth_type"] != "oauth2" or \
                    merged["oauth_client_id"] != (config.get("oauth") or {}).get("client_id") or \
                    merged["oauth_scope"] != (config.get("oauth") or {}).get("scope"):
                blob = {k: blob[k] for k in ("type", "client_secret") if k in blob}
            if "oauth_client_secret" in fields:
                blob = {k: v for k, v in blob.items() if k != "client_secret"}
                if fields["oauth_client_secret"]:
                    blob["client_secret"] = fields["oauth_client_secret"]
            merged["auth_value"] = json.dumps({**blob, "type": "oauth2"}) if blob.get("client_secret") or \
                blob.get("access_token") or blob.get("client_id") else None
        name, url, new_config = self._validated(**merged)
        reach = set(fields) - {"name", "enabled", "trusted"}
        if merged["auth_type"] == "oauth2" and not (set(fields) & {"url", "headers", "auth_type", "oauth_client_id",
                                                                  "oauth_scope"}):
            reach = set()  # a new client secret changes no connection
        with self._db.write() as conn:
            if name != row["name"] and conn.execute("SELECT 1 FROM mcp_servers WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"an MCP server named {name!r} exists")
            conn.execute(
                "UPDATE mcp_servers SET name = ?, url = ?, transport_config = ?, auth_type = ?, auth_value = ?,"
                " env_config = ?, enabled = ?, trusted = ?, updated_at = ?"
                + (", discovery_status = 'pending', discovery_error = NULL" if reach else "") + " WHERE id = ?",
                (name, url, json.dumps(new_config), merged["auth_type"],
                 box.encrypt(merged["auth_value"], "mcp_auth") if merged["auth_value"] else None,
                 box.encrypt(json.dumps(merged["secret_env"]), "mcp_env") if merged["secret_env"] else None,
                 int(bool(fields.get("enabled", row["enabled"]))), int(bool(fields.get("trusted", row["trusted"]))),
                 utc_now(), row["id"]))
            self._wb.audit.write_audit_event("update_mcp_server", "mcp_server", row["id"],
                                             {"name": name, "fields": sorted(fields)})
        if reach:
            self._drop(row["id"])
        return self.get_mcp_server(row["id"])

    def delete_mcp_server(self, ref: str) -> None:
        """Remove a server with its tools, resources and prompts; its live connection is closed."""
        row = self._row(ref)
        self._drop(row["id"])
        with self._db.write() as conn:
            conn.execute("DELETE FROM mcp_servers WHERE id = ?", (row["id"],))
            self._wb.audit.write_audit_event("delete_mcp_server", "mcp_server", row["id"], {"name": row["name"]})

    def toggle_mcp_server(self, ref: str, enabled: bool) -> McpServer:
        """Disabled servers offer no tools to chat and are not discovered."""
        row = self._row(ref)
        with self._db.write() as conn:
            conn.execute("UPDATE mcp_servers SET enabled = ?, updated_at = ? WHERE id = ?",
                         (int(bool(enabled)), utc_now(), row["id"]))
            self._wb.audit.write_audit_event("toggle_mcp_server", "mcp_server", row["id"], {"enabled": bool(enabled)})
        if not enabled:
            self._drop(row["id"])
        return self.get_mcp_server(row["id"])

    def get_mcp_server_status(self, ref: str) -> McpServerStatus:
        """The stored discovery status and counts (no connection is made)."""
        row = self._row(ref)
        counts = [self._db.query_one(f"SELECT count(*) FROM {t} WHERE server_id = ?", (row["id"],))[0]
                  for t in ("mcp_tools", "mcp_resources", "mcp_prompts")]
        return McpServerStatus(row["id"], row["discovery_status"], row["discovery_error"], counts[0], counts[1],
                               row["last_discovered_at"], counts[2])

    # -- connections -----------------------------------------------------------------------------------
    def _spec(self, row) -> _runtime.ServerSpec:
        config = json.loads(row["transport_config"] or "{}")
        box = self._wb.secrets
        if row["transport_type"] == "stdio":
            env = dict(config.get("env") or {})
            if row["env_config"]:
                env.update(json.loads(box.decrypt(row["env_config"], "mcp_env")))
            _check_env(env, "env")  # a row edited outside the kernel gets the same refusal
            return _runtime.ServerSpec("stdio", row["name"], command=_resolve_command(config.get("command", "")),
                                       args=list(config.get("args") or []), env=env)
        headers = dict(config.get("headers") or {})
        if row["auth_type"] == "oauth2":
            return _runtime.ServerSpec("http", row["name"], url=row["url"], headers=headers,
                                       bearer=_runtime.BearerSlot(self._access_token(row["id"])))
        if row["auth_value"]:
            secret = box.decrypt(row["auth_value"], "mcp_auth")
            if row["auth_type"] == "bearer":
                headers["Authorization"] = f"Bearer {secret}"
            elif row["auth_type"] == "api_key":
                headers[config.get("api_key_header") or "X-API-Key"] = secret
        return _runtime.ServerSpec("http", row["name"], url=row["url"], headers=headers)

    def _drop(self, server_id: str) -> None:
        with self._lock:
            conn = self._live.pop(server_id, None)
        if conn is not None:
            conn.close()

    def _connection(self, row, *, fresh: bool = False) -> _runtime.Connection:
        with self._lock:
            conn = self._live.get(row["id"])
            if conn is not None and (fresh or conn.closed):
                self._live.pop(row["id"], None)
                conn.close()
                conn = None
            if conn is None:
                conn = _runtime.Connection(self._spec(row)).open()
                self._live[row["id"]] = conn
            elif conn.spec.bearer is not None:  # a live OAuth2 session: a token refreshed in time
                conn.spec.bearer.token = self._access_token(row["id"])
            return conn

    def _using(self, row, fn, *, fresh: bool = False, retry_broken: bool = True):
        """``fn(connection)``; a broken live session gets one fresh connection, and a refused
        OAuth2 token one refresh (then a fresh connection) before the error is the caller's."""
        refreshed = False
        while True:
            try:
                return fn(self._connection(row, fresh=fresh))
            except McpAuthError:
                if row["auth_type"] != "oauth2" or refreshed:
                    raise
                refreshed, fresh = True, True
                self._access_token(row["id"], force_refresh=True)
            except McpConnectionError:
                if not retry_broken:
                    raise
                retry_broken, fresh = False, True

    def close(self) -> None:
        """Close every live connection (the workbench does this when it closes)."""
        for sid in list(self._live):
            self._drop(sid)

    def discover_mcp_server(self, ref: str) -> McpServerStatus:
        """Connect (bounded time), list tools, resources and prompts, store them, return the status.

        A tool keeps the approval policy it was given before; a new one gets ``auto`` when its
        server marks it read-only, else ``ask``."""
        row = self._row(ref)
        if not row["enabled"]:
            raise ConflictError(f"MCP server {row['name']!r} is disabled; enable it first (tftsr mcp enable NAME)")
        try:
            found = self._using(row, _runtime.discover, fresh=True, retry_broken=False)
        except McpError as exc:
            self._drop(row["id"])
            status = "unreachable" if isinstance(exc, McpConnectionError) and exc.unreachable else "error"
            with self._db.write() as c:
                c.execute("UPDATE mcp_servers SET discovery_status = ?, discovery_error = ?, last_discovered_at = ?"
                          " WHERE id = ?", (status, str(exc), utc_now(), row["id"]))
                self._wb.audit.write_audit_event("discover_mcp_server", "mcp_server", row["id"],
                                                 {"status": status, "error": type(exc).__name__})
            return self.get_mcp_server_status(row["id"])
        self._store_discovery(row, found)
        return self.get_mcp_server_status(row["id"])

    def _store_discovery(self, row, found: dict) -> None:
        now = utc_now()
        sid = row["id"]
        with self._db.write() as c:
            kept = {r[0]: r[1] for r in c.execute("SELECT name, approval FROM mcp_tools WHERE server_id = ?", (sid,))}
            for table in ("mcp_tools", "mcp_resources", "mcp_prompts"):
                c.execute(f"DELETE FROM {table} WHERE server_id = ?", (sid,))
            audit = self._wb.audit
            for t in found["tools"]:
                ann = t.annotations.model_dump(exclude_none=True) if getattr(t, "annotations", None) else {}
                tid = uuid7()
                c.execute("INSERT INTO mcp_tools(id, server_id, name, tool_key, description, parameters, approval,"
                          " annotations, output_schema) VALUES (?,?,?,?,?,?,?,?,?)",
                          (tid, sid, t.name, tool_key(row["name"], t.name), t.description,
                           json.dumps(t.inputSchema or {"type": "object"}), kept.get(t.name, default_policy(ann)),
                           json.dumps(ann), json.dumps(t.outputSchema) if getattr(t, "outputSchema", None) else None))
                audit.write_audit_event("discover_mcp_tool", "mcp_tool", tid, {"server_id": sid, "tool": t.name})
            for r in found["resources"]:
                rid = uuid7()
                c.execute("INSERT INTO mcp_resources(id, server_id, uri, name, description, mime_type, discovered_at)"
                          " VALUES (?,?,?,?,?,?,?)", (rid, sid, str(r.uri), r.name, r.description,
                                                      getattr(r, "mimeType", None), now))
                audit.write_audit_event("discover_mcp_resource", "mcp_resource", rid, {"server_id": sid})
            for p in found["prompts"]:
                pid = uuid7()
                c.execute("INSERT INTO mcp_prompts(id, server_id, name, description, arguments) VALUES (?,?,?,?,?)",
                          (pid, sid, p.name, p.description,
                           json.dumps([a.model_dump(exclude_none=True) for a in (p.arguments or [])])))
                audit.write_audit_event("discover_mcp_prompt", "mcp_prompt", pid, {"server_id": sid})
            c.execute("UPDATE mcp_servers SET discovery_status = 'connected', discovery_error = NULL,"
                      " last_discovered_at = ? WHERE id = ?", (now, sid))
            audit.write_audit_event("discover_mcp_server", "mcp_server", sid, {
                "status": "connected", "tools": len(found["tools"]), "resources": len(found["resources"]),
                "prompts": len(found["prompts"])})

    # -- tools -----------------------------------------------------------------------------------------
    def list_mcp_tools(self, ref: str | None = None, *, usable: bool = False) -> list[McpTool]:
        """Discovered tools (of one server); ``usable``: only enabled, connected servers' tools."""
        sql = ("SELECT t.id, t.server_id, s.name AS server, t.name, t.tool_key, t.description, t.parameters,"
               " t.annotations, t.approval FROM mcp_tools t JOIN mcp_servers s ON s.id = t.server_id")
        where, params = [], []
        if ref is not None:
            where.append("s.id = ?")
            params.append(self._row(ref)["id"])
        if usable:
            where.append("s.enabled = 1 AND s.discovery_status = 'connected'")
        rows = self._db.query(sql + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.name, t.name",
                              params)
        return [McpTool(r["id"], r["server_id"], r["server"], r["name"], r["tool_key"], r["description"],
                        json.loads(r["parameters"] or "{}"), json.loads(r["annotations"] or "{}"), r["approval"])
                for r in rows]

    def list_mcp_resources(self, ref: str) -> list[McpResource]:
        sid = self._row(ref)["id"]
        return [McpResource(r["id"], r["server_id"], r["uri"], r["name"], r["description"], r["mime_type"])
                for r in self._db.query("SELECT id, server_id, uri, name, description, mime_type FROM mcp_resources"
                                        " WHERE server_id = ? ORDER BY uri", (sid,))]

    def read_mcp_resource(self, ref: str, uri: str) -> McpResourceContent:
        """Read one resource (``resources/read``, bounded time): its text contents joined, cut at
        ``RESOURCE_MAX_CHARS``; binary contents are left out and named in ``skipped``, and a
        resource with no text at all is refused. The text is the original: send it anywhere only
        through the egress guard (a chat attachment does)."""
        row = self._row(ref)
        if not row["enabled"]:
            raise ConflictError(f"MCP server {row['name']!r} is disabled; enable it first (tftsr mcp enable NAME)")
        if not isinstance(uri, str) or not uri.strip() or len(uri) > 2000 or any(c in uri for c in "\r\n\x00"):
            raise ValidationError("a resource URI is one line of text (at most 2000 characters)")
        uri = uri.strip()
        known = self._db.query_one("SELECT name, mime_type FROM mcp_resources WHERE server_id = ? AND uri = ?",
                                   (row["id"], uri))
        try:
            result = self._using(row, lambda conn: _runtime.read_resource(conn, uri, RESOURCE_TIMEOUT_S))
        except McpError as exc:
            raise type(exc)(f"could not read {uri} from MCP server {row['name']!r}: {exc}") \
                if type(exc) in (McpError, McpAuthError) else exc from None
        texts, skipped, mime = [], [], known["mime_type"] if known else None
        for part in getattr(result, "contents", None) or []:
            text = getattr(part, "text", None)
            if isinstance(text, str):
                texts.append(text.replace("\x00", ""))
                mime = mime or getattr(part, "mimeType", None)
            else:
                skipped.append(getattr(part, "mimeType", None) or "application/octet-stream")
        if not texts:
            what = f" (it holds {', '.join(sorted(set(skipped)))})" if skipped else ""
            raise ValidationError(f"the resource {uri} of MCP server {row['name']!r} has no text content{what}; "
                                  "only text resources can be attached")
        text = "\n".join(texts)
        chars = len(text)
        truncated = chars > RESOURCE_MAX_CHARS
        if truncated:
            text = text[:RESOURCE_MAX_CHARS]
        self._wb.audit.write_audit_event("read_mcp_resource", "mcp_server", row["id"], {
            "server": row["name"], "uri": uri[:300], "chars": chars, "sha256": sha256_hex(text),
            "skipped": len(skipped)})
        return McpResourceContent(row["id"], row["name"], uri, known["name"] if known else None, mime, text, chars,
                                  truncated, skipped)

    def set_tool_approval(self, ref: str, tool: str, policy: str) -> McpTool:
        """Set a tool's policy: ``auto`` (run without asking), ``ask`` or ``deny``."""
        from ..ai.tools import POLICIES

        if policy not in POLICIES:
            raise ValidationError(f"policy must be one of {', '.join(POLICIES)}")
        sid = self._row(ref)["id"]
        with self._db.write() as c:
            n = c.execute("UPDATE mcp_tools SET approval = ? WHERE server_id = ? AND name = ?",
                          (policy, sid, tool)).rowcount
            if not n:
                raise NotFoundError(f"the server has no tool named {tool!r}; run: tftsr mcp discover NAME")
            self._wb.audit.write_audit_event("set_mcp_tool_approval", "mcp_server", sid,
                                             {"tool": tool, "approval": policy})
        return next(t for t in self.list_mcp_tools(sid) if t.name == tool)

    def _tool_row(self, ref: str, tool: str):
        srow = self._row(ref)
        trow = self._db.query_one("SELECT name, approval, annotations FROM mcp_tools WHERE server_id = ? AND name = ?",
                                  (srow["id"], tool))
        if trow is None:
            raise NotFoundError(f"MCP server {srow['name']!r} has no tool named {tool!r}; run: tftsr mcp discover "
                                f"{srow['name']}")
        return srow, trow

    def call_tool(self, ref: str, tool: str, arguments: dict | None = None, *, issue_id: str | None = None,
                  approver=None, allow: Sequence[str] = ()) -> McpCallResult:
        """Call one tool through its approval policy and the egress guard (``tftsr mcp call``).

        ``arguments`` are what the model (or the user) sent; ``allow`` holds ``SERVER.TOOL``
        patterns approved for this call; ``approver(ApprovalRequest)`` answers ``ask`` calls."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ValidationError("tool arguments must be a JSON object")
        srow, trow = self._tool_row(ref, tool)
        if not srow["enabled"]:
            raise ConflictError(f"MCP server {srow['name']!r} is disabled; enable it first")
        wb = self._wb
        pattern = f"mcp:{srow['name']}.{tool}"
        model_args = wb.pii.guard_outbound(issue_id, arguments).payload  # what the model may have seen
        args_sha = sha256_hex(json.dumps(model_args, sort_keys=True, ensure_ascii=False))
        policy = trow["approval"]
        if policy == "deny":
            decision = "policy_deny"
        elif policy == "auto":
            decision = "auto"
        else:
            summary = f"{srow['name']}.{tool}({json.dumps(model_args, ensure_ascii=False)[:500]})"
            decision = wb.approvals.request(pattern, summary, model_args, approver=approver,
                                            allow=[f"mcp:{a}" for a in allow])
        allowed = decision in ("auto", "allow_once", "allow_session")
        status, content = "denied", ""
        if allowed:
            if srow["trusted"] and issue_id:  # a trusted (local) server gets the real host names back
                sent = _restore(model_args, wb.pii.placeholder_map(issue_id))
            else:
                sent = model_args
            try:  # a dead live session gets one fresh connection, a refused token one refresh
                result = self._using(srow, lambda conn: _runtime.call_tool(conn, tool, sent))
                text = _result_text(result)
                status = "error" if result.isError else "ok"
            except McpError as exc:
                status, text = "error", str(exc)
            content = wb.pii.guard_outbound(issue_id, text).payload
        res_sha = sha256_hex(content)
        wb.audit.write_audit_event("mcp_tool_call", "mcp_server", srow["id"], {
            "server": srow["name"], "tool": tool, "issue_id": issue_id, "decision": decision, "status": status,
            "arguments_sha256": args_sha, "result_sha256": res_sha, "trusted": bool(srow["trusted"])})
        return McpCallResult(srow["name"], tool, status, decision, content, args_sha, res_sha)


def _restore(value, mapping: dict[str, str]):
    from ..pii import restore

    if isinstance(value, str):
        return restore(value, mapping)
    if isinstance(value, list):
        return [_restore(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v, mapping) for k, v in value.items()}
    return value


def _result_text(result) -> str:
    parts = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = block.resource
            parts.append(getattr(res, "text", None) or f"[resource {res.uri}]")
        else:
            parts.append(f"[{kind} content omitted]")
    if not parts and getattr(result, "structuredContent", None) is not None:
        parts.append(json.dumps(result.structuredContent, ensure_ascii=False))
    text = "\n".join(parts)
    return text[:20_000] + ("\n[... result cut at 20000 characters]" if len(text) > 20_000 else "")


class McpToolSource:
    """The MCP tools of enabled, connected servers, for the chat's tool loop."""

    source = "mcp"

    def __init__(self, wb, issue_id: str | None, *, approver=None, allow: Sequence[str] = ()):
        self._wb = wb
        self._issue_id = issue_id
        self._approver = approver
        self._allow = tuple(allow)
        self._tools = {t.tool_key: t for t in wb.mcp.list_mcp_tools(usable=True) if t.approval != "deny"}

    def tools(self):
        from ..ai.tools import ToolSpec

        return [ToolSpec(t.tool_key, (t.description or t.name)[:1000] + f" (MCP server {t.server})",
                         t.parameters if t.parameters.get("type") == "object" else {"type": "object", "properties": {}},
                         "mcp") for t in self._tools.values()]

    def handles(self, name: str) -> bool:
        return name in self._tools

    def run(self, call):
        from ..ai.tools import ToolOutcome

        t = self._tools[call.name]
        res = self._wb.mcp.call_tool(t.server_id, t.name, call.arguments, issue_id=self._issue_id,
                                     approver=self._approver, allow=self._allow)
        return ToolOutcome(res.status, res.decision, res.content, t.server, t.name)
