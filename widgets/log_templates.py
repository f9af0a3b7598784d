"""Log templates of one log: a table (count, first/last seen, bursts) and an inline SVG chart of the
top templates' counts over time with the incident's timeline events on the same time axis.

No JavaScript and no network: the chart is SVG text built from escaped values. ``to_html()`` is
the static rendering (nbconvert, reports). The templates come from ``wb.logs`` (mined on first
request, then read from the store).
"""

from __future__ import annotations

import math

import ipywidgets as W

from tftsr_kernel.incident_metrics import event_time, format_ts

from . import _html
from ._base import Panel, button, guarded

#: colours of the top series (colour-blind safe palette), then grey
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
MAX_COLUMNS = 120


def _buckets(template_set, top: int):
    """``(start_minute, bucket_minutes, n_buckets, [(template, [counts per bucket])])``."""
    shown = template_set.top(top)
    minutes = [m for t in template_set.templates for m in t.minute_counts]
    if not minutes:
        return None
    lo, hi = min(minutes), max(minutes)
    size = max(1, math.ceil((hi - lo + 1) / MAX_COLUMNS))
    n = (hi - lo) // size + 1
    series = []
    for t in shown:
        counts = [0] * n
        for m, c in t.minute_counts.items():
            counts[(m - lo) // size] += c
        series.append((t, counts))
    return lo, size, n, series


def templates_svg(template_set, events=(), top: int = 5, width: int = 720, height: int = 220) -> str:
    """The top templates' line counts over time, timeline events as vertical markers."""
    data = _buckets(template_set, top)
    if data is None:
        return '<div class="tftsr-muted">No timestamps found in this log, so there is no chart over time.</div>'
    lo, size, n, series = data
    left, right, top_pad, bottom = 44, 12, 12, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max([max(c) for _t, c in series] + [1])
    t0, t1 = lo * 60, (lo + n * size) * 60

    def x(sec: float) -> float:
        return left + (sec - t0) / max(t1 - t0, 60) * plot_w

    def y(v: float) -> float:
        return top_pad + plot_h - v / peak * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tftsr-templates-svg" width="{width}" height="{height}"'
             f' viewBox="0 0 {width} {height}" role="img" aria-label="template counts over time">',
             f'<rect x="{left}" y="{top_pad}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
             f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" font-size="10">{peak}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" font-size="10">0</text>',
             f'<text x="{left}" y="{height - 18}" font-size="10">{_html.esc(format_ts(t0))}</text>',
             f'<text x="{left + plot_w}" y="{height - 18}" text-anchor="end" font-size="10">'
             f'{_html.esc(format_ts(t1))}</text>',
             f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle" font-size="10">lines per '
             f'{size} min (UTC)</text>']
    for i, (t, counts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{x((lo + k * size) * 60 + size * 30):.1f},{y(c):.1f}" for k, c in enumerate(counts))
        parts.append(f'<polyline class="tftsr-template-series" data-template-id="{t.id}" fill="none" '
                     f'stroke="{colour}" stroke-width="1.5" points="{pts}"><title>T{t.id}: '
                     f'{_html.esc(_html.one_line(t.template, 120))}</title></polyline>')
    outside = 0
    for e in events:
        sec = event_time(e)
        if sec is None or not (t0 <= sec <= t1):
            outside += 1
            continue
        ex = x(sec)
        label = f"{e.event_type.replace('_', ' ')}: {_html.one_line(e.description, 80)}"
        parts.append(f'<line class="tftsr-event-marker" x1="{ex:.1f}" x2="{ex:.1f}" y1="{top_pad}" '
                     f'y2="{top_pad + plot_h}" stroke="#b00" stroke-dasharray="3,2"><title>{_html.esc(label)}'
                     f'</title></line>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{PALETTE[i % len(PALETTE)]}">&#9632;</span> T{t.id}'
                      for i, (t, _c) in enumerate(series))
    note = (f' &middot; {outside} timeline event(s) fall outside this log\'s time range' if outside else "")
    return "".join(parts) + f'<div class="tftsr-muted">{legend}{note}</div>'


class LogTemplatesPanel(Panel):
    """The templates of one log, with bursts and a chart beside the incident's timeline."""

    title = "Log templates"
    css_class = "tftsr-log-templates"

    def __init__(self, log_file_id: str, wb=None, top: int = 30):
        super().__init__(wb)
        self.log_file_id = log_file_id
        self.top = top
        self._log = self._wb.attachments.get_log_file(log_file_id)
        self._set = None
        self._events = []
        self._w_chart = W.HTML()
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-templates-table")
        self._w_summary = W.HTML()
        self._w_recompute = button("Mine again", "tftsr-templates-recompute", icon="refresh")
        self._w_recompute.on_click(lambda _b: self.refresh(recompute=True))
        self.refresh()

    @property
    def template_set(self):
        return self._set

    def _build(self):
        return W.VBox([W.HTML(_html.style_tag()), W.HBox([self._w_summary, self._w_recompute]), self._w_chart,
                       self._w_table, self._w_status])

    @guarded
    def refresh(self, recompute: bool = False) -> None:
        self._set = self._wb.logs.get_log_templates(self.log_file_id, recompute=recompute)
        self._events = self._wb.timeline.get_timeline_events(self._log.issue_id)
        self._w_summary.value = self._summary()
        self._w_chart.value = templates_svg(self._set, self._events)
        self._w_table.value = self._table()
        if recompute:
            self.set_status("Templates mined again.", "ok")

    def _summary(self) -> str:
        s = self._set
        span = f"{s.first_seen} to {s.last_seen} UTC" if s.first_seen else "no timestamps found"
        return (f'<div class="tftsr-muted" style="margin:4px 8px 4px 0">{_html.esc(self._log.file_name)}: '
                f'{s.lines} lines in {len(s.templates)} templates &middot; {_html.esc(span)} &middot; '
                f'{len(s.bursts)} burst(s)</div>')

    def _table(self) -> str:
        bursts: dict[int, list[str]] = {}
        for b in self._set.bursts:
            what = "new" if b.kind == "new_template" else f"jump to {b.count}/min"
            bursts.setdefault(b.template_id, []).append(f"{what} at {b.at}")
        rows = [(f"T{t.id}", t.count, t.first_seen or "-", t.last_seen or "-", "; ".join(bursts.get(t.id, [])),
                 _html.one_line(t.template, 200)) for t in self._set.top(self.top)]
        return _html.table(rows, ["Id", "Count", "First seen", "Last seen", "Burst", "Template"])

    def to_html(self) -> str:
        if self._set is None:
            return _html.heading(self.title)
        return (_html.style_tag() + _html.heading(f"Log templates: {self._log.file_name}") + self._summary()
                + templates_svg(self._set, self._events) + self._table())
