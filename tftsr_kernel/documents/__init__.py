"""Documents: RCA and post-mortem generation, editing with versions, and offline export.

``render_markdown`` (safe Markdown to HTML for untrusted text) and the Markdown-building helpers
import without the rest of the package; the service is ``wb.documents``.
"""

from .markdown import md_block, md_cell, md_inline, md_text, render_markdown

__all__ = ["render_markdown", "md_cell", "md_inline", "md_block", "md_text"]
