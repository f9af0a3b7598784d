"""Fake incoming webhooks: Slack, Microsoft Teams and a generic JSON receiver, and a fake SMTP
server, following what each documents.

- Slack (``POST /services/T.../B.../token``): JSON with ``text`` -> 200 ``ok``; a bad token path
  -> 403 ``invalid_token``; no text -> 400 ``no_text``; rate limit -> 429 with ``Retry-After``.
- Teams (``POST /webhookb2/...``): a MessageCard (``@type``, ``summary`` or ``text``) -> 200 ``1``;
  otherwise 400 "Summary or Text is required.".
- Generic (``POST /hook``): any JSON object -> 204.
- SMTP (RFC 5321 subset): EHLO/HELO, AUTH PLAIN, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT;
  every message received is kept with its envelope.
"""

from __future__ import annotations

import base64
import socketserver
import threading

from .rest import FakeRest, Request


class FakeWebhooks(FakeRest):
    SLACK_PATH = "/services/T0001/B0001/goodtoken0123456789"
    TEAMS_PATH = "/webhookb2/11111111-2222/IncomingWebhook/abcdef0123/33333333"
    HOOK_PATH = "/hook"

    def __init__(self):
        super().__init__()
        self._hold: threading.Event | None = None
        self._held = threading.Event()
        self.hold_timed_out = False

    def hold_next(self, release: threading.Event) -> None:
        """The next request waits for ``release`` (up to 8 s, under the client's 10 s timeout)
        before it is answered; :meth:`wait_held` tells when it arrived."""
        self._held.clear()
        self._hold = release

    def wait_held(self, timeout: float) -> bool:
        return self._held.wait(timeout)

    def error_body(self, status, message):
        return message.encode()

    def route(self, req: Request):
        hold, self._hold = self._hold, None
        if hold is not None:
            self._held.set()
            if not hold.wait(8):
                self.hold_timed_out = True
        if req.method != "POST":
            return 405, b"method_not_allowed", {"Content-Type": "text/plain"}
        if req.path.startswith("/services/"):
            if req.path != self.SLACK_PATH:
                return 403, b"invalid_token", {"Content-Type": "text/plain"}
            if not isinstance(req.body, dict) or not req.body.get("text"):
                return 400, b"no_text", {"Content-Type": "text/plain"}
            return 200, b"ok", {"Content-Type": "text/plain"}
        if req.path.startswith("/webhookb2/"):
            if req.path != self.TEAMS_PATH:
                return 404, b"Webhook not found", {"Content-Type": "text/plain"}
            b = req.body if isinstance(req.body, dict) else {}
            if b.get("@type") != "MessageCard" or not (b.get("summary") or b.get("text")):
                return 400, b"Summary or Text is required.", {"Content-Type": "text/plain"}
            return 200, b"1", {"Content-Type": "text/plain"}
        if req.path == self.HOOK_PATH:
            if not isinstance(req.body, dict):
                return 400, b"a JSON object is required", {"Content-Type": "text/plain"}
            return 204, None, {}
        return 404, b"not found", {"Content-Type": "text/plain"}

    def received(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path and r.method == "POST"]


class FakeSmtp:
    """A minimal SMTP server on 127.0.0.1 (no TLS: it does not offer STARTTLS)."""

    def __init__(self, *, user: str | None = None, password: str | None = None):
        self.messages: list[dict] = []
        self.user, self.password = user, password
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 fake-smtp ESMTP ready")
                env = {"from": None, "to": [], "authed": fake.user is None}
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    cmd = line.split(" ", 1)[0].upper()
                    arg = line[len(cmd):].strip()
                    if cmd in ("EHLO", "HELO"):
                        self.wfile.write(b"250-fake-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
                    elif cmd == "AUTH":
                        parts = arg.split(" ", 1)
                        try:
                            _z, u, p = base64.b64decode(parts[1]).decode().split("\0")
                        except Exception:
                            self.reply("501 5.5.2 cannot decode")
                            continue
                        if (u, p) == (fake.user, fake.password):
                            env["authed"] = True
                            self.reply("235 2.7.0 Authentication successful")
                        else:
                            self.reply("535 5.7.8 Authentication credentials invalid")
                    elif cmd == "MAIL":
                        if not env["authed"]:
                            self.reply("530 5.7.0 Authentication required")
                            continue
                        env["from"], env["to"] = arg.split(":", 1)[1].strip().strip("<>"), []
                        self.reply("250 2.1.0 OK")
                    elif cmd == "RCPT":
                        env["to"].append(arg.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 2.1.5 OK")
                    elif cmd == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = []
                        while True:
                            d = self.rfile.readline()
                            if d in (b".\r\n", b".\n", b""):
                                break
                            data.append(d[1:] if d.startswith(b"..") else d)
                        fake.messages.append({"from": env["from"], "to": list(env["to"]), "data": b"".join(data)})
                        self.reply("250 2.0.0 queued")
                    elif cmd in ("RSET", "NOOP"):
                        self.reply("250 2.0.0 OK")
                    elif cmd == "QUIT":
                        self.reply("221 2.0.0 Bye")
                        return
                    else:
                        self.reply("502 5.5.2 command not recognized")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
