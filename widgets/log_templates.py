"""Log templates of one log: a table (count, first/last seen, bursts) and an inline SVG chart of the
top templates' counts over time, with the bursts marked and the incident's timeline events drawn on
the same time axis.

No JavaScript and no network: the chart is SVG text built from escaped values (template text and
event descriptions are untrusted), so it works offline under the dashboard's strict CSP.
``to_html()`` is the static rendering (nbconvert). The templates come from ``wb.logs`` (mined on
first request, then read from the store). The Logs panel embeds this view for the selected log
(:meth:`LogTemplatesPanel.show`); it also works on its own for one log.
"""

from __future__ import annotations

import math
import time

import ipywidgets as W

from tftsr_kernel.errors import PermissionDeniedError
from tftsr_kernel.incident_metrics import event_time, format_ts, parse_ts

from . import _html
from ._base import Panel, button, guarded

#: colours of the top series (colour-blind safe palette)
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
MAX_COLUMNS = 120
#: series drawn in the chart (the table lists more)
CHART_SERIES = 5
#: timeline events this close to the log's time range (share of its span, at least EVENT_MARGIN_S)
#: widen the axis so they are drawn; events further away are counted below the chart
EVENT_MARGIN_SHARE = 0.25
EVENT_MARGIN_S = 600
MAX_EVENTS_LISTED = 40
BURST_COLOUR = "#c62828"
#: event colours by type; any other type (the timeline grows new ones) gets the default
EVENT_COLOURS = {"mitigation": "#2e7d32", "page": "#ef6c00", "escalation": "#ef6c00",
                 "status_change": "#6a1b9a", "status_changed": "#6a1b9a", "severity_change": "#6a1b9a",
                 "root_cause_identified": "#ad1457", "note": "#546e7a", "action": "#1565c0",
                 "communication": "#00838f", "customer_communication": "#00838f"}
EVENT_DEFAULT_COLOUR = "#455a64"
TOP_CHOICES = (10, 30, 100)


def _buckets(template_set, top: int):
    """``(start_minute, bucket_minutes, n_buckets, [(template, [counts per bucket])])``."""
    minutes = [m for t in template_set.templates for m in t.minute_counts]
    if not minutes:
        return None
    lo, hi = min(minutes), max(minutes)
    size = max(1, math.ceil((hi - lo + 1) / MAX_COLUMNS))
    n = (hi - lo) // size + 1
    series = []
    for t in template_set.top(top):
        counts = [0] * n
        for m, c in t.minute_counts.items():
            counts[(m - lo) // size] += c
        series.append((t, counts))
    return lo, size, n, series


def _event_label(e) -> str:
    kind = str(getattr(e, "event_type", "") or "event").replace("_", " ")
    return f"{kind}: {_html.one_line(getattr(e, 'description', ''), 120)}"


def _nice_peak(v: int) -> int:
    if v <= 5:
        return max(v, 1)
    mag = 10 ** int(math.log10(v))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= step * mag:
            return int(step * mag)
    return v


def _tick_label(sec: float, span: float) -> str:
    fmt = "%m-%d %H:%M" if span > 86400 else ("%H:%M" if span > 600 else "%H:%M:%S")
    return time.strftime(fmt, time.gmtime(sec))


def templates_svg(template_set, events=(), top: int = CHART_SERIES, width: int = 760, height: int = 250) -> str:
    """The top templates' line counts over time; bursts as red triangles on the time axis (and a
    ring on the series when it is drawn); timeline events as numbered dashed lines, listed below."""
    data = _buckets(template_set, top)
    if data is None:
        return '<div class="tftsr-muted">No timestamps found in this log, so there is no chart over time.</div>'
    lo, size, n, series = data
    left, right, top_pad, bottom = 48, 14, 18, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = _nice_peak(max([max(c) for _t, c in series] + [1]))
    d0, d1 = lo * 60, (lo + n * size) * 60  # the log's own range
    margin = max(EVENT_MARGIN_SHARE * (d1 - d0), EVENT_MARGIN_S)
    placed, outside = [], 0
    for e in events:
        sec = event_time(e)
        if sec is None or not (d0 - margin <= sec <= d1 + margin):
            outside += 1
        else:
            placed.append((sec, e))
    placed.sort(key=lambda p: p[0])
    t0 = min([d0] + [s for s, _e in placed])
    t1 = max([d1] + [s for s, _e in placed])
    span = max(t1 - t0, 60)

    def x(sec: float) -> float:
        return left + (sec - t0) / span * plot_w

    def y(v: float) -> float:
        return top_pad + plot_h - min(v, peak) / peak * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tftsr-templates-svg" width="{width}" height="{height}"'
             f' viewBox="0 0 {width} {height}" role="img" aria-label="template counts over time"'
             f' style="font-family:sans-serif;font-size:10px">',
             f'<rect x="{left}" y="{top_pad}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>']
    for frac in (0.5, 1.0):  # y grid
        gy = top_pad + plot_h - frac * plot_h
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 4}" y="{gy + 3:.1f}" text-anchor="end" fill="#616161">'
                     f'{_html.esc(f"{peak * frac:g}")}</text>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + plot_h + 3}" text-anchor="end" fill="#616161">0</text>')
    ticks = 5
    for k in range(ticks + 1):
        sec = t0 + span * k / ticks
        tx = x(sec)
        anchor = "start" if k == 0 else ("end" if k == ticks else "middle")
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h + 4}" '
                     f'stroke="#9e9e9e"/><text x="{tx:.1f}" y="{top_pad + plot_h + 15}" text-anchor="{anchor}"'
                     f' fill="#616161">{_html.esc(_tick_label(sec, span))}</text>')
    caption = (f"{format_ts(int(t0))} to {format_ts(int(t1))} UTC \u00b7 lines per {size} min"
               f" \u00b7 top {len(series)} templates")
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" fill="#424242">'
                 f'{_html.esc(caption)}</text>')
    shown = {}
    for i, (t, counts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        shown[t.id] = (colour, counts)
        pts = " ".join(f"{x((lo + k * size) * 60 + size * 30):.1f},{y(c):.1f}" for k, c in enumerate(counts))
        parts.append(f'<polyline class="tftsr-template-series" data-template-id="{int(t.id)}" fill="none" '
                     f'stroke="{colour}" stroke-width="1.5" points="{pts}"><title>T{int(t.id)}: '
                     f'{_html.esc(_html.one_line(t.template, 160))}</title></polyline>')
    base = top_pad + plot_h
    for b in getattr(template_set, "bursts", ()):
        sec = parse_ts(b.at)
        if sec is None:
            continue
        bx = x(sec)
        what = ("new template" if b.kind == "new_template"
                else f"rate jump to {b.count}/min (baseline {b.baseline:.1f}/min)")
        tip = _html.esc(f"T{b.template_id} {what} at {b.at} UTC")
        parts.append(f'<path class="tftsr-burst-marker" data-template-id="{int(b.template_id)}" '
                     f'data-kind="{_html.esc(b.kind)}" d="M{bx - 5:.1f},{base:.1f} L{bx + 5:.1f},{base:.1f} '
                     f'L{bx:.1f},{base - 9:.1f} Z" fill="{BURST_COLOUR}" fill-opacity="0.85"><title>{tip}</title>'
                     f'</path>')
        if b.template_id in shown and b.kind == "rate_jump":
            colour, counts = shown[b.template_id]
            k = min(max((int(sec // 60) - lo) // size, 0), n - 1)
            cx = x((lo + k * size) * 60 + size * 30)
            parts.append(f'<circle class="tftsr-burst-point" cx="{cx:.1f}" cy="{y(counts[k]):.1f}" r="5" '
                         f'fill="none" stroke="{BURST_COLOUR}" stroke-width="2"><title>{tip}</title></circle>')
    # events closer than a label's width share one label ("3-5"); each keeps its own line and tooltip
    clusters: list[list[int]] = []
    for num, (sec, _e) in enumerate(placed, 1):
        if clusters and x(sec) - x(placed[clusters[-1][0] - 1][0]) < 14:
            clusters[-1].append(num)
        else:
            clusters.append([num])
    first_of = {c[0]: (f"{c[0]}" if len(c) == 1 else f"{c[0]}\u2013{c[-1]}") for c in clusters}
    for num, (sec, e) in enumerate(placed, 1):
        ex = x(sec)
        colour = EVENT_COLOURS.get(str(getattr(e, "event_type", "")), EVENT_DEFAULT_COLOUR)
        label = _html.esc(f"{num}. {format_ts(sec)} UTC {_event_label(e)}")
        text = (f'<text x="{ex:.1f}" y="{top_pad - 4}" text-anchor="middle" fill="{colour}" font-weight="bold">'
                f'{first_of[num]}</text>' if num in first_of else "")
        parts.append(f'<g class="tftsr-event-marker" data-event-type="{_html.esc(getattr(e, "event_type", ""))}">'
                     f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{top_pad}" y2="{top_pad + plot_h}" stroke="{colour}" '
                     f'stroke-dasharray="4,3"/>{text}<title>{label}</title></g>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{PALETTE[i % len(PALETTE)]}">&#9632;</span> T{int(t.id)} '
                      f'<span class="tftsr-muted">{_html.esc(_html.one_line(t.template, 50))}</span>'
                      for i, (t, _c) in enumerate(series))
    extra = []
    if getattr(template_set, "bursts", None):
        extra.append(f'<span style="color:{BURST_COLOUR}">&#9650;</span> burst')
    if outside:
        extra.append(f"{outside} timeline event(s) fall outside this log's time range")
    notes = f'<div class="tftsr-muted">{" &middot; ".join(extra)}</div>' if extra else ""
    events_list = ""
    if placed:
        rows = [(num, format_ts(sec), str(getattr(e, "event_type", "")).replace("_", " "),
                 _html.one_line(getattr(e, "description", ""), 160))
                for num, (sec, e) in enumerate(placed[:MAX_EVENTS_LISTED], 1)]
        events_list = ('<div class="tftsr-templates-events"><div style="font-size:12px;margin:6px 0 2px 0">'
                       '<b>Timeline events on the chart</b></div>'
                       + _html.table(rows, ["#", "Time (UTC)", "Timeline event", "Description"]) + "</div>")
    return "".join(parts) + f'<div style="font-size:12px">{legend}</div>{notes}{events_list}'


def templates_table(template_set, top: int) -> str:
    """The top ``top`` templates with their counts, first/last seen and bursts (escaped)."""
    bursts: dict[int, list[str]] = {}
    for b in template_set.bursts:
        what = "new" if b.kind == "new_template" else f"jump to {b.count}/min"
        bursts.setdefault(b.template_id, []).append(f"{what} at {b.at}")
    rows = [(f"T{t.id}", f"{t.count:,}", t.first_seen or "-", t.last_seen or "-", "; ".join(bursts.get(t.id, [])),
             _html.one_line(t.template, 200)) for t in template_set.top(top)]
    return _html.table(rows, ["Id", "Count", "First seen (UTC)", "Last seen (UTC)", "Burst", "Template"])


class LogTemplatesPanel(Panel):
    """The templates of one log, with bursts and a chart beside the incident's timeline.

    ``LogTemplatesPanel(log_id)`` shows one log; the Logs panel builds it with ``log_file_id=None``
    and calls :meth:`show` when a log is selected (``clear()`` when none is)."""

    title = "Log templates"
    css_class = "tftsr-log-templates"

    def __init__(self, log_file_id: str | None = None, wb=None, top: int = 30):
        super().__init__(wb)
        self.log_file_id = None
        self.top = top
        self._log = None
        self._set = None
        self._events = []
        self._w_chart = W.HTML()
        self._w_chart.add_class("tftsr-templates-chart")
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-templates-table")
        self._w_summary = W.HTML()
        self._w_summary.add_class("tftsr-templates-summary")
        self._w_top = W.Dropdown(options=[(f"top {n}", n) for n in sorted(set(TOP_CHOICES) | {top})], value=top,
                                 description="Show", layout=W.Layout(width="160px"))
        self._w_top.add_class("tftsr-templates-top")
        self._w_recompute = button("Mine again", "tftsr-templates-recompute", icon="refresh")
        self._w_recompute.on_click(lambda _b: self.refresh(recompute=True))
        self._w_top.observe(self._on_top, names="value")
        if log_file_id is not None:
            self.show(log_file_id)
        else:
            self.clear()

    @property
    def template_set(self):
        return self._set

    def _build(self):
        return W.VBox([W.HTML(_html.style_tag()),
                       W.HBox([self._w_summary, self._w_top, self._w_recompute], layout=W.Layout(align_items="center")),
                       self._w_chart, self._w_table, self._w_status])

    def clear(self, note: str = "") -> None:
        self.log_file_id, self._log, self._set, self._events = None, None, None, []
        self._w_summary.value = f'<div class="tftsr-muted">{_html.esc(note)}</div>' if note else ""
        self._w_chart.value = self._w_table.value = ""
        self._w_recompute.disabled = self._w_top.disabled = True
        self.set_status("")

    @guarded
    def show(self, log_file_id: str, recompute: bool = False) -> None:
        """Show the templates of ``log_file_id`` (mined now the first time)."""
        self.clear()
        self.log_file_id = log_file_id
        self._log = self._wb.attachments.get_log_file(log_file_id)
        self._load(recompute)

    @guarded
    def refresh(self, recompute: bool = False) -> None:
        if self.log_file_id is None:
            return
        self._load(recompute)
        if recompute and self._set is not None:
            self.set_status("Templates mined again.", "ok")

    def _load(self, recompute: bool) -> None:
        try:
            self._set = self._wb.logs.get_log_templates(self.log_file_id, recompute=recompute)
        except PermissionDeniedError as exc:
            self._set = None
            self._w_summary.value = ('<div class="tftsr-muted">Templates hold the original log text: '
                                     f'{_html.esc(exc)}</div>')
            return
        try:
            self._events = self._wb.timeline.get_timeline_events(self._log.issue_id)
        except PermissionDeniedError:
            self._events = []
        self._render()
        self._w_recompute.disabled = self._w_top.disabled = False

    def _render(self) -> None:
        self._w_summary.value = self._summary()
        self._w_chart.value = templates_svg(self._set, self._events)
        self._w_table.value = templates_table(self._set, self.top)

    def _on_top(self, change) -> None:
        self.top = int(change["new"])
        if self._set is not None:
            self._w_table.value = templates_table(self._set, self.top)

    def _summary(self) -> str:
        s = self._set
        span = f"{s.first_seen} to {s.last_seen} UTC" if s.first_seen else "no timestamps found"
        return (f'<div class="tftsr-muted" style="margin:4px 8px 4px 0"><b>Templates</b> of '
                f'{_html.esc(self._log.file_name)}: {s.lines:,} lines in {len(s.templates):,} templates &middot; '
                f'{_html.esc(span)} &middot; {len(s.bursts)} burst(s)</div>')

    def to_html(self) -> str:
        if self._set is None:
            return _html.heading(self.title)
        return (_html.style_tag() + _html.heading(f"Log templates: {self._log.file_name}") + self._summary()
                + templates_svg(self._set, self._events) + templates_table(self._set, self.top))
