"""Mine a log's text into templates with counts, first/last seen, per-minute counts and bursts.

:func:`mine_lines` is pure (an iterable of lines in, a :class:`TemplateSet` out); the service
stores the result. Lines without a timestamp of their own (stack traces, continuation lines) take
the time of the line before them, so they count in the right minute.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._text import utf8_clean
from .drain import TemplateMiner
from .timestamps import TimestampParser, iso

#: a rate jump: a minute with at least this many lines of a template ...
BURST_MIN_COUNT = 10
#: ... and at least this many times the template's mean rate over the minutes before it
BURST_FACTOR = 5.0
#: minutes of history the mean is taken over
BURST_WINDOW = 30
#: a template is "new" when it first appears after this share of the log's time span
NEW_AFTER_SHARE = 0.2
#: and at least this many seconds after the log starts
NEW_AFTER_MIN_S = 60
MAX_BURSTS = 50
#: how many distinct line contents are remembered (memory bound; emptied when full)
SEEN_LIMIT = 100_000


@dataclass
class Template:
    id: int
    template: str
    count: int
    first_seen: str | None
    last_seen: str | None
    #: ``{epoch_minute: lines}``; epoch_minute * 60 is the minute's start in UTC epoch seconds
    minute_counts: dict[int, int] = field(default_factory=dict)

    def to_dict(self, minutes: bool = False) -> dict:
        d = {"id": self.id, "template": self.template, "count": self.count, "first_seen": self.first_seen,
             "last_seen": self.last_seen}
        if minutes:
            d["minute_counts"] = [[iso(m * 60), c] for m, c in sorted(self.minute_counts.items())]
        return d


@dataclass
class Burst:
    template_id: int
    #: ``rate_jump`` (a minute far above the template's recent rate) or ``new_template``
    kind: str
    at: str
    count: int
    baseline: float

    def to_dict(self) -> dict:
        return {"template_id": self.template_id, "kind": self.kind, "at": self.at, "count": self.count,
                "baseline": round(self.baseline, 2)}


@dataclass
class TemplateSet:
    templates: list[Template]
    line_templates: array
    bursts: list[Burst]
    timestamp_format: str | None
    lines: int
    first_seen: str | None = None
    last_seen: str | None = None

    def top(self, n: int | None) -> list[Template]:
        ordered = sorted(self.templates, key=lambda t: (-t.count, t.id))
        return ordered if n is None else ordered[:n]

    def to_dict(self, top: int | None = None, line_templates: bool = True) -> dict:
        d = {"templates": [t.to_dict() for t in self.top(top)],
             "bursts": [b.to_dict() for b in self.bursts],
             "lines": self.lines, "timestamp_format": self.timestamp_format,
             "first_seen": self.first_seen, "last_seen": self.last_seen}
        if line_templates:
            d["line_templates"] = self.line_templates.tolist()
        return d


def mine_lines(lines: Iterable[str], *, year: int | None = None, similarity: float = 0.5,
               depth: int = 4) -> TemplateSet:
    """Templates of ``lines`` (each without its line ending). ``year`` is assumed for timestamp
    formats that have none (syslog); it defaults to the current UTC year."""
    year = year or time.gmtime().tm_year
    it = iter(lines)
    head: list[str] = []
    for line in it:
        head.append(line)
        if len(head) >= 200:
            break
    parser = TimestampParser.detect(head, year)
    miner = TemplateMiner(depth=depth, similarity=similarity)
    ids = array("i")
    counts: list[int] = []
    firsts: list[float | None] = []
    lasts: list[float | None] = []
    minutes: list[dict[int, int]] = []
    parse = parser.parse
    redetect = parser.redetect
    misses = 0
    # identical content (after the timestamp is cut out) joins the same template at once (a bounded
    # cache; a line that fell out of it is mined again and the tree finds its template)
    seen: dict[str, int] = {}
    last_ts: float | None = None
    t_min: float | None = None
    t_max: float | None = None
    n = 0

    def chain():
        yield from head
        yield from it

    for line in chain():
        n += 1
        parsed = parse(line)
        if parsed is None and line:
            misses += 1
            if misses >= 3 and redetect(line):  # the format changed (logs concatenated)
                parsed = parse(line)
        if parsed is not None:
            misses = 0
            ts, (a, b) = parsed
            if a > 0 and b < len(line) and line[a - 1] in "[(" and line[b] in "])":
                a, b = a - 1, b + 1
            content = line[:a] + " " + line[b:]
            last_ts = ts
            if t_min is None or ts < t_min:
                t_min = ts
            if t_max is None or ts > t_max:
                t_max = ts
        else:
            ts, content = last_ts, line
        cid = seen.get(content)
        if cid is None:
            cid = miner.add(content).id
            if len(seen) >= SEEN_LIMIT:
                seen.clear()  # full: start again (repeats are mostly near each other)
            seen[content] = cid
        if cid == len(counts):
            counts.append(0)
            firsts.append(ts)
            lasts.append(ts)
            minutes.append({})
        counts[cid] += 1
        ids.append(cid + 1)
        if ts is not None:
            if firsts[cid] is None or ts < firsts[cid]:
                firsts[cid] = ts
            if lasts[cid] is None or ts > lasts[cid]:
                lasts[cid] = ts
            mdict = minutes[cid]
            m = int(ts // 60)
            mdict[m] = mdict.get(m, 0) + 1
    # bytes that were not UTF-8 (kept as surrogates) are shown as U+FFFD in a template
    templates = [Template(c.id + 1, utf8_clean(c.template), counts[c.id], iso(firsts[c.id]), iso(lasts[c.id]), minutes[c.id])
                 for c in miner.clusters]
    bursts = detect_bursts(templates, firsts, t_min, t_max)
    return TemplateSet(templates, ids, bursts, parser.name, n, iso(t_min), iso(t_max))


def detect_bursts(templates: list[Template], firsts: list[float | None], t_min: float | None,
                  t_max: float | None) -> list[Burst]:
    """Rate jumps and templates that appear late; strongest first, at most :data:`MAX_BURSTS`."""
    if t_min is None or t_max is None:
        return []
    found: list[tuple[float, Burst]] = []
    start_m = int(t_min // 60)
    for t in templates:
        mc = t.minute_counts
        if not mc:
            continue
        # the template's rate in the BURST_WINDOW minutes before each minute (minutes with no line
        # count as zero); the log's first minutes have no history and are not judged
        ordered = sorted(mc)
        best: tuple[float, int, int, float] | None = None
        window: list[tuple[int, int]] = []
        total = 0
        for m in ordered:
            while window and window[0][0] < m - BURST_WINDOW:
                total -= window.pop(0)[1]
            c = mc[m]
            span = min(BURST_WINDOW, m - start_m)
            if span >= 5 and c >= BURST_MIN_COUNT:
                mean = total / span
                if c >= BURST_FACTOR * max(mean, 1.0 / span):
                    score = c / max(mean, 0.1)
                    if best is None or score > best[0]:
                        best = (score, m, c, mean)
            window.append((m, c))
            total += c
        if best is not None:
            found.append((best[0], Burst(t.id, "rate_jump", iso(best[1] * 60), best[2], best[3])))
        first = firsts[t.id - 1]
        span_s = t_max - t_min
        if first is not None and span_s > 0 and first - t_min >= max(NEW_AFTER_MIN_S, NEW_AFTER_SHARE * span_s):
            found.append((1000.0 + t.count, Burst(t.id, "new_template", iso(first), t.count, 0.0)))
    found.sort(key=lambda x: -x[0])
    out = [b for _s, b in found[:MAX_BURSTS]]
    out.sort(key=lambda b: (b.at, b.template_id))
    return out
