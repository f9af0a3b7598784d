"""Markdown to DOCX (python-docx): headings, paragraphs with bold/italic/code/links, bullet and
numbered lists (nested), GFM tables, fenced code blocks, block quotes and rules.

:func:`markdown_to_docx` is pure: Markdown text in, the bytes of a ``.docx`` out. The Markdown is
parsed by mistune (the renderer the HTML export uses) into its syntax tree, then each block is
written with Word's built-in styles (``Heading n``, ``List Bullet``, ``List Number``, ``Table
Grid``, ``Quote``), so the file reads well in Word and LibreOffice and headings show in the
navigation pane. Raw HTML in the Markdown is written as its literal text; nothing is fetched
(images become their alt text and address).
"""

from __future__ import annotations

import io
import re

import mistune

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # not allowed in XML


def _clean(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


def _parser():
    return mistune.create_markdown(renderer=None, plugins=["table", "strikethrough"])


def markdown_to_docx(markdown: str, *, title: str | None = None, subject: str | None = None,
                     when=None) -> bytes:
    """The bytes of a DOCX holding ``markdown``; ``title`` and ``subject`` (optional) set the core
    properties, ``when`` (a datetime) their created/modified time. The library's own defaults
    (author "python-docx", a 2013 date, a comment) are replaced, so the file says what made it."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    props = doc.core_properties
    props.author = props.last_modified_by = "TFTSR Workbench"
    props.comments = ""
    if when is not None:
        props.created = props.modified = when
    if title:
        props.title = _clean(title)[:255]
    if subject:
        props.subject = _clean(subject)[:255]
    tokens = _parser()(markdown or "")
    _Writer(doc, Pt).blocks(tokens)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


class _Writer:
    def __init__(self, doc, pt):
        self.doc = doc
        self.pt = pt

    # -- blocks
    def blocks(self, tokens, list_depth: int = 0, quote: bool = False) -> None:
        for tok in tokens:
            kind = tok["type"]
            if kind == "heading":
                level = max(1, min(9, tok["attrs"]["level"]))
                p = self.doc.add_heading(level=level)
                self.inline(p, tok.get("children", []))
            elif kind in ("paragraph", "block_text"):
                p = self.doc.add_paragraph(style="Quote" if quote else None)
                self.inline(p, tok.get("children", []))
            elif kind == "list":
                self.list(tok, list_depth)
            elif kind == "block_code":
                self.code(tok.get("raw", ""))
            elif kind == "table":
                self.table(tok)
            elif kind == "block_quote":
                self.blocks(tok.get("children", []), list_depth, quote=True)
            elif kind == "thematic_break":
                self.doc.add_paragraph("\u2015" * 20)
            elif kind == "block_html":
                self.doc.add_paragraph(_clean(tok.get("raw", "")))
            # blank_line and unknown tokens add nothing

    def list(self, tok, depth: int) -> None:
        ordered = tok["attrs"].get("ordered", False)
        base = "List Number" if ordered else "List Bullet"
        style = base if depth == 0 else f"{base} {min(depth + 1, 3)}"
        for item in tok.get("children", []):
            first = True
            for child in item.get("children", []):
                if child["type"] in ("block_text", "paragraph") and first:
                    p = self.doc.add_paragraph(style=style)
                    self.inline(p, child.get("children", []))
                    first = False
                elif child["type"] == "list":
                    self.list(child, depth + 1)
                else:
                    self.blocks([child], depth + 1)

    def code(self, raw: str) -> None:
        p = self.doc.add_paragraph()
        lines = raw.rstrip("\n").split("\n")
        for i, line in enumerate(lines):
            run = p.add_run(_clean(line))
            run.font.name = "Courier New"
            run.font.size = self.pt(9)
            if i < len(lines) - 1:
                run.add_break()

    def table(self, tok) -> None:
        head, rows = [], []
        for part in tok.get("children", []):
            if part["type"] == "table_head":
                head = part.get("children", [])
            elif part["type"] == "table_body":
                rows = [r.get("children", []) for r in part.get("children", [])]
        ncols = max([len(head)] + [len(r) for r in rows]) or 1
        table = self.doc.add_table(rows=0, cols=ncols)
        table.style = "Table Grid"
        for r_i, cells in enumerate([head] + rows if head else rows):
            row = table.add_row().cells
            for c_i, cell in enumerate(cells[:ncols]):
                p = row[c_i].paragraphs[0]
                self.inline(p, cell.get("children", []), bold=bool(head) and r_i == 0)

    # -- inline
    def inline(self, p, children, bold=False, italic=False, strike=False, code=False) -> None:
        for tok in children:
            kind = tok["type"]
            if kind == "text":
                self.run(p, tok.get("raw", ""), bold, italic, strike, code)
            elif kind == "codespan":
                self.run(p, tok.get("raw", ""), bold, italic, strike, True)
            elif kind == "strong":
                self.inline(p, tok.get("children", []), True, italic, strike, code)
            elif kind == "emphasis":
                self.inline(p, tok.get("children", []), bold, True, strike, code)
            elif kind == "strikethrough":
                self.inline(p, tok.get("children", []), bold, italic, True, code)
            elif kind == "link":
                self.inline(p, tok.get("children", []), bold, italic, strike, code)
                url = tok.get("attrs", {}).get("url", "")
                text = "".join(c.get("raw", "") for c in tok.get("children", []))
                if url and url != text:
                    self.run(p, f" ({url})", bold, italic, strike, code)
            elif kind == "image":
                alt = "".join(c.get("raw", "") for c in tok.get("children", []))
                url = tok.get("attrs", {}).get("url", "")
                self.run(p, f"[image: {alt}]" + ("" if url.startswith("data:") else f" ({url})"), bold, italic,
                         strike, code)
            elif kind in ("softbreak",):
                self.run(p, " ", bold, italic, strike, code)
            elif kind == "linebreak":
                p.add_run().add_break()
            elif kind == "inline_html":
                self.run(p, tok.get("raw", ""), bold, italic, strike, code)
            elif "children" in tok:
                self.inline(p, tok["children"], bold, italic, strike, code)
            elif "raw" in tok:
                self.run(p, tok["raw"], bold, italic, strike, code)

    def run(self, p, text, bold, italic, strike, code) -> None:
        if not text:
            return
        r = p.add_run(_clean(text))
        r.bold = bold or None
        r.italic = italic or None
        if strike:
            r.font.strike = True
        if code:
            r.font.name = "Courier New"
