"""Reception takes over a patient's chat in the browser, answers, and hands it back; and grants
full access to a patient found by the search."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from playwright.sync_api import Browser, expect

from portal.pesel import make_pesel

from .conftest import DEMO_PASSWORD, Hub, Session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_reception_takes_over_a_chat_and_the_patient_sees_the_answer(
    browser: Browser, hub: Hub
) -> None:
    patient = Session(browser, hub)
    desk = Session(browser, hub)
    try:
        patient.login("demo.patient", DEMO_PASSWORD)
        page = patient.page
        page.locator("#mp-chat-widget .bubble").click()
        panel = page.locator("#mp-chat-widget .panel")
        expect(panel).to_have_attribute("data-connection", "online")
        box = page.locator("#mp-chat-widget textarea")
        box.fill("Dzień dobry, mam pytanie o fakturę")
        box.press("Enter")
        log = page.locator("#mp-chat-widget .log")
        expect(log.locator(".msg.bot").first).to_be_visible()
        page.get_by_role("button", name="Porozmawiaj z konsultantem").click()
        expect(page.locator("#mp-chat-widget .banner")).to_contain_text("Czekasz na konsultanta")

        desk.login("demo.reception", DEMO_PASSWORD)
        desk_page = desk.page
        expect(desk_page).to_have_url(f"{hub.url}/reception.html")
        item = desk_page.locator("#queue li.card").filter(has_text="Jan Nowicki")
        expect(item).to_contain_text("mam pytanie o fakturę")
        desk.shoot("reception-queue")
        item.get_by_role("button", name="Przejmij").click()
        transcript = desk_page.locator("#live-chat [role=log]")
        expect(transcript).to_contain_text("Dzień dobry, mam pytanie o fakturę")

        expect(page.locator("#mp-chat-widget .banner")).to_contain_text("Rozmawiasz z konsultantem")
        answer = "Dzień dobry, tu recepcja. <b>Fakturę</b> wyślemy e-mailem."
        desk_page.fill("#staff-text", answer)
        desk_page.get_by_role("button", name="Wyślij").click()
        staff_message = log.locator(".msg.staff").last
        expect(staff_message).to_contain_text(answer)  # literally, tags included: text, not HTML
        assert log.locator("b").count() == 0
        patient.shoot("widget-staff-answer")

        page.locator("#mp-chat-widget textarea").fill("Dziękuję!")
        page.locator("#mp-chat-widget textarea").press("Enter")
        expect(transcript).to_contain_text("Dziękuję!")
        desk.shoot("reception-live-chat")
        desk_page.reload()  # the console takes its conversation again, transcript and all
        expect(desk_page.locator("#live-chat [role=log]")).to_contain_text("Dziękuję!")

        desk_page.get_by_role("button", name="Oddaj asystentowi").click()
        expect(desk_page.get_by_text("Rozmowa wróciła do asystenta.")).to_be_visible()
        expect(page.locator("#mp-chat-widget .banner")).to_be_hidden()
        expect(page.get_by_role("button", name="Porozmawiaj z konsultantem")).to_be_visible()
        assert patient.errors == []
        assert desk.errors == []
    finally:
        patient.close()
        desk.close()


def ask_for_a_person(session: Session, text: str) -> None:
    """Write to the assistant from the widget, then ask for a person."""
    page = session.page
    page.locator("#mp-chat-widget .bubble").click()
    expect(page.locator("#mp-chat-widget .panel")).to_have_attribute("data-connection", "online")
    box = page.locator("#mp-chat-widget textarea")
    box.fill(text)
    box.press("Enter")
    expect(page.locator("#mp-chat-widget .log .msg.bot").first).to_be_visible()
    page.get_by_role("button", name="Porozmawiaj z konsultantem").click()
    expect(page.locator("#mp-chat-widget .banner")).to_contain_text("Czekasz na konsultanta")


def test_reception_holds_two_conversations_at_once(browser: Browser, hub: Hub) -> None:
    jan = Session(browser, hub)
    guest = Session(browser, hub)
    desk = Session(browser, hub)
    try:
        jan.login("demo.patient", DEMO_PASSWORD)
        ask_for_a_person(jan, "Pytanie o fakturę za wizytę")
        guest.page.goto("/")
        ask_for_a_person(guest, "Jak dojechać do przychodni?")

        desk.login("demo.reception", DEMO_PASSWORD)
        console = desk.page
        for asked in ("Pytanie o fakturę", "Jak dojechać"):
            item = console.locator("#queue li.card").filter(has_text=asked)
            item.get_by_role("button", name="Przejmij").click()
            expect(console.locator("#live-chat [role=log]")).to_contain_text(asked)
        tabs = console.locator("#chat-tabs [role=tab]")
        expect(tabs).to_have_count(2)
        expect(tabs.filter(has_text="Jan Nowicki")).to_have_attribute("aria-selected", "false")
        expect(tabs.filter(has_text="Gość")).to_have_attribute("aria-selected", "true")

        # The guest's conversation is shown; Jan writes meanwhile: his tab says so.
        jan_box = jan.page.locator("#mp-chat-widget textarea")
        jan_box.fill("Czy jest ktoś?")
        jan_box.press("Enter")
        expect(tabs.filter(has_text="Jan Nowicki")).to_contain_text("nowe: 1")
        expect(console.locator("#live-chat [role=log]")).not_to_contain_text("Czy jest ktoś?")
        console.fill("#staff-text", "Autobusem 18, przystanek Szpital.")
        console.get_by_role("button", name="Wyślij").click()
        guest_log = guest.page.locator("#mp-chat-widget .log")
        expect(guest_log.locator(".msg.staff").last).to_contain_text("Autobusem 18")
        desk.shoot("reception-two-conversations")

        tabs.filter(has_text="Jan Nowicki").click()
        expect(console.locator("#live-chat [role=log]")).to_contain_text("Czy jest ktoś?")
        expect(tabs.filter(has_text="Jan Nowicki")).not_to_contain_text("nowe")
        console.fill("#staff-text", "Tak, fakturę wyślemy dziś.")
        console.get_by_role("button", name="Wyślij").click()
        jan_log = jan.page.locator("#mp-chat-widget .log")
        expect(jan_log.locator(".msg.staff").last).to_contain_text("fakturę wyślemy")
        expect(guest_log).not_to_contain_text("fakturę wyślemy")

        console.reload()  # both conversations come back
        expect(console.locator("#chat-tabs [role=tab]")).to_have_count(2)
        console.get_by_role("button", name="Oddaj asystentowi").click()
        expect(console.get_by_text("Rozmowa wróciła do asystenta.")).to_be_visible()
        expect(console.locator("#chat-tabs [role=tab]")).to_have_count(1)
        expect(console.locator("#live-chat [role=log]")).to_be_visible()
        for session in (jan, guest, desk):
            assert session.errors == []
    finally:
        jan.close()
        guest.close()
        desk.close()


def test_reception_finds_a_patient_and_grants_full_access(browser: Browser, hub: Hub) -> None:
    suffix = secrets.token_hex(3)
    last_name = "Zielińska" + "".join(chr(ord("a") + int(c, 16) % 26) for c in suffix)
    registration = {
        "first_name": "Anna",
        "last_name": last_name,
        "email": f"anna.{suffix}@example.com",
        "phone": "+48 600 100 201",
        "birth_date": "14-03-1985",
        "sex": "female",
        "pesel": make_pesel(date(1985, 3, 14), "female", secrets.randbelow(900) + 50),
        "login": f"anna.{suffix}",
        "password": "zielona łąka nad Wisłą 8",
    }
    desk = Session(browser, hub)
    try:
        created = desk.page.request.post(f"{hub.url}/api/v1/accounts", data=registration)
        assert created.status == 201, created.text()
        desk.login("demo.reception", DEMO_PASSWORD)
        page = desk.page
        page.fill("#patient-q", registration["login"])
        page.get_by_role("button", name="Szukaj", exact=True).click()
        row = page.locator(".cards li.card").filter(has_text=last_name)
        expect(row).to_contain_text("dostęp podstawowy")
        row.get_by_role("button", name="Nadaj pełny dostęp").click()
        expect(row).to_contain_text("Pełny dostęp nadany.")
        expect(row.locator(".status")).to_have_text("pełny dostęp")
        desk.shoot("reception-granted")
        assert desk.errors == []
    finally:
        desk.close()
