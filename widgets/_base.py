"""The panel base class, the error guard for handlers and small shared pieces."""

from __future__ import annotations

import functools
import logging
import threading
import weakref

import ipywidgets as W

from tftsr_kernel.errors import TftsrError

from . import _html

log = logging.getLogger("tftsr.widgets")


def get_wb(wb=None):
    """The workbench to use: the one given, else ``tftsr_kernel.open()`` (one per process)."""
    if wb is not None:
        return wb
    import tftsr_kernel

    return tftsr_kernel.open()


def may(wb, permission: str) -> bool:
    """Whether the kernel would let this page's user do ``permission`` (to choose what to show;
    the kernel still checks every call)."""
    team = getattr(wb, "team", None)
    return True if team is None else team.actor.can(permission)


def service(wb, name: str):
    """A lazily loaded kernel service (pii, providers, chat, documents), or None when the
    module that provides it is not installed yet."""
    try:
        return getattr(wb, name)
    except ImportError:
        return None


def guarded(method):
    """Wrap a handler: kernel errors go to the panel's status line, never a traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except TftsrError as exc:
            self.set_status(str(exc), "error")
        except Exception as exc:  # a bug: say so in one line, keep the details in the log
            log.exception("unexpected error in %s", method.__qualname__)
            self.set_status(f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}", "error")
        return None

    return wrapper


class Panel:
    """A plain class composing ipywidgets.

    Subclasses build their children as ``self._w_<name>`` and set ``self._root``; ``.layout`` is
    the widget to display. Displaying a panel shows the live widget and carries a static HTML and
    Markdown rendering in the same output, so an nbconvert export shows the content without a
    kernel.
    """

    title = "Panel"
    css_class = "tftsr-panel"

    def __init__(self, wb=None):
        self._wb = get_wb(wb)
        self._w_status = W.HTML(value="", layout=W.Layout(min_height="20px"))
        self._w_status.add_class("tftsr-status-line")
        self._status_text = ""
        self._status_kind = "info"
        self._root: W.Widget | None = None

    # -- display ------------------------------------------------------------------------------
    @property
    def layout(self) -> W.Widget:
        """The root widget of the panel."""
        if self._root is None:
            self._root = self._build()
            self._root.add_class(self.css_class)
            self._root.add_class("tftsr-panel")
        return self._root

    def _build(self) -> W.Widget:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ipython_display_(self):
        from IPython.display import display

        bundle = dict(self.layout._repr_mimebundle_() or {})
        try:
            bundle["text/html"] = self.to_html()
            md = self._repr_markdown_()
            if md:
                bundle["text/markdown"] = md
        except Exception:  # the live view must not fail because the static one did
            log.exception("static rendering of %s failed", type(self).__name__)
        display(bundle, raw=True)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """A static rendering (escaped) of what the panel shows."""
        return _html.heading(self.title)

    def _repr_markdown_(self) -> str | None:
        return None

    # -- status line ----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """The text of the status line (plain)."""
        return self._status_text

    @property
    def status_kind(self) -> str:
        return self._status_kind

    def set_status(self, message: str, kind: str = "info") -> None:
        self._status_text = message or ""
        self._status_kind = kind
        self._w_status.value = _html.status_line(message, kind)

    @property
    def wb(self):
        return self._wb


class _Topics:
    """Panels of one kernel telling each other that something changed (e.g. the Settings panel
    added a provider: every open chat refreshes its provider list). Subscribers are bound
    methods held weakly, so a closed panel is never kept alive or called."""

    def __init__(self):
        self._subs: dict[str, list[weakref.WeakMethod]] = {}
        self._lock = threading.Lock()

    def subscribe(self, topic: str, method) -> None:
        with self._lock:
            self._subs.setdefault(topic, []).append(weakref.WeakMethod(method))

    def notify(self, topic: str, wb=None) -> int:
        """Call every live subscriber of ``topic`` (with ``wb``); returns how many were called.
        A subscriber showing another workbench is skipped; one that fails is logged, not raised."""
        with self._lock:
            refs = self._subs.get(topic, [])
            live = [r for r in refs if r() is not None]
            self._subs[topic] = live
        called = 0
        for ref in live:
            method = ref()
            if method is None:
                continue
            owner = getattr(method, "__self__", None)
            if wb is not None and getattr(owner, "wb", wb) is not wb:
                continue
            try:
                method()
                called += 1
            except Exception:
                log.exception("%s subscriber failed", topic)
        return called


#: ``changes.notify("providers", wb)`` after adding, changing or deleting a provider
changes = _Topics()


class Background:
    """Run a function in a thread (streaming chat, model pulls) and let tests wait for it."""

    def __init__(self):
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, fn, *args) -> None:
        self._thread = threading.Thread(target=fn, args=args, daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running


def button(description: str, css: str, *, style: str = "", tooltip: str = "", icon: str = "",
           width: str | None = None) -> W.Button:
    b = W.Button(description=description, button_style=style, tooltip=tooltip or description, icon=icon,
                 layout=W.Layout(width=width) if width else W.Layout(width="auto"))
    b.add_class(css)
    return b


def lazy_tabs(builders: list[tuple[str, object]], *, build_first: bool = True, css: str = "") -> W.Tab:
    """A Tab whose pages are built on first selection. ``builders`` are (title, fn -> widget)."""
    boxes = [W.VBox([]) for _ in builders]
    tab = W.Tab(children=boxes, titles=[t for t, _ in builders])
    if css:
        tab.add_class(css)
    built: set[int] = set()

    def build(index):
        if index is None or index in built or index >= len(builders):
            return
        built.add(index)
        try:
            boxes[index].children = (builders[index][1](),)
        except TftsrError as exc:
            boxes[index].children = (W.HTML(_html.status_line(str(exc), "error")),)
        except Exception as exc:
            log.exception("building tab %s failed", builders[index][0])
            boxes[index].children = (W.HTML(_html.status_line(
                f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}", "error")),)

    def on_select(change):
        build(change["new"])

    tab.observe(on_select, names="selected_index")
    tab._tftsr_build = build  # for tests and for callers that switch tabs programmatically
    if build_first:
        build(0)
    return tab


def set_options(select, options) -> None:
    """Replace a Dropdown's options, keeping the current value when it is still offered, else
    choosing the first option (ipywidgets leaves the value None when options are replaced)."""
    current = select.value
    select.options = options
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    if current in values:
        select.value = current
    elif values:
        select.value = values[0]
