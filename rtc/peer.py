"""What every aiortc peer of the hub shares: configuration, offer/answer, state and tasks.

The hub's peers only ever answer (the browser offers), sit on the hub's own addresses and use no
STUN or TURN server: a candidate they gather is already reachable by the browser, or the
browser reaches them through its own TURN relay. aiortc's ICE is half-trickle
(``setLocalDescription`` gathers every candidate before it returns), so the answer already
carries all the hub's candidates.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from rtc.errors import MediaFailed

logger = logging.getLogger(__name__)

DEAD_STATES = frozenset({"failed", "closed"})
"""``RTCPeerConnectionState`` values after which a peer is of no more use (W3C webrtc 4.3.3)."""

NEGOTIATION_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    InternalError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)
"""What aiortc raises on an SDP it cannot use (its parser is not defensive)."""


def hub_peer_connection() -> RTCPeerConnection:
    """A peer connection for the hub's side: no ICE servers, so no lookups and no network."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def parse_offer(offer: Mapping[str, Any]) -> RTCSessionDescription:
    """The browser's ``{sdp, type: "offer"}`` as a description, or :class:`MediaFailed`.

    aiortc accepts any text as SDP and answers nonsense with an empty answer, so the offer must
    at least look like a session (RFC 8866 section 5: ``v=0`` first) with a media section.
    """
    sdp = offer.get("sdp") if isinstance(offer, Mapping) else None
    kind = offer.get("type") if isinstance(offer, Mapping) else None
    if kind != "offer":
        raise MediaFailed("the description is not an offer")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or "\nm=" not in sdp:
        raise MediaFailed("the offer is not an SDP session with media")
    return RTCSessionDescription(sdp=sdp, type="offer")


def description_json(description: RTCSessionDescription) -> dict[str, str]:
    """``{sdp, type}`` as the browser's ``RTCSessionDescriptionInit``."""
    return {"sdp": description.sdp, "type": description.type}


def keep_candidates(sdp: str, addresses: Iterable[str]) -> str:
    """``sdp`` with only the host candidates on ``addresses`` (all of them when empty).

    aiortc gathers on every interface and has no option to choose; leaving the other
    candidates out of the answer means the browser never tries them (RFC 8839 section 5.1).
    """
    wanted = {ipaddress.ip_address(address) for address in addresses}
    if not wanted:
        return sdp
    lines = []
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            fields = line.split()
            try:
                address = ipaddress.ip_address(fields[4])
            except (IndexError, ValueError):
                continue
            if address not in wanted:
                continue
        lines.append(line)
    return "\r\n".join(lines)


async def answer_offer(
    pc: RTCPeerConnection,
    offer: Mapping[str, Any],
    prepare: Callable[[RTCPeerConnection], None],
    host_addresses: Iterable[str] = (),
) -> dict[str, str]:
    """Apply the browser's offer, let ``prepare`` add the outgoing tracks, and answer.

    ``prepare`` runs after ``setRemoteDescription`` (the transceivers and the received tracks
    exist then) and before ``createAnswer``, so the answer is ``sendrecv`` wherever ``prepare``
    attached a track (JSEP, RFC 9429 section 5.3.1). Raises :class:`MediaFailed` when the offer
    cannot be used; the caller closes ``pc``.
    """
    description = parse_offer(offer)
    try:
        await pc.setRemoteDescription(description)
        prepare(pc)
        await pc.setLocalDescription(await pc.createAnswer())
    except NEGOTIATION_ERRORS as error:
        raise MediaFailed(f"the offer cannot be answered: {error}") from error
    local = pc.localDescription
    if local is None or "\nm=" not in local.sdp:
        raise MediaFailed("no media in common with the offer")
    return {"sdp": keep_candidates(local.sdp, host_addresses), "type": local.type}


def on_dead(pc: RTCPeerConnection, callback: Callable[[], None]) -> None:
    """Call ``callback`` once when ``pc`` reaches ``failed`` or ``closed``."""
    called = False

    def changed() -> None:
        nonlocal called
        if pc.connectionState in DEAD_STATES and not called:
            called = True
            callback()

    pc.on("connectionstatechange", changed)


class Tasks:
    """Background tasks kept by reference (asyncio holds only weak ones) and cancelled at close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coroutine`` in the background; its failure is logged, never lost."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("media task %s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        """Cancel every task still running and wait for them to finish."""
        current = asyncio.current_task()
        pending = [task for task in self._tasks if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
