"""The chat's tool calls and approval cards (kept out of ``chat.py``, which composes them).

:class:`ToolActivity` is handed to ``wb.chat.chat_message`` as ``on_tool`` (each call and its
result, shown inline in the live reply) and ``approver`` (an ``ask`` call gets an
:class:`ApprovalCard` with Allow once / Allow for this session / Deny wired to
``wb.approvals.decide``; the approver returns None, so the kernel waits for the buttons or its
timeout). :func:`tool_call_html` renders one call, live or stored (``wb.chat.list_tool_calls``).

Tool arguments and results are hostile text (a tool may return HTML or script): everything goes
through :func:`widgets._html.esc` / :func:`widgets._html.pre`. What is shown is what the model
sent and received: placeholders such as ``[Email_1]``, never the restored values.
"""

from __future__ import annotations

import json
import threading
import time

import ipywidgets as W

from tftsr_kernel.errors import TftsrError

from . import _html
from ._base import button, may

#: a result longer than this (characters or lines) is collapsed behind its first line
COLLAPSE_CHARS = 600
COLLAPSE_LINES = 8
TICK_S = 1.0
DECISION_TEXT = {"auto": "ran without asking", "allow_once": "allowed once", "allow_session": "allowed for this session",
                 "deny": "denied", "timeout": "not answered in time: denied", "policy_deny": "refused by policy"}
STATUS_COLORS = {"ok": ("#e8f5e9", "#1b5e20"), "error": ("#fff3e0", "#bf360c"), "denied": ("#ffebee", "#b71c1c"),
                 "running": ("#e3f2fd", "#0d47a1")}
TIER_COLORS = {1: ("#e8f5e9", "#1b5e20"), 2: ("#fff8e1", "#8d6e00"), 3: ("#ffebee", "#b71c1c")}
#: the permission an approver needs, by the shell action's approval level
LEVEL_PERMISSION = {"analyst": "shell:approve", "admin": "shell:approve_admin"}
TOOLS_CSS = """
.tftsr-tool{border:1px solid #cfd8dc;border-left:3px solid #78909c;border-radius:3px;background:#fcfcfc;
 margin:6px 0;padding:4px 8px;font-size:12px}
.tftsr-tool-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px}
.tftsr-tool-name{font-family:monospace;font-weight:600}
.tftsr-tool-tag{border-radius:8px;padding:0 6px;font-size:11px;font-weight:600}
.tftsr-tool .tftsr-pre{max-height:260px;margin:3px 0}
.tftsr-tool-cmd{font-family:monospace;white-space:pre-wrap;word-break:break-all;background:#263238;color:#eceff1;
 padding:3px 6px;border-radius:3px;margin:3px 0;line-height:1.45}
.tftsr-tool>div,.tftsr-approval-card .widget-html-content>div{line-height:1.45}
.tftsr-tool-result>summary{cursor:pointer;color:#455a64}
.tftsr-approval-card{border:1px solid #ffb300;border-left:4px solid #ff8f00;background:#fffdf5;border-radius:4px;
 padding:6px 10px;margin:6px 0}
.tftsr-approval-card.tftsr-approval-done{border-color:#cfd8dc;border-left-color:#90a4ae;background:#fafafa}
.tftsr-approval-card .tftsr-pre{max-height:200px}
.tftsr-approval-countdown{font-size:12px}
"""


def _tag(text: str, colors: tuple[str, str], css: str = "") -> str:
    bg, fg = colors
    return (f'<span class="tftsr-tool-tag {_html.esc(css)}" style="background:{bg};color:{fg}">'
            f"{_html.esc(text)}</span>")


def tier_badge(tier) -> str:
    try:
        t = int(tier)
    except (TypeError, ValueError):
        return ""
    return _tag(f"tier {t}", TIER_COLORS.get(t, ("#eceff1", "#37474f")), f"tftsr-tier-{t}")


def _parse_args(arguments) -> object:
    if isinstance(arguments, (dict, list)):
        return arguments
    try:
        return json.loads(arguments) if arguments else {}
    except (TypeError, ValueError):
        return arguments  # shown as the text the model sent


def _arguments_html(tool: str, arguments) -> str:
    args = _parse_args(arguments)
    if tool == "run_shell_command" and isinstance(args, dict) and isinstance(args.get("command"), str):
        out = f'<div class="tftsr-tool-cmd">$ {_html.esc(args["command"][:4000])}</div>'
        if isinstance(args.get("reason"), str) and args["reason"].strip():
            out += f'<div class="tftsr-muted">Why (the model): {_html.esc(_html.one_line(args["reason"], 400))}</div>'
        return out
    if args in ({}, None, ""):
        return '<div class="tftsr-muted">No arguments.</div>'
    text = args if isinstance(args, str) else json.dumps(args, indent=1, ensure_ascii=False)
    return '<div class="tftsr-muted">Arguments, as the model sent them:</div>' + _html.pre(text, 4000)


def _result_html(result: str | None, length: int | None = None) -> str:
    if result is None:
        return ""
    text = result or "(empty)"
    lines = text.count("\n") + 1
    total = max(len(text), length or 0)
    if len(text) <= COLLAPSE_CHARS and lines <= COLLAPSE_LINES:
        return '<div class="tftsr-muted">Sent back to the model:</div>' + _html.pre(text)
    first = _html.one_line(text.splitlines()[0] if text.splitlines() else text, 90)
    more = f", first {len(text):,} of {total:,} characters shown" if total > len(text) else ""
    return (f'<details class="tftsr-tool-result"><summary>Sent back to the model ({lines:,} lines{more}): '
            f'<code>{_html.esc(first)}</code></summary>{_html.pre(text, 20_000)}</details>')


def tool_call_html(call: dict) -> str:
    """One tool call: name, server, status and decision, the arguments the model sent and the
    (guarded) result it got back. ``call`` has ``tool``, ``arguments`` and, once it ran,
    ``status``, ``decision``, ``result`` (a stored row of ``list_tool_calls`` or a live entry)."""
    tool = str(call.get("tool") or "?")
    status = call.get("status")
    head = [f'<span class="tftsr-tool-name">\u2692 {_html.esc(_html.one_line(tool, 80))}</span>']
    server = call.get("server")
    source = call.get("source")
    if server:
        head.append(f'<span class="tftsr-muted">on MCP server {_html.esc(_html.one_line(server, 60))}</span>')
    elif source == "shell" or tool == "run_shell_command":
        head.append('<span class="tftsr-muted">shell on this host</span>')
    if status is None:
        head.append(_tag("running\u2026", STATUS_COLORS["running"], "tftsr-tool-running"))
    else:
        head.append(_tag(str(status), STATUS_COLORS.get(status, ("#eceff1", "#37474f")), f"tftsr-tool-{status}"))
        decision = call.get("decision")
        if decision:
            head.append(f'<span class="tftsr-muted tftsr-tool-decision">'
                        f"{_html.esc(DECISION_TEXT.get(decision, decision))}</span>")
    body = _arguments_html(tool, call.get("arguments"))
    if status is not None:
        body += _result_html(call.get("result"), call.get("length"))
    css = f"tftsr-tool tftsr-tool-status-{_html.esc(status or 'running')}"
    return f'<div class="{css}"><div class="tftsr-tool-head">{"".join(head)}</div>{body}</div>'


def place_tool_calls(messages, calls) -> tuple[dict, dict]:
    """Where stored calls go in a transcript: (message id -> calls shown before that assistant
    reply, message index -> calls of a turn with no stored reply, shown after its question)."""
    before: dict[str, list] = {}
    after: dict[int, list] = {}
    ids = {m.id for m in messages}
    for c in calls:
        mid = c.get("message_id")
        if mid and mid in ids:
            before.setdefault(mid, []).append(c)
            continue
        at = next((i for i, m in enumerate(messages) if m.role == "user" and m.created_at >= (c.get("created_at") or "")),
                  len(messages) - 1)
        after.setdefault(at, []).append(c)
    return before, after


class ApprovalCard:
    """One waiting ``ask`` call: what is asked (for a shell command its tier and reason), the
    countdown, and three buttons wired to ``wb.approvals.decide``. Buttons are disabled for a
    role that may not decide (the kernel refuses it anyway)."""

    def __init__(self, wb, req, *, on_status=None):
        self._wb = wb
        self.request = req
        self._on_status = on_status
        self.details = dict(getattr(req, "details", {}) or {})
        self.timeout = float(req.timeout if getattr(req, "timeout", None) is not None else wb.approvals.timeout)
        self._deadline = time.monotonic() + self.timeout
        self._done = threading.Event()
        self.outcome: str | None = None
        self.allowed, why_not = self._may_decide()
        self._w_head = W.HTML(self._head_html())
        self._w_once = button("Allow once", "tftsr-chat-approve-once", style="success", icon="check")
        self._w_session = button("Allow for this session", "tftsr-chat-approve-session", icon="check-circle")
        self._w_deny = button("Deny", "tftsr-chat-approve-deny", style="danger", icon="ban")
        for b, decision in ((self._w_once, "allow_once"), (self._w_session, "allow_session"), (self._w_deny, "deny")):
            b.on_click(lambda _b, d=decision: self.decide(d))
            b.disabled = not self.allowed
        self._w_countdown = W.HTML()
        self._w_countdown.add_class("tftsr-approval-countdown")
        self._w_role = W.HTML("" if self.allowed else f'<div class="tftsr-muted tftsr-approval-role">{_html.esc(why_not)}</div>')
        self.layout = W.VBox([self._w_head, W.HBox([self._w_once, self._w_session, self._w_deny]), self._w_role,
                              self._w_countdown])
        self.layout.add_class("tftsr-approval-card")
        self._tick()

    # -- what the card says ----------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return str(self.details.get("kind") or "")

    @property
    def buttons(self) -> dict[str, W.Button]:
        return {"allow_once": self._w_once, "allow_session": self._w_session, "deny": self._w_deny}

    @property
    def text(self) -> str:
        return self._w_head.value + self._w_role.value + self._w_countdown.value

    def _may_decide(self) -> tuple[bool, str]:
        role = getattr(getattr(getattr(self._wb, "team", None), "actor", None), "role", None) or "your"
        if not may(self._wb, "chat:write"):
            return False, f"Read-only: the {role} role cannot answer approvals; an analyst or admin can."
        if self.kind == "shell":
            level = self.details.get("approval_level") or "analyst"
            if not may(self._wb, LEVEL_PERMISSION.get(level, "shell:approve_admin")):
                return False, (f"This command needs {level} approval, which the {role} role does not have; it stays "
                               "pending for an approver (Settings \u2192 Shell, or tftsr shell approve).")
        return True, ""

    def _head_html(self) -> str:
        d, req = self.details, self.request
        if self.kind == "shell":
            cmd = d.get("command") or (req.arguments or {}).get("command") or ""
            parts = [f'<div><b>Approval needed</b> \u00b7 the assistant wants to run a shell command '
                     f"{tier_badge(d.get('tier'))}</div>",
                     f'<div class="tftsr-approval-reason">Tier reason: {_html.esc(d.get("tier_reason") or "")}</div>',
                     f'<div class="tftsr-tool-cmd">$ {_html.esc(str(cmd)[:4000])}</div>',
                     '<div class="tftsr-muted">As it will run on this host: placeholders the model wrote are '
                     "replaced by the issue's real values.</div>"]
            if d.get("why"):
                parts.append(f'<div class="tftsr-muted">Why (the model): {_html.esc(_html.one_line(d["why"], 400))}</div>')
            level = d.get("approval_level") or "analyst"
            extra = f"; policy {d['policy']}" if d.get("policy") else ""
            parts.append(f'<div class="tftsr-muted">Needs {_html.esc(level)} approval{_html.esc(extra)}. '
                         "It runs on this host as you, with a scrubbed environment; its output goes back to the "
                         "model redacted.</div>")
            return "".join(parts)
        tool = d.get("tool") or req.pattern
        where = f" on MCP server <code>{_html.esc(d['server'])}</code>" if d.get("server") else ""
        args = json.dumps(req.arguments, indent=1, ensure_ascii=False) if req.arguments else ""
        return (f'<div><b>Approval needed</b> \u00b7 the assistant wants to call <code>{_html.esc(tool)}</code>{where}'
                "</div>" + ('<div class="tftsr-muted">Arguments, as the model sent them:</div>' + _html.pre(args, 4000)
                            if args else '<div class="tftsr-muted">No arguments.</div>'))

    # -- countdown and decisions -------------------------------------------------------------------
    @property
    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._done.wait(TICK_S):
            if self.request.decision is not None:  # answered elsewhere (Settings → MCP or → Shell)
                self.finish(self.request.decision, running=self.request.decision != "deny")
                return
            if self.remaining <= 0:
                self.finish("timeout")
                return
            self._tick()

    def _tick(self) -> None:
        if self.done:
            return
        secs = int(self.remaining + 0.999)
        self._w_countdown.value = (f'<span class="tftsr-muted">Waiting for a decision: {secs} s left of '
                                   f"{self.timeout:g} s; unanswered, it is denied and the model is told.</span>")

    def decide(self, decision: str) -> None:
        """A button: answer the kernel's waiting request."""
        if self.done:
            return
        try:
            self._wb.approvals.decide(self.request.id, decision)
        except TftsrError as exc:
            if self._on_status:
                self._on_status(str(exc), "error")
            self.finish("timeout" if self.request.decision is None else self.request.decision)
            return
        self.finish(decision, running=decision != "deny")
        if self._on_status:
            self._on_status(f"{DECISION_TEXT[decision].capitalize()}. Waiting for the assistant\u2026", "busy")

    def finish(self, decision: str, *, running: bool = False) -> None:
        """The request was answered (here, elsewhere, or by its timeout): show the outcome."""
        self._done.set()
        self.outcome = decision
        for b in self.buttons.values():
            b.disabled = True
        color = "#2e7d32" if decision in ("allow_once", "allow_session", "auto") else "#c62828"
        note = " \u2014 running\u2026" if running else ""
        if decision == "timeout":
            note = " \u2014 the model was told it was not run"
        self._w_countdown.value = (f'<span class="tftsr-approval-outcome" style="color:{color};font-weight:600">'
                                   f"{_html.esc(DECISION_TEXT.get(decision, decision).capitalize())}{note}</span>")
        self.layout.add_class("tftsr-approval-done")


class ToolActivity:
    """The tool calls of the chat turn in flight and their approval cards."""

    def __init__(self, wb, *, on_status, on_change):
        self._wb = wb
        self._on_status = on_status
        self._on_change = on_change
        self._lock = threading.Lock()
        self.entries: list[dict] = []     # {"at": position in the live text, "tool", "arguments", ...}
        self.cards: list[ApprovalCard] = []
        self.cards_shown = 0
        self._w_cards = W.VBox([])
        self._w_cards.add_class("tftsr-chat-approvals")
        self.layout = W.VBox([W.HTML(f"<style>{TOOLS_CSS}</style>"), self._w_cards])

    def reset(self) -> None:
        with self._lock:
            self.entries = []
        self._clear_cards()

    def _clear_cards(self) -> None:
        for c in self.cards:
            c._done.set()
        self.cards = []
        self._w_cards.children = ()

    def finish(self) -> None:
        """The turn ended: the cards go (the transcript now shows each stored call with its outcome)."""
        self.reset()

    # -- the kernel's callbacks (run in the chat's worker thread) -------------------------------------
    def on_tool(self, ev: dict, live_len: int = 0) -> None:
        with self._lock:
            if ev.get("event") == "call":
                self.entries.append({"at": live_len, "tool": ev.get("tool"), "arguments": ev.get("arguments"),
                                     "source": ev.get("source"), "call_id": ev.get("call_id"), "status": None})
            else:
                entry = next((e for e in reversed(self.entries)
                              if e["status"] is None and e.get("call_id") == ev.get("call_id")), None)
                if entry is None:  # refused before it ran (no such tool, too many calls): no call event
                    entry = {"at": live_len, "tool": ev.get("tool"), "arguments": None, "source": None,
                             "call_id": ev.get("call_id")}
                    self.entries.append(entry)
                entry.update(status=ev.get("status"), decision=ev.get("decision"), result=ev.get("content"),
                             server=ev.get("server"), length=ev.get("length"))
                card = entry.get("card")
                if card is not None:
                    card.finish(ev.get("decision") or "deny")
        self._on_change()

    def approver(self, req) -> None:
        """An ``ask`` call: show a card and leave the decision to its buttons (or the timeout)."""
        card = ApprovalCard(self._wb, req, on_status=self._on_status)
        with self._lock:
            entry = next((e for e in reversed(self.entries) if e["status"] is None), None)
            if entry is not None:
                entry["card"] = card
        self.cards.append(card)
        self.cards_shown += 1
        self._w_cards.children = tuple(self._w_cards.children) + (card.layout,)
        what = (f"run {_html.one_line(card.details.get('command') or '', 60)}" if card.kind == "shell"
                else f"call {card.details.get('tool') or req.pattern}")
        self._on_status(f"The assistant wants to {what}: allow or deny it below "
                        f"({card.timeout:g} s).", "busy" if card.allowed else "error")
        card.start()
        return None

    # -- rendering -----------------------------------------------------------------------------
    def interleave(self, live: str) -> str:
        """The live reply with each tool call where it happened (escaped text, rendered calls)."""
        with self._lock:
            entries = list(self.entries)
        out, pos = [], 0
        for e in entries:
            at = min(max(e["at"], pos), len(live))
            if at > pos:
                out.append(f'<div style="white-space:pre-wrap">{_html.esc(live[pos:at])}</div>')
            out.append(tool_call_html(e))
            pos = at
        if pos < len(live) or not out:
            out.append(f'<div style="white-space:pre-wrap">{_html.esc(live[pos:])}</div>')
        return "".join(out)
