"""Self-contained, printable HTML for documents (also the input of the PDF export).

The page has inline CSS only: no fonts, scripts, stylesheets or images are fetched, and a
Content-Security-Policy forbids any that might slip in (scripts are not allowed at all, images
only as ``data:`` URLs). The body is the document's Markdown through ``render_markdown``.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from .markdown import render_markdown

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; script-src 'none'; "
       "connect-src 'none'; frame-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'")

CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
:root { color-scheme: light; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Liberation Sans", "Noto Sans", Arial, Helvetica, sans-serif;
       font-size: 10.5pt; line-height: 1.45; color: #1b1f24; background: #fff;
       max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
@media print { body { padding: 0; max-width: none; } }
h1 { font-size: 19pt; margin: 0 0 .6em; padding-bottom: .25em; border-bottom: 2px solid #2f5d8a; }
h2 { font-size: 14pt; margin: 1.4em 0 .5em; padding-bottom: .15em; border-bottom: 1px solid #d0d7de;
     color: #1f3f5f; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11.5pt; margin: 1.1em 0 .4em; break-after: avoid; page-break-after: avoid; }
h4, h5, h6 { font-size: 10.5pt; margin: 1em 0 .3em; }
p, ul, ol, blockquote, pre, table { margin: 0 0 .8em; }
ul, ol { padding-left: 1.6em; }
li { margin: .15em 0; }
li.task-list-item { list-style: none; margin-left: -1.4em; }
li.task-list-item input { margin: 0 .45em 0 0; vertical-align: middle; }
a { color: #0b5cad; text-decoration: underline; overflow-wrap: anywhere; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", Menlo, Consolas, monospace;
            font-size: 9pt; }
code { background: #f1f3f5; padding: .05em .3em; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: .6em .8em;
      white-space: pre-wrap; overflow-wrap: break-word; break-inside: avoid; }
pre code { background: none; padding: 0; }
blockquote { margin-left: 0; padding: .3em .9em; border-left: 4px solid #2f5d8a; background: #f4f7fb; }
blockquote p:last-child { margin-bottom: 0; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #c4ccd5; padding: .3em .5em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #eaeef2; font-weight: bold; }
td.align-center, th.align-center { text-align: center; }
td.align-right, th.align-right { text-align: right; }
hr { border: 0; border-top: 1px solid #d0d7de; margin: 1.4em 0; }
img { max-width: 100%; }
.doc-meta { color: #57606a; font-size: 8.5pt; margin-bottom: 1.2em; }
"""

_TYPE_LABEL = {"rca": "Root cause analysis", "postmortem": "Blameless post-mortem"}


def html_page(title: str, body_html: str, *, meta_line: str | None = None) -> str:
    """Wrap an already-sanitised HTML fragment in a self-contained printable page."""
    meta = f'<div class="doc-meta">{html.escape(meta_line)}</div>\n' if meta_line else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{meta}<main>\n{body_html}</main>\n</body>\n</html>\n"
    )


def _ms_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def document_html(doc) -> str:
    """A stored :class:`~tftsr_kernel.models.Document` as a self-contained HTML page."""
    meta = (f"{_TYPE_LABEL.get(doc.doc_type, 'Document')} · issue {doc.issue_id} · "
            f"last saved {_ms_utc(doc.updated_at)} · exported from TFTSR Workbench")
    return html_page(doc.title, render_markdown(doc.content_md), meta_line=meta)
