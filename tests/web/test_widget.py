"""The chat widget on a plain page (demo.html, one script tag): text stays text, it shows when it
is offline, resends what was not acknowledged (exactly once), replays what it missed and counts
it on the unread badge."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import Session, wait_until
from .fake_rasa import FakeRasa

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

HELP = "W czym mogę pomóc? Mogę umówić wizytę."


def sent_to_rasa(fake_rasa: FakeRasa, text: str) -> int:
    return sum(1 for call in fake_rasa.calls if call.get("message") == text)


def test_widget_survives_going_offline_and_delivers_exactly_once(
    visitor: Session, fake_rasa: FakeRasa
) -> None:
    page = visitor.page
    page.goto("/demo.html")
    widget = page.locator("#mp-chat-widget")
    expect(widget.locator(".bubble")).to_have_attribute("aria-label", "Otwórz czat z asystentem")
    widget.locator(".bubble").click()
    panel = widget.locator(".panel")
    expect(panel).to_have_attribute("data-connection", "online")
    box = widget.locator("textarea")
    log = widget.locator(".log")

    hostile = '<img src=x onerror="document.title=1">hello'
    box.fill(hostile)
    box.press("Enter")
    expect(log.locator(".msg.user .text").last).to_have_text(hostile)
    expect(log.locator(".msg.bot .text").last).to_have_text(HELP)
    assert log.locator("img").count() == 0
    visitor.shoot("demo-widget")

    # Offline: the widget says so, keeps the message, and sends it once it is back.
    visitor.context.set_offline(True)
    page.evaluate("window.__mpChatWidget.socket.io.engine.close()")
    expect(panel).to_have_attribute("data-connection", "offline")
    expect(widget.locator(".status")).to_have_text("brak połączenia – ponawiam…")
    question = "Czy przychodnia jest otwarta w sobotę?"
    box.fill(question)
    box.press("Enter")
    expect(log.locator(".msg.user").last).to_contain_text("wysyłanie…")
    pending = json.loads(page.evaluate("localStorage.getItem('mp_chat')"))["pending"]
    assert [p["text"] for p in pending] == [question]
    visitor.shoot("demo-widget-offline")
    visitor.context.set_offline(False)
    expect(panel).to_have_attribute("data-connection", "online", timeout=20_000)
    expect(log.locator(".msg.user").last).not_to_contain_text("wysyłanie…")
    expect(log.locator(".msg.bot")).to_have_count(2)
    assert sent_to_rasa(fake_rasa, question) == 1

    # A resend of an acknowledged message (same client_msg_id) is not processed twice.
    transcript = json.loads(page.evaluate("sessionStorage.getItem('mp_chat_transcript')"))
    acked = next(m for m in transcript["items"] if m.get("payload") == question)
    page.evaluate(
        """(item) => {
            const state = JSON.parse(localStorage.getItem('mp_chat'));
            state.pending = [item];
            localStorage.setItem('mp_chat', JSON.stringify(state));
        }""",
        {"client_msg_id": acked["client_msg_id"], "text": question},
    )
    page.reload()
    expect(widget.locator(".panel")).to_be_hidden()
    wait_until(page, "JSON.parse(localStorage.getItem('mp_chat')).pending.length === 0")
    assert sent_to_rasa(fake_rasa, question) == 1

    # Missed messages are replayed after last_seq, and counted on the badge while closed.
    page.evaluate(
        """() => {
            sessionStorage.removeItem('mp_chat_transcript');
            const state = JSON.parse(localStorage.getItem('mp_chat'));
            state.last_seq = 0;
            localStorage.setItem('mp_chat', JSON.stringify(state));
        }"""
    )
    page.reload()
    badge = widget.locator(".badge")
    expect(badge).to_have_text("2")
    expect(widget.locator(".bubble")).to_have_attribute(
        "aria-label", "Otwórz czat z asystentem (2 nowe)"
    )
    visitor.shoot("demo-widget-unread")
    widget.locator(".bubble").click()
    expect(badge).to_be_hidden()
    expect(log.locator(".msg.bot .text")).to_have_text([HELP, HELP])
    page.keyboard.press("Escape")
    expect(widget.locator(".panel")).to_be_hidden()
    assert visitor.errors == []
