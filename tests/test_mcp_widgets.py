"""Settings → MCP and the approval buttons, headless (child widget values and handlers)."""

from __future__ import annotations

import threading
import time

from tests.fakes.mcp_http import FakeMcpHttpServer
from tests.fakes.servers import FakeProviderServer
from widgets.settings import SettingsPanel

TOKEN = "t0ken-for-tests"


def _mcp_panel(wb):
    settings = SettingsPanel(wb)
    settings.select_tab("MCP")
    return settings.mcp_panel


def test_settings_mcp_section_adds_discovers_sets_policy_and_removes(wb):
    with FakeMcpHttpServer(token=TOKEN) as srv:
        p = _mcp_panel(wb)
        assert "No MCP servers yet" in p._w_table.value
        p._w_name.value, p._w_transport.value, p._w_target.value = "ops<b>", "http", srv.url
        p._w_auth.value, p._w_secret.value = "bearer", TOKEN
        p._w_add.click()
        assert p.status_kind == "success" and p._w_secret.value == ""
        assert "ops&lt;b&gt;" in p._w_table.value and "<b>ops" not in p._w_table.value
        p._w_discover.click()
        assert "connected, 3 tool(s), 1 resource(s)" in p.status and "connected" in p._w_table.value
        assert "restart_service" in p._w_tools.value
        p._w_tool.value, p._w_policy.value = "restart_service", "deny"
        p._w_set_policy.click()
        assert {t.name: t.approval for t in wb.mcp.list_mcp_tools()}["restart_service"] == "deny"
        p._w_toggle.click()
        assert wb.mcp.list_mcp_servers()[0].enabled is False and p._w_toggle.description == "Enable"
        # a refused configuration shows in the status line, nothing is stored
        p._w_name.value, p._w_transport.value, p._w_target.value = "bad", "stdio", "no-such-program-xyz"
        p._w_add.click()
        assert p.status_kind == "error" and "not on PATH" in p.status
        p._w_remove.click()
        assert wb.mcp.list_mcp_servers() == []


def test_pending_approval_is_answered_with_the_panel_buttons(wb, issue):
    with FakeMcpHttpServer(token=TOKEN) as mcp_srv:
        wb.mcp.create_mcp_server("ops", "http", url=mcp_srv.url, auth_type="bearer", auth_value=TOKEN)
        assert wb.mcp.discover_mcp_server("ops").status == "connected"

        def reply(rec):
            if not rec.tool_results:
                return {"tool_calls": [{"name": "mcp_ops_restart_service", "arguments": {"name": "web"}}]}
            return "Restarted."

        with FakeProviderServer("openai", reply_fn=reply) as srv:
            wb.providers.add_provider("p", "openai", srv.url, "gpt-4o-mini", api_key="test-key-0123456789")
            p = _mcp_panel(wb)
            wb.approvals.timeout = 30
            box = {}
            turn = threading.Thread(target=lambda: box.update(res=wb.chat.chat_message(issue.id, "restart web")))
            turn.start()
            deadline = time.monotonic() + 20
            while p.pending_count == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            p.refresh_pending()
            row = p._w_pending.children[0]
            assert "ops.restart_service" in row.children[0].value
            once = row.children[1].children[0]
            assert "tftsr-approve-once" in once._dom_classes
            once.click()
            turn.join(20)
        assert box["res"].tool_calls[0]["decision"] == "allow_once" and box["res"].tool_calls[0]["status"] == "ok"
        assert mcp_srv.calls == [("restart_service", {"name": "web", "force": False})]
        p._w_refresh_pending.click()
        assert "Nothing is waiting" in p._w_pending.children[0].value
