"""The reception console lists the assistant's safety answers (112 and the crisis lines) without
what the patient wrote, refreshes the list every 30 s while the page is visible, and opens such a
conversation the way it takes a waiting one."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import DEMO_PASSWORD, PHONE, Hub, Session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CRISIS = "Nie chcę już żyć, myślę o samobójstwie"
EMERGENCY = "Mój tata stracił przytomność"
CRISIS_VIOLET = "rgb(103, 78, 167)"  # style.css: .safety-crisis


def write(session: Session, text: str) -> str:
    """Write ``text`` in the widget, wait for the safety answer; return the conversation's id."""
    page = session.page
    if not page.locator("#mp-chat-widget .panel").is_visible():
        page.locator("#mp-chat-widget .bubble").click()
    expect(page.locator("#mp-chat-widget .panel")).to_have_attribute("data-connection", "online")
    answers = page.locator("#mp-chat-widget .log .msg.bot").filter(has_text="112")
    before = answers.count()
    box = page.locator("#mp-chat-widget textarea")
    box.fill(text)
    box.press("Enter")
    expect(answers).to_have_count(before + 1)
    conversation_id: str = json.loads(page.evaluate("localStorage.getItem('mp_chat')"))[
        "conversation_id"
    ]
    return conversation_id


def rows_of(console: Page, conversation_id: str) -> Locator:
    return console.locator(f'#safety-answers li[data-conversation-id="{conversation_id}"]')


def set_visibility(console: Page, state: str) -> None:
    """Play the browser hiding or showing the tab (headless Chromium keeps it visible)."""
    console.evaluate(
        """(state) => {
          const property = { configurable: true, get: () => state };
          Object.defineProperty(document, "visibilityState", property);
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_reception_sees_safety_answers_and_opens_the_conversation(
    browser: Browser, hub: Hub
) -> None:
    guest = Session(browser, hub)
    jan = Session(browser, hub)
    desk = Session(browser, hub)
    try:
        guest.page.goto("/")
        guest_conversation = write(guest, EMERGENCY)
        jan.login("demo.patient", DEMO_PASSWORD)
        jan_conversation = write(jan, CRISIS)

        console = desk.page
        console.clock.install()  # the 30 s refresh, run on demand
        desk.login("demo.reception", DEMO_PASSWORD)
        expect(console).to_have_url(f"{hub.url}/reception.html")
        panel = console.locator("#safety-answers")
        expect(panel.get_by_role("heading", name="Odpowiedzi bezpieczeństwa")).to_be_visible()

        crisis = rows_of(console, jan_conversation)
        expect(crisis).to_have_count(1)
        expect(crisis).to_contain_text("Jan Nowicki")
        expect(crisis).to_contain_text("Kryzys – telefony zaufania")
        expect(crisis).to_have_css("border-left-color", CRISIS_VIOLET)
        expect(crisis.locator("time")).to_have_text(re.compile(r"\b\d{2}:\d{2}$"))  # Warsaw time
        emergency = rows_of(console, guest_conversation)
        expect(emergency).to_contain_text("Gość (niezalogowany)")
        expect(emergency).to_contain_text("Nagły wypadek – 112")
        expect(emergency).not_to_have_css("border-left-color", CRISIS_VIOLET)
        ids = panel.locator("li.safety-answer").evaluate_all(
            "rows => rows.map((row) => row.dataset.conversationId)"
        )
        assert ids.index(jan_conversation) < ids.index(guest_conversation)  # newest first
        for written in (CRISIS, EMERGENCY, "samobójstw", "przytomność"):
            expect(panel).not_to_contain_text(written)  # when, whose and which kind; never the text
        assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        desk.shoot("reception-safety-answers")

        # Hidden, the console stops asking; shown again, it asks at once; visible, every 30 s.
        set_visibility(console, "hidden")
        write(guest, "Dziecko połknęło tabletki babci")
        console.clock.fast_forward(31_000)
        console.wait_for_timeout(1000)
        expect(rows_of(console, guest_conversation)).to_have_count(1)
        set_visibility(console, "visible")
        expect(rows_of(console, guest_conversation)).to_have_count(2)
        write(guest, "Mam silny ból w klatce piersiowej")
        console.wait_for_timeout(1000)
        expect(rows_of(console, guest_conversation)).to_have_count(2)
        open_crisis = crisis.get_by_role("button", name="Otwórz rozmowę")
        open_crisis.focus()
        console.clock.fast_forward(31_000)
        expect(rows_of(console, guest_conversation)).to_have_count(3)
        expect(open_crisis).to_be_focused()  # a refresh leaves the rows it keeps in place

        # Not waiting for reception: the hub refuses, and the console says so.
        open_crisis.click()
        expect(crisis.get_by_role("alert")).to_have_text("Ta rozmowa nie czeka na recepcję.")
        expect(console.locator("#chat-tabs [role=tab]")).to_have_count(0)

        # The patient asks for a person: now it opens, transcript and all.
        jan.page.get_by_role("button", name="Porozmawiaj z konsultantem").click()
        expect(jan.page.locator("#mp-chat-widget .banner")).to_contain_text(
            "Czekasz na konsultanta"
        )
        open_crisis.click()
        expect(console.locator("#live-chat [role=log]")).to_contain_text(CRISIS)
        expect(
            console.locator("#chat-tabs [role=tab]").filter(has_text="Jan Nowicki")
        ).to_have_attribute("aria-selected", "true")
        expect(crisis.get_by_role("alert")).to_have_count(0)
        expect(jan.page.locator("#mp-chat-widget .banner")).to_contain_text(
            "Rozmawiasz z konsultantem"
        )
        console.get_by_role("button", name="Oddaj asystentowi").click()
        expect(console.get_by_text("Rozmowa wróciła do asystenta.")).to_be_visible()

        console.locator(".site-header .lang").click()  # in English, after a re-render
        expect(panel.get_by_role("heading", name="Safety answers")).to_be_visible()
        expect(rows_of(console, jan_conversation)).to_contain_text("Crisis – helplines")
        expect(rows_of(console, guest_conversation).first).to_contain_text("Emergency – 112")
        expect(rows_of(console, guest_conversation).first).to_contain_text("Guest (not logged in)")
        expect(
            rows_of(console, jan_conversation).get_by_role("button", name="Open the conversation")
        ).to_be_visible()
        for session in (guest, jan, desk):
            assert session.errors == []
    finally:
        guest.close()
        jan.close()
        desk.close()
