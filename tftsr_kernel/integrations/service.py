"""``wb.integrations``: Confluence, ServiceNow and Azure DevOps behind one service.

Configuration (admin, ``integrations:manage``): :meth:`add_integration`, :meth:`remove_integration`,
:meth:`test_connection`, :meth:`begin_login` (OAuth2 PKCE). Publishing and tickets (analyst,
``export``): every title, body, comment and field sent passes the egress guard first
(``wb.pii.guard_outbound``; page bodies Markdown-aware, after the issue's stored fields taught the
guard their values). ``unredacted=True`` sends the stored originals instead: an explicit choice,
allowed to analysts and admins, audited as ``send_unredacted``. Each publish and ticket action is
audited with the SHA-256 of the request body exactly as sent and the remote id; the page or
ticket is linked on the document or issue (``integration_links``).

No list, get, log line or error returns a credential: :class:`IntegrationInfo` carries only
whether one is stored, its expiry and a prefix of its SHA-256.
"""

from __future__ import annotations

import base64
import html
from urllib.parse import urlsplit

from .._util import from_json, sha256_hex, to_json, utc_now, uuid7
from ..errors import NotFoundError, ValidationError
from .credentials import CredentialStore
from .errors import IntegrationNotConfiguredError, OAuthError
from .models import (AUTH_TYPES, SERVICES, ConnectionResult, IntegrationInfo, Link, OAuthStart, PublishResult,
                     TicketResult)
from .oauth import DEFAULTS as OAUTH_DEFAULTS
from .oauth import OAuthFlow

_NAMES = {"confluence": "Confluence", "servicenow": "ServiceNow", "azuredevops": "Azure DevOps"}
_OAUTH_SERVICES = ("confluence", "azuredevops")
_TITLE_LIMIT = 255


def _service(name: str) -> str:
    s = (name or "").strip().lower().replace(" ", "").replace("-", "")
    if s == "ado":
        s = "azuredevops"
    if s not in SERVICES:
        raise ValidationError(f"unknown integration {name!r}; use one of: {', '.join(SERVICES)}")
    return s


def _check_url(url: str, what: str = "URL") -> str:
    url = (url or "").strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"the {what} must be an http(s) URL such as https://example.atlassian.net/wiki")
    if parts.username or parts.password:
        raise ValidationError(f"the {what} may not hold a user or password; give them with --user and --token-env")
    if parts.query or parts.fragment:
        raise ValidationError(f"the {what} may not have a query string or fragment")
    return url


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode("utf-8")).decode("ascii")


class IntegrationService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._creds = CredentialStore(wb)
        self._oauth = OAuthFlow(wb, self._creds)

    # --- configuration ---------------------------------------------------------------------------
    def add_integration(self, service: str, base_url: str, *, auth_type: str | None = None,
                        username: str | None = None, token: str | None = None, password: str | None = None,
                        project: str | None = None, space_key: str | None = None, oauth: dict | None = None,
                        client_secret: str | None = None) -> IntegrationInfo:
        """Configure ``service`` (replacing its configuration). ``auth_type``: ``token`` (an API
        token or PAT), ``basic`` (user and password) or ``oauth`` (then log in with
        :meth:`begin_login`). The secret is stored encrypted and never returned."""
        service = _service(service)
        base_url = _check_url(base_url, f"{_NAMES[service]} URL")
        auth_type = (auth_type or ("oauth" if oauth else "basic" if password else "token")).strip().lower()
        if auth_type not in AUTH_TYPES:
            raise ValidationError(f"auth type must be one of {', '.join(AUTH_TYPES)}")
        username = (username or "").strip() or None
        project = (project or "").strip() or None
        if service == "servicenow" and auth_type == "oauth":
            raise ValidationError("ServiceNow signs in with a user and password (--user, --password-env)")
        if service == "servicenow" and auth_type == "basic" and not username:
            raise ValidationError("ServiceNow needs --user with the password")
        if service == "azuredevops" and not project:
            raise ValidationError("Azure DevOps needs the project (--project)")
        if auth_type == "token" and not token:
            raise ValidationError(f"{_NAMES[service]} needs a token (from an environment variable or a prompt)")
        if auth_type == "basic" and not password:
            raise ValidationError(f"{_NAMES[service]} needs a password (from an environment variable or a prompt)")
        oauth_cfg = None
        if auth_type == "oauth":
            if service not in _OAUTH_SERVICES:
                raise ValidationError(f"OAuth is offered for {' and '.join(_NAMES[s] for s in _OAUTH_SERVICES)}")
            o = dict(oauth or {})
            d = OAUTH_DEFAULTS[service]
            if not (o.get("client_id") or "").strip():
                raise ValidationError("OAuth needs the application's client id (--client-id)")
            oauth_cfg = {"auth_url": _check_url(o.get("auth_url") or d["auth_url"], "authorization URL"),
                         "token_url": _check_url(o.get("token_url") or d["token_url"], "token URL"),
                         "client_id": o["client_id"].strip(), "scope": (o.get("scope") or d["scope"]).strip(),
                         "default_endpoints": not o.get("auth_url")}
        now = utc_now()
        with self._db.write() as conn:
            old = conn.execute("SELECT id, created_at FROM integration_config WHERE service = ?", (service,)).fetchone()
            cid = uuid7()
            conn.execute("DELETE FROM integration_config WHERE service = ?", (service,))
            conn.execute(
                "INSERT INTO integration_config(id, service, base_url, username, project_name, space_key,"
                " auto_create_enabled, updated_at, auth_type, oauth_config, encrypted_client_secret, created_at)"
                " VALUES (?,?,?,?,?,?,0,?,?,?,?,?)",
                (cid, service, base_url, username, project, (space_key or "").strip() or None, now, auth_type,
                 to_json(oauth_cfg) if oauth_cfg else None,
                 self._wb.secrets.encrypt(client_secret, "integration_client_secret") if client_secret else None,
                 old["created_at"] if old else now))
            self._creds.delete(conn, service)
            self._wb.audit.write_audit_event("add_integration", "integration", cid, {
                "service": service, "base_url": base_url, "auth_type": auth_type, "username": username,
                "project": project, "replaced": bool(old), "has_client_secret": bool(client_secret)})
            if auth_type == "token":
                self._creds.save(service, {"type": "token", "token": token})
            elif auth_type == "basic":
                self._creds.save(service, {"type": "basic", "password": password})
        return self.get_integration(service)

    def remove_integration(self, service: str) -> None:
        service = _service(service)
        with self._db.write() as conn:
            row = conn.execute("SELECT id FROM integration_config WHERE service = ?", (service,)).fetchone()
            if row is None:
                raise NotFoundError(f"{_NAMES[service]} is not configured")
            conn.execute("DELETE FROM integration_config WHERE service = ?", (service,))
            self._creds.delete(conn, service)
            conn.execute("DELETE FROM oauth_states WHERE service = ? AND used_at IS NULL", (service,))
            self._wb.audit.write_audit_event("remove_integration", "integration", row["id"], {"service": service})

    def list_integrations(self) -> list[IntegrationInfo]:
        rows = self._db.query("SELECT service FROM integration_config ORDER BY service")
        return [self.get_integration(r[0]) for r in rows]

    def get_integration(self, service: str) -> IntegrationInfo:
        service = _service(service)
        row = self._config_row(service)
        meta = self._creds.meta(service)
        oauth = from_json(row["oauth_config"]) if row["oauth_config"] else None
        if oauth:
            oauth = {k: oauth.get(k) for k in ("auth_url", "token_url", "client_id", "scope")}
            oauth["has_client_secret"] = bool(row["encrypted_client_secret"])
        return IntegrationInfo(service, row["base_url"], row["auth_type"], row["username"], row["project_name"],
                               row["space_key"], meta is not None, meta.expires_at if meta else None,
                               meta.token_hash[:12] if meta else None, oauth, row["updated_at"])

    def _config_row(self, service: str):
        row = self._db.query_one("SELECT * FROM integration_config WHERE service = ?", (service,))
        if row is None:
            raise IntegrationNotConfiguredError(
                f"{_NAMES[service]} is not configured; add it with tftsr integration add {service} --url URL ...")
        return row

    def test_connection(self, service: str) -> ConnectionResult:
        """Call the service with the stored credential (Confluence ``/rest/api/user/current``,
        ServiceNow's incident table, the Azure DevOps project)."""
        service = _service(service)
        from ..errors import TftsrError

        try:
            client = self._client(service)
            try:
                return client.test_connection()
            finally:
                client.http.close()
        except TftsrError as exc:  # a failed test is a result, not an error; the message holds no secret
            return ConnectionResult(False, str(exc))

    # --- OAuth2 ------------------------------------------------------------------------------------
    def begin_login(self, service: str, redirect_uri: str) -> OAuthStart:
        """Start an OAuth2 login (PKCE S256 + a single-use, expiring state); returns the URL to open."""
        service = _service(service)
        row = self._config_row(service)
        if row["auth_type"] != "oauth":
            raise ValidationError(f"{_NAMES[service]} is configured with a {row['auth_type']} credential, not OAuth; "
                                  f"add it again with --oauth to log in")
        redirect_uri = _check_url(redirect_uri, "redirect URI")
        return self._oauth.begin(service, from_json(row["oauth_config"]), redirect_uri)

    def complete_login(self, state: str, code: str, *, error: str | None = None) -> str:
        """Finish a login from its callback; returns the service. The state (single-use, made by an
        admin's :meth:`begin_login`) is the proof, so this needs no role of the caller; an
        unknown, reused or expired state, or a code the token endpoint refuses, stores nothing."""
        from ..team.guard import internal

        with internal():
            # the state names the service; its configuration gives the token endpoint
            state_row = self._db.query_one("SELECT service FROM oauth_states WHERE state_hash = ?",
                                           (sha256_hex(state or ""),)) if state else None
            if state_row is None:
                self._oauth.claim_state(state or "")  # raises the right message
            service = state_row["service"]
            try:
                row = self._config_row(service)
            except IntegrationNotConfiguredError:
                self._oauth.claim_state(state)
                raise OAuthError(f"{_NAMES[service]} was removed during the login; no token was stored") from None
            secret = self._client_secret(row)
            self._oauth.complete(state, code, from_json(row["oauth_config"]) or {}, secret, service=service,
                                 error=error)
            return service

    def _client_secret(self, row) -> str | None:
        enc = row["encrypted_client_secret"]
        return self._wb.secrets.decrypt(enc, "integration_client_secret") if enc else None

    # --- clients -----------------------------------------------------------------------------------
    def _auth(self, service: str, row) -> tuple[str, tuple]:
        secret = self._creds.load(service)
        if secret is None:
            how = f"log in with tftsr integration login {service}" if row["auth_type"] == "oauth" else \
                f"add it again with tftsr integration add {service}"
            raise IntegrationNotConfiguredError(f"{_NAMES[service]} has no stored credential; {how}")
        kind = secret.get("type")
        if kind == "oauth":
            if OAuthFlow.needs_refresh(secret):
                secret = self._oauth.refresh(service, secret, from_json(row["oauth_config"]) or {},
                                             self._client_secret(row))
            return f"Bearer {secret['access_token']}", (secret["access_token"], secret.get("refresh_token"))
        if kind == "basic":
            return _basic(row["username"] or "", secret["password"]), (secret["password"],)
        token = secret.get("token") or ""
        if service == "azuredevops":
            return _basic("", token), (token,)
        if row["username"]:  # Confluence Cloud: e-mail and API token; ServiceNow: user and token
            return _basic(row["username"], token), (token,)
        return f"Bearer {token}", (token,)

    def _client(self, service: str):
        from ._http import Http

        row = self._config_row(service)
        header, secrets = self._auth(service, row)
        secrets = secrets + (header.split(" ", 1)[1],)
        http = Http(_NAMES[service], row["base_url"], header, secrets=secrets)
        if service == "confluence":
            from .confluence import ConfluenceClient

            return ConfluenceClient(http)
        if service == "servicenow":
            from .servicenow import ServiceNowClient

            return ServiceNowClient(http)
        from .azuredevops import AzureDevOpsClient

        return AzureDevOpsClient(http, row["project_name"])

    def _call(self, service: str, fn):
        client = self._client(service)
        try:
            return fn(client)
        finally:
            client.http.close()

    # --- the egress door -----------------------------------------------------------------------------
    def _outbound(self, issue_id: str | None, payload, *, markdown: bool = False, unredacted: bool = False):
        """``payload`` as it may leave: through the guard, or as stored when ``unredacted``."""
        if unredacted:
            return payload
        if markdown and issue_id:
            from ..documents.egress import guard_markdown

            return guard_markdown(self._wb, issue_id, payload).payload
        if issue_id:
            from ..documents.egress import learn_sources

            learn_sources(self._wb, issue_id)
        return self._wb.pii.guard_outbound(issue_id, payload, markdown=markdown).payload

    def _audit_send(self, action: str, link_id: str, body: bytes, remote_id: str, service: str, *,
                    issue_id: str | None, redacted: bool, extra: dict | None = None) -> str:
        sha = sha256_hex(body)
        details = {"service": service, "remote_id": str(remote_id), "sent_sha256": sha, "bytes": len(body),
                   "issue_id": issue_id, "redacted": redacted, **(extra or {})}
        if not redacted:
            self._wb.audit.write_audit_event("send_unredacted", "integration_link", link_id,
                                             {"via": action, "service": service, "sent_sha256": sha})
        self._wb.audit.write_audit_event(action, "integration_link", link_id, details)
        return sha

    def _link(self, conn, service: str, kind: str, issue_id: str, remote_id: str, url: str, sha: str, *,
              ticket_number=None, title=None, version=None, space_key=None, document_id=None,
              redacted=True) -> str:
        lid, now = uuid7(), utc_now()
        conn.execute(
            "INSERT INTO integration_links(id, service, kind, issue_id, document_id, remote_id, ticket_number, url,"
            " title, remote_version, space_key, sent_sha256, redacted, created_by, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (lid, service, kind, issue_id, document_id, str(remote_id), ticket_number, url, title, version, space_key,
             sha, int(bool(redacted)), self._wb.team.actor.name, now, now))
        return lid

    # --- Confluence ----------------------------------------------------------------------------------
    def list_confluence_spaces(self):
        return self._call("confluence", lambda c: c.list_spaces())

    def search_confluence_pages(self, query: str, space_key: str | None = None):
        if not (query or "").strip():
            raise ValidationError("give text to search for")
        q = self._outbound(None, {"query": query, "space": space_key or ""})
        return self._call("confluence", lambda c: c.search_pages(q["query"], q["space"] or None))

    def preview_publish(self, doc_id: str, *, unredacted: bool = False) -> dict:
        """Exactly what publishing ``doc_id`` sends: the title and the storage-format body."""
        from .storage import to_storage

        doc = self._wb.documents.get_document(doc_id)
        cleared = self._outbound(doc.issue_id, {"title": doc.title, "markdown": doc.content_md},
                                 markdown=True, unredacted=unredacted)
        title = " ".join(str(cleared["title"]).split())[:_TITLE_LIMIT] or "Untitled"
        return {"document_id": doc.id, "issue_id": doc.issue_id, "title": title, "markdown": cleared["markdown"],
                "storage": to_storage(cleared["markdown"]), "redacted": not unredacted}

    def publish_to_confluence(self, doc_id: str, space_key: str | None = None, parent_id: str | None = None, *,
                              unredacted: bool = False) -> PublishResult:
        """Publish a document as a new Confluence page (storage format) and record it on the document."""
        row = self._config_row("confluence")
        space_key = (space_key or row["space_key"] or "").strip()
        if not space_key:
            raise ValidationError("give the Confluence space (--space KEY)")
        view = self.preview_publish(doc_id, unredacted=unredacted)
        page, body = self._call("confluence", lambda c: c.create_page(space_key, view["title"], view["storage"],
                                                                      parent_id))
        with self._db.write() as conn:
            lid = self._link(conn, "confluence", "page", view["issue_id"], page.id, page.url, sha256_hex(body),
                             title=view["title"], version=page.version or 1, space_key=space_key,
                             document_id=doc_id, redacted=not unredacted)
            sha = self._audit_send("publish_to_confluence", lid, body, page.id, "confluence",
                                   issue_id=view["issue_id"], redacted=not unredacted,
                                   extra={"document_id": doc_id, "space_key": space_key, "url": page.url,
                                          "version": page.version or 1})
        self._notify("document_published", view["issue_id"], f"Published to Confluence: {page.url}")
        return PublishResult(page.id, page.url, view["title"], page.version or 1, space_key, doc_id, sha, not unredacted)

    def _notify(self, event: str, issue_id: str, detail: str) -> None:
        if self._db.query_one("SELECT 1 FROM notification_channels WHERE enabled = 1 LIMIT 1") is None:
            return
        from ..errors import TftsrError

        try:
            self._wb.notifications.emit_later(event, issue_id, detail)   # in the background, in order
        except TftsrError:  # never fails the publication
            pass

    def update_confluence_page(self, doc_id: str, *, page_id: str | None = None, version: int | None = None,
                               unredacted: bool = False) -> PublishResult:
        """Write the document's current text over the page it was published as.

        The new version is the one this workbench last wrote + 1 (or ``version`` + 1 when given:
        the page's current version as seen in Confluence). A page changed in Confluence since is
        refused by Confluence with 409, a :class:`~.errors.IntegrationConflictError`; nothing is
        overwritten."""
        links = [l for l in self.pages_for_document(doc_id) if page_id is None or l.id == str(page_id)]
        if not links:
            raise NotFoundError(f"document {doc_id} has not been published to Confluence"
                                + (f" as page {page_id}" if page_id else "") + "; publish it first")
        link = links[-1]
        current = int(version) if version is not None else int(link.version or 1)
        view = self.preview_publish(doc_id, unredacted=unredacted)
        page, body = self._call("confluence", lambda c: c.update_page(link.id, view["title"], view["storage"],
                                                                      current + 1))
        new_version = page.version or current + 1
        with self._db.write() as conn:
            lid = conn.execute("SELECT id FROM integration_links WHERE service = 'confluence' AND kind = 'page'"
                               " AND remote_id = ?", (link.id,)).fetchone()[0]
            conn.execute("UPDATE integration_links SET remote_version = ?, title = ?, sent_sha256 = ?, redacted = ?,"
                         " updated_at = ? WHERE id = ?",
                         (new_version, view["title"], sha256_hex(body), int(not unredacted), utc_now(), lid))
            sha = self._audit_send("update_confluence_page", lid, body, link.id, "confluence",
                                   issue_id=view["issue_id"], redacted=not unredacted,
                                   extra={"document_id": doc_id, "version": new_version})
        return PublishResult(link.id, page.url or link.url, view["title"], new_version, None, doc_id, sha,
                             not unredacted)

    # --- tickets from an issue ------------------------------------------------------------------------
    def _issue_text(self, issue_id: str) -> tuple:
        issue = self._wb.issues.get_issue_record(issue_id)
        cause = self._wb.whys.root_cause(issue_id)
        lines = [issue.description or "", "", f"Severity: {issue.severity}. Status: {issue.status}."]
        if issue.category:
            lines.append(f"Category: {issue.category}.")
        if cause:
            lines += ["", f"Root cause: {cause}"]
        lines += ["", f"Opened from TFTSR Workbench issue {issue.id}."]
        return issue, "\n".join(lines).strip()

    def create_servicenow_incident(self, issue_id: str, *, unredacted: bool = False) -> TicketResult:
        """Open a ServiceNow incident from an issue (severity -> urgency/impact) and link it."""
        from .servicenow import SEVERITY_MAP

        issue, text = self._issue_text(issue_id)
        urgency, impact = SEVERITY_MAP.get(issue.severity, ("2", "2"))
        fields = self._outbound(issue_id, {"short_description": issue.title[:160], "description": text},
                                unredacted=unredacted)
        fields.update({"urgency": urgency, "impact": impact})
        inc, body = self._call("servicenow", lambda c: c.create(fields))
        with self._db.write() as conn:
            lid = self._link(conn, "servicenow", "ticket", issue_id, inc.sys_id, inc.url, sha256_hex(body),
                             ticket_number=inc.number, title=fields["short_description"], redacted=not unredacted)
            sha = self._audit_send("create_servicenow_incident", lid, body, inc.sys_id, "servicenow",
                                   issue_id=issue_id, redacted=not unredacted,
                                   extra={"ticket_number": inc.number, "urgency": urgency, "impact": impact})
        return TicketResult(inc.sys_id, inc.number, inc.url, "servicenow", issue_id, sha, not unredacted)

    def search_servicenow_incidents(self, query: str):
        if not (query or "").strip():
            raise ValidationError("give text to search for")
        q = self._outbound(None, query)
        return self._call("servicenow", lambda c: c.search(q))

    def get_servicenow_incident(self, id_or_number: str):
        key = self._outbound(None, str(id_or_number))
        return self._call("servicenow", lambda c: c.get(key))

    def update_servicenow_incident(self, sys_id: str, fields: dict, *, unredacted: bool = False) -> TicketResult:
        """Change fields of an incident (values through the guard, with the linked issue's placeholders)."""
        if not fields:
            raise ValidationError("give at least one field to change (--set FIELD=VALUE)")
        link = self._find_link("servicenow", str(sys_id))
        issue_id = link.issue_id if link else None
        sent = self._outbound(issue_id, {str(k): str(v) for k, v in fields.items()}, unredacted=unredacted)
        inc, body = self._call("servicenow", lambda c: c.update(str(sys_id), sent))
        sha = self._audit_plain("update_servicenow_incident", link, body, inc.sys_id, "servicenow", issue_id,
                                unredacted, {"fields": sorted(sent)})
        return TicketResult(inc.sys_id, inc.number, inc.url, "servicenow", issue_id, sha, not unredacted)

    def _audit_plain(self, action, link, body, remote_id, service, issue_id, unredacted, extra) -> str:
        with self._db.write() as conn:
            if link is not None:
                conn.execute("UPDATE integration_links SET sent_sha256 = ?, updated_at = ? WHERE service = ?"
                             " AND kind = 'ticket' AND remote_id = ?", (sha256_hex(body), utc_now(), service, link.id))
                lid = conn.execute("SELECT id FROM integration_links WHERE service = ? AND kind = 'ticket'"
                                   " AND remote_id = ?", (service, link.id)).fetchone()[0]
            else:
                lid = f"{service}:{remote_id}"
            return self._audit_send(action, lid, body, remote_id, service, issue_id=issue_id,
                                    redacted=not unredacted, extra=extra)

    def create_azuredevops_workitem(self, issue_id: str, work_item_type: str = "Bug", *,
                                    unredacted: bool = False) -> TicketResult:
        """Create a work item (Bug, Task, User Story, Issue, Incident) from an issue and link it."""
        from .azuredevops import SEVERITY, TYPES

        wtype = next((t for t in TYPES if t.lower() == (work_item_type or "").strip().lower()), None)
        if wtype is None:
            raise ValidationError(f"work item type must be one of: {', '.join(TYPES)}")
        issue, text = self._issue_text(issue_id)
        cleared = self._outbound(issue_id, {"title": issue.title, "description": text}, unredacted=unredacted)
        fields = {"System.Title": cleared["title"][:_TITLE_LIMIT],
                  "System.Description": "<br>".join(html.escape(line) for line in cleared["description"].split("\n")),
                  "System.Tags": "tftsr"}
        if wtype == "Bug":
            fields["Microsoft.VSTS.Common.Severity"] = SEVERITY.get(issue.severity, "3 - Medium")
        item, body = self._call("azuredevops", lambda c: c.create(wtype, fields))
        with self._db.write() as conn:
            lid = self._link(conn, "azuredevops", "ticket", issue_id, str(item.id), item.url, sha256_hex(body),
                             ticket_number=str(item.id), title=fields["System.Title"], redacted=not unredacted)
            sha = self._audit_send("create_azuredevops_workitem", lid, body, str(item.id), "azuredevops",
                                   issue_id=issue_id, redacted=not unredacted, extra={"work_item_type": wtype})
        return TicketResult(str(item.id), str(item.id), item.url, "azuredevops", issue_id, sha, not unredacted)

    def search_azuredevops_workitems(self, query: str):
        if not (query or "").strip():
            raise ValidationError("give a WIQL query or text to search for")
        q = self._outbound(None, query)
        return self._call("azuredevops", lambda c: c.search(q))

    def get_azuredevops_workitem(self, work_item_id: int):
        return self._call("azuredevops", lambda c: c.get(_int_id(work_item_id)))

    def update_azuredevops_workitem(self, work_item_id: int, fields: dict, *, unredacted: bool = False) -> TicketResult:
        wid = _int_id(work_item_id)
        if not fields:
            raise ValidationError("give at least one field to change (--set FIELD=VALUE)")
        link = self._find_link("azuredevops", str(wid))
        issue_id = link.issue_id if link else None
        sent = self._outbound(issue_id, {str(k): str(v) for k, v in fields.items()}, unredacted=unredacted)
        item, body = self._call("azuredevops", lambda c: c.update(wid, sent))
        sha = self._audit_plain("update_azuredevops_workitem", link, body, str(wid), "azuredevops", issue_id,
                                unredacted, {"fields": sorted(sent)})
        return TicketResult(str(item.id), str(item.id), item.url, "azuredevops", issue_id, sha, not unredacted)

    # --- links -------------------------------------------------------------------------------------------
    def _links(self, where: str, params) -> list[Link]:
        rows = self._db.query("SELECT service, kind, remote_id, url, ticket_number, title, remote_version, document_id,"
                              f" issue_id, redacted, created_at, updated_at FROM integration_links WHERE {where}"
                              " ORDER BY created_at, rowid", params)
        return [Link(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9]), r[10], r[11]) for r in rows]

    def _find_link(self, service: str, remote_id: str) -> Link | None:
        found = self._links("service = ? AND kind = 'ticket' AND remote_id = ?", (service, remote_id))
        return found[0] if found else None

    def tickets_for_issue(self, issue_id: str) -> list[Link]:
        """The tickets opened from an issue: ``{service, id, ticket_number, url}`` and more."""
        return self._links("issue_id = ? AND kind = 'ticket'", (issue_id,))

    def pages_for_issue(self, issue_id: str) -> list[Link]:
        return self._links("issue_id = ? AND kind = 'page'", (issue_id,))

    def pages_for_document(self, doc_id: str) -> list[Link]:
        """Where a document was published: ``{service, id, url}`` and its page version."""
        return self._links("document_id = ? AND kind = 'page'", (doc_id,))


def _int_id(value) -> int:
    try:
        wid = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"a work item id is a number, not {str(value)[:40]!r}") from None
    if wid <= 0:
        raise ValidationError("a work item id is a positive number")
    return wid
