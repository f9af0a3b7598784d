"""Markdown (an RCA or post-mortem) to Confluence *storage format* (XHTML with ``ac:`` macros).

Headings, paragraphs, emphasis, lists (nested, ordered with their start), task lists (as
text boxes), GFM tables, block quotes, links (http/https/mailto only) and fenced code (the
``code`` macro with its language, the code in CDATA). Raw HTML in the Markdown is escaped and
shown as text, never passed to Confluence as markup. The result is well-formed XML (checked
by :func:`to_storage`), because Confluence refuses a body that is not.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

import mistune
from mistune.renderers.html import HTMLRenderer

from ..documents.markdown import _IdentifierSafeInline, _link_allowed

_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,30}")
#: languages the Confluence code macro knows (others are sent as "none")
_CODE_LANGS = {"bash": "bash", "sh": "bash", "shell": "bash", "console": "bash", "python": "py", "py": "py",
               "java": "java", "javascript": "js", "js": "js", "json": "js", "sql": "sql", "xml": "xml",
               "html": "html", "yaml": "yaml", "yml": "yaml", "go": "go", "ruby": "ruby", "diff": "diff",
               "powershell": "powershell", "text": "none", "log": "none"}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class _StorageRenderer(HTMLRenderer):
    def __init__(self):
        super().__init__(escape=True)

    def link(self, text: str, url: str, title: str | None = None) -> str:
        if not _link_allowed(url) or url.strip().startswith("#"):
            return text
        return "<a" + self.render_attrs({"href": url.strip(), "title": title or None}) + ">" + text + "</a>"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        alt = mistune.util.striptags(text)
        if _link_allowed(url) and url.strip().lower().startswith(("http://", "https://")):
            return "<a" + self.render_attrs({"href": url.strip()}) + ">" + self.escape_attribute(alt or "image") + "</a>"
        return self.escape_attribute(alt)

    def block_code(self, code: str, info: str | None = None) -> str:
        lang = ""
        if info and info.strip():
            word = info.strip().split(None, 1)[0].lower()
            if _LANG.fullmatch(word):
                lang = _CODE_LANGS.get(word, "none")
        param = f'<ac:parameter ac:name="language">{lang}</ac:parameter>' if lang else ""
        return ('<ac:structured-macro ac:name="code">' + param
                + "<ac:plain-text-body>" + _cdata(code) + "</ac:plain-text-body></ac:structured-macro>\n")

    def heading(self, text: str, level: int, **attrs) -> str:
        return f"<h{level}>{text}</h{level}>\n"

    def linebreak(self) -> str:
        return "<br />\n"

    def thematic_break(self) -> str:
        return "<hr />\n"

    def table(self, text: str) -> str:
        return "<table>" + text + "</table>\n"

    def table_head(self, text: str) -> str:
        return "<thead><tr>" + text + "</tr></thead>"

    def table_body(self, text: str) -> str:
        return "<tbody>" + text + "</tbody>"

    def table_row(self, text: str) -> str:
        return "<tr>" + text + "</tr>"

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        tag = "th" if head else "td"
        return f"<{tag}>{text}</{tag}>"

    def task_list_item(self, text: str, checked: bool = False) -> str:
        box = "[x] " if checked else "[ ] "
        if text.startswith("<p>"):
            return "<li>" + text.replace("<p>", "<p>" + box, 1) + "</li>\n"
        return "<li>" + box + text + "</li>\n"

    def strikethrough(self, text: str) -> str:
        return "<del>" + text + "</del>"

    def block_html(self, html: str) -> str:
        return "<p>" + mistune.util.escape(html) + "</p>\n"

    def inline_html(self, html: str) -> str:
        return mistune.util.escape(html)

    def block_error(self, text: str) -> str:
        return "<p>" + mistune.util.escape(text) + "</p>\n"


@lru_cache(maxsize=1)
def _markdown() -> mistune.Markdown:
    return mistune.Markdown(renderer=_StorageRenderer(), inline=_IdentifierSafeInline(),
                            plugins=[mistune.plugins.import_plugin(p)
                                     for p in ("table", "strikethrough", "url", "task_lists")])


def to_storage(markdown: str) -> str:
    """The Confluence storage-format body for ``markdown``; always well-formed XHTML."""
    text = _XML_BAD.sub("\ufffd", markdown or "")
    body = _markdown()(text)
    # named HTML entities (&nbsp; from the escaper) are not XML: use numeric references
    body = body.replace("&nbsp;", "&#160;")
    try:
        ET.fromstring('<r xmlns:ac="urn:ac" xmlns:ri="urn:ri">' + body + "</r>")
    except ET.ParseError as exc:  # a renderer bug: never send a body Confluence would refuse
        raise ValueError(f"the Confluence body is not well-formed XML ({exc})") from None
    return body
