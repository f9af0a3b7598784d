"""Role checks on every service call: which permission each public service method needs.

:func:`install` wraps the public methods of a workbench's services (on the instances, so the CLI,
the panels, the HTTP API and notebook code all go through the same check). A call made from
*inside* a checked call is not checked again: the outer call is what the actor asked for (a
viewer reading a redacted log makes the PII service read the original internally; the alert
intake, allowed by ``alerts:write``, creates an issue). A public method missing from
:data:`METHOD_PERMISSIONS` needs the admin role (fail closed; ``tests/test_team_guard.py``
checks that every method is listed).

Reads of original (unredacted) content are audited once users exist: one ``read_original`` entry
per call, with what was read, by whom (the audit row's user). In single-user mode only ``local``
can read, and reads are not recorded (as before teams).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging

from .actor import require

log = logging.getLogger("tftsr.team")


def _display(read: str, original: str):
    """``display=True`` restores placeholders to the original values: that is an original read."""
    def rule(args, kwargs):
        return original if kwargs.get("display") else read
    return rule


#: for the kernel's own mechanics (the audit head, pure helpers): no role check
NO_CHECK = "-"


def _unredacted(read: str, original: str):
    """``unredacted=True`` asks for the stored (original) text."""
    def rule(args, kwargs):
        return original if kwargs.get("unredacted") else read
    return rule


#: service attribute -> method -> permission (a name, rule(args, kwargs) -> name, or NO_CHECK)
METHOD_PERMISSIONS: dict[str, dict] = {
    "issues": {
        "count_issues": "issues:read", "get_issue": "issues:read", "get_issue_record": "issues:read",
        "issues_frame": "issues:read", "list_issues": "issues:read", "require": "issues:read",
        "search_issues": "issues:read",
        "create_issue": "issues:write", "update_issue": "issues:write", "delete_issue": "issues:write",
    },
    "attachments": {
        "get_log_file": "logs:read", "list_all_image_attachments": "logs:read", "list_all_log_files": "logs:read",
        "list_image_attachments": "logs:read", "list_log_files": "logs:read",
        "get_log_file_bytes": "logs:read_original", "get_log_file_content": "logs:read_original",
        "get_image_attachment_data": "logs:read_original",
        "upload_image_attachment": "uploads:write", "upload_image_attachment_by_content": "uploads:write",
        "upload_log_file": "uploads:write", "upload_log_file_by_content": "uploads:write",
        # chunked dashboard uploads and server-path import (inside the admin's log_import_dirs)
        "begin_log_upload": "uploads:write", "begin_image_upload": "uploads:write",
        "import_server_log": "uploads:write",
        "upload_paste_image": "uploads:write", "delete_image_attachment": "uploads:write",
        "delete_log_file": "uploads:write",
    },
    "timeline": {"get_timeline_events": "timeline:read", "timeline_frame": "timeline:read",
                 "get_timeline_event": "timeline:read", "get_event_history": "timeline:read",
                 "incident_metrics": "timeline:read",
                 "add_timeline_event": "timeline:write", "edit_timeline_event": "timeline:write",
                 "delete_timeline_event": "timeline:write"},
    "audit": {"get_audit_log": "audit:read", "verify": "database:manage", "write_audit_event": "timeline:write",
              "bind": NO_CHECK, "current_head": NO_CHECK, "ensure_head": NO_CHECK, "publish_head": NO_CHECK},
    "settings": {"get": "providers:read", "get_settings": "providers:read", "parse_cli_value": "providers:read",
                 "update_settings": "settings:manage"},
    "whys": {"get_five_why": "issues:read", "list_five_whys": "issues:read", "root_cause": "issues:read",
             "add_five_why": "whys:write", "update_five_why": "whys:write", "record_root_cause": "whys:write"},
    "pii": {
        "config": "logs:read", "enabled_types": "logs:read", "get_redacted_content": "logs:read",
        "redacted_view": "logs:read",
        "redact_for_egress": "logs:read", "egress_log": "logs:read", "guard_outbound": "logs:read",
        "redact_derived": "logs:read",
        "review_state": "logs:read", "mark_reviewed": NO_CHECK, "released_by_log": "pii:review",
        "detect_pii": "pii:review", "apply_redactions": "pii:review", "list_spans": "pii:review",
        "preview_redaction": "pii:review", "summarize": "pii:review",
        "placeholder_map": "logs:read_original", "restore_placeholders": "logs:read_original",
        "set_type_enabled": "settings:manage",
    },
    "providers": {"active_provider": "providers:read", "get_provider": "providers:read",
                  "list_providers": "providers:read", "client": "chat:write", "test_provider_connection": "chat:write",
                  "add_provider": "providers:manage", "update_provider": "providers:manage",
                  "delete_provider": "providers:manage", "set_active_provider": "providers:manage"},
    "chat": {"current_why_level": "chat:read", "list_conversations": "chat:read",
             "conversation_provider": "chat:read", "current_conversation": "chat:read", "system_prompt": "chat:read",
             "set_conversation_provider": "chat:write",
             "list_messages": _display("chat:read", "logs:read_original"),
             "list_tool_calls": _display("chat:read", "logs:read_original"),
             "analyze_logs": "chat:write", "chat_message": "chat:write", "new_conversation": "chat:write"},
    # log templates are mined from the original text (a template keeps the words that never vary,
    # names and addresses included): analysts only, like the original log
    "logs": {"get_log_templates": "logs:read_original", "mine_log_templates": "logs:read_original",
             "template_summary": "logs:read_original", "has_log_templates": "logs:read"},
    "documents": {"current_version": "documents:read", "get_document": "documents:read",
                  "get_document_version": "documents:read", "incident_data": "documents:read",
                  "list_document_versions": "documents:read", "list_documents": "documents:read",
                  "render_html": "documents:read",
                  "generate_postmortem": "documents:write", "generate_rca": "documents:write",
                  "update_document": "documents:write", "export_document": "export",
                  "export_view": _unredacted("documents:read", "logs:read_original")},
    # MCP: configuring servers is an admin's (integrations:manage); using their tools in chat,
    # or calling one directly, is an analyst's (chat:write)
    "mcp": {"list_mcp_servers": "providers:read", "get_mcp_server": "providers:read",
            "get_mcp_server_status": "providers:read", "list_mcp_tools": "providers:read",
            "list_mcp_resources": "providers:read",
            "create_mcp_server": "integrations:manage", "update_mcp_server": "integrations:manage",
            "delete_mcp_server": "integrations:manage", "toggle_mcp_server": "integrations:manage",
            "discover_mcp_server": "integrations:manage", "set_tool_approval": "integrations:manage",
            "call_tool": "chat:write", "read_mcp_resource": "chat:write", "close": NO_CHECK,
            # OAuth2 sign-in is configuration; its callback needs no role (the single-use state is the proof)
            "begin_login": "integrations:manage", "complete_login": NO_CHECK},
    "approvals": {"pending": "chat:read", "session_allows": "chat:read", "decide": "chat:write",
                  "request": "chat:write", "new_session": "chat:write"},
    "secrets": {"encrypt": "settings:manage", "decrypt": "settings:manage"},
    # integrations: configuring them is the admin's; publishing and tickets send an
    # investigation's text out, like an export (analysts); unredacted sends read the originals.
    # complete_login needs no role: the single-use state an admin's begin_login made is the proof.
    "integrations": {
        "add_integration": "integrations:manage", "remove_integration": "integrations:manage",
        "test_connection": "integrations:manage", "begin_login": "integrations:manage",
        "complete_login": NO_CHECK,
        "list_integrations": "providers:read", "get_integration": "providers:read",
        "tickets_for_issue": "issues:read", "pages_for_issue": "documents:read",
        "pages_for_document": "documents:read",
        "list_confluence_spaces": "export", "search_confluence_pages": "export",
        "search_servicenow_incidents": "export", "get_servicenow_incident": "export",
        "search_azuredevops_workitems": "export", "get_azuredevops_workitem": "export",
        "preview_publish": _unredacted("export", "logs:read_original"),
        "publish_to_confluence": _unredacted("export", "logs:read_original"),
        "update_confluence_page": _unredacted("export", "logs:read_original"),
        "create_servicenow_incident": _unredacted("export", "logs:read_original"),
        "update_servicenow_incident": _unredacted("export", "logs:read_original"),
        "create_azuredevops_workitem": _unredacted("export", "logs:read_original"),
        "update_azuredevops_workitem": _unredacted("export", "logs:read_original"),
    },
    # notification channels are configured by admins; emit is the kernel's own step after a change
    "notifications": {"add_channel": "integrations:manage", "remove_channel": "integrations:manage",
                      "test_channel": "integrations:manage", "list_channels": "providers:read",
                      "get_channel": "providers:read", "list_deliveries": "providers:read", "emit": NO_CHECK,
                      "emit_later": NO_CHECK, "drain": NO_CHECK},
    # shell and kubectl: approving checks the action's level inside (analyst or admin)
    "shell": {"classify": "shell:classify",
              "run_shell_command": "shell:run", "list_actions": "shell:run", "get_action": "shell:run",
              "get_execution": "shell:run", "end_session": "shell:run",
              "approve": "shell:approve", "deny": "shell:approve",
              "add_policy": "shell:manage", "list_policies": "shell:manage", "remove_policy": "shell:manage",
              "set_policy_enabled": "shell:manage",
              "add_site_command": "shell:manage", "list_site_commands": "shell:classify",
              "remove_site_command": "shell:manage",
              "add_kubeconfig": "shell:manage", "list_kubeconfigs": "shell:manage",
              "use_kubeconfig": "shell:manage", "remove_kubeconfig": "shell:manage",
              "save_sudo_credentials": "shell:manage", "clear_sudo_credentials": "shell:manage",
              "test_sudo_credentials": "shell:manage", "list_sudo_configs": "shell:manage",
              "get_sudo_config": "shell:run"},
}

#: (service, method) whose successful call is an original read, audited with the first argument
AUDITED_READS = {
    ("attachments", "get_log_file_bytes"): "log_file", ("attachments", "get_log_file_content"): "log_file",
    ("attachments", "get_image_attachment_data"): "image_attachment",
    ("pii", "placeholder_map"): "issue", ("pii", "restore_placeholders"): "issue",
    ("chat", "list_messages"): "issue", ("chat", "list_tool_calls"): "issue", ("documents", "export_view"): "document",
}

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("tftsr_guarded_call", default=False)


@contextlib.contextmanager
def internal():
    """Calls made here are the kernel's own steps of an operation it already allowed (or one
    that needs no role, such as recording a failed sign-in): not checked again."""
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


def public_methods(service) -> list[str]:
    return sorted(n for n, v in inspect.getmembers(type(service))
                  if not n.startswith("_") and callable(v) and not isinstance(v, type))


def _wrap(wb, service_name: str, method: str, fn, rule):
    audited = AUDITED_READS.get((service_name, method))

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        if _inside.get():
            return fn(*args, **kwargs)
        permission = rule(args, kwargs) if callable(rule) else rule
        actor = require(wb.team.actor, permission)
        token = _inside.set(True)
        try:
            result = fn(*args, **kwargs)
            # team mode: every read of an original names its reader (single-user mode: only local reads)
            if audited and permission == "logs:read_original" and not actor.is_local:
                target = str(args[0] if args else kwargs.get(next(iter(kwargs), ""), ""))[:100]
                wb.audit.write_audit_event("read_original", audited, target,
                                           {"via": f"{service_name}.{method}", "actor_via": actor.via})
            return result
        finally:
            _inside.reset(token)

    checked.permission = rule
    return checked


def guard(wb, service_name: str, service):
    """Wrap ``service``'s public methods with the role check; returns the service."""
    table = METHOD_PERMISSIONS.get(service_name, {})
    for method in public_methods(service):
        rule = table.get(method)
        if rule == NO_CHECK:
            continue
        if rule is None:
            log.warning("%s.%s has no permission in team/guard.py; it needs the admin role", service_name, method)
            rule = "users:manage"
        setattr(service, method, _wrap(wb, service_name, method, getattr(service, method), rule))
    return service


def install(wb, names=("issues", "attachments", "timeline", "audit", "settings", "whys", "secrets")) -> None:
    """Guard the services the workbench built at start (the lazy ones are guarded as they load)."""
    for name in names:
        guard(wb, name, getattr(wb, name))
