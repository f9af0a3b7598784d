"""OAuth2 sign-in of ``wb.mcp`` (a mixin of :class:`~.service.McpService`, kept apart for size).

:meth:`McpSignIn.begin_login` finds the authorization server (:mod:`.oauth`) and registers a
client when none is configured; :meth:`McpSignIn.complete_login` finishes from the callback; the
protocol steps (PKCE S256, the single-use state, token exchange and refresh) are the
integrations' :class:`~tftsr_kernel.integrations.oauth.OAuthFlow`. The server's sign-in (its
endpoints, client, tokens) is one JSON object, AES-256-GCM encrypted in
``mcp_servers.auth_value``; no result, audit row, log line or error holds a token, code,
verifier or secret.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from .._util import utc_now
from ..errors import NotFoundError, ValidationError
from .errors import McpAuthError


class McpSignIn:
    """Needs the service's ``_wb``, ``_db``, ``_lock``, ``_row(ref)`` and ``_drop(server_id)``."""

    def _oauth_blob(self, row) -> dict:
        if row["auth_type"] != "oauth2" or not row["auth_value"]:
            return {}
        try:
            blob = json.loads(self._wb.secrets.decrypt(row["auth_value"], "mcp_auth"))
        except ValueError:
            blob = None
        if not isinstance(blob, dict):
            from ..errors import SecretError

            raise SecretError(f"the stored sign-in of MCP server {row['name']!r} is damaged; sign in again "
                              f"(tftsr mcp login {row['name']})")
        return blob

    def _save_blob(self, server_id: str, blob: dict, action: str, details: dict) -> None:
        blob = {k: v for k, v in blob.items() if v is not None}
        enc = self._wb.secrets.encrypt(json.dumps({**blob, "type": "oauth2"}, sort_keys=True), "mcp_auth")
        with self._db.write() as c:
            c.execute("UPDATE mcp_servers SET auth_value = ?, updated_at = ? WHERE id = ?", (enc, utc_now(), server_id))
            self._wb.audit.write_audit_event(action, "mcp_server", server_id, details)

    def _flow(self):
        from ..integrations.oauth import OAuthFlow

        return OAuthFlow(self._wb, None)

    def _oauth_params(self, row, blob: dict) -> dict:
        cfg = json.loads(row["transport_config"] or "{}").get("oauth") or {}
        return {"auth_url": blob.get("authorization_endpoint"), "token_url": blob.get("token_endpoint"),
                "client_id": cfg.get("client_id") or blob.get("client_id"),
                "scope": cfg.get("scope") or blob.get("scope") or "",
                "params": {"resource": blob.get("resource")}, "token_params": {"resource": blob.get("resource")},
                "label": f"MCP server {row['name']!r}"}

    def begin_login(self, ref: str, redirect_uri: str):
        """Start an OAuth2 sign-in to an ``oauth2`` server: find its authorization server (a 401
        from the server, RFC 9728 and RFC 8414 metadata), register a client when none is
        configured (RFC 7591), and return the authorization URL (PKCE S256, a single-use state
        that expires, the ``resource`` of RFC 8707) as an ``OAuthStart``. Nothing secret is sent."""
        from . import oauth as mcp_oauth
        from ..integrations.models import OAuthStart

        row = self._row(ref)
        if row["auth_type"] != "oauth2":
            raise ValidationError(f"MCP server {row['name']!r} uses auth {row['auth_type']}, not oauth2; change it "
                                  "with --auth oauth2 to sign in")
        parts = urlsplit(redirect_uri if isinstance(redirect_uri, str) else "")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or \
                any(c in redirect_uri for c in "\r\n\x00 "):
            raise ValidationError("the redirect URI must be an absolute http(s) URL without a fragment")
        config = json.loads(row["transport_config"] or "{}")
        found = mcp_oauth.discover(row["url"], config.get("headers") or {})
        blob = self._oauth_blob(row)
        if blob.get("issuer") not in (None, found.issuer) or blob.get("resource") not in (None, found.resource):
            # another authorization server or resource: nothing of the old sign-in applies
            blob = {k: blob[k] for k in ("client_secret",) if k in blob and not blob.get("registered")}
        blob.update(issuer=found.issuer, resource=found.resource, authorization_endpoint=found.authorization_endpoint,
                    token_endpoint=found.token_endpoint, scope=found.scope)
        configured = (config.get("oauth") or {}).get("client_id")
        registered = False
        if not configured and (not blob.get("registered") or redirect_uri not in (blob.get("redirect_uris") or [])):
            if not found.registration_endpoint:
                raise mcp_oauth.McpOAuthError(
                    f"the authorization server {found.issuer} offers no dynamic client registration; register "
                    f"TFTSR there (redirect URI {redirect_uri}) and add the server with --client-id")
            client = mcp_oauth.register_client(found.registration_endpoint, redirect_uri,
                                               (config.get("oauth") or {}).get("scope") or found.scope)
            blob.update(client_id=client["client_id"], client_secret=client.get("client_secret"), registered=True,
                        redirect_uris=[redirect_uri])
            registered = True
        self._save_blob(row["id"], blob, "mcp_oauth_discovered", {
            "issuer": found.issuer, "resource": found.resource, "client_registered": registered})
        row = self._row(row["id"])
        start = self._flow().begin("mcp", self._oauth_params(row, blob), redirect_uri, subject=row["id"])
        return OAuthStart(row["name"], start.auth_url, start.state, start.redirect_uri, start.expires_at)

    def complete_login(self, state: str, code: str, *, error: str | None = None) -> str:
        """Finish a sign-in from its callback; returns the server's name. The single-use state an
        admin's :meth:`begin_login` made is the proof (no role needed); an unknown, reused or
        expired state, or a code the token endpoint refuses, stores nothing."""
        from ..integrations.errors import OAuthError
        from ..integrations.oauth import state_service
        from ..team.guard import internal

        with internal():
            found = state_service(self._db, state or "")
            flow = self._flow()
            if found is None or found[0] != "mcp":
                flow.claim_state(state or "", service="mcp")  # raises the right message
            try:
                row = self._row(found[1])
            except NotFoundError:
                row = None
            if row is None or row["auth_type"] != "oauth2":
                flow.claim_state(state)
                raise OAuthError("the MCP server was removed or changed during the sign-in; no token was stored")
            blob = self._oauth_blob(row)
            sid = row["id"]

            def store(secret: dict, expires_at: str) -> None:
                self._store_tokens(sid, secret, "mcp_oauth_signed_in")

            flow.complete(state, code, self._oauth_params(row, blob), blob.get("client_secret"), service="mcp",
                          subject=sid, error=error, store=store)
            self._drop(sid)  # the next use connects with the new token
            return row["name"]

    def _store_tokens(self, server_id: str, secret: dict, action: str) -> None:
        row = self._row(server_id)
        blob = self._oauth_blob(row)
        blob.update(access_token=secret["access_token"], refresh_token=secret.get("refresh_token"),
                    token_type=secret.get("token_type"), expires_at=secret.get("expires_at"))
        self._save_blob(server_id, blob, action, {"expires_at": secret.get("expires_at"),
                                                  "has_refresh_token": bool(secret.get("refresh_token"))})

    def _access_token(self, server_id: str, *, force_refresh: bool = False) -> str:
        """The server's access token, refreshed first when it expires within a minute (or when
        ``force_refresh``: the server refused it). :class:`McpAuthError` says to sign in again
        when there is none or it cannot be refreshed."""
        from ..integrations.errors import OAuthError
        from ..integrations.oauth import OAuthFlow

        with self._lock:
            row = self._row(server_id)
            name = row["name"]
            blob = self._oauth_blob(row)
            if not blob.get("access_token"):
                raise McpAuthError(f"MCP server {name!r} needs a sign-in: run tftsr mcp login {name} "
                                   "(or Sign in under Settings \u2192 MCP)")
            if not force_refresh and not OAuthFlow.needs_refresh({"expires_at": blob.get("expires_at")}):
                return blob["access_token"]
            hint = f"sign in again: tftsr mcp login {name}"
            try:
                secret = self._flow().refresh(f"MCP server {name!r}", blob, self._oauth_params(row, blob),
                                              blob.get("client_secret"), login_hint=hint,
                                              store=lambda sec, _exp: self._store_tokens(row["id"], sec,
                                                                                         "mcp_oauth_refreshed"))
            except OAuthError as exc:
                # an unusable sign-in is dropped (the client registration stays)
                self._save_blob(row["id"], {k: v for k, v in blob.items() if k not in (
                    "access_token", "refresh_token", "expires_at", "token_type")}, "mcp_oauth_expired",
                    {"reason": "refresh refused"})
                msg = str(exc)
                raise McpAuthError(msg if hint in msg else f"{msg}; {hint}") from None
            return secret["access_token"]
