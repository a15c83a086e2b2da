"""The register page when the PESEL already has an account: the hub answers as for a fresh one
(tests/adversarial/test_enumeration.py), the page's login then fails, and it says to read the
e-mail rather than showing a login error."""

from __future__ import annotations

import secrets
from datetime import date

from playwright.sync_api import expect

from portal.pesel import make_pesel

from .conftest import Session

DEMO_PATIENT_PESEL = make_pesel(date(1985, 3, 14), "male", 417)


def test_a_taken_pesel_says_check_your_email(visitor: Session) -> None:
    page = visitor.page
    suffix = secrets.token_hex(3)
    page.goto("/register.html")
    page.fill("#reg-first_name", "Jan")
    page.fill("#reg-last_name", "Próbny")
    page.fill("#reg-birth_date", "14-03-1985")
    page.select_option("#reg-sex", "male")
    page.fill("#reg-pesel", DEMO_PATIENT_PESEL)
    page.fill("#reg-email", f"jan.{suffix}@example.com")
    page.fill("#reg-phone", "+48 600 100 200")
    page.fill("#reg-login", f"jan.probny.{suffix}")
    page.fill("#reg-password", "zielona łąka nad Wisłą 7")
    page.click("form button[type=submit]")
    expect(page.get_by_text("Wysłaliśmy wiadomość na podany adres e-mail")).to_be_visible()
    expect(page.locator("form.form")).to_have_count(0)
    expect(page.get_by_text("Nieprawidłowy login lub hasło")).to_have_count(0)
    assert visitor.errors == []
