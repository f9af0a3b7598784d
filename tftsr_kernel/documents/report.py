"""Redacting an executed incident notebook before it becomes a shared report (``tftsr export``).

Reports are for sharing, like document exports: every output of the executed notebook (HTML,
Markdown, plain text, streams), every Markdown cell and the report title pass the egress guard
(``wb.pii.guard_outbound``) with the issue's placeholders, the same the AI model sees. HTML is
redacted node by node (text and attribute values; ``<style>`` content and inline ``data:image``
URLs are left alone, ``<script>`` elements and comments are dropped), so the markup stays valid. All strings of one report go
through the guard in one call.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_TEXT_MIMES = ("text/markdown", "text/plain", "text/latex")


class _Tokens(HTMLParser):
    """HTML as a list of tokens: ``("raw", text)`` kept as is, ``("text", s)`` / attribute values
    to redact. Comments and script elements are dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []
        self._skip = 0      # inside <script>
        self._raw = 0       # inside <style>

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._skip += 1
            return
        if tag == "style":
            self._raw += 1
        self.tokens.append(("tag", tag, [(k, v) for k, v in attrs], False))

    def handle_startendtag(self, tag, attrs):
        if tag != "script":
            self.tokens.append(("tag", tag, [(k, v) for k, v in attrs], True))

    def handle_endtag(self, tag):
        if tag == "script":
            self._skip = max(0, self._skip - 1)
            return
        if tag == "style":
            self._raw = max(0, self._raw - 1)
        if tag not in _VOID:
            self.tokens.append(("raw", f"</{tag}>"))

    def handle_data(self, data):
        if self._skip:
            return
        if self._raw:
            self.tokens.append(("raw", data))
        else:
            self.tokens.append(("text", data))

    def handle_decl(self, decl):
        self.tokens.append(("raw", f"<!{decl}>"))

    def handle_comment(self, data):  # comments are not shown; drop them rather than redact them
        pass

    def handle_pi(self, data):
        pass


def _redactable(value) -> bool:
    """Attribute values to redact: all but empty ones and inline ``data:`` images (pixels, not text)."""
    return bool(value) and not value.lstrip().lower().startswith("data:image/")


def _html_strings(tokens) -> list[str]:
    out = []
    for t in tokens:
        if t[0] == "text":
            out.append(t[1])
        elif t[0] == "tag":
            out.extend(v for _k, v in t[2] if _redactable(v))
    return out


def _html_rebuild(tokens, cleared) -> str:
    it = iter(cleared)
    parts = []
    for t in tokens:
        if t[0] == "raw":
            parts.append(t[1])
        elif t[0] == "text":
            parts.append(html.escape(next(it), quote=False))
        else:
            _, tag, attrs, selfclosing = t
            rendered = []
            for k, v in attrs:
                rendered.append(f" {k}" if v is None else
                                f' {k}="{html.escape(next(it) if _redactable(v) else v, quote=True)}"')
            parts.append(f"<{tag}{''.join(rendered)}{' /' if selfclosing else ''}>")
    return "".join(parts)


def redact_html(wb, issue_id: str, text: str) -> str:
    """One HTML document or fragment, redacted node by node (see the module docstring)."""
    return redact_html_many(wb, issue_id, [text])[0]


def redact_html_many(wb, issue_id: str, texts: list[str]) -> list[str]:
    parsed = []
    for text in texts:
        p = _Tokens()
        p.feed(text)
        p.close()
        parsed.append(p.tokens)
    strings = [_html_strings(t) for t in parsed]
    cleared = wb.pii.guard_outbound(issue_id, strings).payload
    return [_html_rebuild(t, c) for t, c in zip(parsed, cleared)]


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def redact_notebook(wb, issue_id: str, nb) -> None:
    """Redact, in place, everything an executed incident notebook would show in a report."""
    html_slots, text_slots = [], []  # (container, key)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text_slots.append((cell, "source"))
        elif cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    text_slots.append((out, "text"))
                data = out.get("data") or {}
                if "text/html" in data:
                    html_slots.append((data, "text/html"))
                text_slots.extend((data, mime) for mime in _TEXT_MIMES if mime in data)
                for mime in [m for m in data if m.startswith("image/svg")]:
                    html_slots.append((data, mime))
    if "title" in nb.metadata:
        text_slots.append((nb.metadata, "title"))
    htmls = redact_html_many(wb, issue_id, [_join(c[k]) for c, k in html_slots]) if html_slots else []
    for (container, key), value in zip(html_slots, htmls):
        container[key] = value
    if text_slots:
        cleared = wb.pii.guard_outbound(issue_id, [_join(c[k]) for c, k in text_slots]).payload
        for (container, key), value in zip(text_slots, cleared):
            container[key] = value
