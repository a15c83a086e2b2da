"""The physician's desk in the browser against the real hub: the day's schedule, the waiting
room with a ticking wait time, a visit's detail (a renewal order reviewed, a question answered),
admitting and ending a consultation, and the follow-up written for it (instructions, an
e-prescription, a referral) that the patient then sees."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .conftest import DEMO_PASSWORD, Hub, Session, shoot_fitting

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CALL_API = """async ([method, path, body]) => {
  const response = await fetch("/api/v1" + path, {
    method,
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": sessionStorage.getItem("mp_csrf"),
    },
    body: body === null ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}"""


def call_api(session: Session, method: str, path: str, body: Any = None) -> Any:
    """The REST API from the logged-in page (cookie and CSRF token), as the page calls it."""
    result = session.page.evaluate(CALL_API, [method, path, body])
    assert result["status"] < 300, result
    return result["body"]


def test_the_desk_schedule_waiting_room_detail_and_follow_up(
    media_browser: Browser, hub: Hub, consultation: str
) -> None:
    patient = Session(media_browser, hub)
    physician = Session(media_browser, hub)
    try:
        # The patient asks for a renewal of a medication the demo physician prescribed.
        patient.login("demo.patient", DEMO_PASSWORD)
        history = call_api(patient, "GET", "/prescriptions")
        prescribed = next(
            p for p in history["prescriptions"] if "Kowalska" in p["physician"]["name"]
        )
        call_api(
            patient,
            "POST",
            "/prescriptions/orders",
            {"prescription_id": prescribed["id"], "note": "Kończy mi się opakowanie."},
        )

        physician.login("demo.physician", DEMO_PASSWORD)
        doctor = physician.page
        doctor.goto("/desk.html")
        expect(doctor.locator("header .site-nav a[href='/desk.html']")).to_be_visible()
        row = doctor.locator(f"#schedule-list li[data-appointment-id='{consultation}']")
        expect(row).to_contain_text("Jan Nowicki")
        expect(row).to_contain_text("Konsultacja online")
        expect(doctor.locator("#desk-queue")).to_contain_text("Nikt nie czeka.")

        # -- the waiting room: the patient enters, the wait time ticks ---------------------------
        patient.page.goto(f"/consultation.html?appointment={consultation}")
        expect(patient.page.locator("#room")).to_have_attribute("data-state", "waiting")
        waiting = doctor.locator(f"#desk-queue li[data-appointment-id='{consultation}']")
        expect(waiting).to_contain_text("Jan Nowicki")
        waited = waiting.locator(".waited")
        expect(waited).to_have_text(re.compile(r"^\d+:\d\d$"))
        first = waited.inner_text()
        expect(waited).not_to_have_text(first, timeout=5_000)
        shoot_fitting(physician, "desk-schedule-and-queue")

        # -- the detail: the renewal order is reviewed -------------------------------------------
        row.get_by_role("button", name="Szczegóły").click()
        visit = doctor.locator("#visit")
        expect(visit).to_contain_text("Jan Nowicki")
        expect(visit).to_contain_text("PESEL")
        order = doctor.locator("#visit-orders li.order").filter(
            has_text=prescribed["medication_name"]
        )
        expect(order).to_contain_text("Kończy mi się opakowanie.")
        order.get_by_role("button", name="Odrzuć").click()
        expect(order).to_contain_text("Podaj powód odmowy.")
        shoot_fitting(physician, "desk-detail")
        order.get_by_role("button", name="Wystaw receptę").click()
        expect(order).to_contain_text("Recepta wystawiona. Klucz:")

        # -- admit from the detail, then end -----------------------------------------------------
        doctor.get_by_role("button", name="Dołącz do konsultacji").click()
        doctor.locator("#room-admit").click()
        expect(doctor.locator("#room")).to_have_attribute("data-state", "admitted")
        expect(patient.page.locator("#room")).to_have_attribute("data-state", "admitted")
        expect(waiting).to_have_count(0)
        expect(doctor).to_have_url(re.compile(r"room=1"))
        doctor.click("#room-end")
        expect(doctor.locator("#room-ended")).to_be_visible()
        expect(patient.page.locator("#room-ended")).to_be_visible()
        follow = doctor.locator("#follow-up")
        expect(follow).to_be_visible()

        # -- the follow-up -----------------------------------------------------------------------
        follow.locator("#follow-instructions button[type=submit]").click()
        expect(follow.locator("#follow-instructions .form-alert .notice-error")).to_be_visible()
        expect(doctor.locator("#instruction-text")).to_have_attribute("aria-invalid", "true")
        doctor.fill("#instruction-text", "Płukać gardło szałwią 3 razy dziennie, dużo pić.")
        follow.locator("#follow-instructions button[type=submit]").click()
        expect(follow).to_contain_text("Zalecenia zapisane.")
        doctor.fill("#rx-medication_name", "Ibuprofen 200 mg")
        doctor.fill("#rx-dosage", "1 tabletka do 3 razy dziennie po jedzeniu")
        follow.locator("#follow-prescription button[type=submit]").click()
        expect(follow).to_contain_text("E-recepta na Ibuprofen 200 mg wystawiona. Klucz:")
        doctor.fill("#ref-reason", "Nawracające zapalenie gardła")
        doctor.select_option("#ref-service_type", "in_person_visit")
        follow.locator("#follow-referral button[type=submit]").click()
        expect(follow).to_contain_text("Skierowanie wystawione.")
        shoot_fitting(physician, "desk-follow-up")

        # -- a question about the consultation, answered from the desk ---------------------------
        call_api(
            patient,
            "POST",
            "/questions",
            {"appointment_id": consultation, "text": "Czy mogę iść jutro do pracy?"},
        )
        doctor.goto(f"/desk.html?appointment={consultation}")
        question = doctor.locator("#visit-questions li.question").filter(
            has_text="Czy mogę iść jutro do pracy?"
        )
        expect(question).to_be_visible()
        expect(doctor.locator("#follow-up")).to_be_visible()  # an attended visit keeps it
        question.locator("textarea").fill("Proszę zostać w domu do końca tygodnia.")
        question.get_by_role("button", name="Wyślij odpowiedź").click()
        expect(question).to_contain_text("Odpowiedź została wysłana.")

        # -- the patient sees it all -------------------------------------------------------------
        instructions = call_api(patient, "GET", "/instructions")["items"]
        assert any("szałwią" in item["text"] for item in instructions)
        questions = call_api(patient, "GET", "/questions")["items"]
        answered = next(q for q in questions if q["text"] == "Czy mogę iść jutro do pracy?")
        assert answered["status"] == "answered"
        prescriptions = call_api(patient, "GET", "/prescriptions")["prescriptions"]
        assert any(p["medication_name"] == "Ibuprofen 200 mg" for p in prescriptions)
        assert physician.errors == []
        assert patient.errors == []
    finally:
        patient.close()
        physician.close()


def test_the_desk_is_for_physicians(media_browser: Browser, hub: Hub) -> None:
    visitor = Session(media_browser, hub)
    try:
        visitor.page.goto("/desk.html")
        visitor.page.wait_for_url(re.compile(r"/login\.html\?next=%2Fdesk\.html"))
        page = visitor.page
        page.fill("#login-login", "demo.patient")
        page.fill("#login-password", DEMO_PASSWORD)
        page.click("form.form button[type=submit] >> nth=0")
        page.wait_for_url("**/desk.html")
        expect(page.locator("main .notice-error")).to_contain_text(
            "Ta strona jest przeznaczona dla innego rodzaju konta."
        )
        assert visitor.errors == []
    finally:
        visitor.close()
