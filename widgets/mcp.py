"""MCP servers (Settings → MCP) and the tool-call approvals waiting for an answer.

A thin view over ``wb.mcp`` and ``wb.approvals``: register a server, sign in to an ``oauth2``
one (its redirect comes back to this dashboard's ``/oauth/callback``, as the integrations'
*Sign in with OAuth* does), discover it, enable, disable or remove it, set each tool's approval
policy; and answer the pending approval requests of running chat turns (allow once, allow for
this session, deny)."""

from __future__ import annotations

import ipywidgets as W

from . import _html
from ._base import Panel, button, guarded, set_options


class McpPanel(Panel):
    title = "MCP servers"
    css_class = "tftsr-mcp"

    def __init__(self, wb=None):
        super().__init__(wb)
        self._servers = []
        self._tools = []
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-mcp-servers")
        self._w_server = W.Dropdown(description="Server", options=[])
        self._w_discover = button("Discover", "tftsr-mcp-discover", icon="refresh")
        self._w_toggle = button("Disable", "tftsr-mcp-toggle")
        self._w_remove = button("Remove", "tftsr-mcp-remove", icon="trash", style="danger")
        self._w_login = button("Sign in", "tftsr-mcp-login", icon="sign-in",
                               tooltip="OAuth2 sign-in (servers added with auth oauth2)")
        self._w_login_link = W.HTML()
        self._w_login_link.add_class("tftsr-mcp-login-link")
        self._w_tools = W.HTML()
        self._w_tools.add_class("tftsr-mcp-tools")
        self._w_tool = W.Dropdown(description="Tool", options=[])
        self._w_policy = W.Dropdown(description="Approval", options=["auto", "ask", "deny"], value="ask")
        self._w_set_policy = button("Set", "tftsr-mcp-set-policy")
        form = {"style": {"description_width": "120px"}, "layout": W.Layout(width="540px")}
        self._w_name = W.Text(description="Name", **form)
        self._w_transport = W.Dropdown(description="Transport", options=["stdio", "http"], value="stdio", **form)
        self._w_target = W.Text(description="Command / URL", placeholder="mcp-server-time, or https://host/mcp", **form)
        self._w_args = W.Text(description="Arguments", placeholder="stdio: space-separated arguments", **form)
        self._w_auth = W.Dropdown(description="Auth", options=["none", "bearer", "api_key", "oauth2"], value="none",
                                  **form)
        self._w_secret = W.Password(description="Token", **form)
        self._w_client_id = W.Text(description="Client id", placeholder="oauth2: only without dynamic registration",
                                   **form)
        self._w_trusted = W.Checkbox(description="Trusted (gets original values)", value=False,
                                     layout=W.Layout(width="540px"))
        self._w_add = button("Add server", "tftsr-mcp-add", style="primary", icon="plus")
        self._w_pending = W.VBox([])
        self._w_pending.add_class("tftsr-mcp-pending")
        self._w_refresh_pending = button("Refresh approvals", "tftsr-mcp-refresh-pending", icon="refresh")
        self._w_discover.on_click(self._on_discover)
        self._w_toggle.on_click(self._on_toggle)
        self._w_remove.on_click(self._on_remove)
        self._w_login.on_click(self._on_login)
        self._w_set_policy.on_click(self._on_set_policy)
        self._w_add.on_click(self._on_add)
        self._w_refresh_pending.on_click(lambda _b: self.refresh_pending())
        self._w_server.observe(lambda _c: self._show_tools(), names="value")
        self._w_tool.observe(lambda _c: self._show_policy(), names="value")

    def _build(self):
        self.refresh()
        self.refresh_pending()
        return W.VBox([W.HTML(_html.style_tag()), self._w_table,
                       W.HBox([self._w_server, self._w_discover, self._w_login, self._w_toggle, self._w_remove]),
                       self._w_login_link, self._w_tools, W.HBox([self._w_tool, self._w_policy, self._w_set_policy]),
                       W.HTML("<b>Add a server</b>"), self._w_name, self._w_transport, self._w_target, self._w_args,
                       self._w_auth, self._w_secret, self._w_client_id, self._w_trusted, self._w_add,
                       W.HTML("<b>Tool calls waiting for approval</b>"), self._w_pending, self._w_refresh_pending,
                       self._w_status])

    # -- servers ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._servers = self._wb.mcp.list_mcp_servers()
        rows = [(s.name, s.transport_type, s.url, _auth_label(s), "yes" if s.enabled else "no",
                 "yes" if s.trusted else "no", s.discovery_status, s.discovery_error or "") for s in self._servers]
        self._w_table.value = (_html.table(rows, ["Name", "Transport", "Command / URL", "Auth", "Enabled", "Trusted",
                                                  "Status", "Error"]) if rows else "<i>No MCP servers yet.</i>")
        current = self._w_server.value
        set_options(self._w_server, [(s.name, s.id) for s in self._servers])
        if current in {s.id for s in self._servers}:
            self._w_server.value = current
        for b in (self._w_discover, self._w_toggle, self._w_remove):
            b.disabled = not self._servers
        self._show_tools()

    def _selected(self):
        return next((s for s in self._servers if s.id == self._w_server.value), None)

    def _show_tools(self) -> None:
        server = self._selected()
        self._w_toggle.description = "Disable" if server is None or server.enabled else "Enable"
        self._w_login.disabled = server is None or server.auth_type != "oauth2"
        self._tools = self._wb.mcp.list_mcp_tools(server.id) if server else []
        rows = [(t.name, t.approval, _html.one_line(t.description, 120)) for t in self._tools]
        self._w_tools.value = _html.table(rows, ["Tool", "Approval", "Description"]) if rows else ""
        set_options(self._w_tool, [t.name for t in self._tools])
        self._w_set_policy.disabled = not self._tools
        self._show_policy()

    def _show_policy(self) -> None:
        """The approval picker shows the selected tool's current policy."""
        tool = next((t for t in self._tools if t.name == self._w_tool.value), None)
        if tool is not None and tool.approval in self._w_policy.options:
            self._w_policy.value = tool.approval

    @guarded
    def _on_discover(self, _b=None):
        server = self._selected()
        status = self._wb.mcp.discover_mcp_server(server.id)
        self.refresh()
        if status.status == "connected":
            self.set_status(f"{server.name}: connected, {status.tool_count} tool(s), "
                            f"{status.resource_count} resource(s)", "success")
        else:
            self.set_status(f"{server.name}: {status.status} — {status.error}", "error")

    @guarded
    def _on_login(self, _b=None):
        """Begin an OAuth2 sign-in whose redirect comes back to this dashboard's /oauth/callback."""
        from tftsr_kernel.serve import viewer

        server = self._selected()
        base = viewer.page_base_url()
        if base is None:
            self.set_status(f"OAuth2 sign-in from a notebook: run tftsr mcp login {server.name}", "error")
            return
        start = self._wb.mcp.begin_login(server.id, base.rstrip("/") + "/oauth/callback")
        self._w_login_link.value = (
            f'<div>Open <a class="tftsr-link" href="{_html.esc(start.auth_url)}" target="_blank" rel="noopener noreferrer">'
            f"the sign-in page of {_html.esc(server.name)}</a>; it returns to this dashboard, which stores the "
            f"token encrypted. The link works once, until {_html.esc(start.expires_at)} UTC.</div>")
        self.set_status(f"{server.name}: sign in on the page linked above, then Discover.", "success")

    @guarded
    def _on_toggle(self, _b=None):
        server = self._selected()
        updated = self._wb.mcp.toggle_mcp_server(server.id, not server.enabled)
        self.refresh()
        self.set_status(f"{updated.name} is {'enabled' if updated.enabled else 'disabled'}", "success")

    @guarded
    def _on_remove(self, _b=None):
        server = self._selected()
        self._wb.mcp.delete_mcp_server(server.id)
        self.refresh()
        self.set_status(f"removed {server.name}", "success")

    @guarded
    def _on_set_policy(self, _b=None):
        server = self._selected()
        tool = self._wb.mcp.set_tool_approval(server.id, self._w_tool.value, self._w_policy.value)
        self._show_tools()
        self.set_status(f"{tool.name}: {tool.approval}", "success")

    @guarded
    def _on_add(self, _b=None):
        target = self._w_target.value.strip()
        kw = {"trusted": bool(self._w_trusted.value)}
        if self._w_transport.value == "stdio":
            kw.update(command=target, args=self._w_args.value.split())
        elif self._w_auth.value == "oauth2":
            kw.update(url=target, auth_type="oauth2", oauth_client_id=self._w_client_id.value.strip() or None,
                      oauth_client_secret=self._w_secret.value or None)
        else:
            kw.update(url=target, auth_type=self._w_auth.value, auth_value=self._w_secret.value or None)
        server = self._wb.mcp.create_mcp_server(self._w_name.value, self._w_transport.value, **kw)
        self._w_secret.value = ""
        self._w_name.value = self._w_target.value = self._w_args.value = self._w_client_id.value = ""
        self.refresh()
        self._w_server.value = server.id
        nxt = "press Sign in, then Discover" if server.auth_type == "oauth2" else "press Discover to find its tools"
        self.set_status(f"added {server.name}; {nxt}", "success")

    # -- approvals -------------------------------------------------------------------------------------
    def refresh_pending(self) -> None:
        rows = []
        for req in self._wb.approvals.pending():
            label = W.HTML(f"<code>{_html.esc(_html.one_line(req['summary'], 300))}</code>")
            buttons = []
            for decision, text, css in (("allow_once", "Allow once", "tftsr-approve-once"),
                                        ("allow_session", "Allow for this session", "tftsr-approve-session"),
                                        ("deny", "Deny", "tftsr-approve-deny")):
                b = button(text, css, style="danger" if decision == "deny" else "")
                b.on_click(lambda _b, rid=req["id"], d=decision: self._on_decide(rid, d))
                buttons.append(b)
            rows.append(W.VBox([label, W.HBox(buttons)]))
        self._w_pending.children = rows or [W.HTML("<i>Nothing is waiting.</i>")]

    @property
    def pending_count(self) -> int:
        return len(self._wb.approvals.pending())

    @guarded
    def _on_decide(self, request_id: str, decision: str):
        self._wb.approvals.decide(request_id, decision)
        self.refresh_pending()
        self.set_status(f"answered: {decision.replace('_', ' ')}", "success")

    def to_html(self) -> str:
        rows = [(s.name, s.transport_type, s.discovery_status) for s in self._wb.mcp.list_mcp_servers()]
        return _html.heading(self.title) + _html.table(rows, ["Name", "Transport", "Status"])


def _auth_label(server) -> str:
    if server.auth_type != "oauth2":
        return server.auth_type
    return "oauth2 (signed in)" if (server.oauth or {}).get("signed_in") else "oauth2 (not signed in)"


class ResourcePicker:
    """The chat's *Attach resource* control: a server, one of its discovered resources, and the
    resources picked for the next message (read and redacted by the kernel when it is sent)."""

    def __init__(self, wb):
        self._wb = wb
        self._picked: list[dict] = []
        self._w_server = W.Dropdown(description="Resource", options=[], layout=W.Layout(width="260px"))
        self._w_server.add_class("tftsr-chat-resource-server")
        self._w_uri = W.Dropdown(options=[], layout=W.Layout(width="320px"))
        self._w_uri.add_class("tftsr-chat-resource-uri")
        self._w_add = button("Attach resource", "tftsr-chat-resource-add", icon="paperclip")
        self._w_clear = button("", "tftsr-chat-resource-clear", icon="times", tooltip="Attach no resources",
                               width="36px")
        self._w_picked = W.HTML()
        self._w_picked.add_class("tftsr-chat-resources")
        self._w_server.observe(lambda _c: self._load_resources(), names="value")
        self._w_add.on_click(lambda _b: self.add())
        self._w_clear.on_click(lambda _b: self.clear())
        self.layout = W.VBox([W.HBox([self._w_server, self._w_uri, self._w_add, self._w_clear]), self._w_picked])
        self.refresh()

    @property
    def value(self) -> list[dict]:
        """``[{"server": id, "uri": uri}]`` for ``chat_message(attach_resources=...)``."""
        return [{"server": p["server"], "uri": p["uri"]} for p in self._picked]

    @property
    def labels(self) -> list[str]:
        return [f"{p['name']}: {p['uri']}" for p in self._picked]

    def refresh(self) -> None:
        """The enabled servers that have resources (an error leaves the picker empty and says so)."""
        try:
            servers = [s for s in self._wb.mcp.list_mcp_servers() if s.enabled]
            offer = [(s.name, s.id) for s in servers if self._wb.mcp.get_mcp_server_status(s.id).resource_count]
        except Exception as exc:  # a viewer, a locked store: no picker, the chat still works
            offer = []
            self._w_picked.value = f'<span class="tftsr-muted">{_html.esc(_html.one_line(str(exc), 160))}</span>'
        current = self._w_server.value
        set_options(self._w_server, offer)
        if current in {v for _, v in offer}:
            self._w_server.value = current
        self.layout.layout.display = "" if offer else "none"
        self._load_resources()

    def _load_resources(self) -> None:
        sid = self._w_server.value
        resources = self._wb.mcp.list_mcp_resources(sid) if sid else []
        set_options(self._w_uri, [(_html.one_line(r.name or r.uri, 40) + f" ({_html.one_line(r.uri, 60)})", r.uri)
                                  for r in resources])
        self._w_add.disabled = not resources

    def add(self) -> None:
        sid, uri = self._w_server.value, self._w_uri.value
        if not sid or not uri:
            return
        name = next((label for label, v in self._w_server.options if v == sid), sid)
        if not any(p["server"] == sid and p["uri"] == uri for p in self._picked):
            self._picked.append({"server": sid, "uri": uri, "name": name})
        self._show()

    def clear(self) -> None:
        self._picked = []
        self._show()

    def _show(self) -> None:
        self._w_picked.value = "".join(
            f'<span class="tftsr-chip">{_html.esc(_html.one_line(label, 80))}'
            '<span class="tftsr-muted"> redacted when sent</span></span>' for label in self.labels)
