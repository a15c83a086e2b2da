"""A synthetic patient or physician that joins a consultation room like a browser page.

:class:`TestPeer` logs in over the REST API, connects to ``/consult`` with the session cookie
and follows docs/consult-protocol.md as the room's page does: the physician offers (on
``peer_joined``, which the hub also sends when it admits a patient who is present, and on
joining a room the patient is in), the patient answers; when the direct connection does not
connect within ``relay_timeout_ms`` (or fails) it asks for relay, and in relay mode it offers
to the hub's aiortc peer with ``relay_offer``. It sends a synthetic
camera and microphone (:mod:`rtc.tracks`) and counts the frames it receives. Tests and
benchmarks use it; a browser is not needed to exercise the media path.

Everything runs on the caller's event loop: aiohttp for HTTP, python-socketio's asyncio client,
aiortc for media.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio  # type: ignore[import-untyped]
from aiortc.sdp import candidate_from_sdp

from rtc.browser import PeerEnd, strip_candidates
from rtc.peer import Tasks

logger = logging.getLogger(__name__)

NAMESPACE = "/consult"
SERVER_EVENTS = (
    "queue",
    "waiting",
    "admitted",
    "peer_joined",
    "peer_left",
    "signal",
    "media",
    "chat",
    "document",
    "transport",
    "ended",
)
"""What the hub emits on ``/consult`` (docs/consult-protocol.md, "Server -> client")."""
ACK_TIMEOUT = 10.0
"""Seconds to wait for an acknowledgement."""


class ConsultRefused(Exception):
    """The hub acknowledged an event with ``ok: false``."""

    def __init__(self, event: str, code: str, message: str = "") -> None:
        super().__init__(f"{event}: {code} {message}".strip())
        self.event = event
        self.code = code
        self.message = message


@dataclass
class RoomState:
    """What the test peer knows of one room."""

    appointment_id: str
    room: dict[str, Any] = field(default_factory=dict)
    """The ``join`` acknowledgement's room."""
    admitted: bool = False
    peer_present: bool = False
    transport: str = "direct"
    media: bool = False
    """Whether :meth:`TestPeer.connect_media` was called."""
    offer_due: bool = False
    """The physician owes the patient's current page an offer."""
    direct: PeerEnd | None = None
    relay: PeerEnd | None = None
    relay_requests: list[str] = field(default_factory=list)
    """Reasons of the ``relay_request`` events sent."""


class TestPeer:
    """A synthetic patient or physician in a consultation room, over the real hub."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(
        self,
        base_url: str,
        login: str,
        password: str,
        *,
        audio: bool = True,
        video: bool = True,
        video_size: tuple[int, int] = (320, 240),
        origin: str | None = None,
        language: str = "en",
        block_direct: bool = False,
        end_type: Callable[..., PeerEnd] = PeerEnd,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.login = login
        self.password = password
        self.audio = audio
        self.video = video
        self.video_size = video_size
        self.origin = origin or self.base_url
        self.language = language
        self.block_direct = block_direct
        """Drop every ICE candidate of the direct connection, both ways: it never connects."""
        self.end_type = end_type
        """Makes the room connections (``PeerEnd``'s keyword arguments; a benchmark's clocks)."""
        self.role: str | None = None
        self.csrf_token = ""
        self.session_cookie = ""
        self.events: list[tuple[str, Any]] = []
        """Every server event received, in order, as (name, payload)."""
        self.messages: list[dict[str, Any]] = []
        """The ``message`` of every ``chat`` event received (duplicates kept)."""
        self.rooms: dict[str, RoomState] = {}
        self.errors: list[BaseException] = []
        """Failures of background media steps (a test should find this empty)."""
        self._retired: collections.Counter[str] = collections.Counter()
        self._retired_sizes: collections.Counter[tuple[int, int]] = collections.Counter()
        self._http: aiohttp.ClientSession | None = None
        self._sio: socketio.AsyncClient | None = None
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._tasks = Tasks()
        self._check: PeerEnd | None = None
        self._changed = asyncio.Event()
        self.refusal: Any = None
        """What the hub said when it refused the connection."""

    # -- connection ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in and connect to ``/consult`` with the session cookie."""
        # engine.io moves the Cookie header into the session's jar, which must then accept
        # cookies of an IP address host (127.0.0.1): aiohttp's jar refuses them unless unsafe.
        self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self._http.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"login": self.login, "password": self.password},
        ) as response:
            if response.status != 200:
                raise ConsultRefused("login", str(response.status), await response.text())
            body = await response.json()
            self.session_cookie = response.cookies["mp_session"].value
        self.csrf_token = body["csrf_token"]
        self._sio = socketio.AsyncClient(reconnection=False, http_session=self._http)
        for name in SERVER_EVENTS:
            self._sio.on(name, self._collector(name), namespace=NAMESPACE)
        self._sio.on("connect_error", self._refused, namespace=NAMESPACE)
        try:
            await self._sio.connect(
                self.base_url,
                namespaces=[NAMESPACE],
                headers={"Cookie": f"mp_session={self.session_cookie}", "Origin": self.origin},
                auth={"language": self.language},
                transports=["websocket"],
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as error:
            refusal = self.refusal if isinstance(self.refusal, dict) else {}
            data = refusal.get("data")
            detail = data if isinstance(data, dict) else refusal
            raise ConsultRefused(
                "connect", str(detail.get("code", error)), str(refusal.get("message", ""))
            ) from error
        self._tasks.spawn(self._work(), name=f"test peer {self.login}")

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    def _collector(self, name: str) -> Callable[[Any], Any]:
        async def collect(data: Any = None) -> None:
            # Recorded at once, handled in order by one worker (Socket.IO runs each handler
            # in a task of its own).
            self.events.append((name, data))
            self._changed.set()
            if name == "chat" and isinstance(data, dict):
                self.messages.append(data.get("message", data))
            self._inbox.put_nowait((name, data))

        return collect

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Emit ``event`` and return its ack; :class:`ConsultRefused` on ``ok: false``."""
        if self._sio is None:
            raise RuntimeError("start() the test peer first")
        ack = await self._sio.call(event, payload, namespace=NAMESPACE, timeout=ACK_TIMEOUT)
        if not isinstance(ack, dict) or not ack.get("ok"):
            found = ack if isinstance(ack, dict) else {}
            raise ConsultRefused(event, str(found.get("code", ack)), str(found.get("message", "")))
        return ack

    # -- room ----------------------------------------------------------------------------------

    async def join(self, appointment_id: str, after_seq: int = 0) -> dict[str, Any]:
        """Join the room; returns the acknowledgement's ``room``."""
        ack = await self.call("join", {"appointment_id": appointment_id, "after_seq": after_seq})
        room = dict(ack["room"])
        state = self.rooms.setdefault(appointment_id, RoomState(appointment_id))
        state.room = room
        state.admitted = room.get("state") == "admitted"
        state.peer_present = bool(room.get("peer_present"))
        state.transport = str(room.get("transport", "direct"))
        self.role = str(room["role"])
        self._inbox.put_nowait(("_joined", {"appointment_id": appointment_id}))
        return room

    async def admit(self, appointment_id: str) -> dict[str, Any]:
        """Let the waiting patient in (physician)."""
        ack = await self.call("admit", {"appointment_id": appointment_id})
        self._inbox.put_nowait(("_admitted", {"appointment_id": appointment_id}))
        return ack

    async def chat(self, appointment_id: str, text: str) -> dict[str, Any]:
        """Send a chat message; returns the stored ``message``."""
        ack = await self.call(
            "chat",
            {"appointment_id": appointment_id, "text": text, "client_msg_id": uuid.uuid4().hex},
        )
        return dict(ack["message"])

    async def leave(self, appointment_id: str) -> None:
        """Leave the room and drop its media."""
        await self.call("leave", {"appointment_id": appointment_id})
        state = self.rooms.pop(appointment_id, None)
        if state is not None:
            await self._drop(state, direct=True, relay=True)

    async def end(self, appointment_id: str) -> dict[str, Any]:
        """End the consultation (physician); returns the summary."""
        ack = await self.call("end", {"appointment_id": appointment_id})
        return dict(ack.get("summary") or {})

    # -- media ---------------------------------------------------------------------------------

    async def connect_media(self, appointment_id: str) -> None:
        """Start sending and receiving media in the room, as the protocol says, from now on."""
        state = self.rooms.get(appointment_id)
        if state is None:
            raise RuntimeError(f"join {appointment_id} first")
        state.media = True
        self._inbox.put_nowait(("_media", {"appointment_id": appointment_id}))

    async def _work(self) -> None:
        while True:
            name, data = await self._inbox.get()
            try:
                await self._handle(name, data)
            except Exception as error:  # recorded for the test, and the worker goes on
                logger.exception("test peer %s could not handle %s", self.login, name)
                self.errors.append(error)

    async def _handle(self, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        state = self.rooms.get(str(data.get("appointment_id")))
        if state is None:
            return
        if name in ("admitted", "_admitted"):
            state.admitted = True
        elif name == "peer_joined":
            # A new page of the other member (a join, a reload, or the admitted patient):
            # it needs a fresh offer, made as soon as the room is admitted.
            state.peer_present = True
            state.offer_due = True
        elif name == "peer_left":
            state.peer_present = False
            state.offer_due = False
            await self._drop(state, direct=True)
        elif name in ("_joined", "_media"):
            state.offer_due = state.offer_due or (state.direct is None and state.peer_present)
        elif name == "transport":
            state.transport = str(data.get("transport", state.transport))
        elif name == "signal":
            await self._on_signal(state, data)
            return
        elif name == "ended":
            await self._drop(state, direct=True, relay=True)
            return
        if not state.media or not state.admitted:
            return
        if state.transport == "relay":
            await self._relay(state)
        elif self.role == "physician" and state.offer_due and state.peer_present:
            # Not on our own admit: the hub announces the present patient with peer_joined
            # then, and a second offer would cross the first one's answer.
            state.offer_due = False
            await self._offer(state)

    def _new_end(self, state: RoomState) -> PeerEnd:
        return self.end_type(
            audio=self.audio,
            video=self.video,
            video_size=self.video_size,
            ice_servers=state.room.get("ice_servers") or (),
            on_frame=self._changed.set,
        )

    async def _offer(self, state: RoomState) -> None:
        await self._drop(state, direct=True)
        end = state.direct = self._new_end(state)
        offer = await end.offer()
        # The relay timeout starts at the answer: an offer to a side nobody is on (the hub
        # announces an admitted patient even when they are connected elsewhere) never times out.
        await self._signal(state, {"description": self._outgoing(offer)})

    async def _on_signal(self, state: RoomState, data: dict[str, Any]) -> None:
        description = data.get("description")
        if isinstance(description, dict):
            description = self._incoming(description)
            if description.get("type") == "offer" and state.transport != "relay":
                await self._drop(state, direct=True)
                end = state.direct = self._new_end(state)
                answer = await end.answer(description)
                self._watch(state, end)
                await self._signal(state, {"description": self._outgoing(answer)})
            elif (
                description.get("type") == "answer"
                and state.direct is not None
                and state.direct.pc.signalingState == "have-local-offer"
            ):
                await state.direct.accept(description)
                self._watch(state, state.direct)
        candidate = data.get("candidate")
        # aiortc gathers into the description (half-trickle); a browser may still trickle.
        if (
            isinstance(candidate, dict)
            and candidate.get("candidate")
            and state.direct is not None
            and not self.block_direct
        ):
            parsed = candidate_from_sdp(str(candidate["candidate"]).removeprefix("candidate:"))
            parsed.sdpMid = candidate.get("sdpMid")
            parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
            await state.direct.pc.addIceCandidate(parsed)

    def _outgoing(self, description: dict[str, str]) -> dict[str, str]:
        if self.block_direct:
            return {**description, "sdp": strip_candidates(description["sdp"])}
        return description

    def _incoming(self, description: dict[str, Any]) -> dict[str, Any]:
        if self.block_direct and isinstance(description.get("sdp"), str):
            return {**description, "sdp": strip_candidates(description["sdp"])}
        return description

    async def _signal(self, state: RoomState, payload: dict[str, Any]) -> None:
        await self.call("signal", {"appointment_id": state.appointment_id, **payload})

    def _watch(self, state: RoomState, end: PeerEnd) -> None:
        limit = float(state.room.get("relay_timeout_ms", 5000)) / 1000
        self._tasks.spawn(self._deadline(state, end, limit), name=f"relay timeout {self.login}")

    async def _deadline(self, state: RoomState, end: PeerEnd, limit: float) -> None:
        try:
            await self._await_direct(state, end, limit)
        except Exception as error:  # recorded for the test
            logger.exception("test peer %s could not ask for relay", self.login)
            self.errors.append(error)

    async def _await_direct(self, state: RoomState, end: PeerEnd, limit: float) -> None:
        """The page's rule: no direct connection within ``relay_timeout_ms``, ask for relay."""
        connected = asyncio.ensure_future(end.connected.wait())
        dead = asyncio.ensure_future(end.dead.wait())
        try:
            await asyncio.wait(
                {connected, dead}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
            dead.cancel()
        if end.connected.is_set() or state.direct is not end or state.transport == "relay":
            return
        reason = "failed" if end.dead.is_set() else "timeout"
        state.relay_requests.append(reason)
        ack = await self.call(
            "relay_request", {"appointment_id": state.appointment_id, "reason": reason}
        )
        if ack.get("transport") == "relay":
            self._inbox.put_nowait(
                ("transport", {"appointment_id": state.appointment_id, "transport": "relay"})
            )

    async def _relay(self, state: RoomState) -> None:
        await self._drop(state, direct=True)
        if state.relay is not None and not state.relay.dead.is_set():
            return
        await self._drop(state, relay=True)
        end = state.relay = self._new_end(state)
        offer = await end.offer()
        ack = await self.call("relay_offer", {"appointment_id": state.appointment_id, **offer})
        await end.accept({"sdp": ack["sdp"], "type": ack["type"]})

    async def _drop(self, state: RoomState, *, direct: bool = False, relay: bool = False) -> None:
        ends = []
        if direct and state.direct is not None:
            ends.append(state.direct)
            state.direct = None
        if relay and state.relay is not None:
            ends.append(state.relay)
            state.relay = None
        for end in ends:
            await end.close()
            for kind in ("audio", "video"):
                self._retired[kind] += end.frames(kind)
            self._retired_sizes.update(end.sizes())

    def _ends(self) -> list[PeerEnd]:
        return [end for s in self.rooms.values() for end in (s.direct, s.relay) if end]

    @property
    def frames_received(self) -> dict[str, int]:
        """Frames received per kind, over every connection so far."""
        return {
            kind: self._retired[kind] + sum(end.frames(kind) for end in self._ends())
            for kind in ("audio", "video")
        }

    @property
    def frame_sizes(self) -> collections.Counter[tuple[int, int]]:
        """Video frames received, by (width, height), over every connection so far."""
        total = collections.Counter(self._retired_sizes)
        for end in self._ends():
            total.update(end.sizes())
        return total

    async def wait_for_frames(
        self,
        kind: str,
        at_least: int,
        timeout: float,  # noqa: ASYNC109 (the interface the benchmarks call)
        size: tuple[int, int] | None = None,
    ) -> None:
        """Wait until ``at_least`` frames of ``kind`` (of ``size``, for video) have arrived."""

        def count() -> int:
            return self.frame_sizes[size] if size else self.frames_received[kind]

        try:
            await self.wait_until(lambda: count() >= at_least, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{self.login}: {count()} {kind} frames{f' of {size}' if size else ''}"
                f" within {timeout} s, wanted {at_least}; errors: {self.errors!r}"
            ) from None

    async def wait_for_event(
        self, name: str, within: float, check: Callable[[Any], bool] = lambda _: True
    ) -> Any:
        """The first ``name`` event received (also earlier) for which ``check`` holds."""
        found: list[Any] = []

        def seen() -> bool:
            found[:] = [data for event, data in self.events if event == name and check(data)]
            return bool(found)

        await self.wait_until(seen, within)
        return found[0]

    async def wait_until(self, condition: Callable[[], bool], within: float) -> None:
        """Wait up to ``within`` seconds for ``condition``, checked at each event and frame."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    # -- device check --------------------------------------------------------------------------

    async def device_check(self) -> PeerEnd:
        """Talk to the hub's echo peer; the returned end counts our own frames coming back."""
        await self.device_check_stop()
        self._check = PeerEnd(
            audio=self.audio, video=self.video, video_size=self.video_size, ping_channel=True
        )
        offer = await self._check.offer()
        ack = await self.call("device_check", offer)
        await self._check.accept({"sdp": ack["sdp"], "type": ack["type"]})
        return self._check

    async def device_check_stats(self) -> dict[str, Any]:
        """The hub's verdict on our link."""
        return await self.call("device_check_stats", {})

    async def device_check_stop(self) -> None:
        """Stop the device check (also on the hub)."""
        if self._check is not None:
            check, self._check = self._check, None
            await check.close()
            await self.call("device_check_stop", {})

    # -- end -----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Disconnect and close every connection; safe to call twice."""
        await self._tasks.cancel_all()
        if self._check is not None:
            await self._check.close()
            self._check = None
        for state in list(self.rooms.values()):
            await self._drop(state, direct=True, relay=True)
        if self._sio is not None:
            if self._sio.connected:
                await self._sio.disconnect()
            self._sio = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        # The Socket.IO client's tasks finish their shutdown on the next loop turns.
        await asyncio.sleep(0)
