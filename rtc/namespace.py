"""The Socket.IO namespace ``/consult``: consultation rooms, the waiting room, signalling,
the in-call chat and the hub's media roles. The protocol is ``docs/consult-protocol.md``.

Rooms (Socket.IO's, not the domain's):

- ``consult:<id>``: every connection of both members of appointment ``<id>`` (chat, documents,
  transport, end);
- ``consult:<id>:patient`` and ``consult:<id>:physician``: one side's connections; signalling
  goes only to the other side's room, so it never reaches a socket outside the consultation;
- ``desk:<practitioner_id>``: a physician's connections (the waiting queue).

Every rule (who may join, when, what is stored) is :class:`portal.consultations.Consultations`;
this module checks that a connection joined a room before relaying anything for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import socketio  # type: ignore[import-untyped]

from portal.access import Principal
from portal.api.consultations import (
    MessageOut,
    WaitingOut,
    patient_name,
    physician_name,
    room_state,
)
from portal.api.documents import DocumentOut
from portal.api.framework import cookie_from_environ
from portal.consultations import RoomClosed, RoomRole, RoomView, SharedDocument
from portal.errors import AccessDenied, AuthenticationRequired, PortalError
from portal.i18n import DEFAULT_LANGUAGE, Language, translate
from portal.models import Appointment, ConsultationMessage, ConsultationState, Role
from portal.services import Portal
from rtc.cluster import Relays
from rtc.config import RtcConfig
from rtc.errors import NotJoined, RtcError
from rtc.media import MediaPeers
from rtc.presence import Presence

log = logging.getLogger(__name__)

NAMESPACE = "/consult"
RATE_LIMIT = 20
RATE_WINDOW = 10.0
"""At most RATE_LIMIT chat messages per RATE_WINDOW seconds on one connection."""
SIGNAL_LIMIT = 400
"""Signalling messages (descriptions and candidates) one connection may send per window."""

Ack = dict[str, Any]


@dataclass
class Connection:
    """What the namespace knows about one socket."""

    principal: Principal
    language: Language
    rooms: dict[uuid.UUID, RoomRole] = field(default_factory=dict)
    appointments: dict[uuid.UUID, Appointment] = field(default_factory=dict)
    """The joined rooms' appointments (names for the chat), as of the join."""
    chat_sent: deque[float] = field(default_factory=deque)
    signals: deque[float] = field(default_factory=deque)

    def allow(self, sent: deque[float], limit: int, now: float) -> bool:
        """Count one event against ``limit`` per window; whether it is within it."""
        while sent and now - sent[0] >= RATE_WINDOW:
            sent.popleft()
        if len(sent) >= limit:
            return False
        sent.append(now)
        return True


class ConsultNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """``/consult``: authenticate at connect; check membership at join and on every event."""

    def __init__(
        self,
        portal: Portal,
        media: MediaPeers,
        config: RtcConfig,
        *,
        relays: Relays | None = None,
        presence: Presence | None = None,
        session_cookie: str = "mp_session",
        namespace: str = NAMESPACE,
    ) -> None:
        super().__init__(namespace)
        self.portal = portal
        self.media = media
        """This node's aiortc peers (device checks, and the rooms it relays)."""
        self.relays: Relays = relays or media
        """Where relay events go: ``media`` on a single node, else the rooms' nodes."""
        self.presence = presence or Presence(lambda room: bool(self._participants(room)))
        """Who is in a side's or a desk's room, on every node."""
        self.config = config
        self.session_cookie = session_cookie
        self.clients: dict[str, Connection] = {}
        portal.consultations.document_listeners.append(self._announce_document)
        portal.consultations.closed_rooms.append(self._room_closed)

    # -- connection -------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any) -> None:
        """Authenticate (cookie or ``auth.token``); check the named room, if any."""
        options = auth if isinstance(auth, dict) else {}
        language: Language = "en" if options.get("language") == "en" else DEFAULT_LANGUAGE
        principal = await self._principal(environ, options, language)
        try:
            if principal.role not in (Role.PATIENT, Role.PHYSICIAN):
                raise AccessDenied("role_forbidden")
            principal.require_full_access()
            appointment_id = options.get("appointment_id")
            if appointment_id is not None:
                await self.portal.consultations.authorize(principal, _uuid(appointment_id))
        except PortalError as error:
            if error.code == "role_forbidden":
                await self.portal.record_role_refusal(principal, self.namespace, "connect")
            raise socketio.exceptions.ConnectionRefusedError(
                translate(error.code, language, **error.params), {"code": error.code}
            ) from None
        self.clients[sid] = Connection(principal, language)
        # Whatever ends the session (or the token's session) ends this connection too.
        end = partial(self._session_ended, sid)
        self.portal.auth.watch.hold((self.namespace, sid), principal, end)
        if principal.role is Role.PHYSICIAN:
            await self._enter(sid, _desk(principal.practitioner_id))
            await self.emit("queue", await self._queue(principal.practitioner_id), to=sid)

    async def _principal(
        self, environ: Mapping[str, Any], options: Mapping[str, Any], language: Language
    ) -> Principal:
        token = options.get("token")
        cookie = cookie_from_environ(environ, self.session_cookie)
        try:
            if isinstance(token, str) and token:
                return await self.portal.auth.authenticate_token(token)
            if cookie is not None:
                principal, _ = await self.portal.auth.authenticate_session(cookie)
                return principal
        except AuthenticationRequired as error:
            raise socketio.exceptions.ConnectionRefusedError(
                translate(error.code, language), {"code": "session_invalid"}
            ) from None
        raise socketio.exceptions.ConnectionRefusedError(
            translate("authentication_required", language), {"code": "authentication_required"}
        )

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        """Leave every room this socket was in; close its device-check peer."""
        client = self.clients.pop(sid, None)
        self.portal.auth.watch.release((self.namespace, sid))
        await self.media.close_echo(sid)
        if client is None:
            return
        for appointment_id in list(client.rooms):
            await self._leave(sid, client, appointment_id)
        if client.principal.role is Role.PHYSICIAN:
            # Socket.IO drops the socket from its rooms after this handler: withdraw it now.
            await self._exit(sid, _desk(client.principal.practitioner_id))

    async def _session_ended(self, sid: str, reason: str) -> None:
        """The session under ``sid`` ended: say why, then disconnect (which leaves its rooms)."""
        await self.emit("session_ended", {"reason": reason}, to=sid)
        await self.disconnect(sid)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every event first re-checks the connection's session (in memory, and in the
        database at most twice a minute, which also counts as use of the session)."""
        key = (self.namespace, args[0]) if args else None
        if event not in ("connect", "disconnect") and not await self.portal.auth.watch.check(key):
            client = self.clients.get(args[0])
            return _refusal("session_invalid", client.language if client else DEFAULT_LANGUAGE)
        return await super().trigger_event(event, *args)

    # -- device check -----------------------------------------------------------------------

    async def on_device_check(self, sid: str, data: Any) -> Ack:
        """Answer the browser's offer with the hub's echo peer."""
        return await self._handle(sid, self._device_check(sid, data))

    async def _device_check(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        answer = await self.media.echo_answer(
            sid, _description(data), account=str(client.principal.account_id)
        )
        return {"ok": True, **answer}

    async def on_device_check_stats(self, sid: str, data: Any = None) -> Ack:
        """The echo peer's view of the link: round-trip time, loss, bitrate, verdict."""
        return await self._handle(sid, self._device_check_stats(sid))

    async def _device_check_stats(self, sid: str) -> Ack:
        quality = await self.media.echo_stats(sid)
        return {"ok": True, **quality.as_json()}

    async def on_device_check_stop(self, sid: str, data: Any = None) -> Ack:
        """Close the echo peer."""
        await self.media.close_echo(sid)
        return {"ok": True}

    # -- joining ----------------------------------------------------------------------------

    async def on_join(self, sid: str, data: Any) -> Ack:
        """Enter a room; the ack carries the room (``docs/consult-protocol.md``)."""
        return await self._handle(sid, self._join(sid, data))

    async def _join(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id = _uuid(_field(data, "appointment_id"))
        after = _field(data, "after_seq", 0)
        after_seq = after if isinstance(after, int) and not isinstance(after, bool) else 0
        view = await self.portal.consultations.join(client.principal, appointment_id, after_seq)
        role = view.role
        other = _other(role)
        rejoined = appointment_id in client.rooms
        client.rooms[appointment_id] = role
        client.appointments[appointment_id] = view.appointment
        await self.enter_room(sid, _room(appointment_id))
        await self._enter(sid, _side(appointment_id, role))
        state = view.consultation.state
        peer_present = await self.presence.present(_side(appointment_id, other))
        physician_notified = False
        if role == "patient" and state is ConsultationState.OPEN:
            practitioner_id = view.appointment.practitioner_id
            await self.emit(
                "queue", await self._queue(practitioner_id), room=_desk(practitioner_id)
            )
            physician_notified = await self.presence.present(_desk(practitioner_id))
            await self.emit(
                "waiting",
                {"appointment_id": str(appointment_id), "physician_notified": physician_notified},
                to=sid,
            )
        if not rejoined or state is ConsultationState.ADMITTED:
            # The physician's page (re)offers on this: a reload renegotiates the media.
            await self.emit(
                "peer_joined",
                {"appointment_id": str(appointment_id), "role": role},
                room=_side(appointment_id, other),
            )
        return {"ok": True, "room": self._room_json(view, peer_present, physician_notified)}

    def _room_json(self, view: RoomView, peer_present: bool, notified: bool) -> dict[str, Any]:
        appointment = view.appointment
        consultation = view.consultation
        relay = self.config.relay_policy == "relay" or consultation.transport == "relay"
        state = room_state(consultation)
        return {
            "appointment_id": str(appointment.id),
            "role": view.role,
            "state": "waiting" if state == "open" and view.role == "patient" else state,
            "transport": "relay" if relay else "direct",
            "policy": self.config.relay_policy,
            "ice_servers": list(self.config.ice_servers),
            "relay_timeout_ms": int(self.config.relay_timeout * 1000),
            "peer_present": peer_present,
            "peer_media": None,
            "patient": {"name": patient_name(appointment)},
            "physician": {"name": physician_name(appointment)},
            "service": appointment.service.name_pl,
            "service_en": appointment.service.name_en,
            "start_at": appointment.start_at.isoformat(),
            "end_at": appointment.end_at.isoformat(),
            "messages": [_message(m, appointment) for m in view.messages],
            "documents": [DocumentOut.of(d).model_dump(mode="json") for d in view.documents],
            "physician_notified": notified,
        }

    async def on_admit(self, sid: str, data: Any) -> Ack:
        """The physician lets the waiting patient in."""
        return await self._handle(sid, self._admit(sid, data))

    async def _admit(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id = _uuid(_field(data, "appointment_id"))
        consultation = await self.portal.consultations.admit(client.principal, appointment_id)
        payload = {"appointment_id": str(appointment_id)}
        await self.emit("admitted", payload, room=_side(appointment_id, "patient"))
        # Unconditionally: the patient may be connected to another hub node. An offer made to
        # an empty side is harmless; the patient's next join brings a fresh one.
        await self.emit(
            "peer_joined", {**payload, "role": "patient"}, room=_side(appointment_id, "physician")
        )
        assert client.principal.practitioner_id is not None
        practitioner_id = client.principal.practitioner_id
        await self.emit("queue", await self._queue(practitioner_id), room=_desk(practitioner_id))
        return {"ok": True, "state": room_state(consultation)}

    async def on_leave(self, sid: str, data: Any) -> Ack:
        """Leave a room (the page closes the call)."""
        return await self._handle(sid, self._leave_event(sid, data))

    async def _leave_event(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id = _uuid(_field(data, "appointment_id"))
        if appointment_id not in client.rooms:
            raise NotJoined()
        await self._leave(sid, client, appointment_id)
        return {"ok": True}

    async def _leave(self, sid: str, client: Connection, appointment_id: uuid.UUID) -> None:
        role = client.rooms.pop(appointment_id)
        client.appointments.pop(appointment_id, None)
        await self.leave_room(sid, _room(appointment_id))
        await self._exit(sid, _side(appointment_id, role))
        if await self.presence.present(_side(appointment_id, role)):
            return  # another tab of the same side is still there (on any node)
        try:
            await self.portal.consultations.leave(client.principal, appointment_id)
        except PortalError as error:
            log.info("leave of %s not recorded: %s", appointment_id, error.code)
        await self.relays.close_role(str(appointment_id), role)
        await self.emit(
            "peer_left",
            {"appointment_id": str(appointment_id), "role": role},
            room=_side(appointment_id, _other(role)),
        )
        if role == "patient":
            async with self.portal.db.read() as session:
                appointment = await session.get(Appointment, appointment_id)
            if appointment is not None:
                practitioner_id = appointment.practitioner_id
                await self.emit(
                    "queue", await self._queue(practitioner_id), room=_desk(practitioner_id)
                )

    # -- signalling and media ---------------------------------------------------------------

    async def on_signal(self, sid: str, data: Any) -> Ack:
        """Relay a description or an ICE candidate to the other member only."""
        return await self._handle(sid, self._signal(sid, data), data)

    async def _signal(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, role = self._joined(client, data)
        if not client.allow(client.signals, SIGNAL_LIMIT, time.monotonic()):
            raise PortalError("rate_limited")
        await self._require_admitted(client, appointment_id)
        payload: dict[str, Any] = {"appointment_id": str(appointment_id), "from": role}
        description = _field(data, "description")
        if description is not None:
            payload["description"] = _description(description)
        if isinstance(data, dict) and "candidate" in data:
            candidate = data["candidate"]
            if candidate is not None and not isinstance(candidate, dict):
                raise PortalError("invalid_message")
            payload["candidate"] = candidate
        if len(payload) == 2:
            raise PortalError("invalid_message")
        await self.emit("signal", payload, room=_side(appointment_id, _other(role)))
        return {"ok": True}

    async def on_media(self, sid: str, data: Any) -> Ack:
        """A member turned their camera or microphone on or off."""
        return await self._handle(sid, self._media(sid, data), data)

    async def _media(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, role = self._joined(client, data)
        audio = bool(_field(data, "audio", True))
        video = bool(_field(data, "video", True))
        await self.portal.consultations.record_media(client.principal, appointment_id, audio, video)
        await self.emit(
            "media",
            {"appointment_id": str(appointment_id), "role": role, "audio": audio, "video": video},
            room=_side(appointment_id, _other(role)),
        )
        return {"ok": True}

    async def on_relay_request(self, sid: str, data: Any) -> Ack:
        """The direct path did not connect in time (or failed): switch the room to relay."""
        return await self._handle(sid, self._relay_request(sid, data), data)

    async def _relay_request(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, _ = self._joined(client, data)
        reason = _field(data, "reason", "timeout")
        reason = reason if reason in ("timeout", "failed") else "timeout"
        transport, changed = await self.portal.consultations.set_transport(
            client.principal, appointment_id, "relay", reason
        )
        if changed:
            await self.emit(
                "transport",
                {"appointment_id": str(appointment_id), "transport": transport, "reason": reason},
                room=_room(appointment_id),
            )
        return {"ok": True, "transport": transport}

    async def on_relay_offer(self, sid: str, data: Any) -> Ack:
        """Connect this member's browser to the hub's relay for the room."""
        return await self._handle(sid, self._relay_offer(sid, data), data)

    async def _relay_offer(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, role = self._joined(client, data)
        await self._require_admitted(client, appointment_id)
        answer = await self.relays.relay_answer(str(appointment_id), role, _description(data))
        return {"ok": True, **answer}

    # -- chat -------------------------------------------------------------------------------

    async def on_chat(self, sid: str, data: Any) -> Ack:
        """Store a message once and show it to both members (every tab), in order."""
        return await self._handle(sid, self._chat(sid, data), data)

    async def _chat(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, _ = self._joined(client, data)
        if not client.allow(client.chat_sent, RATE_LIMIT, time.monotonic()):
            raise PortalError("rate_limited")
        text = _field(data, "text", "")
        client_msg_id = _field(data, "client_msg_id", "")
        if not isinstance(text, str) or not isinstance(client_msg_id, str):
            raise PortalError("invalid_message")
        message, created = await self.portal.consultations.add_message(
            client.principal, appointment_id, text, client_msg_id
        )
        out = _message(message, client.appointments[appointment_id])
        if created:
            await self.emit("chat", {"message": out}, room=_room(appointment_id))
        return {"ok": True, "message": out}

    async def on_history(self, sid: str, data: Any) -> Ack:
        """The room's messages after ``after_seq`` (to fill a gap after a reconnect)."""
        return await self._handle(sid, self._history(sid, data), data)

    async def _history(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id, _ = self._joined(client, data)
        after = _field(data, "after_seq", 0)
        after_seq = after if isinstance(after, int) and not isinstance(after, bool) else 0
        messages = await self.portal.consultations.messages_after(
            client.principal, appointment_id, after_seq
        )
        appointment = client.appointments[appointment_id]
        return {"ok": True, "messages": [_message(m, appointment) for m in messages]}

    async def _announce_document(self, shared: SharedDocument) -> None:
        await self.emit(
            "document",
            {
                "appointment_id": str(shared.appointment_id),
                "document": DocumentOut.of(shared.document).model_dump(mode="json"),
                "shared_by": shared.shared_by,
            },
            room=_room(shared.appointment_id),
        )

    # -- ending -----------------------------------------------------------------------------

    async def on_end(self, sid: str, data: Any) -> Ack:
        """The physician ends the consultation."""
        return await self._handle(sid, self._end(sid, data))

    async def _end(self, sid: str, data: Any) -> Ack:
        client = self._client(sid)
        appointment_id = _uuid(_field(data, "appointment_id"))
        consultation = await self.portal.consultations.end(client.principal, appointment_id)
        await self._close(appointment_id, consultation.summary, "ended")
        return {"ok": True, "summary": consultation.summary}

    async def _room_closed(self, closed: RoomClosed) -> None:
        """The visit was cancelled, moved or marked attended outside the room: close it now."""
        await self._close(closed.appointment_id, closed.summary, closed.reason)

    async def _close(
        self, appointment_id: uuid.UUID, summary: dict[str, Any] | None, reason: str
    ) -> None:
        """Tell every socket of the room (on every node) it ended, and drop this node's."""
        await self.relays.close_relay(str(appointment_id))
        payload = {"appointment_id": str(appointment_id), "summary": summary, "reason": reason}
        await self.emit("ended", payload, room=_room(appointment_id))
        for member in self.clients.values():
            member.rooms.pop(appointment_id, None)
            member.appointments.pop(appointment_id, None)
        for participant in self._participants(_room(appointment_id)):
            await self.leave_room(participant, _room(appointment_id))
        for side in (_side(appointment_id, r) for r in _ROLES):
            for participant in self._participants(side):
                await self.leave_room(participant, side)
            await self.presence.sync(side)

    async def close(self) -> None:
        """Shutdown: close every aiortc peer of this node."""
        await self.media.close()

    # -- helpers ----------------------------------------------------------------------------

    async def _handle(self, sid: str, work: Awaitable[Ack], data: Any = None) -> Ack:
        """Run an event; a refusal becomes ``{ok: false, code, message}`` (never silent).

        A room event (``data`` names the room) refused because the room closed or the caller
        no longer belongs to it also takes the socket out of the room: nothing more of the
        room reaches it, even when the room was closed on another node.
        """
        client = self.clients.get(sid)
        language = client.language if client else DEFAULT_LANGUAGE
        try:
            return await work
        except PortalError as error:
            if client is not None and error.code in _GONE:
                await self._drop(sid, client, data)
            return _refusal(error.code, language, **error.params)
        except RtcError as error:
            return _refusal(error.code, language)

    def _client(self, sid: str) -> Connection:
        client = self.clients.get(sid)
        if client is None:
            raise PortalError("authentication_required")
        return client

    def _joined(self, client: Connection, data: Any) -> tuple[uuid.UUID, RoomRole]:
        appointment_id = _uuid(_field(data, "appointment_id"))
        role = client.rooms.get(appointment_id)
        if role is None:
            raise NotJoined()
        return appointment_id, role

    async def _require_admitted(self, client: Connection, appointment_id: uuid.UUID) -> None:
        """The room is open, admitted, and the caller still belongs to it: asked of the
        database at every signal, not cached, so a visit cancelled or a membership lost
        (another node's change included) stops the relay at the next message (issue 12)."""
        member = await self.portal.consultations.authorize(client.principal, appointment_id)
        if member.consultation is None or member.consultation.state is not (
            ConsultationState.ADMITTED
        ):
            raise PortalError("not_admitted")

    async def _drop(self, sid: str, client: Connection, data: Any) -> None:
        """Take ``sid`` out of the room ``data`` names, if it joined it (no domain ``leave``:
        the room is closed or no longer the caller's)."""
        raw = data.get("appointment_id") if isinstance(data, dict) else None
        try:
            appointment_id = uuid.UUID(raw) if isinstance(raw, str) else None
        except ValueError:
            return
        role = client.rooms.pop(appointment_id, None) if appointment_id else None
        if appointment_id is None or role is None:
            return
        client.appointments.pop(appointment_id, None)
        await self.leave_room(sid, _room(appointment_id))
        await self._exit(sid, _side(appointment_id, role))

    async def _enter(self, sid: str, room: str) -> None:
        """Put ``sid`` in a side's or a desk's room and tell the other nodes."""
        await self.enter_room(sid, room)
        await self.presence.sync(room)

    async def _exit(self, sid: str, room: str) -> None:
        """Take ``sid`` out of a side's or a desk's room and tell the other nodes."""
        await self.leave_room(sid, room)
        await self.presence.sync(room)

    def _participants(self, room: str) -> list[str]:
        """This node's sockets in ``room`` (:attr:`presence` knows about the other nodes)."""
        return participants(self.server, self.namespace, room)

    async def _queue(self, practitioner_id: uuid.UUID | None) -> dict[str, Any]:
        if practitioner_id is None:
            return {"items": []}
        now = self.portal.clock.now()
        waiting = await self.portal.consultations.waiting_for(practitioner_id)
        return {
            "items": [
                WaitingOut.of(w, DEFAULT_LANGUAGE, now).model_dump(mode="json") for w in waiting
            ]
        }


_ROLES: tuple[RoomRole, RoomRole] = ("patient", "physician")
_GONE = frozenset({"room_closed", "appointment_not_found"})
"""Refusals after which a joined socket no longer belongs in the room."""


def participants(server: socketio.AsyncServer, namespace: str, room: str) -> list[str]:
    """This node's sockets in ``room``, those connecting included, those disconnecting not.

    A socket that is disconnecting is still listed until its ``disconnect`` handler returns,
    and with the Redis manager ``leave_room`` does not remove it locally then (the manager only
    publishes the leave to the other nodes): it no longer counts. One still in its ``connect``
    handler (a physician entering the desk's room) does.
    """
    manager = server.manager
    return [
        sid
        for sid, _ in manager.get_participants(namespace, room)
        if manager.is_connected(sid, namespace) or manager.is_pre_connected(sid, namespace)
    ]


def _other(role: RoomRole) -> RoomRole:
    return "physician" if role == "patient" else "patient"


def _room(appointment_id: uuid.UUID) -> str:
    return f"consult:{appointment_id}"


def _side(appointment_id: uuid.UUID, role: RoomRole) -> str:
    return f"consult:{appointment_id}:{role}"


def _desk(practitioner_id: uuid.UUID | None) -> str:
    return f"desk:{practitioner_id}"


def _message(message: ConsultationMessage, appointment: Appointment) -> dict[str, Any]:
    return MessageOut.of(message, appointment).model_dump(mode="json")


def _refusal(code: str, language: Language, **params: Any) -> Ack:
    return {"ok": False, "code": code, "message": translate(code, language, **params)}


def _field(data: Any, name: str, default: Any = None) -> Any:
    if not isinstance(data, dict):
        raise PortalError("invalid_message")
    return data.get(name, default)


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise PortalError("appointment_not_found")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PortalError("appointment_not_found") from None


def _description(data: Any) -> dict[str, str]:
    """An RTCSessionDescriptionInit from the client, checked for shape."""
    if not isinstance(data, dict):
        raise PortalError("invalid_message")
    sdp, kind = data.get("sdp"), data.get("type")
    if not isinstance(sdp, str) or kind not in ("offer", "answer") or len(sdp) > 64 * 1024:
        raise PortalError("invalid_message")
    return {"sdp": sdp, "type": kind}
