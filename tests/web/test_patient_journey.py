"""A patient's way through the portal in the browser: register, log in, accept the Terms, book
through the chat widget in Polish and in English, see and cancel visits, book a telephone
consultation through the search form, and upload and delete a document for it."""

from __future__ import annotations

import io
import re
import secrets
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Locator, Page, expect

from portal.pesel import make_pesel

from .conftest import Session
from .fake_rasa import FakeRasa

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "zielona łąka nad Wisłą 7"


def upload(name: str, mime: str, content: bytes) -> list[FilePayload]:
    """One file for ``set_input_files``, made in memory."""
    return [{"name": name, "mimeType": mime, "buffer": content}]


def png_bytes() -> bytes:
    """A small real PNG (the server judges files by their content)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def widget_log(page: Page) -> Locator:
    """The widget's message log (inside its shadow root; Playwright's CSS pierces it)."""
    return page.locator("#mp-chat-widget .log")


def chat(page: Page, text: str) -> None:
    """Type a message into the open widget and send it with Enter."""
    box = page.locator("#mp-chat-widget textarea")
    box.fill(text)
    box.press("Enter")


def test_patient_registers_books_in_both_languages_and_manages_visits_and_files(
    visitor: Session, fake_rasa: FakeRasa
) -> None:
    page = visitor.page
    suffix = secrets.token_hex(3)
    login = f"ewa.test.{suffix}"
    birth = date(1990, 5, 17)
    pesel = make_pesel(birth, "female", secrets.randbelow(900) + 50)

    # -- register: first a wrong PESEL, shown at its field, then the right one ---------------
    page.goto("/register.html")
    page.fill("#reg-first_name", "Ewa")
    page.fill("#reg-last_name", "Testowa-Kowal")
    page.fill("#reg-birth_date", "17-05-1990")
    page.select_option("#reg-sex", "female")
    page.fill("#reg-pesel", "12345678901")
    page.fill("#reg-email", f"ewa.{suffix}@example.com")
    page.fill("#reg-phone", "+48 600 100 200")
    page.fill("#reg-login", login)
    page.fill("#reg-password", PASSWORD)
    page.click("form button[type=submit]")
    pesel_error = page.locator("#err-pesel")
    expect(pesel_error).to_be_visible()
    expect(page.locator("#reg-pesel")).to_have_attribute("aria-invalid", "true")
    visitor.shoot("register-errors")
    page.fill("#reg-pesel", pesel)
    page.click("form button[type=submit]")
    expect(page.get_by_text("Konto zostało założone")).to_be_visible()

    # -- log out, log in again -----------------------------------------------------------------
    page.get_by_role("button", name="Wyloguj").click()
    page.wait_for_url("**/login.html")
    visitor.login(login, PASSWORD)
    expect(page.locator("header .who")).to_have_text("Ewa Testowa-Kowal")

    # -- accept the Terms ------------------------------------------------------------------------
    page.goto("/terms.html")
    page.check("#accept-terms")
    page.get_by_role("button", name="Akceptuję i chcę pełny dostęp").click()
    expect(page.get_by_text("Masz teraz pełny dostęp")).to_be_visible()

    # -- book through the widget, in Polish ------------------------------------------------------
    page.goto("/visits.html")
    bubble = page.locator("#mp-chat-widget .bubble")
    bubble.focus()
    page.keyboard.press("Enter")  # keyboard-usable: the bubble opens the panel
    panel = page.locator("#mp-chat-widget .panel")
    expect(panel).to_be_visible()
    expect(page.locator("#mp-chat-widget [role=log]")).to_have_attribute("aria-live", "polite")
    expect(panel).to_have_attribute("data-connection", "online")
    chat(page, "Chcę umówić wizytę")
    log = widget_log(page)
    expect(log.get_by_text("Wybierz termin wizyty u internisty:")).to_be_visible()
    visitor.shoot("widget-pl-slots")
    log.locator(".buttons button").first.click()
    expect(log.get_by_text(re.compile(r"^Umówiono wizytę: "))).to_be_visible()
    polish_booking = fake_rasa.bookings[-1]
    assert polish_booking["source"] == "assistant"

    # -- switch the widget to English and book again --------------------------------------------
    page.locator("#mp-chat-widget select.lang").select_option("en")
    expect(page.locator("#mp-chat-widget .send")).to_have_text("Send")
    expect(panel).to_have_attribute("data-connection", "online")
    chat(page, "I would like to book a visit")
    expect(log.get_by_text("Pick a time with an internist:")).to_be_visible()
    log.locator(".buttons button:not([disabled])").nth(1).click()
    expect(log.get_by_text(re.compile(r"^Booked: "))).to_be_visible()
    english_booking = fake_rasa.bookings[-1]
    assert english_booking["id"] != polish_booking["id"]
    languages = [c["metadata"]["language"] for c in fake_rasa.calls if c.get("metadata")]
    assert "pl" in languages
    assert "en" in languages
    assert all("access_token" in c["metadata"] for c in fake_rasa.calls[-2:])
    visitor.shoot("widget-en-booked")
    page.locator("#mp-chat-widget .close").click()

    # -- both on the visits page (in English now: the choice is shared) --------------------------
    page.goto("/visits.html")
    for booking in (polish_booking, english_booking):
        card = page.locator(f"[data-appointment-id='{booking['id']}']")
        expect(card).to_be_visible()
        expect(card).to_contain_text("chat assistant")
    visitor.shoot("visits-two-booked")

    # -- cancel one ---------------------------------------------------------------------------
    card = page.locator(f"[data-appointment-id='{english_booking['id']}']")
    card.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("The visit has been cancelled.")).to_be_visible()
    expect(page.locator(f"[data-appointment-id='{english_booking['id']}'] .status")).to_have_text(
        "cancelled"
    )
    expect(page.locator(f"[data-appointment-id='{polish_booking['id']}'] .status")).to_have_text(
        "booked"
    )

    # -- reschedule the other: a new slot of the same service ------------------------------------
    card = page.locator(f"[data-appointment-id='{polish_booking['id']}']")
    card.get_by_role("button", name="Reschedule").click()
    card.locator(".slot").first.get_by_role("button", name="Choose").click()
    expect(page.locator("main .page-status")).to_contain_text("Moved to ")
    booked = page.locator("#upcoming .card").filter(has=page.locator(".status-booked"))
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("In-person visit with an internist")

    # -- book a telephone consultation through the search form (back in Polish) -----------------
    page.locator("header button.lang").click()
    expect(page.locator("h1")).to_have_text("Wizyty")
    page.fill("#book-from", (date.today() + timedelta(days=1)).isoformat())
    page.select_option("#book-service-type", "telephone_consultation")
    page.select_option("#book-specialty", "internal-medicine")
    page.click("#book-form button[type=submit]")
    first_slot = page.locator(".results .slot").first
    expect(first_slot).to_contain_text("Teleporada")
    first_slot.get_by_role("button", name="Umów").click()
    expect(page.locator("main .notice-success")).to_contain_text("Umówiono wizytę: ")
    visitor.shoot("visits-booked-phone")

    # -- documents: limits shown first, client-side refusal, upload, delete ---------------------
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: (
            uploads.append(r.url)
            if r.method == "POST" and r.url.endswith("/api/v1/documents")
            else None
        ),
    )
    page.goto("/documents.html")
    limits = page.locator("#limits")
    expect(limits).to_contain_text("JPG, JPEG, PNG, PDF")
    expect(limits).to_contain_text("8 MB")
    expect(limits).to_contain_text("5")
    page.fill("#doc-description", "Notatka")
    page.set_input_files("#doc-file", files=upload("notes.txt", "text/plain", b"hello"))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_text("Ten rodzaj pliku jest niedozwolony")).to_be_visible()
    assert uploads == []  # refused before sending anything
    # Uploading before accepting the regulations: the server's refusal is shown.
    page.set_input_files("#doc-file", files=upload("wynik.png", "image/png", png_bytes()))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_text("Najpierw zaakceptuj regulamin")).to_be_visible()
    page.check("#accept-regulations")
    page.get_by_role("button", name="Akceptuję regulamin").click()
    expect(page.get_by_text("zaakceptowany")).to_be_visible()
    page.fill("#doc-description", "Wynik morfologii")
    page.set_input_files("#doc-file", files=upload("wynik.png", "image/png", png_bytes()))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_text("Plik wynik.png został dodany.")).to_be_visible()
    uploaded = page.locator("#files .card")
    expect(uploaded).to_have_count(1)
    expect(uploaded).to_contain_text("Wynik morfologii")
    visitor.shoot("documents-uploaded")
    uploaded.get_by_role("button", name="Usuń").click()
    expect(page.get_by_text("Plik wynik.png został usunięty.")).to_be_visible()
    expect(page.locator("#files .card")).to_have_count(0)
    assert visitor.errors == []
