"""5-Whys: levels 1-5 and the root cause, each editable."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.whys import strip_why_prefix

from . import _html
from ._base import Panel, button, guarded, service

LEVELS = 5


class WhysPanel(Panel):
    """The five whys of an incident: question, answer and evidence per level, and the root cause."""

    title = "5-Whys"
    css_class = "tftsr-whys"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._wb.issues.require(issue_id)
        self._steps = {}
        self._root_cause: str | None = None
        self._w_progress = W.HTML()
        self._w_progress.add_class("tftsr-whys-progress")
        self._w_question, self._w_answer, self._w_evidence, self._w_save = {}, {}, {}, {}
        for n in range(1, LEVELS + 1):
            q = W.Text(placeholder=f"Why {n}: why did that happen?", layout=W.Layout(width="95%"))
            q.add_class(f"tftsr-why-question-{n}")
            a = W.Textarea(placeholder="Answer", layout=W.Layout(width="95%", height="52px"))
            a.add_class(f"tftsr-why-answer-{n}")
            e = W.Text(placeholder="Evidence (log lines, graphs, tickets)", layout=W.Layout(width="95%"))
            e.add_class(f"tftsr-why-evidence-{n}")
            s = button(f"Save why {n}", f"tftsr-why-save-{n}")
            s.on_click(lambda _b, level=n: self.save_level(level))
            self._w_question[n], self._w_answer[n], self._w_evidence[n], self._w_save[n] = q, a, e, s
        self._w_root_cause_view = W.HTML()
        self._w_root_cause_view.add_class("tftsr-root-cause")
        self._w_root_cause = W.Textarea(placeholder="The root cause, in one or two sentences",
                                        layout=W.Layout(width="95%", height="52px"))
        self._w_root_cause.add_class("tftsr-root-cause-input")
        self._w_record_root = button("Record root cause", "tftsr-record-root-cause", style="success")
        self._w_record_root.on_click(self._on_record_root)
        self._w_refresh = button("Refresh", "tftsr-whys-refresh", icon="refresh")
        self._w_refresh.on_click(lambda _b: self.refresh())
        self.refresh()

    # -- public values --------------------------------------------------------------------------
    @property
    def steps(self):
        """The stored steps by level (ResolutionStep records)."""
        return dict(self._steps)

    @property
    def root_cause(self) -> str | None:
        return self._root_cause

    @property
    def level(self) -> int:
        """The next level to answer (1-5), or 6 once the root cause is known."""
        if self._root_cause and all(self._steps.get(n) and self._steps[n].answer for n in range(1, LEVELS + 1)):
            return 6
        for n in range(1, LEVELS + 1):
            st = self._steps.get(n)
            if not st or not st.answer:
                return n
        return 6

    # -- build ----------------------------------------------------------------------------------
    def _build(self):
        rows = []
        for n in range(1, LEVELS + 1):
            rows.append(W.VBox([W.HTML(f"<b>Why {n}</b>"), self._w_question[n], self._w_answer[n],
                                self._w_evidence[n], self._w_save[n]],
                               layout=W.Layout(border="1px solid #eee", padding="4px", margin="2px 0")))
        root = W.VBox([W.HTML("<b>Root cause</b>"), self._w_root_cause_view, self._w_root_cause,
                       self._w_record_root], layout=W.Layout(border="1px solid #c8e6c9", padding="4px"))
        return W.VBox([W.HTML(_html.style_tag()), W.HBox([self._w_progress, self._w_refresh]), *rows, root,
                       self._w_status])

    # -- data -----------------------------------------------------------------------------------
    @guarded
    def refresh(self) -> None:
        self._steps = {s.step_order: s for s in self._wb.whys.list_five_whys(self.issue_id)}
        self._root_cause = self._wb.whys.root_cause(self.issue_id)
        for n in range(1, LEVELS + 1):
            st = self._steps.get(n)
            self._w_question[n].value = strip_why_prefix(st.why_question) if st else ""
            self._w_answer[n].value = (st.answer or "") if st else ""
            self._w_evidence[n].value = (st.evidence or "") if st else ""
            self._w_save[n].description = f"Update why {n}" if st else f"Save why {n}"
        self._w_root_cause_view.value = (
            f'<div style="white-space:pre-wrap;border-left:3px solid #2e7d32;padding-left:6px">'
            f"{_html.esc(self._root_cause)}</div>" if self._root_cause
            else '<div class="tftsr-muted">Not identified yet.</div>')
        self._w_progress.value = self._progress_html()

    def _progress_html(self) -> str:
        dots = []
        for n in range(1, LEVELS + 1):
            st = self._steps.get(n)
            done = bool(st and st.answer)
            color = "#2e7d32" if done else ("#1565c0" if st else "#bdbdbd")
            dots.append(f'<span style="color:{color}">\u25cf Why {n}</span>')
        rc = "#2e7d32" if self._root_cause else "#bdbdbd"
        dots.append(f'<span style="color:{rc}">\u25c6 Root cause</span>')
        chat = service(self._wb, "chat")
        extra = ""
        if chat is not None and hasattr(chat, "current_why_level"):
            try:
                extra = f' <span class="tftsr-muted">(chat is at why {int(chat.current_why_level(self.issue_id))})</span>'
            except Exception:
                extra = ""
        return '<div class="tftsr-whys-dots">' + " &rarr; ".join(dots) + extra + "</div>"

    # -- handlers -------------------------------------------------------------------------------
    @guarded
    def save_level(self, n: int) -> None:
        """Store level ``n`` from its inputs (add it, or update the stored step)."""
        q, a, e = self._w_question[n].value, self._w_answer[n].value, self._w_evidence[n].value
        st = self._steps.get(n)
        if st is None:
            self._wb.whys.add_five_why(self.issue_id, n, q, a or None, e or None)
        else:
            self._wb.whys.update_five_why(st.id, a, question=q, evidence=e)
        self.refresh()
        self.set_status(f"Why {n} saved.", "ok")

    @guarded
    def _on_record_root(self, _b=None):
        text = self._w_root_cause.value
        self._wb.whys.record_root_cause(self.issue_id, text)
        self._w_root_cause.value = ""
        self.refresh()
        self.set_status("Root cause recorded on the timeline.", "ok")

    # -- static ---------------------------------------------------------------------------------
    def to_html(self) -> str:
        out = [_html.style_tag(), _html.heading("5-Whys analysis")]
        if not self._steps:
            out.append('<div class="tftsr-muted">No whys recorded yet.</div>')
        for n in sorted(self._steps):
            st = self._steps[n]
            out.append(f'<div class="tftsr-section"><b>Why {n}: {_html.esc(strip_why_prefix(st.why_question))}</b><br>'
                       f"{_html.esc(st.answer) if st.answer else '<i>Awaiting answer.</i>'}"
                       + (f'<br><span class="tftsr-muted">Evidence: {_html.esc(st.evidence)}</span>'
                          if st.evidence else "") + "</div>")
        out.append("<h4>Root cause</h4>")
        out.append(f"<blockquote>{_html.esc(self._root_cause)}</blockquote>" if self._root_cause
                   else '<div class="tftsr-muted">Not identified yet.</div>')
        return "".join(out)

    def _repr_markdown_(self) -> str:
        lines = ["### 5-Whys analysis", ""]
        for n in sorted(self._steps):
            st = self._steps[n]
            lines.append(f"**Why {n}: {_html.esc(strip_why_prefix(st.why_question))}**  ")
            lines.append(_html.esc(st.answer) if st.answer else "_Awaiting answer._")
            if st.evidence:
                lines.append(f"  \nEvidence: {_html.esc(st.evidence)}")
            lines.append("")
        lines.append(f"**Root cause:** {_html.esc(self._root_cause) if self._root_cause else '_not identified yet_'}")
        return "\n".join(lines)
