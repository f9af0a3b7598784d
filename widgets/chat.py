"""Chat: provider picker, streaming reply with a stop button, attach logs, sanitised Markdown,
placeholders restored for local display; and log analysis.

A message that could not be sent (a provider error, a blocked egress) goes back into the box to
retry; the question stays on screen while the reply streams; Ctrl+Enter sends
(:class:`widgets.keys.SubmitKey`); attached logs show as chips with their redaction state and the
text exactly as the model received it one click away; the provider list follows the Settings
panel (``changes.notify("providers")``) and the reload button."""

from __future__ import annotations

import threading
import time

import ipywidgets as W

from tftsr_kernel.ai.transcript import split_attachments
from tftsr_kernel.errors import CancelledError, TftsrError

from . import _html
from ._base import Background, Panel, button, changes, guarded, may
from .chat_tools import TOOLS_CSS, ToolActivity, place_tool_calls, tool_call_html
from .keys import SubmitKey

USER_PREVIEW = 1_500       # characters of a (long) user message shown in the transcript
STREAM_REFRESH_S = 0.1     # at most ten live updates a second
#: how each attachable log would leave, by ``wb.pii.review_state(...)["state"]``
_ATTACH_NOTE = {"unreviewed": "redacted automatically", "redacted": "redacted after review",
                "partly_released": "partly released by the reviewer", "clean": "reviewed, no PII",
                "released": "sent unredacted: reviewer's choice"}
_CHIP_COLORS = {"redacted": ("#e8f5e9", "#1b5e20"), "no PII found": ("#eceff1", "#37474f"),
                "partly original": ("#fff3e0", "#e65100"), "original": ("#ffebee", "#b71c1c")}
CHAT_CSS = """
.tftsr-attachment{margin:4px 0}
.tftsr-attachment>summary{cursor:pointer;list-style:none;display:inline-block}
.tftsr-attachment>summary::-webkit-details-marker{display:none}
.tftsr-chip{display:inline-block;border:1px solid #cfd8dc;border-radius:12px;padding:1px 8px;font-size:12px;
 background:#fff;margin-right:4px}
.tftsr-chip-state{border-radius:8px;padding:0 6px;margin-left:4px;font-size:11px;font-weight:600}
.tftsr-attachment[open]>summary .tftsr-chip{border-color:#90a4ae}
.tftsr-attachment-note{margin:2px 0 2px 2px}
"""


class ChatPanel(Panel):
    """The investigation chat of one incident. Replies stream in; Stop cancels the request."""

    title = "AI chat"
    css_class = "tftsr-chat"

    def __init__(self, issue_id: str, wb=None, *, on_reply=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._wb.issues.require(issue_id)
        self._chat = self._wb.chat
        self._providers = self._wb.providers
        self._on_reply = on_reply
        self._job = Background()
        self._cancel = threading.Event()
        self._live = ""
        self._last_push = 0.0
        self._messages = []
        self._last_response = None
        self._analysis = None

        self._pending_user: str | None = None
        self._pending_logs: list[str] = []
        self._tool_calls: list[dict] = []  # stored calls of the conversation (placeholders)
        self._tools = ToolActivity(self._wb, on_status=self.set_status, on_change=self._push_live)
        self._w_provider = W.Dropdown(options=[], description="Provider", layout=W.Layout(width="360px"))
        self._w_provider.add_class("tftsr-chat-provider")
        self._w_reload = button("", "tftsr-chat-reload", icon="refresh", tooltip="Reload the providers and logs",
                                width="36px")
        self._w_transcript = W.HTML()
        self._w_transcript.add_class("tftsr-chat-transcript")
        self._w_live = W.HTML()
        self._w_live.add_class("tftsr-chat-live")
        self._w_message = W.Textarea(placeholder="Describe the symptom, ask why, or paste an error",
                                     layout=W.Layout(width="95%", height="70px"))
        self._w_message.add_class("tftsr-chat-input")
        self._w_key = SubmitKey(self._on_submit_key)  # Ctrl+Enter in the box sends
        self._w_message.add_class(self._w_key.target)
        self._w_attach = W.SelectMultiple(options=[], rows=3, description="Attach logs",
                                          layout=W.Layout(width="60%"))
        self._w_attach.add_class("tftsr-chat-attach")
        from .mcp import ResourcePicker  # "Attach resource": an MCP server's resource, redacted when sent

        self._w_resources = ResourcePicker(self._wb)
        self._w_send = button("Send", "tftsr-chat-send", style="primary", icon="paper-plane")
        self._w_stop = button("Stop", "tftsr-chat-stop", style="warning", icon="stop")
        self._w_stop.disabled = True
        self._w_analyze = button("Analyse attached logs", "tftsr-chat-analyze", icon="search")
        self._w_hint = W.HTML('<span class="tftsr-muted">Ctrl+Enter sends</span>')
        self._w_analysis = W.HTML()
        self._w_analysis.add_class("tftsr-chat-analysis")

        self._w_provider.observe(self._on_provider, names="value")
        self._w_send.on_click(self._on_send)
        self._w_stop.on_click(self._on_stop)
        self._w_analyze.on_click(self._on_analyze)
        self._w_reload.on_click(lambda _b: self.refresh())
        changes.subscribe("providers", self.refresh_providers)  # a provider added in Settings shows here
        self.refresh()

    # -- public values --------------------------------------------------------------------------
    @property
    def messages(self):
        """The conversation as shown (placeholders restored)."""
        return list(self._messages)

    @property
    def live_text(self) -> str:
        """The reply streaming in right now (empty when idle)."""
        return self._live

    @property
    def busy(self) -> bool:
        return self._job.running

    @property
    def draft(self) -> str:
        """What is in the message box (a message that could not be sent is put back here)."""
        return self._w_message.value

    @property
    def providers(self) -> list[str]:
        """The provider names the picker offers."""
        return [v for _, v in self._w_provider.options]

    @property
    def last_response(self):
        return self._last_response

    @property
    def approval_cards(self):
        """The approval cards of the turn in flight (:class:`widgets.chat_tools.ApprovalCard`)."""
        return list(self._tools.cards)

    @property
    def tool_calls(self) -> list[dict]:
        """The conversation's stored tool calls, as the transcript shows them (placeholders)."""
        return list(self._tool_calls)

    def wait(self, timeout: float = 30) -> bool:
        """Wait for a running reply or analysis (for scripts and tests)."""
        return self._job.join(timeout)

    # -- build ----------------------------------------------------------------------------------
    def _build(self):
        return W.VBox([W.HTML(_html.style_tag() + f"<style>{CHAT_CSS}</style>"),
                       W.HBox([self._w_provider, self._w_reload]), self._w_transcript, self._w_live,
                       self._tools.layout,
                       self._w_message, self._w_key, self._w_attach, self._w_resources.layout,
                       W.HBox([self._w_send, self._w_stop, self._w_analyze, self._w_hint]), self._w_analysis,
                       self._w_status])

    @guarded
    def refresh(self) -> None:
        """Reload the providers, the attachable logs and the conversation."""
        self.refresh_providers()
        logs = self._wb.attachments.list_log_files(self.issue_id)
        keep = set(self._w_attach.value)
        self._w_attach.options = [(_html.one_line(l.file_name, 50) + f" ({_ATTACH_NOTE[self._wb.pii.review_state(l.id)['state']]})",
                                   l.id) for l in logs]
        self._w_attach.value = tuple(i for _, i in self._w_attach.options if i in keep)
        self._w_resources.refresh()
        self._reload_transcript()

    @guarded
    def refresh_providers(self) -> None:
        """Reload the provider picker (called when Settings adds, activates or deletes one)."""
        providers = self._providers.list_providers()
        current = self._chat.conversation_provider(self.issue_id)  # this conversation's, else the active one
        self._syncing = True
        try:
            self._w_provider.options = [(f"{p.name} ({p.provider_type}, {p.model})", p.name) for p in providers]
            self._w_provider.value = current if current in {p.name for p in providers} else None
        finally:
            self._syncing = False
        self._w_send.disabled = self._w_analyze.disabled = not providers or self.busy
        self._w_key.disabled = not providers
        if not providers:
            self.set_status("No AI provider is configured: add one under Settings \u2192 AI providers.", "error")
        elif self.status.startswith("No AI provider is configured"):
            self.set_status(f"{len(providers)} provider(s) available; this conversation uses {current}.", "ok")

    def _reload_transcript(self) -> None:
        # originals restored only for those who may read them (viewers read what the model saw)
        shown = self._chat.list_messages(self.issue_id, display=may(self._wb, "logs:read_original"))
        sent = {m.id: m for m in self._chat.list_messages(self.issue_id)}
        self._messages = shown
        self._tool_calls = self._chat.list_tool_calls(self.issue_id) if may(self._wb, "chat:read") else []
        self._w_transcript.value = self._transcript_html(sent)

    def _transcript_html(self, sent: dict | None = None) -> str:
        if not self._messages:
            return ('<div class="tftsr-muted">No messages yet. Describe what you see; the assistant walks '
                    "the 5-Whys with you. Text and logs are PII-redacted before they leave (except values a reviewer "
                    "rejected).</div>")
        note = ('<div class="tftsr-muted tftsr-chat-restored-note">Shown on this machine with the original values '
                "restored; the model saw placeholders such as [Email_1] instead (each attached log says how it "
                "left).</div>" if may(self._wb, "logs:read_original") else
                '<div class="tftsr-muted tftsr-chat-redacted-note">Shown as the model saw it: personal data and '
                "secrets are placeholders such as [Email_1] (your role reads redacted conversations).</div>")
        return note + _messages_html(self._messages, "You", sent or {}, self._tool_calls)

    # -- handlers -------------------------------------------------------------------------------
    @guarded
    def _on_provider(self, change):
        if getattr(self, "_syncing", False) or not change["new"]:
            return
        self._chat.set_conversation_provider(self.issue_id, change["new"])
        self.set_status(f"This conversation now uses {change['new']} (the default provider is unchanged).", "ok")

    @guarded
    def _on_send(self, _b=None):
        message = self._w_message.value.strip()
        if not message:
            self.set_status("Type a message first.", "error")
            return
        if self.busy:
            self.set_status("Wait for the current reply, or stop it.", "error")
            return
        attach = list(self._w_attach.value)
        self._cancel.clear()
        self._live = ""
        self._pending_user = message
        self._pending_logs = [label.rsplit(" (", 1)[0] for label, value in self._w_attach.options if value in attach]
        resources = self._w_resources.value
        self._pending_logs += self._w_resources.labels
        self._tools.reset()
        if not self._messages:  # the "No messages yet" hint would sit above the first question
            self._w_transcript.value = ""
        self._w_live.value = self._live_html(pending=True)
        self._w_message.value = ""  # shown above the reply now; put back if the send fails
        self._set_busy(True)
        self.set_status("Waiting for the assistant\u2026", "busy")
        self._job.start(self._send_worker, message, attach, resources)

    def _on_submit_key(self, text: str) -> None:
        """Ctrl+Enter in the message box: the box's text, then Send."""
        if self.busy or self._w_send.disabled:
            return
        self._w_message.value = text
        self._on_send()

    def send(self, message: str, attach_log_ids=(), *, wait: bool = True, timeout: float = 60) -> None:
        """Type ``message`` (and pick logs) and press Send; by default wait for the reply."""
        self._w_message.value = message
        self._w_attach.value = tuple(attach_log_ids)
        self._w_send.click()
        if wait:
            self.wait(timeout)

    def _unsent(self, message: str) -> None:
        """The send failed: the message goes back in the box (before anything typed since)."""
        typed = self._w_message.value
        self._w_message.value = message if not typed.strip() else f"{message}\n\n{typed}"

    def _send_worker(self, message, attach, resources=()):
        try:
            resp = self._chat.chat_message(self.issue_id, message, attach_log_ids=attach, on_chunk=self._on_chunk,
                                           cancel=self._cancel, approver=self._tools.approver,
                                           on_tool=lambda ev: self._tools.on_tool(ev, len(self._live)),
                                           attach_resources=resources)
            self._last_response = resp
            if resources:
                self._w_resources.clear()
            note = f"Why level {resp.why_level}." if resp.why_level else "Reply received."
            if resp.pii_redacted:
                note += f" {resp.pii_redacted} PII value(s) were redacted before sending."
            for a in resp.attachments:
                if a["state"] in ("released", "partly_released"):
                    note += f" {a['file_name']}: {a['label']}."
            if resp.root_cause:
                note += " Root cause identified."
            self.set_status(note, "ok")
        except CancelledError:  # the question and the partial reply were stored
            self.set_status("Stopped. The partial reply was kept.", "info")
        except TftsrError as exc:
            self._unsent(message)
            self.set_status(f"{exc} Your message is still in the box: send it again when ready.", "error")
        except Exception as exc:
            self._unsent(message)
            self.set_status(f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}. "
                            "Your message is still in the box.", "error")
        finally:
            try:
                self._reload_transcript()
                if self._on_reply:
                    self._on_reply(self._last_response)
            except Exception as exc:
                self.set_status(f"Could not reload the conversation: {_html.one_line(str(exc), 200)}", "error")
            finally:
                self._pending_user = None
                self._live = ""
                self._w_live.value = ""
                self._tools.finish()
                self._set_busy(False)

    def _on_chunk(self, text: str) -> None:
        self._live += text
        now = time.monotonic()
        if now - self._last_push >= STREAM_REFRESH_S:
            self._last_push = now
            self._w_live.value = self._live_html()

    def _live_html(self, pending: bool = False) -> str:
        """The question being answered (it stays while the reply streams) and the reply so far."""
        head = ""
        user = self._pending_user
        if user is not None:
            logs = "".join(f'<span class="tftsr-chip">{_html.esc(name)}<span class="tftsr-muted"> sending</span></span>'
                           for name in self._pending_logs)
            head = (f'<div class="tftsr-msg user"><b>You</b><div style="white-space:pre-wrap">'
                    f"{_html.esc(user[:USER_PREVIEW])}</div>{logs}</div>")
        body = "\u2026" if pending and not self._live else _html.esc(self._live)
        if self._tools.entries:  # tool calls so far, each where it happened in the reply
            return (head + '<div class="tftsr-msg assistant tftsr-streaming"><b>Assistant</b>'
                    f"{self._tools.interleave(self._live)}</div>")
        return (head + '<div class="tftsr-msg assistant tftsr-streaming"><b>Assistant</b>'
                f'<div style="white-space:pre-wrap">{body}</div></div>')

    def _push_live(self) -> None:
        """A tool call started or ended: show it now (not throttled like the text)."""
        self._w_live.value = self._live_html()

    def _on_stop(self, _b=None):
        self._cancel.set()
        self.set_status("Stopping\u2026", "busy")

    def _set_busy(self, busy: bool):
        self._w_send.disabled = busy
        self._w_analyze.disabled = busy
        self._w_stop.disabled = not busy
        self._w_key.disabled = busy

    @guarded
    def _on_analyze(self, _b=None):
        logs = list(self._w_attach.value)
        if not logs:
            self.set_status("Pick one or more logs under 'Attach logs' to analyse.", "error")
            return
        if self.busy:
            return
        self._cancel.clear()
        self._set_busy(True)
        self.set_status("Analysing the redacted logs\u2026", "busy")
        self._job.start(self._analyze_worker, logs)

    def _analyze_worker(self, logs):
        try:
            rep = self._chat.analyze_logs(self.issue_id, logs, cancel=self._cancel)
            self._analysis = rep
            findings = "".join(f"<li>{_html.esc(f)}</li>" for f in rep.key_findings)
            note = f'<div class="tftsr-muted">{_html.esc(rep.note)}</div>' if rep.note else ""
            self._w_analysis.value = (
                f'<div class="tftsr-msg assistant"><b>Log analysis</b><p>{_html.esc(rep.summary)}</p>'
                f"<ul>{findings}</ul><p><b>First why:</b> {_html.esc(rep.first_why)}</p>"
                f"<p><b>Suggested severity:</b> {_html.esc(rep.severity_suggestion)}</p>{note}</div>")
            self.set_status("Analysis ready.", "ok")
        except CancelledError:
            self.set_status("Analysis stopped.", "info")
        except TftsrError as exc:
            self.set_status(str(exc), "error")
        except Exception as exc:
            self.set_status(f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}", "error")
        finally:
            self._set_busy(False)

    # -- static ---------------------------------------------------------------------------------
    def to_html(self) -> str:
        """The conversation as the model saw it (placeholders, not the original values): static
        renderings end up in shared reports."""
        msgs = self._chat.list_messages(self.issue_id)
        if not msgs:
            return _html.style_tag() + _html.heading("AI chat") + '<div class="tftsr-muted">No conversation.</div>'
        calls = self._chat.list_tool_calls(self.issue_id)
        return (_html.style_tag() + f"<style>{CHAT_CSS}{TOOLS_CSS}</style>" + _html.heading("AI chat")
                + _messages_html(msgs, "User", {m.id: m for m in msgs}, calls))

    def _repr_markdown_(self) -> str:
        msgs = self._chat.list_messages(self.issue_id)
        return (f"### AI chat\n\n{len(msgs)} message(s) in the conversation, as sent to the model "
                "(each attached log says whether it was redacted).")


def _messages_html(messages, user_label: str, sent: dict, tool_calls=()) -> str:
    """User text escaped (long messages cut) with its attached logs as chips; assistant replies
    as sanitised Markdown. ``sent`` maps message ids to the stored (as sent) messages: a chip
    shows the log exactly as the model received it, whatever the rest of the view restores.
    ``tool_calls`` (``wb.chat.list_tool_calls``) show before the reply of their turn."""
    out = []
    before, after = place_tool_calls(messages, tool_calls)
    for i, m in enumerate(messages):
        out.extend(tool_call_html(c) for c in before.get(m.id, ()))
        if m.role == "user":
            text, _shown = split_attachments(m.content)
            as_sent = sent.get(m.id)
            _, attachments = split_attachments(as_sent.content) if as_sent is not None else ("", [])
            text = text if len(text) <= USER_PREVIEW else text[:USER_PREVIEW] + "\u2026"
            out.append(f'<div class="tftsr-msg user"><b>{user_label}</b><div style="white-space:pre-wrap">'
                       f"{_html.esc(text)}</div>{''.join(_chip(a) for a in attachments)}</div>")
        elif m.role == "assistant":
            out.append(f'<div class="tftsr-msg assistant"><b>Assistant</b>{_html.markdown(m.content)}</div>')
        out.extend(tool_call_html(c) for c in after.get(i, ()))
    return "".join(out)


def _chip(att) -> str:
    """One attached log: a chip (name, redaction state) that opens to the text as sent."""
    state = att.state
    bg, fg = _CHIP_COLORS.get(state, ("#eceff1", "#37474f"))
    lines = att.text.count("\n") + 1 if att.text else 0
    slug = state.replace(" ", "-").lower()
    return (f'<details class="tftsr-attachment tftsr-attachment-{_html.esc(slug)}"><summary>'
            f'<span class="tftsr-chip" title="{_html.esc(att.label)}">{_html.esc(_html.one_line(att.name, 60))}'
            f'<span class="tftsr-chip-state" style="background:{bg};color:{fg}">{_html.esc(state)}</span>'
            f'<span class="tftsr-muted"> {lines:,} line(s)</span></span></summary>'
            f'<div class="tftsr-muted tftsr-attachment-note">{_html.esc(att.label)}. Exactly as the model received '
            f"it:</div>{_html.pre(att.text)}</details>")
