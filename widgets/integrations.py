"""Integration panels: the Settings section (configure Confluence, ServiceNow, Azure DevOps),
the Documents panel's *Publish* (with a preview of exactly what will be sent) and the incident
header's *Open ticket* with the linked tickets and pages. Thin views over ``wb.integrations``."""

from __future__ import annotations

import ipywidgets as W

from . import _html
from ._base import Panel, button, guarded, set_options

SERVICES = [("Confluence", "confluence"), ("ServiceNow", "servicenow"), ("Azure DevOps", "azuredevops")]
TARGETS = [("ServiceNow incident", "servicenow"), ("Azure DevOps Bug", "azuredevops:Bug"),
           ("Azure DevOps Task", "azuredevops:Task"), ("Azure DevOps User Story", "azuredevops:User Story"),
           ("Azure DevOps Issue", "azuredevops:Issue"), ("Azure DevOps Incident", "azuredevops:Incident")]
_NAMES = dict((v, k) for k, v in SERVICES)


def _link(url: str | None, text: str) -> str:
    """A link only to http(s); anything else is shown as text."""
    if url and url.lower().startswith(("http://", "https://")):
        return (f'<a class="tftsr-link" href="{_html.esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
                f"{_html.esc(text)}</a>")
    return _html.esc(text)


def links_html(links) -> str:
    if not links:
        return '<div class="tftsr-muted">No tickets or pages yet.</div>'
    rows = [(_NAMES.get(l.service, l.service), "page" if l.kind == "page" else "ticket",
             _link(l.url, l.ticket_number or l.title or l.id),
             "redacted" if l.redacted else "UNREDACTED (audited)", l.created_at or "") for l in links]
    return _html.table(rows, ["Service", "Kind", "Link", "Sent", "When (UTC)"], raw_columns=(2,))


class IntegrationsSettings(Panel):
    """Settings → Integrations: configured services (never a secret), add, test, remove."""

    title = "Integrations"
    css_class = "tftsr-integrations-settings"

    def __init__(self, wb=None):
        super().__init__(wb)
        self._items = []
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-integrations-table")
        self._w_select = W.Dropdown(options=[], description="Service", layout=W.Layout(width="300px"))
        self._w_select.add_class("tftsr-integration-select")
        self._w_test = button("Test connection", "tftsr-integration-test", icon="plug")
        self._w_remove = button("Remove", "tftsr-integration-remove", style="danger", icon="trash")
        self._w_login = button("Sign in with OAuth", "tftsr-integration-login", icon="sign-in")
        self._w_login_link = W.HTML()
        self._w_login_link.add_class("tftsr-integration-login-link")
        self._w_service = W.Dropdown(options=SERVICES, value="confluence", description="Service")
        self._w_service.add_class("tftsr-integration-service")
        self._w_url = W.Text(description="URL", placeholder="https://example.atlassian.net/wiki",
                             layout=W.Layout(width="460px"))
        self._w_url.add_class("tftsr-integration-url")
        self._w_user = W.Text(description="User", placeholder="e-mail (Confluence Cloud) or user (ServiceNow)",
                              layout=W.Layout(width="460px"))
        self._w_user.add_class("tftsr-integration-user")
        self._w_secret = W.Password(description="Token", placeholder="stored encrypted, never shown again",
                                    layout=W.Layout(width="460px"))
        self._w_secret.add_class("tftsr-integration-secret")
        self._w_project = W.Text(description="Project", placeholder="Azure DevOps project")
        self._w_project.add_class("tftsr-integration-project")
        self._w_space = W.Text(description="Space", placeholder="default Confluence space key")
        self._w_space.add_class("tftsr-integration-space")
        self._w_add = button("Save integration", "tftsr-integration-add", style="primary", icon="plus")
        self._w_help = W.HTML('<div class="tftsr-muted">ServiceNow signs in with a user and password; Confluence '
                              "Cloud with an e-mail and API token (Data Center: a personal access token, no user); "
                              "Azure DevOps with a PAT. OAuth: <code>tftsr integration add ... --oauth</code>, then "
                              "<em>Sign in with OAuth</em> here or <code>tftsr integration login SERVICE</code>.</div>")
        self._w_service.observe(self._on_service, names="value")
        self._w_test.on_click(self._on_test)
        self._w_remove.on_click(self._on_remove)
        self._w_login.on_click(self._on_login)
        self._w_add.on_click(self._on_add)
        self._on_service({"new": "confluence"})
        self.refresh()

    @property
    def services(self) -> list[str]:
        return [i.service for i in self._items]

    def _on_service(self, change):
        svc = change["new"]
        self._w_secret.description = "Password" if svc == "servicenow" else "Token"
        self._w_project.layout.display = "" if svc == "azuredevops" else "none"
        self._w_space.layout.display = "" if svc == "confluence" else "none"
        self._w_user.layout.display = "none" if svc == "azuredevops" else ""

    @guarded
    def refresh(self) -> None:
        self._items = self._wb.integrations.list_integrations()
        rows = [(_NAMES[i.service], i.base_url, i.auth_type, i.username or "-", i.project_name or i.space_key or "-",
                 (f"stored (sha256 {i.token_hash_prefix}…)" if i.has_credential else "none")
                 + (f", expires {i.credential_expires_at}" if i.credential_expires_at else ""))
                for i in self._items]
        self._w_table.value = (_html.table(rows, ["Service", "URL", "Auth", "User", "Project/space", "Credential"])
                               if rows else '<div class="tftsr-muted">No integrations configured.</div>')
        set_options(self._w_select, [(_NAMES[i.service], i.service) for i in self._items])
        for w in (self._w_test, self._w_remove):
            w.disabled = not self._items
        self._w_login.disabled = not any(i.auth_type == "oauth" for i in self._items)

    @guarded
    def _on_add(self, _b=None):
        svc = self._w_service.value
        secret = self._w_secret.value or None
        kw = {"password": secret} if svc == "servicenow" else {"token": secret}
        self._wb.integrations.add_integration(
            svc, self._w_url.value.strip(), username=self._w_user.value.strip() or None,
            project=self._w_project.value.strip() or None, space_key=self._w_space.value.strip() or None,
            auth_type="basic" if svc == "servicenow" else "token", **kw)
        self._w_secret.value = ""
        self.refresh()
        self._w_select.value = svc
        self.set_status(f"{_NAMES[svc]} saved; the credential is stored encrypted.", "ok")

    @guarded
    def _on_test(self, _b=None):
        svc = self._w_select.value
        r = self._wb.integrations.test_connection(svc)
        self.set_status(f"{_NAMES[svc]}: {r.message}", "ok" if r.success else "error")

    @guarded
    def _on_login(self, _b=None):
        """Begin an OAuth login whose redirect comes back to this dashboard's /oauth/callback."""
        from tftsr_kernel.serve import viewer

        svc = self._w_select.value
        base = viewer.page_base_url()
        if base is None:
            self.set_status("OAuth sign-in from a notebook: run tftsr integration login " + svc, "error")
            return
        start = self._wb.integrations.begin_login(svc, base.rstrip("/") + "/oauth/callback")
        self._w_login_link.value = (
            f'<div>Open <a class="tftsr-link" href="{_html.esc(start.auth_url)}" target="_blank" rel="noopener noreferrer">'
            f"the {_html.esc(_NAMES[svc])} sign-in page</a>; it returns to this dashboard, which stores the "
            f"token. The link works once, until {_html.esc(start.expires_at)} UTC.</div>")
        self.set_status(f"{_NAMES[svc]}: sign in on the page linked above, then Refresh.", "ok")

    @guarded
    def _on_remove(self, _b=None):
        svc = self._w_select.value
        self._wb.integrations.remove_integration(svc)
        self.refresh()
        self.set_status(f"{_NAMES[svc]} removed with its stored credential.", "ok")

    def _build(self):
        return W.VBox([W.HTML(_html.style_tag()), self._w_table,
                       W.HBox([self._w_select, self._w_test, self._w_login, self._w_remove]), self._w_login_link,
                       W.HTML("<b>Add or replace an integration</b>"), self._w_service, self._w_url, self._w_user,
                       self._w_secret, self._w_project, self._w_space, self._w_add, self._w_help, self._w_status])

    def to_html(self) -> str:
        return _html.heading("Integrations", 4) + self._w_table.value


class PublishSection(Panel):
    """Documents → Publish: preview exactly what will be sent, publish as a Confluence page, or
    update the page it was published as (a page changed in Confluence since is refused)."""

    title = "Publish"
    css_class = "tftsr-publish"

    def __init__(self, wb=None, document_id=None):
        super().__init__(wb)
        self._document_id = document_id or (lambda: None)
        self._preview = None
        self._w_space = W.Text(description="Space", placeholder="space key (default: configured)",
                               layout=W.Layout(width="300px"))
        self._w_space.add_class("tftsr-publish-space")
        self._w_parent = W.Text(description="Parent", placeholder="parent page id (optional)",
                                layout=W.Layout(width="300px"))
        self._w_parent.add_class("tftsr-publish-parent")
        self._w_unredacted = W.Checkbox(value=False, description="Send unredacted originals (audited)", indent=False,
                                        layout=W.Layout(width="300px"))
        self._w_unredacted.add_class("tftsr-publish-unredacted")
        self._w_preview_button = button("Preview what will be sent", "tftsr-publish-preview-button", icon="eye")
        self._w_publish = button("Publish to Confluence", "tftsr-publish-confluence", style="primary", icon="upload")
        self._w_update = button("Update published page", "tftsr-publish-update", icon="refresh")
        self._w_preview = W.HTML()
        self._w_preview.add_class("tftsr-publish-preview")
        self._w_links = W.HTML()
        self._w_links.add_class("tftsr-publish-links")
        self._w_preview_button.on_click(self._on_preview)
        self._w_publish.on_click(self._on_publish)
        self._w_update.on_click(self._on_update)
        self._w_unredacted.observe(lambda _c: self._clear_preview(), names="value")
        self.refresh()

    @property
    def preview(self) -> dict | None:
        """What the last preview said will be sent: ``{"title", "storage", ...}``."""
        return self._preview

    def _clear_preview(self):
        self._preview = None
        self._w_preview.value = ""

    @guarded
    def refresh(self) -> None:
        doc_id = self._document_id()
        pages = self._wb.integrations.pages_for_document(doc_id) if doc_id else []
        self._w_links.value = links_html(pages) if doc_id else ""
        for b in (self._w_preview_button, self._w_publish):
            b.disabled = not doc_id
        self._w_update.disabled = not pages

    @guarded
    def _on_preview(self, _b=None):
        doc_id = self._document_id()
        v = self._wb.integrations.preview_publish(doc_id, unredacted=self._w_unredacted.value)
        self._preview = v
        note = ("<b>Unredacted:</b> the stored originals will be sent." if not v["redacted"]
                else "Redacted with the issue's placeholders, as it will be sent.")
        self._w_preview.value = (
            f'<div class="tftsr-muted">{note}</div><div><b>Title:</b> {_html.esc(v["title"])}</div>'
            f'<div class="tftsr-publish-rendered">{_html.markdown(v["markdown"])}</div>'
            f'<details><summary>Confluence storage format (the exact body sent)</summary>'
            f'<pre class="tftsr-publish-storage" style="white-space:pre-wrap">{_html.esc(v["storage"])}</pre></details>')
        self.set_status("This is exactly what Publish sends.", "info")

    @guarded
    def _on_publish(self, _b=None):
        r = self._wb.integrations.publish_to_confluence(self._document_id(), self._w_space.value.strip() or None,
                                                        self._w_parent.value.strip() or None,
                                                        unredacted=self._w_unredacted.value)
        self.refresh()
        self.set_status(f"Published as Confluence page {r.id} (version {r.version})"
                        + ("" if r.redacted else ", UNREDACTED (audited)") + ".", "ok")

    @guarded
    def _on_update(self, _b=None):
        r = self._wb.integrations.update_confluence_page(self._document_id(), unredacted=self._w_unredacted.value)
        self.refresh()
        self.set_status(f"Confluence page {r.id} updated to version {r.version}.", "ok")

    def _build(self):
        return W.VBox([W.HTML("<b>Publish</b>"), W.HBox([self._w_space, self._w_parent, self._w_unredacted]),
                       W.HBox([self._w_preview_button, self._w_publish, self._w_update]), self._w_status,
                       self._w_preview, self._w_links])


class TicketsSection(Panel):
    """Incident header → Open ticket (ServiceNow incident or Azure DevOps work item), and the
    issue's linked tickets and pages."""

    title = "Tickets"
    css_class = "tftsr-tickets"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._links = []
        self._w_target = W.Dropdown(options=TARGETS, value="servicenow", description="Ticket",
                                    layout=W.Layout(width="320px"))
        self._w_target.add_class("tftsr-ticket-target")
        self._w_unredacted = W.Checkbox(value=False, description="Send unredacted originals (audited)", indent=False,
                                        layout=W.Layout(width="300px"))
        self._w_unredacted.add_class("tftsr-ticket-unredacted")
        self._w_open = button("Open ticket", "tftsr-open-ticket", style="primary", icon="ticket")
        self._w_links = W.HTML()
        self._w_links.add_class("tftsr-ticket-links")
        self._w_open.on_click(self._on_open)
        self.refresh()

    @property
    def links(self):
        return list(self._links)

    @guarded
    def refresh(self) -> None:
        i = self._wb.integrations
        self._links = i.tickets_for_issue(self.issue_id) + i.pages_for_issue(self.issue_id)
        self._w_links.value = links_html(self._links)

    @guarded
    def _on_open(self, _b=None):
        target = self._w_target.value
        i = self._wb.integrations
        if target == "servicenow":
            r = i.create_servicenow_incident(self.issue_id, unredacted=self._w_unredacted.value)
        else:
            r = i.create_azuredevops_workitem(self.issue_id, target.split(":", 1)[1],
                                              unredacted=self._w_unredacted.value)
        self.refresh()
        self.set_status(f"Opened {_NAMES[r.service]} {r.ticket_number}"
                        + ("" if r.redacted else " with the unredacted originals (audited)") + ".", "ok")

    def _build(self):
        return W.VBox([W.HBox([self._w_target, self._w_unredacted, self._w_open]), self._w_status, self._w_links])

    def to_html(self) -> str:
        return links_html(self._links)
