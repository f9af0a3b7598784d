"""Settings: AI providers (add, test, activate), PII types and custom patterns, Ollama models
with pull progress, general settings, and the audit log with its chain status."""

from __future__ import annotations

import json
import threading

import ipywidgets as W

from . import _html
from ._base import Background, Panel, button, changes, guarded, lazy_tabs, service, set_options

AUDIT_ROWS = 50


class SettingsPanel(Panel):
    """Every setting of the workbench, in tabs built on first use."""

    title = "Settings"
    css_class = "tftsr-settings"

    def __init__(self, wb=None):
        super().__init__(wb)
        self._providers = service(self._wb, "providers")
        self._pull = Background()
        self._pull_cancel = threading.Event()
        self._audit = []
        self._verification = None
        self._provider_list = []
        self._models = []
        self._integrations = None  # the Integrations tab's section, built on first use
        self._make_general()
        self._make_pii()
        self._make_ollama()
        self._make_audit()
        if self._providers is not None:
            self._make_providers()

    # -- general --------------------------------------------------------------------------------
    def _make_general(self):
        self._w_default_model = W.Text(description="Default model", layout=W.Layout(width="420px"))
        self._w_system_prompt = W.Textarea(description="Chat prompt", placeholder="Added to every chat's system prompt",
                                           layout=W.Layout(width="95%", height="70px"))
        self._w_max_chars = W.BoundedIntText(description="Analysis chars", min=1000, max=10_000_000,
                                             layout=W.Layout(width="260px"))
        self._w_save_general = button("Save", "tftsr-save-general", style="primary")
        self._w_save_general.on_click(self._on_save_general)

    def _fill_general(self, s):
        self._w_default_model.value = s.get("default_model") or ""
        self._w_system_prompt.value = s.get("chat_system_prompt") or ""
        self._w_max_chars.value = int(s.get("analysis_max_chars") or 60000)

    @guarded
    def _on_save_general(self, _b=None):
        s = self._wb.settings.update_settings({"default_model": self._w_default_model.value.strip(),
                                               "chat_system_prompt": self._w_system_prompt.value,
                                               "analysis_max_chars": int(self._w_max_chars.value)})
        self._fill_general(s)
        self.set_status("Settings saved.", "ok")

    # -- PII ------------------------------------------------------------------------------------
    def _make_pii(self):
        self._w_pii_types = W.VBox([], layout=W.Layout(flex_flow="row wrap", display="flex"))
        self._w_pii_types.add_class("tftsr-pii-type-settings")
        self._w_save_types = button("Save PII types", "tftsr-save-pii-types", style="primary")
        self._w_save_types.on_click(self._on_save_types)
        self._w_patterns = W.Select(options=[], rows=5, layout=W.Layout(width="95%"))
        self._w_patterns.add_class("tftsr-patterns")
        self._w_pattern_name = W.Text(placeholder="Name, e.g. TicketId", layout=W.Layout(width="200px"))
        self._w_pattern_name.add_class("tftsr-pattern-name")
        self._w_pattern_regex = W.Text(placeholder=r"Regular expression, e.g. TCK-\d{6}", layout=W.Layout(width="320px"))
        self._w_pattern_regex.add_class("tftsr-pattern-regex")
        self._w_add_pattern = button("Add pattern", "tftsr-add-pattern", icon="plus")
        self._w_remove_pattern = button("Remove selected", "tftsr-remove-pattern", icon="trash")
        self._w_allowlist = W.Textarea(placeholder="Values never redacted, one per line", layout=W.Layout(width="95%", height="60px"))
        self._w_save_allowlist = button("Save allow-list", "tftsr-save-allowlist")
        self._w_add_pattern.on_click(self._on_add_pattern)
        self._w_remove_pattern.on_click(self._on_remove_pattern)
        self._w_save_allowlist.on_click(self._on_save_allowlist)

    @staticmethod
    def _pii_types():
        from tftsr_kernel.pii import PII_TYPES

        return PII_TYPES

    def _fill_pii(self, s):
        from tftsr_kernel.pii._types import enabled_toggles  # a group ("secrets") checks its toggles

        enabled = set(enabled_toggles(s.get("pii_enabled_types")))
        boxes = []
        for t in self._pii_types():
            cb = W.Checkbox(value=t in enabled, description=t, indent=False,
                            layout=W.Layout(width="160px"))
            cb.add_class(f"tftsr-pii-enable-{t}")
            boxes.append(cb)
        self._w_pii_types.children = boxes
        self._patterns = list(s.get("pii_custom_patterns") or [])
        self._w_patterns.options = [(f"{p['name']}: {_html.one_line(p['pattern'], 80)}", i)
                                    for i, p in enumerate(self._patterns)]
        self._w_remove_pattern.disabled = not self._patterns
        self._w_allowlist.value = "\n".join(s.get("pii_allowlist") or [])

    @property
    def enabled_pii_types(self) -> list[str]:
        return [cb.description for cb in self._w_pii_types.children if cb.value]

    @guarded
    def _on_save_types(self, _b=None):
        chosen = self.enabled_pii_types
        value = None if len(chosen) == len(self._w_pii_types.children) else chosen
        self._fill_pii(self._wb.settings.update_settings({"pii_enabled_types": value}))
        self.set_status(f"PII detection: {len(chosen)} type(s) enabled.", "ok")

    @guarded
    def _on_add_pattern(self, _b=None):
        name, pattern = self._w_pattern_name.value.strip(), self._w_pattern_regex.value
        if not name or not pattern:
            self.set_status("A custom pattern needs a name and a regular expression.", "error")
            return
        s = self._wb.settings.update_settings({"pii_custom_patterns": self._patterns + [{"name": name, "pattern": pattern}]})
        self._w_pattern_name.value = self._w_pattern_regex.value = ""
        self._fill_pii(s)
        self.set_status(f"Pattern {name} added.", "ok")

    @guarded
    def _on_remove_pattern(self, _b=None):
        idx = self._w_patterns.value
        if idx is None:
            self.set_status("Select a pattern to remove.", "error")
            return
        kept = [p for i, p in enumerate(self._patterns) if i != idx]
        self._fill_pii(self._wb.settings.update_settings({"pii_custom_patterns": kept}))
        self.set_status("Pattern removed.", "ok")

    @guarded
    def _on_save_allowlist(self, _b=None):
        values = [v.strip() for v in self._w_allowlist.value.splitlines() if v.strip()]
        self._fill_pii(self._wb.settings.update_settings({"pii_allowlist": values}))
        self.set_status(f"Allow-list saved ({len(values)} value(s)).", "ok")

    # -- Ollama ---------------------------------------------------------------------------------
    def _make_ollama(self):
        self._w_ollama_url = W.Text(description="Ollama URL", layout=W.Layout(width="420px"))
        self._w_ollama_url.add_class("tftsr-ollama-url")
        self._w_ollama_save = button("Save URL", "tftsr-ollama-save")
        self._w_ollama_check = button("Check", "tftsr-ollama-check", icon="refresh")
        self._w_ollama_status = W.HTML()
        self._w_ollama_status.add_class("tftsr-ollama-status")
        self._w_ollama_models = W.Select(options=[], rows=5, layout=W.Layout(width="95%"))
        self._w_ollama_models.add_class("tftsr-ollama-models")
        self._w_ollama_delete = button("Delete model", "tftsr-ollama-delete", style="danger", icon="trash")
        self._w_pull_name = W.Text(placeholder="Model to pull, e.g. llama3.2:3b", layout=W.Layout(width="300px"))
        self._w_pull_name.add_class("tftsr-pull-name")
        self._w_pull = button("Pull", "tftsr-pull", style="primary", icon="download")
        self._w_pull_cancel = button("Cancel", "tftsr-pull-cancel", style="warning")
        self._w_pull_cancel.disabled = True
        self._w_pull_progress = W.FloatProgress(value=0, min=0, max=100, layout=W.Layout(width="300px"))
        self._w_pull_progress.add_class("tftsr-pull-progress")
        self._w_pull_label = W.HTML()
        self._w_pull_label.add_class("tftsr-pull-label")
        self._w_hardware = W.HTML()
        self._w_ollama_save.on_click(self._on_ollama_save)
        self._w_ollama_check.on_click(lambda _b: self.check_ollama())
        self._w_ollama_delete.on_click(self._on_ollama_delete)
        self._w_pull.on_click(self._on_pull)
        self._w_pull_cancel.on_click(lambda _b: self._pull_cancel.set())

    def _ollama(self):
        from tftsr_kernel.ai.ollama import OllamaClient

        return OllamaClient(self._wb.settings.get("ollama_url"))

    @guarded
    def _on_ollama_save(self, _b=None):
        self._wb.settings.update_settings({"ollama_url": self._w_ollama_url.value.strip()})
        self.set_status("Ollama URL saved.", "ok")
        self.check_ollama()

    @guarded
    def check_ollama(self) -> None:
        """Status and installed models of the configured Ollama."""
        with self._ollama() as client:
            st = client.status()
            self._models = client.list_models() if st.running else []
        color = "#2e7d32" if st.running else "#c62828"
        self._w_ollama_status.value = f'<span style="color:{color}">{_html.esc(st.message)}</span>'
        set_options(self._w_ollama_models, [(f"{m.name} ({m.size})", m.name) for m in self._models])
        self._w_ollama_delete.disabled = not self._models

    @property
    def ollama_models(self) -> list[str]:
        return [m.name for m in self._models]

    @guarded
    def _on_ollama_delete(self, _b=None):
        name = self._w_ollama_models.value
        if not name:
            self.set_status("Select a model to delete.", "error")
            return
        with self._ollama() as client:
            client.delete(name)
        self.set_status(f"Deleted {name}.", "ok")
        self.check_ollama()

    @guarded
    def _on_pull(self, _b=None):
        name = self._w_pull_name.value.strip()
        if not name:
            self.set_status("Type a model name to pull.", "error")
            return
        if self._pull.running:
            self.set_status("A pull is already running.", "error")
            return
        self._pull_cancel.clear()
        self._w_pull.disabled = True
        self._w_pull_cancel.disabled = False
        self._w_pull_progress.value = 0
        self._w_pull_label.value = _html.esc(f"Pulling {name}\u2026")
        self._pull.start(self._pull_worker, name)

    def _pull_worker(self, name):
        from tftsr_kernel.errors import TftsrError

        def progress(p):
            if p.percent is not None:
                self._w_pull_progress.value = p.percent
            self._w_pull_label.value = _html.esc(f"{name}: {p.status}" + (f" {p.percent:.0f}%" if p.percent else ""))

        try:
            with self._ollama() as client:
                client.pull(name, progress=progress, cancel=self._pull_cancel)
            self._w_pull_progress.value = 100
            self._w_pull_label.value = _html.esc(f"{name}: done")
            self.set_status(f"Pulled {name}.", "ok")
            self.check_ollama()
        except TftsrError as exc:
            self._w_pull_label.value = ""
            self.set_status(str(exc), "error")
        except Exception as exc:
            self.set_status(f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}", "error")
        finally:
            self._w_pull.disabled = False
            self._w_pull_cancel.disabled = True

    def wait_for_pull(self, timeout: float = 30) -> bool:
        return self._pull.join(timeout)

    def _hardware_html(self) -> str:
        from tftsr_kernel.ai.ollama import detect_hardware, recommend_models

        hw = detect_hardware()
        recs = recommend_models(hw)
        rows = [(r.name, r.size, r.reason, "yes" if r.recommended else "") for r in recs]
        ram = f"{hw.ram_gb:.0f} GB" if hw.ram_gb else "unknown"
        return (f'<div class="tftsr-muted">RAM {_html.esc(ram)} &middot; {_html.esc(hw.cpu_arch)} &middot; '
                f"{hw.cpu_count} CPU(s) &middot; GPU {_html.esc(hw.gpu or 'none')}</div>"
                + _html.table(rows, ["Model", "Size", "Why", "Recommended"]))

    # -- audit ----------------------------------------------------------------------------------
    def _make_audit(self):
        self._w_audit_action = W.Text(placeholder="Filter by action, e.g. ai_chat", continuous_update=False,
                                      layout=W.Layout(width="260px"))
        self._w_audit_user = W.Text(placeholder="Filter by user, e.g. jane", continuous_update=False,
                                    layout=W.Layout(width="200px"))
        self._w_audit_user.add_class("tftsr-audit-user")
        self._w_audit_refresh = button("Refresh", "tftsr-audit-refresh", icon="refresh")
        self._w_audit_chain = W.HTML()
        self._w_audit_chain.add_class("tftsr-audit-chain")
        self._w_audit_table = W.HTML()
        self._w_audit_table.add_class("tftsr-audit-table")
        self._w_audit_action.observe(lambda _c: self.refresh_audit(), names="value")
        self._w_audit_user.observe(lambda _c: self.refresh_audit(), names="value")
        self._w_audit_refresh.on_click(lambda _b: self.refresh_audit())

    @guarded
    def refresh_audit(self) -> None:
        self._audit = self._wb.audit.get_audit_log(action=self._w_audit_action.value.strip() or None,
                                                   user_id=self._w_audit_user.value.strip().lower() or None,
                                                   limit=AUDIT_ROWS)
        self._verification = self._wb.audit.verify()
        v = self._verification
        head = str(self._wb.audit.current_head())
        head_html = ('<div class="tftsr-audit-head tftsr-muted" style="font-size:12px;margin-top:4px">Head: '
                     f'<code style="user-select:all">{_html.esc(head)}</code> &mdash; record it outside this machine; '
                     "later, <code>tftsr verify --expect-head HEAD</code> proves the log was only appended to.</div>")
        if v.ok:
            chain = f'<span style="color:#2e7d32">\u2713 Audit chain intact ({v.entries:,} entries).</span>'
        else:
            where = f" at entry {v.first_bad_id}" if v.first_bad_id else ""
            chain = f'<span style="color:#c62828">\u26a0 Audit chain broken{_html.esc(where)}: {_html.esc(v.reason)}</span>'
        self._w_audit_chain.value = chain + head_html
        self._w_audit_table.value = self._audit_table()

    @property
    def audit_entries(self):
        return list(self._audit)

    @property
    def audit_ok(self) -> bool | None:
        return None if self._verification is None else self._verification.ok

    def _audit_table(self) -> str:
        rows = []
        for e in self._audit:
            details = json.dumps(e.details, indent=2, ensure_ascii=False) if e.details else ""
            cell = (f"<details><summary>details</summary><pre class=\"tftsr-pre\">{_html.esc(details)}</pre></details>"
                    if details else "")
            rows.append((e.timestamp, e.user_id, e.action, e.entity_type, _html.one_line(e.entity_id, 40), cell))
        return _html.table(rows, ["Time (UTC)", "User", "Action", "Entity", "Id", "Details"], raw_columns=(5,))

    # -- providers ------------------------------------------------------------------------------
    def _make_providers(self):
        from tftsr_kernel.ai.providers import PROVIDER_TYPES

        self._w_provider_table = W.HTML()
        self._w_provider_table.add_class("tftsr-provider-table")
        self._w_provider_select = W.Dropdown(options=[], description="Provider", layout=W.Layout(width="360px"))
        self._w_provider_select.add_class("tftsr-provider-select")
        self._w_provider_test = button("Test connection", "tftsr-provider-test", icon="plug")
        self._w_provider_activate = button("Set active", "tftsr-provider-activate", style="success")
        self._w_provider_delete = button("Delete", "tftsr-provider-delete", style="danger", icon="trash")
        self._w_p_name = W.Text(description="Name", layout=W.Layout(width="360px"))
        self._w_p_name.add_class("tftsr-provider-name")
        self._w_p_type = W.Dropdown(options=list(PROVIDER_TYPES), value=PROVIDER_TYPES[0], description="Type")
        self._w_p_type.add_class("tftsr-provider-type")
        self._w_p_url = W.Text(description="API URL", placeholder="e.g. http://127.0.0.1:11434",
                               layout=W.Layout(width="460px"))
        self._w_p_url.add_class("tftsr-provider-url")
        self._w_p_model = W.Text(description="Model", layout=W.Layout(width="360px"))
        self._w_p_model.add_class("tftsr-provider-model")
        self._w_p_key = W.Password(description="API key", placeholder="stored encrypted", layout=W.Layout(width="360px"))
        self._w_p_key.add_class("tftsr-provider-key")
        self._w_p_add = button("Add provider", "tftsr-provider-add", style="primary", icon="plus")
        self._w_provider_test.on_click(self._on_provider_test)
        self._w_provider_activate.on_click(self._on_provider_activate)
        self._w_provider_delete.on_click(self._on_provider_delete)
        self._w_p_add.on_click(self._on_provider_add)

    @guarded
    def refresh_providers(self) -> None:
        p = self._providers
        self._provider_list = p.list_providers()
        active = _active_name(p, self._provider_list)
        rows = [(c.name + (" (active)" if c.name == active else ""), c.provider_type, _provider_url(c), c.model,
                 "set" if c.has_api_key else "-") for c in self._provider_list]
        self._w_provider_table.value = _html.table(rows, ["Name", "Type", "URL", "Model", "Key"])
        set_options(self._w_provider_select, [c.name for c in self._provider_list])
        for w in (self._w_provider_test, self._w_provider_activate, self._w_provider_delete):
            w.disabled = not self._provider_list

    @property
    def providers(self) -> list[str]:
        return [c.name for c in self._provider_list]

    @guarded
    def _on_provider_add(self, _b=None):
        name = self._w_p_name.value.strip()
        self._providers.add_provider(name=name, provider_type=self._w_p_type.value, api_url=self._w_p_url.value.strip(),
                                     model=self._w_p_model.value.strip(), api_key=self._w_p_key.value or None)
        self._w_p_key.value = ""
        self.refresh_providers()
        self._w_provider_select.value = name
        changes.notify("providers", self._wb)  # open chats show it without a reopen
        self.set_status(f"Provider {name} added.", "ok")

    @guarded
    def _on_provider_test(self, _b=None):
        name = self._w_provider_select.value
        res = self._providers.test_provider_connection(name)
        ok = getattr(res, "success", False)
        self.set_status(f"{name}: {getattr(res, 'message', res)}", "ok" if ok else "error")

    @guarded
    def _on_provider_activate(self, _b=None):
        name = self._w_provider_select.value
        self._providers.set_active_provider(name)
        self.refresh_providers()
        changes.notify("providers", self._wb)
        self.set_status(f"{name} is now the active provider.", "ok")

    @guarded
    def _on_provider_delete(self, _b=None):
        name = self._w_provider_select.value
        self._providers.delete_provider(name)
        self.refresh_providers()
        changes.notify("providers", self._wb)
        self.set_status(f"Provider {name} deleted.", "ok")

    # -- build ----------------------------------------------------------------------------------
    def _build(self):
        def general():
            self._fill_general(self._wb.settings.get_settings())
            return W.VBox([self._w_default_model, self._w_system_prompt, self._w_max_chars, self._w_save_general])

        def pii():
            self._fill_pii(self._wb.settings.get_settings())
            return W.VBox([W.HTML("<b>Types to detect</b>"), self._w_pii_types, self._w_save_types,
                           W.HTML("<b>Custom patterns</b>"), self._w_patterns,
                           W.HBox([self._w_pattern_name, self._w_pattern_regex, self._w_add_pattern,
                                   self._w_remove_pattern]),
                           W.HTML("<b>Allow-list</b>"), self._w_allowlist, self._w_save_allowlist])

        def ollama():
            self._w_ollama_url.value = self._wb.settings.get("ollama_url")
            try:
                self._w_hardware.value = self._hardware_html()
            except Exception:
                self._w_hardware.value = '<div class="tftsr-muted">Hardware detection failed.</div>'
            return W.VBox([W.HBox([self._w_ollama_url, self._w_ollama_save, self._w_ollama_check]),
                           self._w_ollama_status, W.HTML("<b>Installed models</b>"), self._w_ollama_models,
                           self._w_ollama_delete, W.HTML("<b>Pull a model</b>"),
                           W.HBox([self._w_pull_name, self._w_pull, self._w_pull_cancel]),
                           W.HBox([self._w_pull_progress, self._w_pull_label]),
                           W.HTML("<b>This machine</b>"), self._w_hardware])

        def audit():
            self.refresh_audit()
            return W.VBox([W.HBox([self._w_audit_action, self._w_audit_user, self._w_audit_refresh]), self._w_audit_chain,
                           self._w_audit_table])

        def providers():
            self.refresh_providers()
            return W.VBox([self._w_provider_table,
                           W.HBox([self._w_provider_select, self._w_provider_test, self._w_provider_activate,
                                   self._w_provider_delete]),
                           W.HTML("<b>Add a provider</b>"), self._w_p_name, self._w_p_type, self._w_p_url,
                           self._w_p_model, self._w_p_key, self._w_p_add])

        def integrations():
            from .integrations import IntegrationsSettings

            self._integrations = IntegrationsSettings(self._wb)
            return self._integrations.layout

        def mcp():  # widgets/mcp.py: MCP servers and the tool calls waiting for approval
            from .mcp import McpPanel

            self.mcp_panel = McpPanel(self._wb)
            return self.mcp_panel.layout

        def shell():  # widgets/shell.py: the chat's shell tool, pending commands, kubeconfigs, policies
            from .shell import ShellSettings

            self.shell_panel = ShellSettings(self._wb)
            return self.shell_panel.layout

        pages = [("PII", pii), ("Ollama", ollama), ("General", general), ("Audit log", audit)]
        if service(self._wb, "integrations") is not None:
            pages.insert(len(pages) - 1, ("Integrations", integrations))
        if service(self._wb, "mcp") is not None:
            pages.insert(len(pages) - 1, ("MCP", mcp))
        if service(self._wb, "shell") is not None:
            pages.insert(len(pages) - 1, ("Shell", shell))
        if self._providers is not None:
            pages.insert(0, ("AI providers", providers))
        self._w_tabs = lazy_tabs(pages, css="tftsr-settings-tabs")
        return W.VBox([W.HTML(_html.style_tag()), self._w_tabs, self._w_status])

    @property
    def integrations(self):
        """The Integrations section (built when its tab is first shown)."""
        return self._integrations

    def select_tab(self, title: str) -> None:
        self.layout  # builds the tabs
        index = list(self._w_tabs.titles).index(title)
        self._w_tabs._tftsr_build(index)
        self._w_tabs.selected_index = index

    def to_html(self) -> str:
        s = self._wb.settings.get_settings()
        rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in s.items()]
        if not self._audit:
            self._audit = self._wb.audit.get_audit_log(limit=AUDIT_ROWS)
            self._verification = self._wb.audit.verify()
        v = self._verification
        chain = (f"Audit chain intact ({v.entries:,} entries)." if v.ok
                 else f"Audit chain broken: {v.reason}")
        return (_html.style_tag() + _html.heading("Settings") + _html.table(rows, ["Setting", "Value"]) +
                _html.heading("Audit log", 4) + f"<div>{_html.esc(chain)}</div>" + self._audit_table())


def _active_name(p, configs) -> str | None:
    for c in configs:
        if c.is_active:
            return c.name
    return None


def _provider_url(c) -> str:
    try:
        from tftsr_kernel.ai._net import display_url

        return display_url(c.api_url or "")
    except Exception:
        return ""
