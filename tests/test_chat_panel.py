"""The chat panel as an engineer uses it, headless (child widget values set, buttons clicked, the
front end's Ctrl+Enter message delivered through the widget's comm handler), against local fake
providers over real HTTP: a failed send keeps the message, the question stays while the reply
streams, attachments are chips with their redaction state and their whole text, the provider
list follows the Settings panel."""

from __future__ import annotations

import json
import re
import time

from tests.fakes.servers import FakeProviderServer

EMAIL = "erin.sre@example.com"
PASSWORD = "Qz7-Lk2!Wp9vR"
OTHER = "frank.dba@example.org"  # only in auth.log, whose reviewer kept every value
QUESTION = f"Why does checkout fail for {EMAIL}? It started at 14:05."


def _log(n: int, tag: str, long_token: bool = False, email: str = EMAIL, password: str = PASSWORD) -> str:
    lines = [f"2026-12-01T14:0{i % 10}:{i:02d}Z WARN {tag} pool wait {i * 13} ms in_use=8" for i in range(n)]
    if long_token:
        lines.insert(3, f"2026-12-01T14:05:11Z ERROR {tag} url=https://pay.internal/confirm?s=" + "Ab9" * 90)
    lines.append(f"2026-12-01T14:09:59Z INFO {tag} user={email} password={password} END-{tag}")
    return "\n".join(lines) + "\n"


def _provider(wb, srv, name="local"):
    return wb.providers.add_provider(name, srv.kind, srv.url, "gpt-4o-mini", api_key="k-0123456789abcdef")


def test_a_failed_send_keeps_the_message_and_a_retry_sends_it(wb, issue):
    from widgets.chat import ChatPanel

    with FakeProviderServer("openai", replies=["The pool is full. [[WHY-LEVEL: 0]]"],
                            statuses=[(401, {"error": {"message": "Incorrect API key provided"}})]) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send(QUESTION)
        assert panel.status_kind == "error" and "still in the box" in panel.status
        assert panel.draft == QUESTION  # not lost
        assert panel.messages == [] and not panel._w_send.disabled
        panel._w_send.click()  # the engineer presses Send again
        assert panel.wait(20)
        assert panel.status_kind == "ok", panel.status
        assert panel.draft == "" and [m.role for m in panel.messages] == ["user", "assistant"]
        assert EMAIL not in srv.chat_requests[-1].raw.decode()


def test_a_blocked_egress_keeps_the_message(wb, issue):
    from widgets.chat import ChatPanel

    with FakeProviderServer("openai", replies=["never"]) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        # a stored custom pattern the PII engine cannot compile: the guard fails closed
        wb.db.execute("INSERT OR REPLACE INTO settings(key, value, updated_at) VALUES ('pii_custom_patterns', ?, 'x')",
                      (json.dumps([{"name": "Broken", "pattern": "(unclosed"}]),))
        panel.send(QUESTION)
        assert panel.status_kind == "error" and "nothing was sent" in panel.status
        assert panel.draft == QUESTION and srv.chat_requests == [] and panel.messages == []


def test_the_question_stays_on_screen_while_the_reply_streams(wb, issue):
    from widgets.chat import ChatPanel

    reply = " ".join(f"word{i}" for i in range(120))
    with FakeProviderServer("openai", replies=[reply], chunk_delay=0.02) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send(QUESTION, wait=False)
        seen = []
        deadline = time.monotonic() + 15
        while panel.busy and time.monotonic() < deadline:
            if "word" in panel.live_text:
                seen.append(panel._w_live.value)
            time.sleep(0.03)
        assert panel.wait(20)
    assert len(seen) >= 3, "the reply did not stream"
    for html in seen:  # every streamed state still shows the question above the reply
        assert "Why does checkout fail for" in html and "tftsr-msg user" in html and "word" in html
    assert panel.draft == "" and panel.messages[0].content == QUESTION


def test_ctrl_enter_sends_what_is_in_the_box(wb, issue):
    from widgets.chat import ChatPanel

    with FakeProviderServer("openai", replies=["Got it. [[WHY-LEVEL: 0]]"]) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        key = panel._w_key
        assert key.target in panel._w_message._dom_classes  # the hook watches this box
        panel._w_message.value = "half-typed"  # the front end sends the box's full text with the key
        key._handle_custom_msg({"type": "submit", "text": "What changed at 14:00?"}, [])
        assert panel.wait(20) and panel.status_kind == "ok", panel.status
        assert srv.chat_requests[-1].last_user_text == "What changed at 14:00?"
        assert panel.messages[0].content == "What changed at 14:00?" and panel.draft == ""
        for junk in ({"type": "submit", "text": 42}, {"type": "other"}, "not a dict"):
            key._handle_custom_msg(junk, [])
        assert len(srv.chat_requests) == 1
        panel._w_message.value = ""
        key._handle_custom_msg({"type": "submit", "text": "   "}, [])
        assert panel.status == "Type a message first." and len(srv.chat_requests) == 1


def test_attached_logs_are_chips_with_their_state_and_whole_text(wb, issue):
    from widgets.chat import ChatPanel

    first = wb.attachments.upload_log_file_by_content(issue.id, "pool.log", _log(40, "pool", long_token=True))
    second = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", _log(20, "auth", email=OTHER, password="Hn4-Tb8!Xc3wQ"))
    wb.pii.detect_pii(first.id)
    wb.pii.apply_redactions(first.id, "all")  # reviewed: redacted
    spans = wb.pii.detect_pii(second.id)
    wb.pii.apply_redactions(second.id, [])  # the reviewer kept every value: sent original
    assert spans
    with FakeProviderServer("openai", replies=["Both logs show the pool at 8. [[WHY-LEVEL: 0]]"]) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send(QUESTION, [first.id, second.id])
        assert panel.status_kind == "ok", panel.status
        sent = srv.chat_requests[-1].last_user_text
    html = panel._w_transcript.value
    chips = re.findall(r'<details class="tftsr-attachment tftsr-attachment-([a-z-]+)">', html)
    assert chips == ["redacted", "original"]  # both logs, each with its state; none hidden
    assert "```" not in html  # no raw code fence
    assert "pool.log" in html and "auth.log" in html
    for tag in ("pool", "auth"):  # the whole text is there behind the chip, up to its last line
        assert f"END-{tag}" in html
    assert html.count("pool wait") == 60
    pool_body = html.split("tftsr-attachment-redacted")[1].split("</details>")[0]
    assert EMAIL not in pool_body and "[Email_1]" in pool_body  # exactly what the model got
    assert "PII redacted" in pool_body
    auth_body = html.split("tftsr-attachment-original")[1].split("</details>")[0]
    assert OTHER in auth_body and "PII redacted" not in auth_body  # never "redacted" above originals
    assert "sent without redaction" in auth_body
    assert "END-auth" in sent and OTHER in sent  # the reviewer's choice for auth.log, as labelled
    assert EMAIL not in sent  # pool.log's (and the question's) address left redacted
    user_text = html.split('<div class="tftsr-msg user">')[1].split("<details")[0]
    assert "Why does checkout fail for" in user_text and "Attached log" not in user_text
    static = panel.to_html()  # the report: as sent, chips too
    assert re.findall(r'tftsr-attachment tftsr-attachment-([a-z-]+)', static) == ["redacted", "original"]
    assert "erin.sre@example.com" not in static.split("tftsr-attachment-original")[0]  # the question as sent


def test_a_provider_added_in_settings_shows_in_an_open_chat(wb, issue):
    from widgets.chat import ChatPanel
    from widgets.settings import SettingsPanel

    chat = ChatPanel(issue.id, wb)
    assert chat.providers == [] and chat._w_send.disabled and "Settings" in chat.status
    settings = SettingsPanel(wb)
    settings.layout
    settings.select_tab("AI providers")
    with FakeProviderServer("openai", replies=["hello back [[WHY-LEVEL: 0]]"]) as srv:
        settings._w_p_name.value = "team-llm"
        settings._w_p_type.value = "openai"
        settings._w_p_url.value = srv.url
        settings._w_p_model.value = "gpt-4o-mini"
        settings._w_p_key.value = "k-0123456789abcdef"
        settings._w_p_add.click()
        assert settings.status_kind == "ok", settings.status
        assert chat.providers == ["team-llm"] and chat._w_provider.value == "team-llm"  # no reopen
        assert not chat._w_send.disabled and chat.status_kind == "ok"
        chat.send("hi")
        assert chat.messages[-1].content == "hello back"
        settings._w_provider_select.value = "team-llm"
        settings._w_provider_delete.click()
        assert chat.providers == [] and chat._w_send.disabled


def test_change_notices_hold_subscribers_weakly_and_stay_within_one_workbench(wb):
    import gc

    from widgets._base import _Topics

    topics = _Topics()
    calls = []

    class View:
        def __init__(self, w):
            self.wb = w

        def refresh(self):
            calls.append(id(self))

    view, other = View(wb), View(object())
    topics.subscribe("providers", view.refresh)
    topics.subscribe("providers", other.refresh)
    assert topics.notify("providers", wb) == 1 and calls == [id(view)]  # another workbench's view is left alone
    del view
    gc.collect()
    assert topics.notify("providers", wb) == 0  # a dropped view is not kept alive nor called


def test_hostile_log_names_and_text_in_chips_stay_text(wb, issue):
    from widgets.chat import ChatPanel

    payload = '<img src=x onerror="alert(1)">'
    log = wb.attachments.upload_log_file_by_content(issue.id, f"evil{payload}.log", f"line {payload}\n")
    with FakeProviderServer("openai", replies=["ok [[WHY-LEVEL: 0]]"]) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send("look", [log.id])
    for html in (panel._w_transcript.value, panel.to_html()):
        assert "tftsr-attachment" in html and "<img" not in html and "&lt;img src=x" in html
