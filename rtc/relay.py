"""Relay mode: the hub carries a room's audio and video between its two members.

Each member's page connects to the hub's aiortc peer instead of to the other page. The bridge
gives every member's peer one outgoing :class:`~rtc.tracks.SwitchableTrack` per kind, created
before the answer (so the answer is ``sendrecv`` even while the other member is away) and fed
from the other member's received track through one :class:`~aiortc.contrib.media.MediaRelay`.
aiortc decodes each received stream once and encodes it again for the other side; that is the
cost that ``RtcConfig.max_relayed_rooms`` bounds.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaRelay

from rtc.config import RtcConfig
from rtc.errors import MediaFailed
from rtc.peer import answer_offer, hub_peer_connection, on_dead
from rtc.tracks import FrameCounter, Kind, SwitchableTrack

Role = Literal["patient", "physician"]
ROLES: tuple[Role, Role] = ("patient", "physician")
KINDS: tuple[Kind, Kind] = ("audio", "video")


def other_role(role: Role) -> Role:
    """The room's other member."""
    return "physician" if role == "patient" else "patient"


@dataclass
class RelayMember:
    """One member's current peer connection with the hub."""

    role: Role
    """Who is on the other end of ``pc``."""
    pc: RTCPeerConnection
    """The hub's peer connection with the member's page."""
    outgoing: dict[Kind, SwitchableTrack] = field(default_factory=dict)
    """What the hub sends the member: the other member's media, or black video and silence."""
    received: dict[Kind, MediaStreamTrack] = field(default_factory=dict)
    """What the member sends the hub."""
    counters: dict[Kind, FrameCounter] = field(default_factory=dict)
    """Readers of ``received`` that count its frames and keep its queue drained."""


class RelayBridge:
    """One relayed room: the patient's and the physician's peers, each fed the other's media."""

    def __init__(
        self,
        room: str,
        config: RtcConfig,
        on_peer_dead: Callable[[RelayBridge, Role, RTCPeerConnection], None],
    ) -> None:
        self.room = room
        """The appointment's id."""
        self.config = config
        self._on_peer_dead = on_peer_dead
        self._relay = MediaRelay()
        self._members: dict[Role, RelayMember] = {}
        self._retired: collections.Counter[tuple[Role, Kind]] = collections.Counter()
        self._closed = False
        self._answering = 0

    @property
    def empty(self) -> bool:
        """Whether neither member has a peer connection with the hub, nor is making one."""
        return not self._members and not self._answering

    def peer(self, role: Role) -> RTCPeerConnection | None:
        """The member's current peer connection, if any."""
        member = self._members.get(role)
        return member.pc if member else None

    async def answer(self, role: Role, offer: Mapping[str, Any]) -> dict[str, str]:
        """Answer the member's offer, replacing the member's earlier peer connection.

        Raises :class:`~rtc.errors.MediaFailed` when the offer cannot be answered; the earlier
        peer connection is gone then too (the page that offered has dropped it already).
        """
        if role not in ROLES:
            raise ValueError(f"no such member of a room: {role!r}")
        # Counted while answering, so the registry does not forget a bridge that is about to
        # have a member again.
        self._answering += 1
        try:
            return await self._answer(role, offer)
        finally:
            self._answering -= 1

    async def _answer(self, role: Role, offer: Mapping[str, Any]) -> dict[str, str]:
        await self.close_role(role)
        pc = hub_peer_connection()
        member = RelayMember(role, pc)
        on_dead(pc, lambda: self._on_peer_dead(self, role, pc))
        try:
            answer = await answer_offer(
                pc, offer, lambda _: self._prepare(member), self.config.host_addresses
            )
        except BaseException:
            await self._retire(member)
            raise
        if self._closed:
            await self._retire(member)
            raise MediaFailed("the relay of this room was closed meanwhile")
        # Another offer of the same member may have won the race: the last one counts.
        previous = self._members.pop(role, None)
        if previous is not None:
            await self._retire(previous)
        self._members[role] = member
        self._connect(member)
        return answer

    def _prepare(self, member: RelayMember) -> None:
        for transceiver in member.pc.getTransceivers():
            kind = transceiver.kind
            if kind not in KINDS:
                continue
            if kind not in member.outgoing:
                track = SwitchableTrack(kind, self._relay)
                transceiver.sender.replaceTrack(track)
                transceiver.direction = "sendrecv"
                member.outgoing[kind] = track
            received = transceiver.receiver.track
            if received is not None and kind not in member.received:
                member.received[kind] = received
                counter = FrameCounter(self._relay.subscribe(received, buffered=False))
                counter.start()
                member.counters[kind] = counter

    def _connect(self, member: RelayMember) -> None:
        other = self._members.get(other_role(member.role))
        if other is None:
            return
        for kind, track in member.outgoing.items():
            track.attach(other.received.get(kind))
        for kind, track in other.outgoing.items():
            track.attach(member.received.get(kind))

    async def close_role(self, role: Role, pc: RTCPeerConnection | None = None) -> None:
        """Close the member's peer connection (only if it is still ``pc``, when given)."""
        member = self._members.get(role)
        if member is None or (pc is not None and member.pc is not pc):
            return
        del self._members[role]
        await self._retire(member)

    async def _retire(self, member: RelayMember) -> None:
        other = self._members.get(other_role(member.role))
        if other is not None and member.role not in self._members:
            # The other member saw this one (no newer peer of the role took its place).
            for track in other.outgoing.values():
                track.attach(None)
        for kind, track in member.outgoing.items():
            self._retired[(member.role, kind)] += track.forwarded
            track.stop()
        for counter in member.counters.values():
            await counter.stop()
            counter.track.stop()
        await member.pc.close()

    async def close(self) -> None:
        """Close both members' peer connections; the bridge takes no more offers."""
        self._closed = True
        for role in ROLES:
            await self.close_role(role)

    def forwarded(self, to: Role) -> dict[Kind, int]:
        """Frames the hub has sent ``to`` the member from the other member, by kind."""
        member = self._members.get(to)
        counts = {kind: self._retired[(to, kind)] for kind in KINDS}
        if member is not None:
            for kind, track in member.outgoing.items():
                counts[kind] += track.forwarded
        return counts

    def stats(self) -> dict[str, Any]:
        """Connection states and frame counts, for the operator and the tests."""
        peers: dict[str, Any] = {}
        for role, member in self._members.items():
            peers[role] = {
                "connection_state": member.pc.connectionState,
                "received": {kind: c.frames for kind, c in member.counters.items()},
                "sent": {
                    kind: {"forwarded": t.forwarded, "filled": t.filled, "attached": t.attached}
                    for kind, t in member.outgoing.items()
                },
            }
        return {
            "room": self.room,
            "peers": peers,
            "forwarded": {
                "patient_to_physician": self.forwarded("physician"),
                "physician_to_patient": self.forwarded("patient"),
            },
        }
