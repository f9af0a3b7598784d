"""``wb.notifications``: tell a channel when something happens to an issue.

Channels: Slack and Microsoft Teams incoming webhooks, a generic JSON webhook, SMTP e-mail. Each
is subscribed to events: ``issue_created``, ``severity_raised``, ``root_cause_identified``,
``resolved``, ``document_published``. The webhook URL (it holds the channel's token) and the
SMTP password are stored encrypted and never listed.

Every message passes the egress guard (``wb.pii.guard_outbound``, after the issue's stored
fields taught it their values). A delivery is tried up to :data:`ATTEMPTS` times (429/5xx and
connection errors; ``Retry-After`` honoured up to :data:`MAX_WAIT` s); its outcome, failed or
sent, is stored in ``notification_deliveries`` and audited with the SHA-256 of what was sent,
so ``tftsr notify list`` shows failures: none is lost silently. A failed delivery never undoes
the change that caused it (events fire after the change is committed).

Events come from the services themselves (``events.install_events`` wraps ``issues.create_issue``,
``issues.update_issue`` and ``whys.record_root_cause`` on the workbench, as the guard does; the
integrations service emits ``document_published``). They are queued (:meth:`NotificationService.emit_later`)
and delivered in order by one background thread per workbench, so the change returns at once;
closing the workbench or leaving the process waits for the queue (up to 60 s).
"""

from __future__ import annotations

import atexit
import contextvars
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .._util import from_json, sha256_hex, to_json, utc_now, uuid7
from ..errors import ConflictError, NotFoundError, TftsrError, ValidationError
from ..models import Record

EVENTS = ("issue_created", "severity_raised", "root_cause_identified", "resolved", "document_published")
TYPES = ("slack", "teams", "webhook", "email")
ATTEMPTS = 3
MAX_WAIT = 5.0
TIMEOUT = 10.0
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_PURPOSE = "notification_secret"
_log = logging.getLogger("tftsr.notifications")


@dataclass
class Channel(Record):
    """A channel as any list returns it: never the URL's token or the password."""

    name: str
    channel_type: str
    events: list[str]
    enabled: bool
    target: str                     # the webhook's host, or the e-mail recipients
    last_status: str | None = None
    last_error: str | None = None
    last_at: str | None = None
    failures: int = 0
    deliveries: int = 0
    config: dict = field(default_factory=dict)


@dataclass
class Delivery(Record):
    channel: str
    event: str
    issue_id: str | None
    status: str
    attempts: int
    error: str | None
    sent_sha256: str | None
    created_at: str


class NotificationError(TftsrError):
    """A notification could not be delivered after the bounded retries (recorded as failed)."""


def _check_events(events) -> list[str]:
    if isinstance(events, str):
        events = [e for e in events.replace(" ", "").split(",") if e]
    events = list(dict.fromkeys(events or []))
    bad = [e for e in events if e not in EVENTS]
    if bad or not events:
        raise ValidationError(f"events must be some of: {', '.join(EVENTS)}" + (f" (not {', '.join(bad)})" if bad else ""))
    return events


def _check_url(url: str) -> str:
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("the webhook URL must be an http(s) URL")
    return url.strip()


class NotificationService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._queue: "queue.Queue | None" = None
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # --- events in the background ----------------------------------------------------------------
    def emit_later(self, event: str, issue_id: str | None, detail: str | None = None) -> None:
        """Queue ``event`` for delivery by this workbench's delivery thread and return at once, so
        a slow or failing channel never holds up the change that caused it (a dashboard click,
        an alert intake, a CLI command). Events are delivered in order, as the actor who caused
        them; each outcome is recorded as :meth:`emit` records it. :meth:`drain` waits for the
        queue (the workbench's ``close`` and the process's exit do, so nothing queued is lost)."""
        if event not in EVENTS:
            raise ValidationError(f"unknown event {event!r}")
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._queue = queue.Queue()
                self._worker = threading.Thread(target=self._deliver_queued, name="tftsr-notifications", daemon=True)
                self._worker.start()
                atexit.register(self.drain, 60.0)
        self._queue.put((contextvars.copy_context(), event, issue_id, detail))

    def _deliver_queued(self) -> None:
        q = self._queue
        while True:
            ctx, event, issue_id, detail = q.get()
            try:
                ctx.run(self.emit, event, issue_id, detail)
            except Exception as exc:  # recorded per channel by emit; a closed store or a bug: logged, never raised
                _log.warning("notification %s for issue %s not delivered: %s", event, issue_id, exc)
            finally:
                q.task_done()

    def drain(self, timeout: float | None = 60.0) -> bool:
        """Wait until every queued event was delivered or recorded as failed; False on timeout."""
        q = self._queue
        if q is None:
            return True
        end = None if timeout is None else time.monotonic() + timeout
        with q.all_tasks_done:
            while q.unfinished_tasks:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                q.all_tasks_done.wait(left)
        return True

    # --- channels ------------------------------------------------------------------------------
    def add_channel(self, name: str, channel_type: str, *, events, url: str | None = None,
                    smtp_host: str | None = None, smtp_port: int = 587, from_addr: str | None = None,
                    to_addrs=None, username: str | None = None, password: str | None = None,
                    starttls: bool = True) -> Channel:
        name = (name or "").strip()
        if not name or len(name) > 80:
            raise ValidationError("a channel needs a name (at most 80 characters)")
        if channel_type not in TYPES:
            raise ValidationError(f"channel type must be one of: {', '.join(TYPES)}")
        events = _check_events(events)
        if channel_type == "email":
            if isinstance(to_addrs, str):
                to_addrs = [a.strip() for a in to_addrs.split(",") if a.strip()]
            if not smtp_host or not from_addr or not to_addrs:
                raise ValidationError("an e-mail channel needs --smtp HOST:PORT, --from ADDR and --to ADDR[,ADDR]")
            for a in [from_addr, *to_addrs]:
                if "@" not in a or any(c in a for c in "\r\n<>,;"):
                    raise ValidationError(f"{a[:60]!r} is not an e-mail address")
            config = {"smtp_host": smtp_host.strip(), "smtp_port": int(smtp_port), "from": from_addr.strip(),
                      "to": to_addrs, "user": (username or "").strip() or None, "starttls": bool(starttls)}
            secret = password or None
        else:
            secret = _check_url(url or "")
            config = {"host": urlsplit(secret).hostname}
        now = utc_now()
        cid = uuid7()
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM notification_channels WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"a channel named {name!r} exists; remove it first or choose another name")
            conn.execute("INSERT INTO notification_channels(id, name, channel_type, encrypted_secret, config, events,"
                         " enabled, created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?)",
                         (cid, name, channel_type, self._wb.secrets.encrypt(secret, _PURPOSE) if secret else None,
                          to_json(config), to_json(events), now, now))
            self._wb.audit.write_audit_event("add_notification_channel", "notification_channel", cid, {
                "name": name, "type": channel_type, "events": events, "has_secret": bool(secret)})
        return self.get_channel(name)

    def remove_channel(self, name: str) -> None:
        with self._db.write() as conn:
            row = conn.execute("SELECT id FROM notification_channels WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFoundError(f"no notification channel named {name!r}")
            conn.execute("DELETE FROM notification_channels WHERE id = ?", (row[0],))
            self._wb.audit.write_audit_event("remove_notification_channel", "notification_channel", row[0],
                                             {"name": name})

    def _channel(self, row) -> Channel:
        cfg = from_json(row["config"], {})
        stats = self._db.query_one(
            "SELECT count(*), sum(status = 'failed') FROM notification_deliveries WHERE channel_id = ?", (row["id"],))
        last = self._db.query_one("SELECT status, error, created_at FROM notification_deliveries WHERE channel_id = ?"
                                  " ORDER BY created_at DESC, rowid DESC LIMIT 1", (row["id"],))
        target = ", ".join(cfg.get("to") or []) if row["channel_type"] == "email" else (cfg.get("host") or "")
        shown = {k: v for k, v in cfg.items() if k != "host"}
        return Channel(row["name"], row["channel_type"], from_json(row["events"], []), bool(row["enabled"]), target,
                       last[0] if last else None, last[1] if last else None, last[2] if last else None,
                       int(stats[1] or 0), int(stats[0] or 0), shown)

    def list_channels(self) -> list[Channel]:
        return [self._channel(r) for r in self._db.query("SELECT * FROM notification_channels ORDER BY name")]

    def get_channel(self, name: str) -> Channel:
        row = self._db.query_one("SELECT * FROM notification_channels WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no notification channel named {name!r}")
        return self._channel(row)

    def list_deliveries(self, name: str | None = None, limit: int = 50) -> list[Delivery]:
        sql = ("SELECT c.name, d.event, d.issue_id, d.status, d.attempts, d.error, d.sent_sha256, d.created_at"
               " FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id")
        params: tuple = ()
        if name:
            sql += " WHERE c.name = ?"
            params = (name,)
        sql += " ORDER BY d.created_at DESC, d.rowid DESC LIMIT ?"
        return [Delivery(*tuple(r)) for r in self._db.query(sql, params + (int(limit),))]

    def test_channel(self, name: str) -> Delivery:
        """Send a test message now; a failure raises :class:`NotificationError` (and is recorded)."""
        row = self._db.query_one("SELECT * FROM notification_channels WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no notification channel named {name!r}")
        d = self._deliver(row, "test", None, "TFTSR Workbench: test notification",
                          "This channel receives TFTSR Workbench notifications.", {})
        if d.status != "sent":
            raise NotificationError(f"the test notification to {name} failed after {d.attempts} attempt(s): {d.error}")
        return d

    # --- events --------------------------------------------------------------------------------------
    def emit(self, event: str, issue_id: str | None, detail: str | None = None) -> list[Delivery]:
        """Deliver ``event`` for ``issue_id`` to every enabled channel subscribed to it."""
        from ..team.guard import internal

        if event not in EVENTS:
            raise ValidationError(f"unknown event {event!r}")
        rows = [r for r in self._db.query("SELECT * FROM notification_channels WHERE enabled = 1 ORDER BY name")
                if event in from_json(r["events"], [])]
        if not rows:
            return []
        with internal():  # the kernel's own step after a change the actor was allowed to make
            title, text, data = self._message(event, issue_id, detail)
            return [self._deliver(r, event, issue_id, title, text, data) for r in rows]

    def _message(self, event: str, issue_id: str | None, detail: str | None):
        issue = self._wb.issues.get_issue_record(issue_id) if issue_id else None
        what = {"issue_created": "Issue opened", "severity_raised": "Severity raised",
                "root_cause_identified": "Root cause identified", "resolved": "Issue resolved",
                "document_published": "Document published"}[event]
        title = f"[TFTSR] {what}: {issue.title}" if issue else f"[TFTSR] {what}"
        lines = []
        if issue:
            lines.append(f"Severity {issue.severity}, status {issue.status}" +
                         (f", category {issue.category}" if issue.category else "") + ".")
        if detail:
            lines.append(detail)
        if issue:
            lines.append(f"Issue {issue.id}")
        data = {"event": event, "issue_id": issue_id, "severity": issue.severity if issue else None,
                "status": issue.status if issue else None}
        return title, "\n".join(lines), data

    # --- delivery --------------------------------------------------------------------------------------
    def _cleared(self, issue_id, title: str, text: str) -> tuple[str, str]:
        if issue_id:
            from ..documents.egress import learn_sources

            learn_sources(self._wb, issue_id)
        out = self._wb.pii.guard_outbound(issue_id, {"title": title, "text": text}).payload
        return out["title"], out["text"]

    def _deliver(self, row, event, issue_id, title, text, data) -> Delivery:
        from ..team.guard import internal

        with internal():
            attempts, error, sha = 0, None, None
            try:
                title, text = self._cleared(issue_id, title, text)
                secret = self._wb.secrets.decrypt(row["encrypted_secret"], _PURPOSE) if row["encrypted_secret"] else None
                cfg = from_json(row["config"], {})
                send = _SENDERS[row["channel_type"]]
                while True:
                    attempts += 1
                    try:
                        sha = send(secret, cfg, title, text, {**data, "title": title, "text": text, "sent_at": utc_now()})
                        error = None
                        break
                    except _Retry as exc:
                        error = _scrub(str(exc), secret)
                        if attempts >= ATTEMPTS:
                            break
                        time.sleep(min(MAX_WAIT, exc.wait if exc.wait is not None else 0.2 * 2 ** attempts))
                    except _Permanent as exc:
                        error = _scrub(str(exc), secret)
                        break
            except TftsrError as exc:  # the guard refused, or the secret cannot be read: nothing sent
                error = str(exc)
            status = "sent" if error is None else "failed"
            did, now = uuid7(), utc_now()
            with self._db.write() as conn:
                conn.execute("INSERT INTO notification_deliveries(id, channel_id, event, issue_id, status, attempts,"
                             " error, sent_sha256, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                             (did, row["id"], event, issue_id, status, attempts, error, sha, now))
                self._wb.audit.write_audit_event("notify", "notification_delivery", did, {
                    "channel": row["name"], "type": row["channel_type"], "event": event, "issue_id": issue_id,
                    "status": status, "attempts": attempts, "sent_sha256": sha, "error": error})
            return Delivery(row["name"], event, issue_id, status, attempts, error, sha, now)


# --- wire formats ------------------------------------------------------------------------------------------
class _Retry(Exception):
    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


class _Permanent(Exception):
    pass


def _scrub(text: str, secret: str | None) -> str:
    from ..ai._net import one_line, scrub

    return one_line(scrub(text, [secret] if secret else []), 300)


def _post_json(url: str, payload: dict) -> str:
    import httpx

    from ..ai._net import display_url
    from ._http import retry_after_seconds

    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    host = display_url(url).split("/")[2] if "://" in url else "the webhook"
    try:
        resp = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise _Retry(f"cannot reach {host} ({type(exc).__name__})") from None
    if resp.status_code == 429 or resp.status_code >= 500:
        wait = retry_after_seconds(resp.headers.get("Retry-After")) if resp.headers.get("Retry-After") else None
        raise _Retry(f"{host} answered {resp.status_code}: {resp.text[:200]}", wait)
    if resp.status_code >= 400:
        raise _Permanent(f"{host} refused the message ({resp.status_code}: {resp.text[:200]})")
    return sha256_hex(body)


def _slack(url, cfg, title, text, data) -> str:
    return _post_json(url, {"text": f"*{title}*\n{text}"})


def _teams(url, cfg, title, text, data) -> str:
    return _post_json(url, {"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": title,
                            "title": title, "text": text.replace("\n", "\n\n")})


def _webhook(url, cfg, title, text, data) -> str:
    return _post_json(url, data)


def _email(password, cfg, title, text, data) -> str:
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["Subject"] = title.replace("\r", " ").replace("\n", " ")
    msg["From"] = cfg["from"]
    msg["To"] = ", ".join(cfg["to"])
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="tftsr.local")
    msg.set_content(text + "\n")
    raw = msg.as_bytes()
    host = f"{cfg['smtp_host']}:{cfg['smtp_port']}"
    try:
        with smtplib.SMTP(cfg["smtp_host"], int(cfg["smtp_port"]), timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if cfg.get("starttls", True) and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if cfg.get("user"):
                smtp.login(cfg["user"], password or "")
            smtp.send_message(msg, cfg["from"], cfg["to"])
    except smtplib.SMTPAuthenticationError as exc:
        raise _Permanent(f"the SMTP server {host} refused the login ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused:
        raise _Permanent(f"the SMTP server {host} refused the recipients") from None
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise _Retry(f"the SMTP server {host} answered {exc.smtp_code} (try later)") from None
        raise _Permanent(f"the SMTP server {host} answered {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _Retry(f"cannot deliver through {host} ({type(exc).__name__})") from None
    return sha256_hex(raw)


_SENDERS = {"slack": _slack, "teams": _teams, "webhook": _webhook, "email": _email}
