"""ipywidgets panels: thin views over tftsr_kernel. No SQL here.

    from widgets import Dashboard, IssueList, LogsPanel, WhysPanel
    Dashboard()                       # the Voila app
    LogsPanel(issue_id)               # one panel of an incident notebook

Each panel is a plain class composing ipywidgets: ``.layout`` is the root widget, public values
are properties, and displaying a panel also carries a static HTML/Markdown rendering so an
nbconvert export shows the content without a kernel. Kernel errors appear in the panel's status
line, never as a traceback.
"""

from __future__ import annotations

_EXPORTS = {
    "Panel": "._base",
    "get_wb": "._base",
    "IssueList": ".issues",
    "IssueHeader": ".issues",
    "LogsPanel": ".logs",
    "WhysPanel": ".whys",
    "TimelinePanel": ".timeline",
    "HistoryPanel": ".history",
    "SettingsPanel": ".settings",
    "ChatPanel": ".chat",
    "DocumentsPanel": ".documents",
    "IncidentView": ".dashboard",
    "Dashboard": ".dashboard",
    "resolve_issue_id": ".incident",
    "incident_panel": ".incident",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")
