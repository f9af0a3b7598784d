"""What the uploader's JavaScript does, in Python, for headless widget tests: the same custom comm
messages (start, chunk + binary buffer, end, cancel, refused) go to the widget's message handler
as ipywidgets delivers them, and the replies the widget sends over its comm are recorded."""

from __future__ import annotations

CHUNK = 4 * 1024 * 1024


class FrontEnd:
    def __init__(self, widget):
        self.widget = widget
        self.replies: list[dict] = []
        self._n = 0

        def publish(msg_type, data=None, metadata=None, buffers=None, **keys):
            if msg_type == "comm_msg" and data and data.get("method") == "custom":
                self.replies.append(data["content"])

        widget.comm.publish_msg = publish  # the comm is the wire: record what goes over it

    def send(self, content: dict, buffers=()) -> list[dict]:
        """Deliver one message; return the replies it caused."""
        before = len(self.replies)
        self.widget._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                 "buffers": [memoryview(b) for b in buffers]})
        return self.replies[before:]

    def new_id(self) -> str:
        self._n += 1
        return f"view:{self._n}"

    def upload(self, name: str, data: bytes, *, chunk: int = CHUNK, stop_after: int | None = None) -> list[dict]:
        """Send a whole file as the browser does (start, chunks, end); ``stop_after``: send only
        that many chunks and stop (the caller may then cancel). Returns every reply."""
        uid = self.new_id()
        out = self.send({"type": "start", "id": uid, "name": name, "size": len(data)})
        if out[-1]["type"] != "ready":
            return out
        sent = 0
        for off in range(0, len(data), chunk):
            if stop_after is not None and sent >= stop_after:
                return out
            out += self.send({"type": "chunk", "id": uid, "offset": off}, [data[off:off + chunk]])
            sent += 1
            if out[-1]["type"] == "error":
                return out
        return out + self.send({"type": "end", "id": uid})
