"""The consultation room in two real Chromium contexts against the real hub: the device check
against the hub's echo peer; a call between demo.patient and demo.physician (admission from the
desk's waiting room, video both ways, chat, a shared PDF, a reload that resumes, the end and its
stored summary); and the same call with the direct path blocked, which ends up relayed by the
hub. Both browsers use Chromium's fake camera and microphone."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Page, WebSocketRoute, expect

from tests.portal.test_documents_unit import RawPdf, stored_copy

from .conftest import DEMO_PASSWORD, Hub, Session, shoot_fitting, wait_for_frames, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# A minimal PDF the document checks accept (one page); the hub stores qpdf's copy of it.
PDF = RawPdf.minimal().build()

# The remote picture's mean brightness (0..255), from a small canvas copy of the <video>.
REMOTE_BRIGHTNESS = """() => {
  const video = document.querySelector("#remote-video");
  if (!video || !video.videoWidth) return -1;
  const canvas = document.createElement("canvas");
  canvas.width = 64;
  canvas.height = 48;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0, 64, 48);
  const data = context.getImageData(0, 0, 64, 48).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
  return sum / (data.length / 4) / 3;
}"""

# A Socket.IO event frame of the /consult namespace over the WebSocket: "42/consult,<ack id>[...]".
EVENT_FRAME = re.compile(r"^(42/consult,)(\d*)(\[.*)$", re.DOTALL)


@pytest.fixture
def pair(media_browser: Browser, hub: Hub) -> Iterator[tuple[Session, Session]]:
    """A patient's and a physician's browser contexts."""
    patient = Session(media_browser, hub)
    physician = Session(media_browser, hub)
    yield patient, physician
    patient.close()
    physician.close()


def strip_direct_path(frame: str | bytes) -> str | bytes | None:
    """Drop ICE candidates from `signal` events (None: drop the frame), and their SDP lines."""
    if not isinstance(frame, str):
        return frame
    match = EVENT_FRAME.match(frame)
    if not match:
        return frame
    event = json.loads(match.group(3))
    if not event or event[0] != "signal" or len(event) < 2 or not isinstance(event[1], dict):
        return frame
    data = event[1]
    if data.get("candidate"):
        return None
    description = data.get("description")
    if isinstance(description, dict) and isinstance(description.get("sdp"), str):
        lines = description["sdp"].splitlines(keepends=True)
        description["sdp"] = "".join(line for line in lines if not line.startswith("a=candidate"))
        return match.group(1) + match.group(2) + json.dumps(event)
    return frame


def block_direct_path(page: Page, dropped: list[str]) -> None:
    """Route the page's Socket.IO WebSockets through a filter that keeps the two browsers from
    learning each other's addresses, in both directions (`relay_offer` passes untouched)."""

    def forward(send: Callable[[str | bytes], None]) -> Callable[[str | bytes], None]:
        def handler(frame: str | bytes) -> None:
            kept = strip_direct_path(frame)
            if kept is None:
                dropped.append(str(frame)[:80])
                return
            send(kept)

        return handler

    def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        socket.on_message(forward(server.send))
        server.on_message(forward(socket.send))

    page.route_web_socket(re.compile(r"/socket\.io/"), route)


def png_bytes() -> bytes:
    """A small real PNG (the server judges files by their content)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def chat(page: Page, text: str) -> None:
    page.fill("#room-chat-text", text)
    page.click("#room-chat-form button[type=submit]")


def chat_lines(page: Page, text: str) -> int:
    """How many stored messages (with a seq) carry ``text``."""
    return page.locator("#room-chat-log li[data-seq]").filter(has_text=text).count()


def remote_picture_is_not_black(page: Page) -> None:
    """The received picture shows the fake camera, not the hub's black filler."""
    wait_until(page, f"({REMOTE_BRIGHTNESS})() > 40", timeout=10)


def test_device_check_shows_the_own_picture_echoed_and_the_link_in_plain_words(
    media_browser: Browser, hub: Hub
) -> None:
    patient = Session(media_browser, hub)
    try:
        patient.login("demo.patient", DEMO_PASSWORD)
        page = patient.page
        page.goto("/consultation.html")
        check = page.locator("#device-check")
        check.get_by_role("button", name="Sprawdź kamerę i mikrofon").click()
        wait_until(page, "document.querySelector('#echo-video').videoWidth > 0", timeout=15)
        stats = page.locator("#check-stats")
        expect(stats).to_contain_text("Czas odpowiedzi", timeout=15_000)
        expect(stats).to_contain_text("ms")
        expect(page.locator("#check-verdict")).to_have_attribute(
            "data-verdict", re.compile("good|voice_only|poor|unknown")
        )
        expect(page.locator("#check-verdict")).not_to_be_empty()
        shoot_fitting(patient, "consultation-device-check")
        page.click("#check-stop")
        expect(page.locator("#echo-video")).to_be_hidden()
        assert patient.errors == []
    finally:
        patient.close()


def test_a_consultation_from_the_waiting_room_to_the_stored_summary(
    pair: tuple[Session, Session], consultation: str
) -> None:
    patient, physician = pair
    doctor = physician.page
    page = patient.page

    # The physician's desk is open first, so the waiting patient hears that they were noticed.
    physician.login("demo.physician", DEMO_PASSWORD)
    doctor.goto("/desk.html")
    expect(doctor.locator("#desk-connection")).to_have_text("połączono")

    patient.login("demo.patient", DEMO_PASSWORD)
    page.goto("/consultation.html")
    join = page.locator(f"button.join[data-appointment-id='{consultation}']")
    expect(join).to_be_enabled()
    join.click()
    expect(page).to_have_url(re.compile(r"consultation\.html\?appointment=" + consultation))
    expect(page.locator("#room-status")).to_have_text("Czekasz na lekarza.")
    expect(page.locator("#physician-notified")).to_be_visible()
    chat(page, "Dzień dobry, czekam.")
    expect(page.locator("#room-chat-log li[data-seq]")).to_have_count(1)
    shoot_fitting(patient, "consultation-waiting")

    waiting = doctor.locator(f"#desk-queue li[data-appointment-id='{consultation}']")
    expect(waiting).to_contain_text("Jan Nowicki")
    expect(waiting.locator(".waited")).to_have_text(re.compile(r"^\d+:\d\d$"))
    shoot_fitting(physician, "desk-waiting-room")
    waiting.get_by_role("button", name="Wpuść").click()

    # -- video both ways, directly ---------------------------------------------------------------
    expect(doctor.locator("#room")).to_have_attribute("data-state", "admitted")
    expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
    wait_for_frames(page, 10)
    wait_for_frames(doctor, 10)
    assert page.evaluate("window.__consult.transport") == "direct"
    expect(page.locator("#transport-badge")).to_have_text("bezpośrednio")

    # -- chat both ways, each message once (the waiting-room message included) -------------------
    expect(doctor.locator("#room-chat-log")).to_contain_text("Dzień dobry, czekam.")
    chat(doctor, "Dzień dobry, <b>słucham</b> Pana.")
    expect(page.locator("#room-chat-log")).to_contain_text("Dzień dobry, <b>słucham</b> Pana.")
    assert page.locator("#room-chat-log b").count() == 0  # text, never HTML
    chat(page, "Od tygodnia boli mnie gardło.")
    expect(doctor.locator("#room-chat-log")).to_contain_text("Od tygodnia boli mnie gardło.")
    for side in (page, doctor):
        expect(side.locator("#room-chat-log li[data-seq]")).to_have_count(3)
        expect(side.locator("#room-chat-log li.pending")).to_have_count(0)

    # -- the physician shares a PDF; the patient opens and downloads it --------------------------
    doctor.fill("#share-description", "Skierowanie na badanie krwi")
    pdf: FilePayload = {"name": "badanie.pdf", "mimeType": "application/pdf", "buffer": PDF}
    doctor.set_input_files("#share-file", files=[pdf])
    doctor.click("#share-form button[type=submit]")
    expect(doctor.locator("#share-form")).to_contain_text("Udostępniono: badanie.pdf.")
    shared = page.locator("#room-docs li.doc").filter(has_text="badanie.pdf")
    expect(shared).to_contain_text("Skierowanie na badanie krwi")
    with page.context.expect_page() as opened:
        shared.get_by_role("button", name="Otwórz").click()
    tab = opened.value
    tab.wait_for_url(re.compile("^blob:" + re.escape(patient.hub.url)))
    tab.close()
    stored = stored_copy(PDF)
    expect(shared).to_have_attribute("data-opened", str(len(stored)))
    with page.expect_download() as download:
        shared.get_by_role("link", name="Pobierz").click()
    saved = download.value.path()
    assert saved is not None and saved.read_bytes() == stored
    # The patient shows a photo: the physician sees it inline.
    page.fill("#share-description", "Zdjęcie gardła")
    photo: FilePayload = {"name": "gardlo.png", "mimeType": "image/png", "buffer": png_bytes()}
    page.set_input_files("#share-file", files=[photo])
    page.click("#share-form button[type=submit]")
    picture = doctor.locator("#room-docs li.doc").filter(has_text="gardlo.png").locator("img")
    expect(picture).to_have_attribute("alt", "Zdjęcie gardła")
    # An <img> without a src yet is "complete" too: wait for the decoded picture itself.
    expect(picture).to_have_js_property("naturalWidth", 64, timeout=15_000)
    shoot_fitting(patient, "consultation-call")
    shoot_fitting(physician, "desk-call")

    # -- the patient reloads: straight back into the call, the chat once -------------------------
    page.reload()
    expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
    wait_for_frames(page, 10)
    wait_for_frames(doctor, 10)
    for text in ("Dzień dobry, czekam.", "<b>słucham</b>", "boli mnie gardło"):
        expect(page.locator("#room-chat-log")).to_contain_text(text)
        assert chat_lines(page, text) == 1
    expect(page.locator("#room-chat-log li[data-seq]")).to_have_count(3)
    seqs = page.locator("#room-chat-log li[data-seq]").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.seq))"
    )
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    expect(page.locator("#room-docs")).to_contain_text("badanie.pdf")
    chat(page, "Już jestem z powrotem.")
    expect(doctor.locator("#room-chat-log")).to_contain_text("Już jestem z powrotem.")
    assert chat_lines(doctor, "Już jestem z powrotem.") == 1

    # -- the physician ends; the summary is stored -----------------------------------------------
    doctor.click("#room-end")  # the confirmation is accepted by the session
    expect(page.locator("#room-ended")).to_have_text("Lekarz zakończył konsultację.")
    expect(doctor.locator("#follow-up")).to_be_visible()
    shoot_fitting(patient, "consultation-ended")
    stored = page.request.get(f"{patient.hub.url}/api/v1/consultations/{consultation}")
    assert stored.ok, stored.text()
    room = stored.json()
    assert room["state"] == "ended"
    summary = room["summary"]
    assert summary, room
    assert "gardło" in json.dumps(summary, ensure_ascii=False)
    assert "badanie.pdf" in json.dumps(summary, ensure_ascii=False)
    assert patient.errors == []
    assert physician.errors == []


def test_with_the_direct_path_blocked_the_call_goes_through_the_hub(
    pair: tuple[Session, Session], consultation: str
) -> None:
    patient, physician = pair
    dropped: list[str] = []
    block_direct_path(patient.page, dropped)
    block_direct_path(physician.page, dropped)
    page, doctor = patient.page, physician.page

    patient.login("demo.patient", DEMO_PASSWORD)
    page.goto(f"/consultation.html?appointment={consultation}")
    expect(page.locator("#room")).to_have_attribute("data-state", "waiting")

    physician.login("demo.physician", DEMO_PASSWORD)
    doctor.goto(f"/desk.html?appointment={consultation}&room=1")
    doctor.locator("#room-admit").click()

    for side in (page, doctor):
        wait_until(side, "window.__consult.transport === 'relay'", timeout=15)
        expect(side.locator("#transport-badge")).to_have_text("przez serwer")
    for side in (page, doctor):
        wait_for_frames(side, 15)
        remote_picture_is_not_black(side)
    assert dropped, "the filter never saw a candidate: the direct path was not blocked"
    shoot_fitting(patient, "consultation-relay")
    shoot_fitting(physician, "desk-relay")

    # A reload in relay mode goes straight back to the hub's relay.
    page.reload()
    wait_until(page, "window.__consult.transport === 'relay'")
    frames = wait_for_frames(page, 15)
    wait_for_frames(page, 10, more_than=frames)
    remote_picture_is_not_black(page)

    # Switching the language draws the page again: the room rejoins, still relayed.
    page.locator("header button.lang").click()
    expect(page.locator("#transport-badge")).to_have_text("relay")
    expect(page.locator("#room-status")).to_have_text("The call is on (through the server).")
    frames = wait_for_frames(page, 15)
    wait_for_frames(page, 10, more_than=frames)
    assert patient.errors == []
    assert physician.errors == []


class Network:
    """The patient's link to the hub, routed by the test: it can hold back chat frames and
    go down (a dropped WebSocket, no new connection, HTTP offline) and come back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.down = False
        self.hold_chat = False
        self.held: list[str] = []
        self.offers = 0
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        session.page.route_web_socket(re.compile(r"/socket\.io/"), self.route)

    def route(self, socket: WebSocketRoute) -> None:
        if self.down:
            socket.close()
            return
        server = socket.connect_to_server()
        self.open.append((socket, server))

        def to_server(frame: str | bytes) -> None:
            match = EVENT_FRAME.match(frame) if isinstance(frame, str) else None
            if self.hold_chat and match and json.loads(match.group(3))[0] == "chat":
                self.held.append(str(frame))
                return
            server.send(frame)

        def to_page(frame: str | bytes) -> None:
            match = EVENT_FRAME.match(frame) if isinstance(frame, str) else None
            if match and '"offer"' in frame:
                event = json.loads(match.group(3))
                description = event[1].get("description") if event[0] == "signal" else None
                self.offers += bool(description and description.get("type") == "offer")
            socket.send(frame)

        socket.on_message(to_server)
        server.on_message(to_page)

    def drop(self) -> None:
        self.down = True
        self.session.context.set_offline(True)
        for socket, server in self.open:
            server.close()
            socket.close()
        self.open.clear()

    def restore(self) -> None:
        self.down = False
        self.hold_chat = False
        self.session.context.set_offline(False)


def test_after_a_network_drop_the_room_resumes_without_gaps_or_duplicates(
    pair: tuple[Session, Session], consultation: str
) -> None:
    patient, physician = pair
    network = Network(patient)
    page, doctor = patient.page, physician.page
    patient.login("demo.patient", DEMO_PASSWORD)
    page.goto(f"/consultation.html?appointment={consultation}")
    physician.login("demo.physician", DEMO_PASSWORD)
    doctor.goto(f"/desk.html?appointment={consultation}&room=1")
    doctor.locator("#room-admit").click()
    wait_for_frames(page, 10)
    wait_for_frames(doctor, 10)
    assert network.offers == 1  # one admission, one offer

    # The patient's message leaves the page but never reaches the hub; then the link drops.
    network.hold_chat = True
    chat(page, "Czy mnie słychać?")
    expect(page.locator("#room-chat-log li.pending")).to_have_count(1)
    assert network.held
    network.drop()
    expect(page.locator("#room-status")).to_have_text("Brak połączenia – łączę ponownie…")
    expect(doctor.locator("#room-status")).to_have_text(re.compile("Pacjent rozłączył się"))
    chat(doctor, "Halo? Nie widzę Pana.")

    # Back online: the same message is sent again (same id), the missed one fills the gap.
    network.restore()
    expect(page.locator("#room-chat-log li.pending")).to_have_count(0, timeout=20_000)
    for side in (page, doctor):
        log = side.locator("#room-chat-log li[data-seq]")
        expect(log).to_have_count(2)
        # The held message reached the hub last, so it is second: both sides show one order.
        expect(log.nth(0)).to_contain_text("Halo? Nie widzę Pana.")
        expect(log.nth(1)).to_contain_text("Czy mnie słychać?")
    frame = EVENT_FRAME.match(network.held[0])
    assert frame is not None
    held = json.loads(frame.group(3))[1]
    stored = page.locator("#room-chat-log li[data-seq]").nth(1)
    expect(stored).to_have_attribute("data-client-msg-id", held["client_msg_id"])
    wait_until(
        page,
        "window.__consult.pc() && window.__consult.pc().connectionState === 'connected'",
        timeout=15,
    )
    frames = wait_for_frames(page, 10)
    wait_for_frames(page, 10, more_than=frames)
    assert network.offers == 2  # the rejoin brought one fresh offer
    assert patient.errors == []
    assert physician.errors == []
