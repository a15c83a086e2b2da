"""The visits page and the hub's ``appointment_overlap`` refusal: a slot that overlaps another
visit of the same patient is asked about on the page, in the page's language and without a
native dialog; "book anyway" repeats the request with ``allow_overlap``, "choose another time"
leaves the slots as they were. Booking through the search form (Polish) and rescheduling a
visit (English), each for a fresh patient with full access."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Request, expect

from portal.pesel import make_pesel

from .conftest import Hub, Session, assert_fits_phone

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "zielona łąka nad Wisłą 7"
INTERNIST = {"service_type": "in_person_visit", "specialty": "internal-medicine"}


def fresh_full_patient(session: Session) -> None:
    """Register a new patient through the API, log in on the login page, accept the Terms."""
    suffix = secrets.token_hex(4)
    birth = date(1985, 3, 1 + secrets.randbelow(28))
    sex = secrets.choice(["female", "male"])
    form = {
        "first_name": "Ola" if sex == "female" else "Adam",
        "last_name": "Nakładka",
        "email": f"overlap.{suffix}@example.com",
        "phone": "+48 600 100 200",
        "birth_date": birth.strftime("%d-%m-%Y"),
        "sex": sex,
        "pesel": make_pesel(birth, sex, secrets.randbelow(900) + 50),
        "login": f"overlap.{suffix}",
        "password": PASSWORD,
    }
    response = session.context.request.post(f"{session.hub.url}/api/v1/accounts", data=form)
    assert response.status == 201, response.text()
    session.login(form["login"], PASSWORD)
    full = post(session, "/me/full-access", {"accept_terms": True})
    assert full["access_level"] == "full"


def post(session: Session, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A state-changing API call with the login's cookie and its CSRF token."""
    token = session.page.evaluate("sessionStorage.getItem('mp_csrf')")
    response = session.context.request.post(
        f"{session.hub.url}/api/v1{path}", data=body, headers={"X-CSRF-Token": token}
    )
    assert response.ok, response.text()
    result: dict[str, Any] = response.json()
    return result


def get(session: Session, path: str, **query: Any) -> list[dict[str, Any]]:
    """The ``items`` of a GET (catalogue, or the logged-in patient's own)."""
    response = session.context.request.get(f"{session.hub.url}/api/v1{path}", params=query)
    assert response.ok, response.text()
    return list(response.json()["items"])


def overlap(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return bool(first["start"] < second["end"] and second["start"] < first["end"])


def same_time_pair(slots: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Two slots of different physicians that overlap in time, in the list's order."""
    for i, first in enumerate(slots):
        for second in slots[i + 1 :]:
            if first["physician"]["id"] != second["physician"]["id"] and overlap(first, second):
                return first, second
    return None


def clock(slot: dict[str, Any]) -> tuple[str, str]:
    """The slot's clinic-local date and time as the hub's refusal writes them."""
    start = datetime.fromisoformat(slot["start"])
    return start.strftime("%d.%m.%Y"), start.strftime("%H:%M")


def booked(session: Session) -> set[tuple[str, str]]:
    """(start, physician) of the patient's upcoming booked visits, from the API."""
    items = get(session, "/appointments", period="upcoming")
    return {(a["start"], a["physician"]["id"]) for a in items if a["status"] == "booked"}


def watch_dialogs(session: Session) -> list[str]:
    """Native dialogs the page opens (the session answers them; this test wants none)."""
    dialogs: list[str] = []

    def seen(dialog: Dialog) -> None:
        dialogs.append(dialog.message)

    session.page.on("dialog", seen)
    return dialogs


def test_booking_an_overlapping_slot_asks_and_books_both_on_book_anyway(visitor: Session) -> None:
    page = visitor.page
    dialogs = watch_dialogs(visitor)
    fresh_full_patient(visitor)
    # A day whose first 20 internist slots (what the search form shows) hold two at once.
    for days in range(1, 15):
        day = (date.today() + timedelta(days=days)).isoformat()
        shown = get(visitor, "/slots", **INTERNIST, date_from=day, date_to=day, limit=20)
        pair = same_time_pair(shown)
        if pair:
            break
    assert pair, "no two internists free at the same time in the next two weeks"
    first, second = pair
    posted: list[dict[str, Any]] = []

    def bookings(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/appointments"):
            posted.append(request.post_data_json)

    page.on("request", bookings)

    page.goto("/visits.html")
    page.fill("#book-from", day)
    page.fill("#book-to", day)
    page.select_option("#book-service-type", INTERNIST["service_type"])
    page.select_option("#book-specialty", INTERNIST["specialty"])
    page.click("#book-form button[type=submit]")
    results = page.locator(".results")
    results.locator(f".slot[data-slot-id='{first['id']}'] button").click()
    expect(page.locator("main .page-status")).to_contain_text("Umówiono wizytę: ")
    expect(page.locator("#upcoming .card")).to_have_count(1)

    # The other physician at the same time: the hub's text and two choices, on the page.
    other = results.locator(f".slot[data-slot-id='{second['id']}'] button")
    other.click()
    question = results.locator(".overlap")
    expect(question).to_be_visible()
    for part in clock(first):
        expect(question).to_contain_text(part)
    expect(question).to_contain_text(second["physician"]["name"])
    anyway = question.get_by_role("button", name="Umów mimo to")
    expect(anyway).to_be_focused()

    # "Choose another time": the question goes, the slots stay, nothing more is booked.
    question.get_by_role("button", name="Wybierz inny termin").click()
    expect(question).to_have_count(0)
    expect(other).to_be_enabled()
    expect(other).to_be_focused()
    expect(results.locator(".slot")).to_have_count(len(shown))
    expect(page.locator("#upcoming .card")).to_have_count(1)

    other.click()
    expect(anyway).to_be_visible()
    assert_fits_phone(page)
    visitor.shoot("visits-overlap-pl")
    anyway.click()
    expect(page.locator("main .page-status")).to_contain_text("Umówiono wizytę: ")
    expect(question).to_have_count(0)
    cards = page.locator("#upcoming .card").filter(has=page.locator(".status-booked"))
    expect(cards).to_have_count(2)
    for slot in (first, second):
        expect(cards.filter(has_text=slot["physician"]["name"])).to_have_count(1)
    assert booked(visitor) == {(s["start"], s["physician"]["id"]) for s in (first, second)}

    # Book anyway repeated the refused request (its idempotency key) with allow_overlap.
    assert [body["slot_id"] for body in posted] == [first["id"]] + [second["id"]] * 3
    assert [body.get("allow_overlap") for body in posted] == [None, None, None, True]
    assert posted[3]["idempotency_key"] == posted[2]["idempotency_key"]
    assert dialogs == []
    assert visitor.errors == []


def test_rescheduling_onto_an_overlapping_slot_asks_in_english(browser: Browser, hub: Hub) -> None:
    visitor = Session(browser, hub, locale="en-GB")
    try:
        page = visitor.page
        dialogs = watch_dialogs(visitor)
        fresh_full_patient(visitor)
        # The reschedule list: the service's first 8 free slots from today (the page's UTC date).
        today = datetime.now(UTC).date().isoformat()
        service = {"service": "internal-medicine-visit", "date_from": today}
        pair = same_time_pair(get(visitor, "/slots", **service, limit=8))
        assert pair, "no two internists free at the same time among the first 8 slots"
        kept, clash = pair
        later = [
            s
            for s in get(visitor, "/slots", **service, limit=50)
            if not overlap(s, kept) and not overlap(s, clash)
        ]
        moving = later[-1]
        post(visitor, "/appointments", {"slot_id": kept["id"]})
        moved = post(visitor, "/appointments", {"slot_id": moving["id"]})

        page.goto("/visits.html")
        card = page.locator(f"[data-appointment-id='{moved['id']}']")
        card.get_by_role("button", name="Reschedule").click()
        choose = card.locator(f".slot[data-slot-id='{clash['id']}'] button")
        choose.click()
        question = card.locator(".overlap")
        expect(question).to_contain_text("This patient already has another visit at that time")
        for part in clock(kept):
            expect(question).to_contain_text(part)
        anyway = question.get_by_role("button", name="Book anyway")
        expect(anyway).to_be_focused()
        expect(question.get_by_role("button", name="Choose another time")).to_be_visible()

        # Escape is "choose another time": the slots stay, the focus goes back.
        page.keyboard.press("Escape")
        expect(question).to_have_count(0)
        expect(choose).to_be_focused()
        choose.click()
        expect(anyway).to_be_visible()
        assert_fits_phone(page)
        visitor.shoot("visits-overlap-reschedule-en")
        anyway.click()
        expect(page.locator("main .page-status")).to_contain_text("Moved to ")
        assert booked(visitor) == {(s["start"], s["physician"]["id"]) for s in (kept, clash)}
        assert dialogs == []
        assert visitor.errors == []
    finally:
        visitor.close()
