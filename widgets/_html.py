"""HTML helpers shared by the panels.

Everything that comes from a user, a log file or an AI model is untrusted: it goes through
:func:`esc` (or :func:`markdown` for Markdown) before it reaches an ``HTML`` widget or a static
rendering. Nothing here builds HTML from unescaped input; callers pass plain values.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Iterable, Sequence

SEVERITY_COLORS = {
    "critical": ("#b71c1c", "#fff"),
    "high": ("#e65100", "#fff"),
    "medium": ("#f9a825", "#222"),
    "low": ("#607d8b", "#fff"),
}
STATUS_COLORS = {
    "open": ("#1565c0", "#fff"),
    "investigating": ("#6a1b9a", "#fff"),
    "resolved": ("#2e7d32", "#fff"),
    "closed": ("#616161", "#fff"),
}
PII_STATUS_COLORS = {"pending": "#fff59d", "approved": "#a5d6a7", "rejected": "#ef9a9a"}

#: small stylesheet shown once by the dashboard and embedded in static renderings
CSS = """
a.tftsr-link,a.tftsr-link:visited{color:#1565c0;text-decoration:underline;font-weight:600}
.tftsr-table{border-collapse:collapse;font-size:13px;width:100%}
.tftsr-table th,.tftsr-table td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
.tftsr-table th{background:#f5f5f5}
.tftsr-pre{white-space:pre-wrap;word-break:break-word;font-family:monospace;font-size:12px;
 background:#fafafa;border:1px solid #e0e0e0;padding:6px;max-height:420px;overflow:auto;margin:0}
.tftsr-badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:11px;font-weight:600;
 line-height:18px;margin-right:4px;text-transform:uppercase}
.tftsr-muted{color:#757575;font-size:12px}
.tftsr-md{font-size:13px;line-height:1.45}
.tftsr-md pre{background:#f5f5f5;padding:6px;overflow:auto}
.tftsr-section{margin:6px 0 10px 0}
.tftsr-msg{border-left:3px solid #90caf9;padding:4px 8px;margin:6px 0;background:#fbfdff}
.tftsr-msg.user{border-left-color:#bdbdbd;background:#fafafa}
.widget-html-content .tftsr-pre,.widget-html-content .tftsr-table,.widget-html-content .tftsr-md,
.widget-html-content .tftsr-msg,.widget-html-content .tftsr-section,.widget-html-content div.tftsr-muted{line-height:1.4}
.tftsr-pii{padding:0 1px;border-radius:2px}
div.widget-html-content pre.tftsr-pre{font-family:monospace;font-size:12px;border:1px solid #e0e0e0;padding:6px;
 line-height:1.4}
.tftsr-panel .widget-vbox>.widget-button{align-self:flex-start}
"""


def esc(value) -> str:
    """Escape any value for HTML text and attribute context (``None`` becomes "")."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def style_tag() -> str:
    return f"<style>{CSS}</style>"


def badge(kind: str, value: str | None) -> str:
    """A coloured severity or status badge (``kind`` is "severity" or "status")."""
    if not value:
        return ""
    colors = (SEVERITY_COLORS if kind == "severity" else STATUS_COLORS).get(value, ("#9e9e9e", "#fff"))
    return (f'<span class="tftsr-badge tftsr-{esc(kind)}-{esc(value)}" '
            f'style="background:{colors[0]};color:{colors[1]}">{esc(value)}</span>')


def status_line(message: str | None, kind: str = "info") -> str:
    """The panel status line: escaped text, coloured by kind (info, ok, error, busy)."""
    if not message:
        return ""
    kind = "ok" if kind == "success" else kind
    color = {"error": "#c62828", "ok": "#2e7d32", "busy": "#1565c0"}.get(kind, "#424242")
    icon = {"error": "\u26a0 ", "ok": "\u2713 ", "busy": "\u2026 "}.get(kind, "")
    return f'<span class="tftsr-status tftsr-status-{esc(kind)}" style="color:{color}">{icon}{esc(message)}</span>'


def pre(text: str | None, limit: int | None = None) -> str:
    """Text in a scrollable ``<pre>``, escaped; cut at ``limit`` characters with a note."""
    text = text or ""
    note = ""
    if limit is not None and len(text) > limit:
        note = f'<div class="tftsr-muted">Showing the first {limit:,} of {len(text):,} characters.</div>'
        text = text[:limit]
    return f'<pre class="tftsr-pre">{esc(text)}</pre>{note}'


def table(rows: Iterable[Sequence], headers: Sequence[str], *, raw_columns: Iterable[int] = ()) -> str:
    """An HTML table. Every cell is escaped except the columns in ``raw_columns``, which the
    caller has already built from escaped parts (badges, links)."""
    raw = set(raw_columns)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f"<td>{cell if i in raw else esc(cell)}</td>" for i, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="tftsr-muted">(none)</td></tr>')
    return f'<table class="tftsr-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def heading(text: str, level: int = 3) -> str:
    return f"<h{level}>{esc(text)}</h{level}>"


def human_size(num: int | None) -> str:
    if num is None:
        return "-"
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def one_line(text: str | None, limit: int = 80) -> str:
    """Collapse whitespace and cut to ``limit`` characters (for option labels and buttons)."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# -- Markdown ------------------------------------------------------------------------------------
def markdown(md: str | None) -> str:
    """Markdown to safe HTML.

    Uses the kernel's sanitising renderer (``tftsr_kernel.documents.markdown.render_markdown``,
    mistune + an allow-list) when it is installed; until then the text is escaped into a
    ``<pre>``. Never returns unescaped input.
    """
    md = md or ""
    renderer = _markdown_renderer()
    if renderer is None:
        return pre(md)
    return f'<div class="tftsr-md">{renderer(md)}</div>'


def _markdown_renderer():
    try:
        from tftsr_kernel.documents.markdown import render_markdown
    except ImportError:
        return None
    return render_markdown


# -- data URLs -----------------------------------------------------------------------------------
_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/=]+$")


def image_tag(data_url: str, alt: str = "", max_px: int = 160) -> str:
    """An ``<img>`` for a raster data URL produced by the kernel (checked again here: no SVG,
    nothing but base64 characters, so the attribute cannot be broken out of)."""
    if not isinstance(data_url, str) or not _DATA_URL.match(data_url):
        return '<span class="tftsr-muted">(image unavailable)</span>'
    return (f'<img src="{data_url}" alt="{esc(alt)}" title="{esc(alt)}" '
            f'style="max-width:{int(max_px)}px;max-height:{int(max_px)}px;border:1px solid #ddd;margin:2px">')


# -- PII highlighting ----------------------------------------------------------------------------
def highlight_spans(text: str, spans: Sequence, approved: set[str] | None = None, limit: int = 200_000) -> str:
    """The log with each PII span marked (escaped). ``spans`` have id, pii_type, start_offset,
    end_offset and replacement; ``approved`` holds the ids currently approved."""
    approved = approved or set()
    text = text or ""
    cut = len(text) > limit
    shown = text[:limit]
    parts, pos = [], 0
    for sp in sorted(spans, key=lambda s: s.start_offset):
        start, end = sp.start_offset, sp.end_offset
        if start < pos or start >= len(shown):
            continue
        end = min(end, len(shown))
        parts.append(esc(shown[pos:start]))
        state = "approved" if sp.id in approved else "rejected"
        parts.append(
            f'<mark class="tftsr-pii tftsr-pii-{state}" title="{esc(sp.pii_type)} \u2192 {esc(sp.replacement)}" '
            f'style="background:{PII_STATUS_COLORS[state]}">{esc(shown[start:end])}</mark>')
        pos = end
    parts.append(esc(shown[pos:]))
    note = (f'<div class="tftsr-muted">Showing the first {limit:,} of {len(text):,} characters.</div>'
            if cut else "")
    return f'<pre class="tftsr-pre">{"".join(parts)}</pre>{note}'


# -- the timeline chart --------------------------------------------------------------------------
def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def timeline_svg(events: Sequence, width: int = 720) -> str:
    """Events over time as an inline SVG (no JavaScript, no external assets): one lane per event
    type, a dot per event, time on the x axis: when it happened (``at``: a backfilled time, else
    when it was recorded)."""
    points = [(parse_ts(getattr(e, "at", None) or e.created_at), e) for e in events]
    points = [(t, e) for t, e in points if t is not None]
    if not points:
        return '<div class="tftsr-muted">No timeline events yet.</div>'
    lanes: list[str] = []
    for _, e in points:
        if e.event_type not in lanes:
            lanes.append(e.event_type)
    left, right, top, lane_h = 170, 20, 10, 26
    height = top + lane_h * len(lanes) + 34
    t0 = min(t for t, _ in points)
    t1 = max(t for t, _ in points)
    span = max((t1 - t0).total_seconds(), 1.0)
    plot_w = width - left - right

    def x(t: datetime) -> float:
        return left + plot_w * ((t - t0).total_seconds() / span if len(points) > 1 else 0.5)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tftsr-timeline-chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="Timeline chart" '
           f'style="font-family:sans-serif;font-size:11px">']
    for i, lane in enumerate(lanes):
        y = top + lane_h * i + lane_h / 2
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#424242">'
                   f'{esc(lane.replace("_", " "))}</text>')
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eeeeee"/>')
    axis_y = top + lane_h * len(lanes) + 4
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#9e9e9e"/>')
    ticks = 4 if len(points) > 1 else 0
    for k in range(ticks + 1):
        frac = k / ticks if ticks else 0.5
        tx = left + plot_w * frac
        tt = datetime.fromtimestamp(t0.timestamp() + span * frac if ticks else t0.timestamp(), timezone.utc)
        label = tt.strftime("%m-%d %H:%M") if span > 86400 or not ticks else tt.strftime("%H:%M:%S")
        out.append(f'<line x1="{tx:.1f}" y1="{axis_y}" x2="{tx:.1f}" y2="{axis_y + 4}" stroke="#9e9e9e"/>')
        out.append(f'<text x="{tx:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#616161">{esc(label)}</text>')
    palette = ["#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#ef6c00", "#00838f", "#4e342e"]
    for t, e in points:
        i = lanes.index(e.event_type)
        y = top + lane_h * i + lane_h / 2
        tip = f"{getattr(e, 'at', None) or e.created_at} UTC \u2014 {e.description}"
        out.append(f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="5" fill="{palette[i % len(palette)]}" '
                   f'fill-opacity="0.8"><title>{esc(tip)}</title></circle>')
    out.append("</svg>")
    return "".join(out)
