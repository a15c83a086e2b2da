"""Hostile uploads (issue 12): PDFs that hide JavaScript and other active content where a byte
scanner would not look, polyglots, lying names and types, bombs, sizes at the limit, names
that try to become paths or headers, and descriptions that would break the database.

Every refusal is checked for its exact status and code, for leaving no file (temporary ones
included) and no row, and for its audit row: a denied ``create`` of a ``DocumentReference``
on the patient's record, with the code. Files are built here, with pikepdf and byte by byte.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pikepdf
import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from portal.documents import MAX_FILE_BYTES
from portal.i18n import MESSAGES
from portal.models import AuditEvent
from tests.conftest import Api, User
from tests.portal.api.test_documents import (
    API,
    assert_nothing_stored,
    audit_events,
    files_in,
    multipart_headers,
    ok,
    pdf_of_size,
    png,
    png_bomb,
    problem,
    raw_multipart,
    ready_patient,
    upload,
)
from tests.portal.test_documents_unit import RawPdf, incremental, saved, stream_object

JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"


# -- what a refusal must leave -----------------------------------------------------------------


async def denied_creates(settings: Settings, user: User) -> list[AuditEvent]:
    """The refused uploads the audit log holds for ``user``, oldest first."""
    events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(user.account["id"]),
        AuditEvent.object_type == "DocumentReference",
        AuditEvent.action == "create",
        AuditEvent.outcome == "denied",
    )
    return sorted(events, key=lambda event: event.at)


async def refused(
    api: Api,
    settings: Settings,
    patient: User,
    content: bytes,
    status: int,
    code: str,
    *,
    stored: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Upload ``content``; assert the refusal, that nothing new is kept, and its audit row."""
    before = len(await denied_creates(settings, patient))
    body = await problem(await upload(api, patient, content, **options), status, code)
    # Polish by default, and an English text exists too (portal/i18n.py).
    assert code in MESSAGES and MESSAGES[code]["en"]
    assert body["title"] != code
    await assert_nothing_stored(settings, files=stored)
    events = await denied_creates(settings, patient)
    assert len(events) == before + 1, [event.detail for event in events]
    event = events[-1]
    assert str(event.patient_id) == patient.patient_id
    assert event.object_id is None
    assert event.detail is not None and event.detail["code"] == code
    return body


def link(action: bytes) -> bytes:
    """A link annotation that runs ``action`` when clicked."""
    return b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A " + action + b" >>"


def with_js(**places: bytes) -> bytes:
    """A valid one-page PDF with the entries of ``places`` (catalog, page, objects)."""
    document = RawPdf.minimal(places.get("catalog", b""))
    if "page" in places:
        document.page(places["page"])
    if "o5" in places:
        document.objects[5] = places["o5"]
    return document.build()


def encrypted(user_password: str) -> bytes:
    document = pikepdf.new()
    document.add_blank_page()
    return saved(document, encryption=pikepdf.Encryption(owner="owner", user=user_password))


def xfa_form() -> bytes:
    document = RawPdf.minimal(b"/AcroForm << /Fields [] /XFA 5 0 R >>")
    document.objects[5] = stream_object(b"", b"<xdp:xdp><script>app.alert(1)</script></xdp:xdp>")
    return document.build()


def js_in_object_stream() -> bytes:
    # The string holds ">>" and "stream": a scanner of bytes could lose its place in it.
    document = RawPdf.minimal(b"/OpenAction 5 0 R")
    document.packed[5] = b"<< /T (x >> stream\nendstream) /S /JavaScript /JS (app.alert\\(1\\)) >>"
    return document.build()


def js_in_xref_stream_file() -> bytes:
    document = RawPdf.minimal(b"/Names << /JavaScript << /Names [(a) 5 0 R] >> >>")
    document.objects[5] = JS_ACTION
    return document.build(xref_stream=True)


def js_in_incremental_update() -> bytes:
    # The first revision is clean; the update swaps the catalog for one with an OpenAction.
    base = RawPdf.minimal().build()
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>"
    return incremental(base, {1: catalog, 5: JS_ACTION})


def js_behind_stream_space() -> bytes:
    # "stream" then a space before the end of line (7.3.8.1 forbids it; readers accept it).
    return with_js(o5=stream_object(b"/S /JavaScript /JS 6 0 R ", b"x", keyword=b"stream \r\n"))


HOSTILE_PDFS: list[tuple[str, bytes, int, str]] = [
    ("js in the catalog", with_js(catalog=b"/OpenAction " + JS_ACTION), 415, "pdf_active_content"),
    ("js on a page", with_js(page=b"/AA << /O " + JS_ACTION + b" >>"), 415, "pdf_active_content"),
    (
        "js in an annotation",
        with_js(page=b"/Annots [" + link(JS_ACTION) + b"]"),
        415,
        "pdf_active_content",
    ),
    ("js in an object stream", js_in_object_stream(), 415, "pdf_active_content"),
    ("js in an xref-stream file", js_in_xref_stream_file(), 415, "pdf_active_content"),
    ("js in an incremental update", js_in_incremental_update(), 415, "pdf_active_content"),
    ("stream keyword and a space", js_behind_stream_space(), 415, "pdf_active_content"),
    (
        "name split by #xx escapes",
        with_js(o5=b"<< /S /J#61va#53cript /J#53 (app.alert\\(1\\)) >>"),
        415,
        "pdf_active_content",
    ),
    (
        "open action to a web page",
        with_js(catalog=b"/OpenAction << /S /URI /URI (https://example.org/) >>"),
        415,
        "pdf_active_content",
    ),
    (
        "launch on a link",
        with_js(page=b"/Annots [" + link(b"<< /S /Launch /F (cmd.exe) >>") + b"]"),
        415,
        "pdf_active_content",
    ),
    (
        "embedded files",
        with_js(
            catalog=b"/Names << /EmbeddedFiles << /Names [(a.exe) 5 0 R] >> >>",
            o5=b"<< /Type /Filespec /F (a.exe) /EF << /F 6 0 R >> >>",
        ),
        415,
        "pdf_active_content",
    ),
    ("xfa form", xfa_form(), 415, "pdf_active_content"),
    (
        "go to another file",
        with_js(page=b"/Annots [" + link(b"<< /S /GoToR /F (x.pdf) /D [0 /Fit] >>") + b"]"),
        415,
        "pdf_active_content",
    ),
    (
        "submit a form",
        with_js(o5=b"<< /S /SubmitForm /F (https://evil.example/) >>"),
        415,
        "pdf_active_content",
    ),
    (
        "a file: link",
        with_js(page=b"/Annots [" + link(b"<< /S /URI /URI (file:///c:/x) >>") + b"]"),
        415,
        "pdf_active_content",
    ),
    ("encrypted, no password", encrypted(""), 415, "pdf_encrypted"),
    ("encrypted with a password", encrypted("secret"), 415, "pdf_encrypted"),
    (
        "no cross-reference table",
        b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
        422,
        "file_corrupt",
    ),
]


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [case[1:] for case in HOSTILE_PDFS],
    ids=[case[0] for case in HOSTILE_PDFS],
)
async def test_hostile_pdfs_are_refused_and_leave_nothing(
    api: Api, settings: Settings, content: bytes, status: int, code: str
) -> None:
    patient, _ = await ready_patient(api)
    await refused(api, settings, patient, content, status, code)


@pytest.mark.parametrize(
    "catalog",
    [b"/OpenAction [3 0 R /Fit]", b"/OpenAction << /S /GoTo /D [3 0 R /FitH 800] >>"],
    ids=["destination", "goto"],
)
async def test_an_open_action_that_only_shows_a_page_is_accepted(
    api: Api, settings: Settings, catalog: bytes
) -> None:
    # LaTeX (hyperref) writes these; they go to a page and do nothing else.
    patient, _ = await ready_patient(api)
    await ok(await upload(api, patient, with_js(catalog=catalog)), 201)
    assert await denied_creates(settings, patient) == []
    await assert_nothing_stored(settings, files=1)


async def test_a_web_link_is_kept_in_the_stored_copy(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    web = link(b"<< /S /URI /URI (https://example.org/wyniki) >>")
    stored = await ok(await upload(api, patient, with_js(page=b"/Annots [" + web + b"]")), 201)
    response = await api.client.get(
        f"{API}/documents/{stored['id']}/content", headers=patient.headers
    )
    with pikepdf.open(io.BytesIO(await response.read())) as copy:
        (annotation,) = copy.pages[0].Annots
        assert str(annotation.A.URI) == "https://example.org/wyniki"


async def test_a_pdf_bomb_in_an_object_stream_is_too_complex(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    document = RawPdf.minimal()
    document.packed[5] = b"<< /Note (nothing) >>"
    document.packed_zeros_mib = 2048  # 2 GiB inflated, 2 MB sent
    body = await refused(api, settings, patient, document.build(), 413, "pdf_too_complex")
    assert "500" in body["title"]


# -- hypothesis: where the JavaScript hides, and how its name is spelled ------------------------


@dataclass(frozen=True)
class Hiding:
    """One way to hide a JavaScript action in a valid PDF."""

    place: str
    spelled: bytes
    xref_stream: bool
    keyword: bytes
    decoy: bytes

    def build(self) -> bytes:
        action = b"<< /S " + self.spelled + b" /JS (app.alert\\(1\\)) /T (" + self.decoy + b") >>"
        document = RawPdf.minimal()
        if self.place == "catalog":
            document = RawPdf.minimal(b"/OpenAction " + action)
        elif self.place == "page":
            document.page(b"/AA << /O " + action + b" >>")
        elif self.place == "annotation":
            document.page(b"/Annots [" + link(action) + b"]")
        elif self.place == "names":
            tree = b"/Names << " + self.spelled + b" << /Names [(a) 5 0 R] >> >>"
            document = RawPdf.minimal(tree)
            document.objects[5] = b"<< /S /GoTo /D [3 0 R /Fit] >>"
        elif self.place == "object stream":
            document.packed[5] = action
        elif self.place == "stream dictionary":
            entries = b"/S " + self.spelled + b" /T (" + self.decoy + b") "
            document.objects[5] = stream_object(entries, b"0 0 m", keyword=self.keyword)
        elif self.place == "unreferenced":
            document.objects[5] = action
        if self.place == "incremental update":
            return incremental(document.build(xref_stream=self.xref_stream), {6: action})
        return document.build(xref_stream=self.xref_stream)


@st.composite
def spellings(draw: st.DrawFn) -> bytes:
    """``/JavaScript`` with any of its letters written as a ``#xx`` escape (7.3.5)."""
    escaped = [
        b"#%02X" % ord(letter) if draw(st.booleans()) else letter.encode()
        for letter in "JavaScript"
    ]
    return b"/" + b"".join(escaped)


hidings = st.builds(
    Hiding,
    place=st.sampled_from(
        [
            "catalog",
            "page",
            "annotation",
            "names",
            "object stream",
            "stream dictionary",
            "unreferenced",
            "incremental update",
        ]
    ),
    spelled=spellings(),
    xref_stream=st.booleans(),
    keyword=st.sampled_from([b"stream\n", b"stream\r\n", b"stream \n", b"stream  \r\n"]),
    decoy=st.sampled_from([b"", b"a >> stream", b"endstream endobj", b"%%EOF", b"\\) /S /GoTo"]),
)


@dataclass
class Running:
    """The app on a test server, driven from a loop of our own (hypothesis calls sync code)."""

    loop: asyncio.AbstractEventLoop
    client: TestClient[Any, Any]
    api: Api
    patient: User

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)


async def _serve(settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(settings, clock=clock)), cookie_jar=DummyCookieJar()
    )
    await client.start_server()
    return client


@pytest.fixture
def running(settings: Settings, clock: ManualClock) -> Iterator[Running]:
    """The real app and a ready patient, on an event loop the test drives itself."""
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(_serve(settings, clock))
    api = Api(client)
    try:
        patient, _ = loop.run_until_complete(ready_patient(api))
        yield Running(loop, client, api, patient)
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def test_javascript_hidden_anywhere_is_refused(running: Running, settings: Settings) -> None:
    @given(hiding=hidings)
    @hypothesis_settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    def check(hiding: Hiding) -> None:
        running.run(
            refused(
                running.api,
                settings,
                running.patient,
                hiding.build(),
                415,
                "pdf_active_content",
            )
        )

    check()


# -- images, polyglots, lying names and types ---------------------------------------------------


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


PAYLOADS = {
    "pdf": RawPdf.minimal(b"/OpenAction " + JS_ACTION).build(),
    "zip": b"PK\x03\x04\x14\x00" + bytes(24) + b"evil.exe" + b"PK\x05\x06" + bytes(18),
    "html": b"<html><script>alert(document.cookie)</script></html>",
}


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("image", ["png", "jpeg"])
async def test_a_polyglot_image_is_stored_as_its_pixels_only(
    api: Api, settings: Settings, image: str, payload: str
) -> None:
    patient, _ = await ready_patient(api)
    content = (png() if image == "png" else jpeg()) + PAYLOADS[payload]
    stored = await ok(await upload(api, patient, content, file_name="x.pdf"), 201)
    assert stored["content_type"] == f"image/{image}"
    assert stored["file_name"] == ("x.png" if image == "png" else "x.jpg")
    (path,) = files_in(settings.documents_dir)
    kept = path.read_bytes()
    for marker in (b"%PDF", b"PK\x03\x04", b"<script", b"JavaScript"):
        assert marker not in kept
    with Image.open(path) as decoded:
        assert decoded.size in ((4, 3), (8, 8))


@pytest.mark.parametrize("payload", ["zip", "html"])
async def test_a_pdf_with_something_glued_on_is_stored_without_it(
    api: Api, settings: Settings, payload: str
) -> None:
    patient, _ = await ready_patient(api)
    content = RawPdf.minimal().build() + PAYLOADS[payload]
    stored = await ok(await upload(api, patient, content), 201)
    assert stored["content_type"] == "application/pdf"
    (path,) = files_in(settings.documents_dir)
    assert PAYLOADS[payload][:8] not in path.read_bytes()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "a.svg"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "a.png"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "a.pdf"),
        (b"GIF89a" + bytes(8) + b"%PDF-1.7\n", "a.pdf"),  # PDF readers look 1 kB deep; we don't
        (b"PK\x03\x04" + bytes(60), "a.jpg"),
        (b"MZ\x90\x00" + bytes(60), "scan.pdf"),
    ],
    ids=["svg", "svg as png", "html as pdf", "pdf after junk", "zip as jpg", "exe as pdf"],
)
async def test_other_types_are_refused_whatever_their_name(
    api: Api, settings: Settings, content: bytes, name: str
) -> None:
    patient, _ = await ready_patient(api)
    await refused(api, settings, patient, content, 415, "file_type_not_allowed", file_name=name)


async def test_lying_names_and_types_are_stored_as_what_the_content_is(
    api: Api, settings: Settings
) -> None:
    # Decided: accept a file for what its content is, and fix the name, never refuse it for
    # a wrong extension or declared type (phones name scans oddly); the content alone counts.
    patient, _ = await ready_patient(api)
    as_pdf = await ok(
        await upload(api, patient, png(), file_name="skan.pdf", declared="application/pdf"), 201
    )
    assert (as_pdf["content_type"], as_pdf["file_name"]) == ("image/png", "skan.png")
    lying = RawPdf.minimal().build()
    as_jpeg = await ok(
        await upload(api, patient, lying, file_name="foto.jpg", declared="image/jpeg"), 201
    )
    assert (as_jpeg["content_type"], as_jpeg["file_name"]) == ("application/pdf", "foto.pdf")
    response = await api.client.get(
        f"{API}/documents/{as_jpeg['id']}/content", headers=patient.headers
    )
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_image_bomb_is_refused_before_decoding(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    body = await refused(
        api, settings, patient, png_bomb(), 413, "image_too_large", file_name="b.png"
    )
    assert "40" in body["title"]


# -- sizes, count, names, descriptions ----------------------------------------------------------


async def test_exactly_8_mb_is_accepted_and_one_byte_more_refused(
    api: Api, settings: Settings
) -> None:
    patient, _ = await ready_patient(api)
    await refused(api, settings, patient, pdf_of_size(MAX_FILE_BYTES + 1), 413, "file_too_large")
    await ok(await upload(api, patient, pdf_of_size(MAX_FILE_BYTES)), 201)
    await assert_nothing_stored(settings, files=1)


async def test_a_sixth_file_is_refused(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    for number in range(5):
        await ok(await upload(api, patient, png(colour=(number, 9, 9))), 201)
    await refused(
        api, settings, patient, png(colour=(7, 7, 7)), 409, "document_limit_reached", stored=5
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../../etc/cron.d/evil.pdf", "evil.pdf"),
        ("..\\..\\Windows\\System32\\evil.pdf", "evil.pdf"),
        ("a\r\nContent-Type: text/html\r\n\r\n<script>.pdf", "html<script>.pdf"),
        ("wynik\x00.exe", "wynik.exe.pdf"),
        ("raport\u202egpj.pdf", "raportgpj.pdf"),
        ("\x1b[31mred.pdf", "[31mred.pdf"),
        ('łódź "quoted"; filename=x.exe.pdf', 'łódź "quoted"; filename=x.exe.pdf'),
    ],
    ids=["traversal", "windows traversal", "header injection", "nul", "bidi", "escape", "quotes"],
)
async def test_a_file_name_never_becomes_a_path_or_a_header(
    api: Api, settings: Settings, raw: str, shown: str
) -> None:
    patient, _ = await ready_patient(api)
    disposition = f"form-data; name=\"file\"; filename*=UTF-8''{quote(raw, safe='')}"
    body = raw_multipart(RawPdf.minimal().build(), disposition)
    response = await api.client.post(
        f"{API}/documents", data=body, headers=multipart_headers(patient)
    )
    stored = await ok(response, 201)
    assert stored["file_name"] == shown
    (path,) = files_in(settings.documents_dir)
    assert path.parent == settings.documents_dir and path.name != shown
    download = await api.client.get(
        f"{API}/documents/{stored['id']}/content", headers=patient.headers
    )
    disposition = download.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.endswith("filename*=UTF-8''" + quote(shown, safe=""))
    fallback = disposition.split('filename="', 1)[1].split('";', 1)[0]
    assert all(" " <= ch <= "~" and ch not in '"\\' for ch in fallback)


@pytest.mark.parametrize(
    ("description", "code"),
    [
        ("x" * 501, "too_long"),
        ("  \t ", "field_required"),
        ("wyniki\x00", "invalid_value"),
        ("a\x1b[2Jb", "invalid_value"),
    ],
    ids=["too long", "blank", "nul", "terminal escape"],
)
async def test_descriptions_are_checked_before_the_file(
    api: Api, settings: Settings, description: str, code: str
) -> None:
    patient, _ = await ready_patient(api)
    response = await upload(api, patient, png(), description=description)
    body = await problem(response, 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("description", code)]
    await assert_nothing_stored(settings)
    assert await denied_creates(settings, patient) == []


async def test_a_multiline_description_is_kept(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    text = "Wyniki z dwóch dni:\n\tponiedziałek\r\n\twtorek"
    stored = await ok(await upload(api, patient, png(), description=text), 201)
    assert stored["description"] == text
