"""The Socket.IO namespace ``/chat``: the widget's patients and reception's console.

The protocol is written down in ``docs/chat-protocol.md``. Rooms:

- ``conversation:<id>``: the patient's sockets (one per tab or device) of a conversation;
- ``staff``: every reception connection (queue updates);
- ``desk:<id>``: the reception connection that took conversation ``<id>``.

Emitting to rooms rather than to socket ids is what lets a reconnected socket, or one on
another hub node (``AsyncRedisManager``), receive what the bot says while it was away.

A hub process that dies between storing a patient's message and storing the assistant's answer
leaves the message's turn behind (``portal/conversations.py``). The patient's next connection
finds it: a turn Rasa was never asked about is asked now, once; one Rasa was asked about is not
asked again (that could answer, or book, twice): the patient is told it went unanswered.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import socketio  # type: ignore[import-untyped]
from aiohttp import web

from bot.errors import AssistantUnavailable
from bot.rasa import RASA_TIMEOUT, SLOW_NOTICE_AFTER, Button, RasaClient, Reply
from portal.access import Principal
from portal.api.framework import cookie_from_environ
from portal.conversations import TURN_PENDING, TURN_TOLD
from portal.errors import (
    AuthenticationRequired,
    PortalError,
    ServiceUnavailable,
    TooManyAttempts,
)
from portal.i18n import DEFAULT_LANGUAGE, MESSAGES, Language, translate
from portal.models import ChatMessage, Role, Sender
from portal.services import Portal
from portal.throttle import Bucket
from safety import Assessment, answer_buttons, answer_text, assess

log = logging.getLogger(__name__)

NAMESPACE = "/chat"
STAFF_ROOM = "staff"
HANDOFF_PAYLOAD = "/human_handoff"
"""The quick reply the bridge answers itself: talk to a person, whatever Rasa's state."""
RATE_LIMIT = 10
RATE_WINDOW = 10.0
"""At most RATE_LIMIT user messages per RATE_WINDOW seconds on one connection."""
TOKEN_TTL = timedelta(minutes=5)
"""Life of the bearer token handed to the assistant with each message (one turn needs less)."""
REPLAYED = (Sender.BOT, Sender.STAFF, Sender.SYSTEM)
ABANDONED_AFTER = timedelta(seconds=RASA_TIMEOUT + 10)
"""With several hub nodes, a turn another node owns counts as abandoned only this long after the
message was stored: a live node finishes every turn within Rasa's timeout. A single node knows
at once: any other owner is a previous run of itself."""
QUOTE_LENGTH = 80
"""How much of an unanswered message the notice quotes, in characters."""


@dataclass
class Client:
    """What the namespace knows about one connection."""

    principal: Principal | None
    language: Language
    conversation_id: uuid.UUID | None = None
    sent: deque[float] = field(default_factory=deque)

    @property
    def is_staff(self) -> bool:
        """Whether this is a reception connection."""
        return self.principal is not None and self.principal.role is Role.RECEPTION

    def allow_message(self, now: float) -> bool:
        """Count one message against the rate limit; whether it is within it."""
        while self.sent and now - self.sent[0] >= RATE_WINDOW:
            self.sent.popleft()
        if len(self.sent) >= RATE_LIMIT:
            return False
        self.sent.append(now)
        return True


class ChatNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """``/chat``: authenticate at connect, bridge patients to Rasa, and run the handoff."""

    def __init__(
        self,
        portal: Portal,
        rasa: RasaClient,
        *,
        session_cookie: str = "mp_session",
        namespace: str = NAMESPACE,
        single_node: bool = True,
    ) -> None:
        super().__init__(namespace)
        self.portal = portal
        self.rasa = rasa
        self.session_cookie = session_cookie
        self.single_node = single_node
        self.node = uuid.uuid4().hex
        """This process's id, the owner of the turns it stores."""
        self.clients: dict[str, Client] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._turns: dict[uuid.UUID, asyncio.Lock] = {}
        self._waiting: dict[uuid.UUID, int] = {}

    # -- connection -------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any) -> None:
        """Authenticate from the session cookie (or admit an anonymous visitor)."""
        try:
            await self._connect(sid, environ, auth)
        except ServiceUnavailable as error:
            # The database is out of reach: the widget is told why, and retries later.
            language = _lang(str(auth.get("language")) if isinstance(auth, dict) else "")
            raise socketio.exceptions.ConnectionRefusedError(
                translate(error.code, language), {"code": error.code}
            ) from None

    async def _connect(self, sid: str, environ: Mapping[str, Any], auth: Any) -> None:
        options = auth if isinstance(auth, dict) else {}
        language: Language = "en" if options.get("language") == "en" else DEFAULT_LANGUAGE
        principal = await self._principal(environ, language)
        if principal is None:
            await self._count_anonymous(environ, language)
        client = Client(principal, language)
        if client.is_staff:
            assert principal is not None
            self.clients[sid] = client
            self._hold(sid, principal)
            await self.enter_room(sid, STAFF_ROOM)
            for conversation_id in await self.portal.conversations.taken_by(principal):
                await self.enter_room(sid, _desk(conversation_id))
            await self.emit("queue", await self._queue(), to=sid)
            return
        conversation = await self.portal.conversations.open(
            principal, language, _uuid(options.get("conversation_id"))
        )
        client.conversation_id = conversation.id
        self.clients[sid] = client
        if principal is not None:
            self._hold(sid, principal)
        await self.enter_room(sid, _room(conversation.id))
        await self.emit(
            "conversation",
            {
                "conversation_id": str(conversation.id),
                "seq": conversation.last_seq,
                "state": conversation.state.value,
                "language": conversation.language,
            },
            to=sid,
        )
        last_seq = options.get("last_seq")
        after = last_seq if isinstance(last_seq, int) and not isinstance(last_seq, bool) else 0
        for message in await self.portal.conversations.messages_after(
            conversation.id, after, REPLAYED
        ):
            await self.emit("bot_message", _bot_message(message), to=sid)
        self._spawn(self._recover(client, conversation.id))

    async def _principal(self, environ: Mapping[str, Any], language: Language) -> Principal | None:
        cookie = cookie_from_environ(environ, self.session_cookie)
        if cookie is None:
            return None
        try:
            principal, _ = await self.portal.auth.authenticate_session(cookie)
        except AuthenticationRequired as error:
            raise socketio.exceptions.ConnectionRefusedError(
                translate(error.code, language), {"code": "session_invalid"}
            ) from None
        if principal.role is Role.PHYSICIAN:
            await self.portal.record_role_refusal(principal, self.namespace, "connect")
            raise socketio.exceptions.ConnectionRefusedError(
                translate("role_forbidden", language), {"code": "role_forbidden"}
            )
        return principal

    async def _count_anonymous(self, environ: Mapping[str, Any], language: Language) -> None:
        """Count an anonymous connection per client address (``chat_connects``): each opens a
        conversation row, so a script must not open them by the thousand. Logged-in patients
        and staff are not counted: their sessions are limited at login."""
        request = environ.get("aiohttp.request")
        # engine.io's environ says REMOTE_ADDR 127.0.0.1 whatever the peer: ask aiohttp, whose
        # request already carries the trusted proxy's X-Forwarded-For when there is one.
        address = request.remote if isinstance(request, web.BaseRequest) else None
        if not address:
            return
        try:
            await self.portal.throttle.hit(
                Bucket(f"chat-connect:{address}", self.portal.config.chat_connects)
            )
        except TooManyAttempts as error:
            raise socketio.exceptions.ConnectionRefusedError(
                translate(error.code, language, retry_after=error.retry_after),
                {"code": error.code, "retry_after": error.retry_after},
            ) from None

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        """Forget the connection; its conversation stays for the next one."""
        self.clients.pop(sid, None)
        self.portal.auth.watch.release((self.namespace, sid))

    # -- the session under a connection -----------------------------------------------------

    def _hold(self, sid: str, principal: Principal) -> None:
        """Watch the connection's session: whatever ends it ends the connection too."""
        end = partial(self._session_ended, sid)
        self.portal.auth.watch.hold((self.namespace, sid), principal, end)

    async def _session_ended(self, sid: str, reason: str) -> None:
        """The session under ``sid`` ended: say why, then disconnect (no history, no re-join:
        a reconnect with the same cookie is refused at connect)."""
        await self.emit("session_ended", {"reason": reason}, to=sid)
        await self.disconnect(sid)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every event of a logged-in connection first re-checks its session (in memory, and
        in the database at most twice a minute, which also counts as use of the session)."""
        key = (self.namespace, args[0]) if args else None
        if event not in ("connect", "disconnect") and not await self.portal.auth.watch.check(key):
            client = self.clients.get(args[0])
            return _refusal("session_invalid", client.language if client else DEFAULT_LANGUAGE)
        return await super().trigger_event(event, *args)

    # -- the patient's events ---------------------------------------------------------------

    async def on_user_message(self, sid: str, data: Any) -> dict[str, Any]:
        """Store a patient's message once, acknowledge it, then answer it in the background."""
        client = self.clients.get(sid)
        if client is None or client.conversation_id is None:
            return _refusal("role_forbidden", DEFAULT_LANGUAGE)
        if not client.allow_message(time.monotonic()):
            return _refusal("rate_limited", client.language)
        fields = data if isinstance(data, dict) else {}
        text, client_msg_id = fields.get("text"), fields.get("client_msg_id")
        if not isinstance(text, str):
            return _refusal("empty", client.language)
        if not isinstance(client_msg_id, str):
            return _refusal("invalid_value", client.language)
        try:
            stored = await self.portal.conversations.add_patient_message(
                client.principal,
                client.conversation_id,
                text,
                client_msg_id,
                turn_node=None if text.strip() == HANDOFF_PAYLOAD else self.node,
            )
        except PortalError as error:
            return _refusal(error.code, client.language, **error.params)
        if not stored.duplicate:
            self._spawn(self._answer(client, stored.message, stored.state.value))
        return {"ok": True, "seq": stored.message.seq, "duplicate": stored.duplicate}

    async def on_request_human(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The widget's "talk to a person" button."""
        client = self.clients.get(sid)
        if client is None or client.conversation_id is None:
            return _refusal("role_forbidden", DEFAULT_LANGUAGE)
        state = await self._request_human(client.conversation_id)
        return {"ok": True, "state": state}

    async def _answer(self, client: Client, message: ChatMessage, state: str) -> None:
        conversation_id = message.conversation_id
        # The safety check comes before anything else, whoever answers the conversation: a
        # patient waiting for reception, or talking to it, gets 112 or the crisis lines at once.
        found = assess(message.text) if not message.text.startswith("/") else Assessment()
        if message.text == HANDOFF_PAYLOAD:
            await self._request_human(conversation_id)
        elif state == "bot":
            lock = self._turns.setdefault(conversation_id, asyncio.Lock())
            self._waiting[conversation_id] = self._waiting.get(conversation_id, 0) + 1
            try:
                # One turn at a time per conversation: Rasa's tracker expects them in order.
                async with lock:
                    # Committed before Rasa is asked: if this process dies from here on, the
                    # turn is known to be asked, and is never asked again.
                    if await self.portal.conversations.ask_turn(message.id, self.node):
                        await self._ask_assistant(client, message, found)
                        await self.portal.conversations.finish_turn(message.id, self.node)
            finally:
                self._waiting[conversation_id] -= 1
                if not self._waiting[conversation_id]:
                    del self._waiting[conversation_id], self._turns[conversation_id]
        else:
            if found.alarm:
                await self._safety_answer(client.language, message, found)
            await self.emit(
                "patient_message",
                {
                    "conversation_id": str(conversation_id),
                    "text": message.text,
                    "seq": message.seq,
                    "at": message.created_at.isoformat(),
                },
                room=_desk(conversation_id),
            )
            if state == "waiting":
                await self._broadcast_queue()
            if message.turn is not None:  # an adopted turn, now reception's to answer
                await self.portal.conversations.ask_turn(message.id, self.node)
                await self.portal.conversations.finish_turn(message.id, self.node)

    async def _recover(self, client: Client, conversation_id: uuid.UUID) -> None:
        """Answer once, or own up to, the turns a dead hub process left in this conversation."""
        before = None if self.single_node else self.portal.clock.now() - ABANDONED_AFTER
        conversations = self.portal.conversations
        for message in await conversations.abandoned_turns(conversation_id, self.node, before):
            adopted = await conversations.adopt_turn(message, self.node)
            if adopted == TURN_PENDING:
                log.warning("answering message %s of a dead hub process", message.id)
                state = (await conversations.get(conversation_id)).state.value
                message.turn_node = self.node
                await self._answer(client, message, state)
            elif adopted == TURN_TOLD:
                log.warning("message %s went unanswered: the hub stopped mid-turn", message.id)
                quote = message.text[:QUOTE_LENGTH] + (
                    "…" if len(message.text) > QUOTE_LENGTH else ""
                )
                notice = _notice("chat_assistant_interrupted", client.language, text=quote)
                stored = await conversations.add_bot_message(
                    conversation_id, notice.text, notice.payload()
                )
                await self.emit("bot_message", _bot_message(stored), room=_room(conversation_id))

    async def _ask_assistant(self, client: Client, message: ChatMessage, found: Assessment) -> None:
        """One turn of the assistant. When the safety rules matched, the patient has the safety
        answer before Rasa is even asked; Rasa's own (the same rules in its pipeline, which also
        end any form) is then left out, and a slow or failed turn adds no notice to it."""
        conversation_id = message.conversation_id
        room = _room(conversation_id)
        if found.alarm:
            await self._safety_answer(client.language, message, found)
        metadata: dict[str, Any] = {"language": client.language}
        if client.principal is not None:
            metadata["access_token"] = self.portal.auth.issue_token(
                client.principal, TOKEN_TTL
            ).token
        await self.emit("typing", {"from": "bot", "active": True}, room=room)
        try:
            turn = asyncio.ensure_future(
                self.rasa.send(str(conversation_id), message.text, metadata)
            )
            try:
                try:
                    replies = await asyncio.wait_for(asyncio.shield(turn), SLOW_NOTICE_AFTER)
                except TimeoutError:
                    # Slow, not down: say so now, and deliver the answer when it comes.
                    if not found.alarm:
                        notice = _notice("chat_assistant_slow", client.language)
                        stored = await self.portal.conversations.add_bot_message(
                            conversation_id, notice.text, notice.payload()
                        )
                        await self.emit("bot_message", _bot_message(stored), room=room)
                    replies = await turn
            except AssistantUnavailable as error:
                log.warning("assistant unavailable for %s: %s", conversation_id, error)
                replies = [] if found.alarm else [_unavailable(client.language)]
            if found.alarm:
                replies = _without_safety_answers(replies)
            handoff = False
            for reply in replies:
                handoff = handoff or reply.handoff
                if reply.safety is not None:
                    # The assistant's model alone judged it an emergency (no rule matched).
                    judged = Assessment.from_finding(reply.safety) or Assessment(kind="emergency")
                    source = str(reply.safety.get("source") or "assistant")
                    await self._record_safety(message, judged, source)
                if reply.text or reply.buttons or reply.links:
                    stored = await self.portal.conversations.add_bot_message(
                        conversation_id, reply.text, reply.payload()
                    )
                    await self.emit("bot_message", _bot_message(stored), room=room)
        finally:
            await self.emit("typing", {"from": "bot", "active": False}, room=room)
        if handoff:
            await self._request_human(conversation_id)

    async def _safety_answer(
        self, language: Language, message: ChatMessage, found: Assessment
    ) -> None:
        """Answer ``message`` with the safety text itself, and record it for reception."""
        buttons = [Button(title, payload) for title, payload in answer_buttons(found, language)]
        reply = Reply(text=answer_text(found, language), buttons=buttons)
        stored = await self.portal.conversations.add_bot_message(
            message.conversation_id, reply.text, reply.payload()
        )
        # Recorded before the patient sees it: by then reception's list holds it too.
        await self._record_safety(message, found, "rules")
        await self.emit("bot_message", _bot_message(stored), room=_room(message.conversation_id))

    async def _record_safety(self, message: ChatMessage, found: Assessment, source: str) -> None:
        await self.portal.conversations.record_safety_answer(
            message.conversation_id,
            kind=found.kind or "emergency",
            categories=list(found.categories),
            source=source,
            seq=message.seq,
        )

    async def _request_human(self, conversation_id: uuid.UUID) -> str:
        transition = await self.portal.conversations.request_human(conversation_id)
        conversation = transition.conversation
        if transition.changed:
            await self._announce(conversation_id, "waiting", _lang(conversation.language))
            await self._broadcast_queue()
        return conversation.state.value

    # -- reception's events -----------------------------------------------------------------

    async def on_take(self, sid: str, data: Any) -> dict[str, Any]:
        """A reception user takes a waiting conversation; the ack carries its transcript."""
        client, conversation_id = self._staff_target(sid, data)
        if client is None or client.principal is None:
            return _refusal("role_forbidden", DEFAULT_LANGUAGE)
        if conversation_id is None:
            return _refusal("conversation_not_found", client.language)
        try:
            transition, transcript = await self.portal.conversations.take(
                client.principal, conversation_id
            )
        except PortalError as error:
            return _refusal(error.code, client.language)
        await self.enter_room(sid, _desk(conversation_id))
        conversation = transition.conversation
        if transition.changed:
            await self._announce(
                conversation_id,
                "human",
                _lang(conversation.language),
                staff_name=transition.staff_name or "",
            )
            await self._broadcast_queue()
        return {
            "ok": True,
            "conversation_id": str(conversation_id),
            "language": conversation.language,
            "transcript": [
                {
                    "seq": m.seq,
                    "sender": m.sender.value,
                    "text": m.text,
                    "at": m.created_at.isoformat(),
                }
                for m in transcript
            ],
        }

    async def on_staff_message(self, sid: str, data: Any) -> dict[str, Any]:
        """A reception user writes to the patient of a conversation they took."""
        client, conversation_id = self._staff_target(sid, data)
        if client is None or client.principal is None:
            return _refusal("role_forbidden", DEFAULT_LANGUAGE)
        if conversation_id is None:
            return _refusal("conversation_not_found", client.language)
        if not client.allow_message(time.monotonic()):
            return _refusal("rate_limited", client.language)
        text, client_msg_id = data.get("text"), data.get("client_msg_id")
        if not isinstance(text, str):
            return _refusal("empty", client.language)
        if not isinstance(client_msg_id, str):
            return _refusal("invalid_value", client.language)
        try:
            stored = await self.portal.conversations.add_staff_message(
                client.principal, conversation_id, text, client_msg_id
            )
        except PortalError as error:
            return _refusal(error.code, client.language, **error.params)
        if not stored.duplicate:
            await self.emit(
                "bot_message", _bot_message(stored.message), room=_room(conversation_id)
            )
        return {"ok": True, "seq": stored.message.seq, "duplicate": stored.duplicate}

    async def on_hand_back(self, sid: str, data: Any) -> dict[str, Any]:
        """A reception user returns a conversation to the assistant."""
        client, conversation_id = self._staff_target(sid, data)
        if client is None or client.principal is None:
            return _refusal("role_forbidden", DEFAULT_LANGUAGE)
        if conversation_id is None:
            return _refusal("conversation_not_found", client.language)
        try:
            transition = await self.portal.conversations.hand_back(
                client.principal, conversation_id
            )
        except PortalError as error:
            return _refusal(error.code, client.language)
        await self.leave_room(sid, _desk(conversation_id))
        if transition.changed:
            await self._announce(conversation_id, "bot", _lang(transition.conversation.language))
            await self._broadcast_queue()
        return {"ok": True}

    def _staff_target(self, sid: str, data: Any) -> tuple[Client | None, uuid.UUID | None]:
        client = self.clients.get(sid)
        if client is None or not client.is_staff:
            return None, None
        fields = data if isinstance(data, dict) else {}
        return client, _uuid(fields.get("conversation_id"))

    # -- helpers ----------------------------------------------------------------------------

    async def _announce(
        self, conversation_id: uuid.UUID, state: str, language: Language, **params: str
    ) -> None:
        """Tell the patient the handoff state changed, and leave a note in the transcript."""
        room = _room(conversation_id)
        await self.emit("handoff", {"state": state, **params}, room=room)
        note = await self.portal.conversations.add_system_message(
            conversation_id, translate(f"chat_handoff_{state}", language, **params)
        )
        await self.emit("bot_message", _bot_message(note), room=room)

    async def _queue(self) -> dict[str, Any]:
        items = await self.portal.conversations.queue()
        return {
            "items": [
                {
                    "conversation_id": str(item.conversation_id),
                    "patient_name": item.patient_name,
                    "language": item.language,
                    "waiting_since": item.waiting_since.isoformat(),
                    "last_text": item.last_text,
                }
                for item in items
            ]
        }

    async def _broadcast_queue(self) -> None:
        await self.emit("queue", await self._queue(), room=STAFF_ROOM)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        # Kept until done: the event loop holds only weak references to tasks.
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("chat task failed", exc_info=task.exception())

    async def close(self) -> None:
        """Cancel the answers still in flight (the hub is stopping)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _room(conversation_id: uuid.UUID) -> str:
    return f"conversation:{conversation_id}"


def _desk(conversation_id: uuid.UUID) -> str:
    return f"desk:{conversation_id}"


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _lang(value: str) -> Language:
    return "en" if value == "en" else "pl"


def _bot_message(message: ChatMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text": message.text,
        "seq": message.seq,
        "conversation_id": str(message.conversation_id),
        "at": message.created_at.isoformat(),
        "from": message.sender.value,
    }
    body.update(message.payload or {})
    return body


def _without_safety_answers(replies: list[Reply]) -> list[Reply]:
    """``replies`` less the assistant's safety answers: each ``{"safety": ...}`` marker and the
    message just before it, which ``actions/safety.py`` sends as the answer's text."""
    kept: list[Reply] = []
    for reply in replies:
        if reply.safety is not None:
            if kept and not kept[-1].safety:
                kept.pop()
            continue
        kept.append(reply)
    return kept


def _unavailable(language: Language) -> Reply:
    return _notice("chat_assistant_unavailable", language)


def _notice(code: str, language: Language, **params: str) -> Reply:
    """A message of the hub's own, with the button that reaches a person."""
    return Reply(
        text=translate(code, language, **params),
        buttons=[Button(translate("chat_talk_to_person", language), HANDOFF_PAYLOAD)],
    )


def _refusal(code: str, language: Language, **params: Any) -> dict[str, Any]:
    key = f"chat_{code}" if f"chat_{code}" in MESSAGES else code
    return {"ok": False, "code": code, "message": translate(key, language, **params)}
