"""Markdown to safe HTML for untrusted text (issue fields, log lines, AI replies, documents).

``render_markdown(md)`` returns an HTML fragment that can be put into an ``ipywidgets.HTML`` of
a shared Voila dashboard, an nbconvert report or an exported document:

- GFM tables, fenced code, lists, task lists, emphasis with ``*``, strikethrough, links and bare
  ``http(s)://`` URLs are rendered.
- Raw HTML in the Markdown is escaped and shown as text (``<script>`` reads as ``<script>``).
- Links keep only ``http:``, ``https:``, ``mailto:`` and in-page ``#fragment`` targets; any
  other link is rendered as its text. Images keep only ``data:image/png|jpeg|gif|webp;base64``
  sources (no request leaves the page); a remote image becomes a link to it unless
  ``remote_images=True``.
- Identifiers render as written: ``db_pool_max`` (intraword) and ``__init__`` (a run of two or
  more underscores never makes emphasis; use ``**`` for bold). ``_text_`` is still emphasis.
- The HTML then passes a strict allow-list (bleach) as defence in depth: only the tags and
  attributes this renderer produces survive, no ``style``, no event handlers, no ``<script>``,
  ``<style>``, ``<iframe>``, ``<svg>`` or ``<form>``.

Helpers for building Markdown from untrusted values: :func:`md_cell` (one table cell),
:func:`md_inline` (literal text inside a sentence or heading), :func:`md_block` (literal
multi-line text) and :func:`md_text` (multi-line text keeping its inline Markdown).
"""

from __future__ import annotations

import html
import re
import threading
from functools import lru_cache

import bleach
import mistune
from mistune.inline_parser import InlineParser
from mistune.renderers.html import HTMLRenderer

__all__ = ["render_markdown", "md_cell", "md_inline", "md_block", "md_text", "ALLOWED_TAGS"]

#: every tag the renderer can produce; everything else is escaped by the bleach pass
ALLOWED_TAGS = frozenset({
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "input", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
_LINK_SCHEMES = ("http", "https", "mailto")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_LANG = re.compile(r"[A-Za-z0-9_+.#\-]{1,40}")
_CLASS_VALUES = {
    "code": re.compile(r"language-[A-Za-z0-9_+.#\-]{1,40}"),
    "th": re.compile(r"align-(?:left|center|right)"),
    "td": re.compile(r"align-(?:left|center|right)"),
    "li": re.compile(r"task-list-item"),
    "ul": re.compile(r"contains-task-list"),
    "input": re.compile(r"task-list-item-checkbox"),
    "a": re.compile(r"remote-image"),
}
_LINK_REL = "noopener noreferrer nofollow"


def _scheme(url: str) -> str | None:
    """The scheme of ``url`` as a browser would see it (controls and spaces ignored), else None."""
    cleaned = _CONTROL.sub("", html.unescape(url))
    m = _SCHEME.match(cleaned)
    return m.group(1).lower() if m else None


def _link_allowed(url: str) -> bool:
    if url is None:
        return False
    stripped = _CONTROL.sub("", html.unescape(url))
    if stripped.startswith("#"):
        return True
    scheme = _scheme(url)
    if scheme not in _LINK_SCHEMES:
        return False
    if scheme in ("http", "https"):
        return stripped.lower().startswith(scheme + "://") and len(stripped) > len(scheme) + 3
    return True


def _data_image_allowed(url: str) -> bool:
    return url is not None and _DATA_IMAGE.fullmatch(url.strip()) is not None


class _IdentifierSafeInline(InlineParser):
    """CommonMark inline parsing, except that a run of two or more ``_`` is always literal.

    So ``__init__`` and ``__main__`` stay intact (CommonMark would make them bold), while
    ``_emphasis_`` still works; intraword underscores (``db_pool_max``) are literal anyway.
    """

    def process_text(self, text, state, parse_emphasis: bool = True) -> None:
        if not parse_emphasis or "__" not in text:
            super().process_text(text, state, parse_emphasis)
            return
        for part in re.split(r"(_{2,})", text):
            if part:
                super().process_text(part, state, not part.startswith("__"))


class _SafeRenderer(HTMLRenderer):
    def __init__(self, remote_images: bool):
        super().__init__(escape=True)
        self._remote_images = remote_images

    def link(self, text: str, url: str, title: str | None = None) -> str:
        if not _link_allowed(url):
            return text  # the link's text only; the target is dropped
        if url.strip().startswith("#"):  # in-page anchor
            return "<a" + self.render_attrs({"href": url.strip(), "title": title or None}) + ">" + text + "</a>"
        attrs = {"href": url, "title": title or None, "rel": _LINK_REL, "target": "_blank"}
        return "<a" + self.render_attrs(attrs) + ">" + text + "</a>"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        alt = mistune.util.striptags(text)
        if _data_image_allowed(url) or (self._remote_images and _scheme(url) in ("http", "https")
                                        and _link_allowed(url)):
            return "<img" + self.render_attrs({"src": url.strip(), "alt": alt, "title": title or None}) + " />"
        if _scheme(url) in ("http", "https") and _link_allowed(url):
            label = alt or "image"
            return ("<a" + self.render_attrs({"href": url, "title": title or None, "rel": _LINK_REL,
                                               "target": "_blank", "class": "remote-image"}) + ">"
                    + self.escape_attribute(label) + "</a>")
        return self.escape_attribute(alt)

    def block_code(self, code: str, info: str | None = None) -> str:
        cls = None
        if info:
            lang = html.unescape(info.strip()).split(None, 1)[0] if info.strip() else ""
            if _LANG.fullmatch(lang):
                cls = "language-" + lang
        return ("<pre><code" + self.render_attrs({"class": cls}) + ">"
                + mistune.util.escape(code) + "</code></pre>\n")

    def heading(self, text: str, level: int, **attrs) -> str:
        return f"<h{level}>{text}</h{level}>\n"

    # GFM tables: alignment as a class (no style attributes)
    def table(self, text: str) -> str:
        return "<table>\n" + text + "</table>\n"

    def table_head(self, text: str) -> str:
        return "<thead>\n<tr>\n" + text + "</tr>\n</thead>\n"

    def table_body(self, text: str) -> str:
        return "<tbody>\n" + text + "</tbody>\n"

    def table_row(self, text: str) -> str:
        return "<tr>\n" + text + "</tr>\n"

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        tag = "th" if head else "td"
        cls = f"align-{align}" if align in ("left", "center", "right") else None
        return f"<{tag}" + self.render_attrs({"class": cls}) + ">" + text + f"</{tag}>\n"

    def task_list_item(self, text: str, checked: bool = False) -> str:
        box = '<input class="task-list-item-checkbox" type="checkbox" disabled' + (" checked" if checked else "") + " />"
        if text.startswith("<p>"):
            text = text.replace("<p>", "<p>" + box + " ", 1)
        else:
            text = box + " " + text
        return '<li class="task-list-item">' + text + "</li>\n"

    def strikethrough(self, text: str) -> str:
        return "<del>" + text + "</del>"

    def block_error(self, text: str) -> str:
        return "<pre>" + mistune.util.escape(text) + "</pre>\n"


@lru_cache(maxsize=2)
def _markdown(remote_images: bool) -> mistune.Markdown:
    return mistune.Markdown(renderer=_SafeRenderer(remote_images), inline=_IdentifierSafeInline(),
                            plugins=[mistune.plugins.import_plugin(p)
                                     for p in ("table", "strikethrough", "url", "task_lists")])


def _make_attribute_filter(remote_images: bool):
    def allow(tag: str, name: str, value: str) -> bool:
        if name.startswith("on") or name == "style":
            return False
        if name == "class":
            rx = _CLASS_VALUES.get(tag)
            return rx is not None and rx.fullmatch(value) is not None
        if tag == "a":
            if name == "href":
                return _link_allowed(value)
            if name == "rel":
                return value == _LINK_REL
            if name == "target":
                return value == "_blank"
            return name == "title"
        if tag == "img":
            if name == "src":
                return _data_image_allowed(value) or (
                    remote_images and _scheme(value) in ("http", "https") and _link_allowed(value))
            return name in ("alt", "title")
        if tag == "input":
            if name == "type":
                return value == "checkbox"
            return name in ("disabled", "checked")
        if tag == "ol":
            return name == "start" and value.isdigit()
        return False

    return allow


_local = threading.local()


def _cleaner(remote_images: bool) -> bleach.Cleaner:
    """The allow-list pass; bleach Cleaner instances are not thread-safe, so one per thread."""
    cleaners = getattr(_local, "cleaners", None)
    if cleaners is None:
        cleaners = _local.cleaners = {}
    c = cleaners.get(remote_images)
    if c is None:
        c = cleaners[remote_images] = bleach.Cleaner(
            tags=ALLOWED_TAGS, attributes=_make_attribute_filter(remote_images),
            protocols={"http", "https", "mailto", "data"}, strip=False, strip_comments=True)
    return c


def render_markdown(md: str | None, *, remote_images: bool = False) -> str:
    """Markdown (untrusted) to a safe HTML fragment; see the module docstring for the rules."""
    if md is None:
        return ""
    if not isinstance(md, str):
        md = str(md)
    md = md.replace("\x00", "\ufffd")
    remote_images = bool(remote_images)
    return _cleaner(remote_images).clean(_markdown(remote_images)(md))


# --- building Markdown from untrusted values -------------------------------------------------------
_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<|~]")
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_BOUNDARY_UNDERSCORES = re.compile(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^(?:([#>+=\-])|(\d{1,9})([.)]))")


def _escape_text(text: str) -> str:
    text = _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _ENTITY.sub(r"\\&", text)
    # an underscore inside a word (db_pool_max) is literal in CommonMark; only escape the others
    text = _BOUNDARY_UNDERSCORES.sub(lambda m: "\\_" * len(m.group(0)), text)
    return _LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text)


def md_inline(value) -> str:
    """``value`` as literal text inside a Markdown paragraph, heading or table cell.

    Whitespace (newlines included) collapses to single spaces and Markdown syntax is
    backslash-escaped, so a hostile title cannot start a heading, a table row, a link or raw
    HTML. Identifiers such as ``db_pool_max`` are left readable.
    """
    if value is None:
        return ""
    return _escape_text(" ".join(str(value).replace("\x00", "").split()))


def md_cell(value, empty: str = "-") -> str:
    """``value`` as the content of one GFM table cell (pipes and newlines cannot break the row)."""
    text = md_inline(value)
    return text if text else empty


_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_BLOCK_STARTS = (
    (re.compile(r"^(#{1,6})(?=\s|$)"), lambda m: "\\" + m.group(1)),            # ATX heading
    (re.compile(r"^([>])"), lambda m: "\\" + m.group(1)),                       # block quote
    (re.compile(r"^([-+*])(?=\s|$)"), lambda m: "\\" + m.group(1)),             # bullet list
    (re.compile(r"^(\d{1,9})([.)])(?=\s|$)"), lambda m: m.group(1) + "\\" + m.group(2)),  # ordered list
    (re.compile(r"^([-=*_])(?=[-=*_\s]*$)"), lambda m: "\\" + m.group(1)),      # rule / setext underline
    (re.compile(r"^(`{3,}|~{3,})"), lambda m: "\\" + m.group(1)),               # code fence
    (re.compile(r"^(\[)(?=[^\]]*\]:)"), lambda m: "\\" + m.group(1)),           # link definition
)


def _escape_outside_code(line: str) -> str:
    """Escape ``|`` and ``<`` outside code spans (inside them a backslash would show)."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(line):
        out.append(_escape_pipes_html(line[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_escape_pipes_html(line[pos:]))
    return "".join(out)


def _escape_pipes_html(text: str) -> str:
    return re.sub(r"\\?([|<])", r"\\\1", text)


def md_text(value) -> str:
    """Multi-line untrusted text that keeps its inline Markdown (``code``, **bold**, links).

    Line breaks are kept; anything that would start a block (headings, lists, quotes, fences,
    tables, rules, setext underlines, link definitions) or raw HTML is escaped, so the text
    cannot add sections or break the document's structure. For descriptions, AI replies and
    5-Whys answers; use :func:`md_cell` inside tables.
    """
    if value is None:
        return ""
    lines = str(value).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out, para = [], []
    for line in lines:
        line = " ".join(line.split())
        if line:
            line = _escape_outside_code(line)
            for rx, repl in _BLOCK_STARTS:
                line = rx.sub(repl, line, count=1)
            para.append(line)
        elif para:
            out.append("  \n".join(para))
            para = []
    if para:
        out.append("  \n".join(para))
    return "\n\n".join(out)


def md_block(value) -> str:
    """Multi-line untrusted text as Markdown paragraphs: line breaks kept, syntax neutralised."""
    if value is None:
        return ""
    lines = str(value).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out, para = [], []
    for line in lines:
        if line.strip():
            para.append(_escape_text(" ".join(line.split())))
        elif para:
            out.append("  \n".join(para))
            para = []
    if para:
        out.append("  \n".join(para))
    return "\n\n".join(out)
