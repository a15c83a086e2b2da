"""Every page at phone and desktop width: it renders without script errors, carries the chat
widget, does not scroll sideways at 360 px, and is saved as a screenshot. Plus the records
pages' own actions (order a prescription renewal, ask a doctor) as demo.patient."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.pesel import make_pesel

from .conftest import DEMO_PASSWORD, PHONE, Session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WEB = Path(__file__).resolve().parents[2] / "web_widget"
ANONYMOUS = ["index", "login", "register", "reset-password", "terms", "demo"]
PATIENT = [
    "index", "visits", "children", "documents", "results", "referrals", "instructions",
    "prescriptions", "questions", "consultation", "terms",
]  # fmt: skip


def check_page(session: Session, name: str, shot: str) -> None:
    page: Page = session.page
    page.set_viewport_size(PHONE)
    page.goto(f"/{name}.html" + ("#token=not-a-real-token" if name == "reset-password" else ""))
    page.wait_for_load_state("networkidle")
    if name != "demo":
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main[aria-busy]")).to_have_count(0)
    expect(page.locator("#mp-chat-widget .bubble")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}.html scrolls sideways by {overflow}px at 360px"
    session.shoot(shot)


def test_every_html_page_is_covered() -> None:
    pages = {path.stem for path in WEB.glob("*.html")}
    # The reception console and the physician desk have their own tests (test_reception,
    # test_desk).
    assert pages == set(ANONYMOUS) | set(PATIENT) | {"reception", "desk"}


def test_pages_render_at_phone_and_desktop_width(visitor: Session) -> None:
    for name in ANONYMOUS:
        check_page(visitor, name, f"page-{name}-anonymous")
    expect(visitor.page.locator("footer a[href='/api/v1/openapi.json']")).to_have_count(0)
    visitor.page.goto("/")
    expect(visitor.page.locator("a[href='/api/v1/openapi.json']")).to_be_visible()
    expect(visitor.page.locator("a[href='/healthz']")).to_be_visible()
    visitor.login("demo.patient", DEMO_PASSWORD)
    for name in PATIENT:
        check_page(visitor, name, f"page-{name}")
    visitor.page.locator("header button.lang").click()
    expect(visitor.page.locator("main h1")).to_have_text("Terms of Service and full access")
    check_page(visitor, "visits", "page-visits-en")
    visitor.page.locator("header button.lang").click()
    visitor.page.get_by_role("button", name="Wyloguj").click()
    visitor.page.wait_for_url("**/login.html")
    visitor.login("demo.reception", DEMO_PASSWORD)
    check_page(visitor, "reception", "page-reception")
    assert visitor.errors == []


def test_a_page_needing_a_login_sends_to_the_login_page(visitor: Session) -> None:
    visitor.page.goto("/results.html")
    visitor.page.wait_for_url(re.compile(r"/login\.html\?next=%2Fresults\.html"))
    visitor.page.fill("#login-login", "demo.patient")
    visitor.page.fill("#login-password", DEMO_PASSWORD)
    visitor.page.click("form.form button[type=submit] >> nth=0")
    visitor.page.wait_for_url("**/results.html")
    expect(visitor.page.locator("main .card").first).to_be_visible()
    # The CSRF token lives in this tab only: without it, back to the login page.
    visitor.page.evaluate("sessionStorage.clear()")
    visitor.page.goto("/visits.html")
    visitor.page.wait_for_url(re.compile(r"/login\.html\?.*reason=session"))
    expect(visitor.page.get_by_text("Twoja sesja w tej karcie wygasła")).to_be_visible()


def test_patient_orders_a_renewal_and_asks_a_doctor(visitor: Session) -> None:
    page = visitor.page
    visitor.login("demo.patient", DEMO_PASSWORD)
    page.goto("/prescriptions.html")
    page.get_by_role("button", name="Zamów kontynuację").first.click()
    expect(page.locator("main .notice-success")).to_contain_text("Zamówiono kontynuację")
    expect(page.locator("main .cards").last.locator(".status").first).to_have_text("oczekuje")
    page.goto("/questions.html")
    page.fill("#ask-text", "Czy mogę ćwiczyć po zabiegu?")
    page.get_by_role("button", name="Wyślij pytanie").click()
    expect(page.locator("main .notice").first).to_be_visible()
    expect(page.get_by_text("Czy mogę ćwiczyć po zabiegu?")).to_be_visible()
    assert visitor.errors == []


def test_patient_books_for_a_child_through_the_search_form(visitor: Session) -> None:
    page = visitor.page
    visitor.login("demo.patient", DEMO_PASSWORD)
    page.goto("/visits.html")
    child = page.locator("#book-patient option").filter(has_text="Zofia")
    page.select_option("#book-patient", child.get_attribute("value"))
    page.fill("#book-from", (date.today() + timedelta(days=1)).isoformat())
    page.select_option("#book-service-type", "in_person_visit")
    page.select_option("#book-specialty", "paediatrics")
    page.select_option("#book-time", "morning")
    page.click("#book-form button[type=submit]")
    slot = page.locator(".results .slot").first
    expect(slot).to_contain_text("pediatr")
    slot.get_by_role("button", name="Umów").click()
    expect(page.locator("main .page-status")).to_contain_text("Umówiono wizytę: ")
    expect(page.locator("#upcoming .card").filter(has_text="Zofia").first).to_be_visible()
    assert visitor.errors == []


def test_patient_adds_a_child_and_books_for_them(visitor: Session) -> None:
    page = visitor.page
    visitor.login("demo.patient", DEMO_PASSWORD)
    page.goto("/children.html")
    expect(page.locator("main .card").filter(has_text="Zofia")).to_be_visible()

    born = date.today().replace(year=date.today().year - 4, day=1)
    page.fill("#child-first_name", "Antoni")
    page.fill("#child-last_name", "Nowicki")
    page.fill("#child-birth_date", born.strftime("%d-%m-%Y"))
    page.select_option("#child-sex", "male")
    # A PESEL of a girl born that day: the server says which field is wrong, and why.
    page.fill("#child-pesel", make_pesel(born, "female", secrets.randbelow(500)))
    page.click("#child-form button[type=submit]")
    expect(page.locator("#child-pesel")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#child-form .field-error")).to_have_count(1)
    visitor.shoot("children-pesel-error")

    page.fill("#child-pesel", make_pesel(born, "male", secrets.randbelow(500)))
    page.click("#child-form button[type=submit]")
    expect(page.locator("main .page-status")).to_contain_text("Dodano: Antoni Nowicki")
    card = page.locator("main .card").filter(has_text="Antoni Nowicki")
    expect(card).to_contain_text(born.strftime("%d-%m-%Y"))
    visitor.shoot("children-added")

    card.get_by_role("link", name="Umów wizytę dla dziecka").click()
    page.wait_for_url("**/visits.html?for=*")
    expect(page.locator("#book-patient option:checked")).to_have_text("Antoni Nowicki")
    assert visitor.errors == []
