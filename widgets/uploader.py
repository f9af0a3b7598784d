"""A file uploader that sends large files in acknowledged chunks.

ipywidgets' FileUpload sends the whole file in one WebSocket message, and the Jupyter server
refuses messages over 10 MiB, so a larger upload failed silently. This widget (an anywidget: the
JavaScript module in ``uploader.js`` ships with the package and needs no build step and no
network) reads the file in the browser in chunks of ``chunk_bytes`` and sends each as a comm
message with a binary buffer; the kernel writes it through a
:class:`tftsr_kernel.attachments.ChunkedUpload` (a private temporary file) and acknowledges it.
See uploader.js for the message protocol.

The widget knows nothing about logs or images: the panel gives it ``begin(name, size)`` (returns
an object with ``write(offset, data)``, ``finish(progress)`` and ``abort()``, i.e. a
``ChunkedUpload``) and ``done(result)`` / ``failed(message)`` callbacks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anywidget
import traitlets as T

from tftsr_kernel.errors import TftsrError, UploadError

log = logging.getLogger("tftsr.widgets")

CHUNK_BYTES = 4 * 1024 * 1024   # well under the 10 MiB WebSocket message limit
WINDOW = 3                      # chunks in flight before the front end waits for an acknowledgement
MAX_ACTIVE = 2                  # uploads open at once per widget (older ones are aborted)
GONE = "this upload is no longer open (it was cancelled or failed); choose the file again"

_CSS = """
.tftsr-uploader-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.tftsr-uploader-bar { width: 240px; height: 14px; }
.tftsr-uploader-text { font-size: 13px; }
.tftsr-uploader-hint { font-size: 12px; color: #666; }
.tftsr-uploader-text[data-kind="error"] { color: #b00020; }
.tftsr-uploader-text[data-kind="ok"] { color: #1b5e20; }
.tftsr-uploader-text[data-kind="busy"] { color: #0d47a1; }
"""


class ChunkedUploader(anywidget.AnyWidget):
    """Upload files in chunks with a progress bar, a cancel button and a size check before transfer."""

    _esm = Path(__file__).with_name("uploader.js")
    _css = _CSS

    label = T.Unicode("Upload").tag(sync=True)
    hint = T.Unicode("").tag(sync=True)
    accept = T.Unicode("").tag(sync=True)
    multiple = T.Bool(True).tag(sync=True)
    disabled = T.Bool(False).tag(sync=True)
    max_bytes = T.Int(100 * 1024 * 1024).tag(sync=True)
    chunk_bytes = T.Int(CHUNK_BYTES).tag(sync=True)
    window = T.Int(WINDOW).tag(sync=True)
    #: what the front end says while the panel takes in the stored file
    finishing_label = T.Unicode("Finishing").tag(sync=True)

    def __init__(self, begin, *, done=None, failed=None, **kwargs):
        super().__init__(**kwargs)
        self._begin = begin
        self._done = done
        self._failed = failed
        self._uploads: dict[str, object] = {}
        #: the last stage seen per upload id (for tests and the panel): (stage, done, total)
        self.progress: dict[str, tuple[str, int, int]] = {}
        self.on_msg(self._handle)

    # -- the protocol ---------------------------------------------------------------------------
    def _reply(self, msg: dict) -> None:
        self.send(msg)

    def _handle(self, _widget, content, buffers):
        if not isinstance(content, dict):
            return
        kind, uid = content.get("type"), str(content.get("id", ""))[:100]
        try:
            if kind == "start":
                self._start(uid, content)
            elif kind == "chunk":
                self._chunk(uid, content, buffers)
            elif kind == "end":
                self._end(uid)
            elif kind == "cancel":
                if self._drop(uid):
                    self.progress.pop(uid, None)
                    self._reply({"type": "cancelled", "id": uid})
                else:  # already stored or failed: say so rather than claim a cancel
                    self._reply({"type": "error", "id": uid, "message": GONE})
            elif kind == "refused":
                files = content.get("files") or []
                names = "; ".join(f"{str(f.get('name', ''))[:200]} is {int(f.get('size', 0)) / 1048576:.0f} MB"
                                  for f in files if isinstance(f, dict))
                self._fail(f"{names}; the limit is {self.max_bytes // 1048576} MB. Nothing was uploaded; "
                           "split the file or upload the relevant time window.")
        except TftsrError as exc:
            self._drop(uid)
            self._reply({"type": "error", "id": uid, "message": str(exc)})
            self._fail(str(exc))
        except Exception as exc:  # a bug: the upload stops, the panel keeps working
            log.exception("upload message %s failed", kind)
            self._drop(uid)
            message = f"Unexpected error ({type(exc).__name__}); the upload was stopped."
            self._reply({"type": "error", "id": uid, "message": message})
            self._fail(message)

    def _start(self, uid: str, content: dict) -> None:
        while len(self._uploads) >= MAX_ACTIVE:
            self._drop(next(iter(self._uploads)))
        self._drop(uid)
        size = content.get("size")
        upload = self._begin(str(content.get("name") or ""), size if isinstance(size, int) else -1)
        self._uploads[uid] = upload
        self.progress[uid] = ("uploading", 0, upload.size)
        self._reply({"type": "ready", "id": uid})

    def _chunk(self, uid: str, content: dict, buffers) -> None:
        upload = self._uploads.get(uid)
        if upload is None:
            raise UploadError(GONE)
        if not buffers:
            raise UploadError("a piece of the file arrived without its data; choose the file again")
        offset = content.get("offset")
        received = upload.write(offset if isinstance(offset, int) else -1, buffers[0])
        self.progress[uid] = ("uploading", received, upload.size)
        self._reply({"type": "ack", "id": uid, "received": received})

    def _end(self, uid: str) -> None:
        upload = self._uploads.pop(uid, None)
        if upload is None:
            raise UploadError(GONE)

        def stage(name, done, total):
            self.progress[uid] = (name, done, total)
            self._reply({"type": "stage", "id": uid, "stage": name, "done": done, "total": total})

        try:
            result = upload.finish(stage)
        finally:
            upload.abort()
        stage("finishing", 0, 0)  # the panel shows the new file (for a log: prepares its PII review)
        message = self._done(result) if self._done is not None else ""
        self.progress[uid] = ("done", upload.size, upload.size)
        self._reply({"type": "done", "id": uid, "message": message or f"Uploaded {upload.file_name}."})

    def _drop(self, uid: str) -> bool:
        upload = self._uploads.pop(uid, None)
        if upload is not None:
            upload.abort()
        return upload is not None

    def _fail(self, message: str) -> None:
        if self._failed is not None:
            self._failed(message)

    @property
    def active(self) -> int:
        """Uploads open now (each holds a temporary file)."""
        return len(self._uploads)

    def close(self):
        for uid in list(self._uploads):
            self._drop(uid)
        super().close()

