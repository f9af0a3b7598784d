"""Ctrl+Enter sends: a tiny anywidget that watches one text box for the key.

ipywidgets' Textarea has no key events. :class:`SubmitKey` (its JavaScript in ``keys.js``, no
build step, no network) listens for Ctrl+Enter (Cmd+Enter) inside the element carrying the CSS
class ``target`` and calls ``on_submit(text)`` in the kernel with the box's current text. The
panel adds that class to its Textarea and puts this (invisible) widget next to it.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import anywidget
import traitlets as T

log = logging.getLogger("tftsr.widgets")

MAX_TEXT = 1_000_000  # characters accepted from one key press (a pasted log is attached, not typed)


class SubmitKey(anywidget.AnyWidget):
    """Calls ``on_submit(text)`` when Ctrl+Enter is pressed in the element with class ``target``."""

    _esm = Path(__file__).with_name("keys.js")

    target = T.Unicode("").tag(sync=True)
    disabled = T.Bool(False).tag(sync=True)

    def __init__(self, on_submit, *, target: str | None = None, **kwargs):
        super().__init__(target=target or f"tftsr-submit-{uuid.uuid4().hex[:12]}", **kwargs)
        self._on_submit = on_submit
        self.on_msg(self._handle)

    def _handle(self, _widget, content, _buffers):
        if not isinstance(content, dict) or content.get("type") != "submit" or self.disabled:
            return
        text = content.get("text")
        if not isinstance(text, str):
            return
        try:
            self._on_submit(text[:MAX_TEXT])
        except Exception:  # the handler reports its own errors; never break the comm
            log.exception("Ctrl+Enter handler failed")
