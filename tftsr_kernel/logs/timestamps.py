"""Timestamps of log lines in the common formats, as UTC epoch seconds, so logs line up in time.

One :class:`TimestampParser` per log: :meth:`TimestampParser.detect` looks at the first lines and
picks the format most of them carry (ISO 8601 / RFC 3339, log4j's ``yyyy-MM-dd HH:mm:ss,SSS``,
syslog ``Mmm d HH:MM:SS``, Apache error ``[Www Mmm dd HH:MM:SS yyyy]`` and access
``[dd/Mmm/yyyy:HH:MM:SS +zzzz]``, Windows ``M/d/yyyy h:mm:ss AM``, epoch seconds or milliseconds,
and the compact forms found in the loghub data sets: ``yyMMdd HHmmss``, ``yy/MM/dd HH:mm:ss``,
``yyyyMMdd-HH:mm:ss:SSS``, ``MM-dd HH:mm:ss.SSS``, ``[MM.dd HH:mm:ss]``, ``yyyy-MM-dd-HH.mm.ss``).
:meth:`TimestampParser.parse` then returns ``(epoch_seconds, (start, end))`` for a line, the span
being where the timestamp is (the template miner drops it), or ``None``.

Times without a zone are taken as UTC; formats without a year (syslog, Android) take the
parser's ``year`` (the year the log was uploaded unless given). A pure module: no I/O.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Callable

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}
_MON = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_HMS = r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})"
_FRAC = r"(?:[.,:](?P<frac>\d{1,9}))?"
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"

#: how far into a line a timestamp may start (headers put it first or after a short prefix)
SEARCH_WINDOW = 120


def _tz_offset(tz: str | None) -> int:
    if not tz or tz == "Z":
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


@dataclass(frozen=True)
class Format:
    name: str
    regex: re.Pattern
    #: ``convert(match, year) -> epoch seconds``
    convert: Callable[[re.Match, int], float]


def _calendar(yy: bool = False):
    """A converter for a calendar format; the day's epoch is cached (a log has few days)."""
    days: dict[tuple, int] = {}
    seconds: dict[tuple, float] = {}  # the text up to the seconds -> epoch (many lines share one)

    def convert(m: re.Match, year: int) -> float:
        idx = m.re.groupindex
        g = m.group
        skey = (m.string[m.start():m.end("S")], year)
        base = seconds.get(skey)
        if base is not None:
            return base + _rest(m, idx)
        base = _base(m, idx, g, year)
        if len(seconds) > 200_000:
            seconds.clear()
        seconds[skey] = base
        return base + _rest(m, idx)

    def _rest(m, idx) -> float:
        t = 0.0
        if "frac" in idx:
            f = m.group("frac")
            if f:
                t += int(f) / 10 ** len(f)
        if "tz" in idx:
            t -= _tz_offset(m.group("tz"))
        return t

    def _base(m, idx, g, year) -> float:
        y_txt = g("Y") if "Y" in idx else None
        mon = g("mon") if "mon" in idx else None
        mo_txt = mon if mon is not None else (g("mo") if "mo" in idx else None)
        key = (y_txt, mo_txt, g("d"), year)
        day = days.get(key)
        if day is None:
            if y_txt is None:
                y = year
            else:
                y = int(y_txt)
                if yy or y < 100:
                    y += 2000 if y < 70 else 1900
            mo = _MONTHS[mo_txt[:3].lower()] if not mo_txt.isdigit() else int(mo_txt)
            d = int(g("d"))
            if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
                raise ValueError("not a date")
            day = days[key] = calendar.timegm((y, mo, d, 0, 0, 0, 0, 0, 0))
        h, mi, sec = int(g("H")), int(g("M")), int(g("S"))
        if "ampm" in idx:
            ampm = (g("ampm") or "").upper()
            if ampm == "PM" and h < 12:
                h += 12
            elif ampm == "AM" and h == 12:
                h = 0
        if h > 23 or mi > 59 or sec > 60:
            raise ValueError("not a time")
        return day + h * 3600 + mi * 60 + sec

    return convert


def _epoch(m: re.Match, year: int) -> float:
    v = int(m.group("E"))
    return v / 1000.0 if v > 10 ** 11 else float(v)


def _f(name: str, pattern: str, convert) -> Format:
    return Format(name, re.compile(pattern), convert)


#: in order of preference when several formats match as many lines
FORMATS: tuple[Format, ...] = (
    _f("iso8601", r"(?<!\d)(?P<Y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ]" + _HMS + _FRAC + r"\s?" + _TZ + r"(?!\d)",
       _calendar()),
    _f("apache_access", r"\[(?P<d>\d{2})/" + _MON + r"/(?P<Y>\d{4}):" + _HMS + r"\s*" + _TZ + r"\]", _calendar()),
    _f("apache_error", r"\[?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]* " + _MON + r" +(?P<d>\d{1,2}) " + _HMS + _FRAC
       + r" (?P<Y>\d{4})\]?", _calendar()),
    _f("windows", r"(?<![\d/])(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<Y>\d{4}),? " + _HMS + r"(?: ?(?P<ampm>[AaPp][Mm]))?",
       _calendar()),
    _f("dotted_datetime", r"(?<!\d)(?P<Y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})-(?P<H>\d{2})\.(?P<M>\d{2})\.(?P<S>\d{2})"
       r"(?:\.(?P<frac>\d{1,9}))?", _calendar()),
    _f("compact_datetime", r"(?<!\d)(?P<Y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})-" + _HMS + _FRAC, _calendar()),
    _f("syslog", r"(?<![\w:])" + _MON + r" +(?P<d>\d{1,2}) " + _HMS + _FRAC + r"(?!\d)", _calendar()),
    _f("yy_slash", r"(?<![\d/])(?P<Y>\d{2})/(?P<mo>\d{2})/(?P<d>\d{2}) " + _HMS + _FRAC, _calendar(yy=True)),
    _f("yymmdd_hhmmss", r"^(?P<Y>\d{2})(?P<mo>[01]\d)(?P<d>[0-3]\d) (?P<H>[0-2]\d)(?P<M>[0-5]\d)(?P<S>[0-5]\d)(?!\d)",
       _calendar(yy=True)),
    _f("month_day", r"(?<![\d.\-])(?P<mo>[01]\d)[-.](?P<d>[0-3]\d) " + _HMS + _FRAC, _calendar()),
    _f("epoch", r"(?<![\d.])(?P<E>1[0-9]{9}(?:[0-9]{3})?)(?![\d.])", _epoch),
)
_BY_NAME = {f.name: f for f in FORMATS}


class TimestampParser:
    """Parses one log's timestamps with the format detected on its first lines."""

    def __init__(self, fmt: Format | None, year: int):
        self.format = fmt
        self.year = year
        self._search = fmt.regex.search if fmt is not None else None

    @property
    def name(self) -> str | None:
        return self.format.name if self.format else None

    @classmethod
    def detect(cls, lines, year: int, sample: int = 200) -> "TimestampParser":
        """The format that parses the most of the first ``sample`` non-empty ``lines``."""
        scores: dict[str, int] = {}
        seen = 0
        for line in lines:
            if not line.strip():
                continue
            head = line[:SEARCH_WINDOW]
            for fmt in FORMATS:
                m = fmt.regex.search(head)
                if m is not None and _plausible(fmt, m, year):
                    scores[fmt.name] = scores.get(fmt.name, 0) + 1
            seen += 1
            if seen >= sample:
                break
        if not scores:
            return cls(None, year)
        best = max(FORMATS, key=lambda f: (scores.get(f.name, 0), -FORMATS.index(f)))
        if scores.get(best.name, 0) * 4 < seen:  # under a quarter of the lines: not this log's format
            return cls(None, year)
        return cls(best, year)

    @classmethod
    def named(cls, name: str | None, year: int) -> "TimestampParser":
        return cls(_BY_NAME.get(name) if name else None, year)

    def redetect(self, line: str) -> bool:
        """Switch to the format that parses ``line`` (after the current one failed on several
        lines in a row, e.g. logs of two programs concatenated); False when none does."""
        head = line[:SEARCH_WINDOW]
        for fmt in FORMATS:
            if fmt is self.format:
                continue
            m = fmt.regex.search(head)
            if m is not None and _plausible(fmt, m, self.year):
                self.format, self._search = fmt, fmt.regex.search
                return True
        return False

    def parse(self, line: str):
        """``(epoch_seconds, (start, end))`` of the line's timestamp, or ``None``."""
        if self._search is None:
            return None
        m = self._search(line, 0, SEARCH_WINDOW)
        if m is None:
            return None
        try:
            return self.format.convert(m, self.year), m.span()
        except (ValueError, KeyError, OverflowError):
            return None


def _plausible(fmt: Format, m: re.Match, year: int) -> bool:
    try:
        t = fmt.convert(m, year)
    except (ValueError, KeyError, OverflowError):
        return False
    return 315532800 <= t <= 4102444800  # 1980 .. 2100


def iso(ts: float | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` (UTC), the store's timestamp form."""
    if ts is None:
        return None
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ts)))
