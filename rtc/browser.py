"""An aiortc peer connection standing in for a browser's: the media end of the test peers.

:class:`PeerEnd` sends a synthetic camera and microphone (:mod:`rtc.tracks`), counts the frames
it receives and their sizes, and can open the device check's ``ping`` data channel. The tests
of :mod:`rtc.media` use it directly against the hub's peers; :class:`rtc.testpeer.TestPeer`
uses one per connection it makes in a room.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from rtc.tracks import ColourVideoTrack, FrameCounter, ToneTrack


class PeerEnd:
    """One RTCPeerConnection of a test peer: synthetic camera and microphone out, frames in."""

    def __init__(
        self,
        *,
        audio: bool = True,
        video: bool = True,
        video_size: tuple[int, int] = (320, 240),
        ice_servers: Iterable[Mapping[str, Any]] = (),
        ping_channel: bool = False,
        on_frame: Callable[[], None] | None = None,
        counter: type[FrameCounter] = FrameCounter,
    ) -> None:
        self._on_frame = on_frame
        self._counter = counter
        """What reads each received track (a subclass may filter or time its frames)."""
        servers = [
            RTCIceServer(
                urls=server["urls"],
                username=server.get("username"),
                credential=server.get("credential"),
            )
            for server in ice_servers
        ]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.sources: list[MediaStreamTrack] = []
        if audio:
            self.sources.append(ToneTrack())
        if video:
            self.sources.append(ColourVideoTrack(*video_size))
        self.counters: list[FrameCounter] = []
        self.connected = asyncio.Event()
        """Set once ``connectionState`` is ``connected``."""
        self.dead = asyncio.Event()
        """Set once ``connectionState`` is ``failed`` or ``closed``."""
        self.pongs: list[str] = []
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        self.ping_open = asyncio.Event()
        """Set once the ``ping`` data channel is open."""
        self.ping: RTCDataChannel | None = None
        if ping_channel:
            self.ping = self.pc.createDataChannel("ping")
            self.ping.on("message", self._on_pong)
            self.ping.on("open", self.ping_open.set)

    def _on_pong(self, message: str | bytes) -> None:
        self.pongs.append(message.decode() if isinstance(message, bytes) else message)
        if self._on_frame is not None:
            self._on_frame()

    def _on_track(self, track: MediaStreamTrack) -> None:
        counter = self._counter(track, self._on_frame)
        counter.start()
        self.counters.append(counter)

    def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed"):
            self.dead.set()

    def _add_sources(self) -> None:
        for track in self.sources:
            self.pc.addTrack(track)
        if self.pc.signalingState == "stable":
            # As the offerer: receive a kind even when not sending it.
            sending = {track.kind for track in self.sources}
            for kind in ("audio", "video"):
                if kind not in sending:
                    self.pc.addTransceiver(kind, direction="recvonly")

    async def offer(self) -> dict[str, str]:
        """Create the offer (aiortc gathers every candidate into it)."""
        self._add_sources()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return _description(self.pc.localDescription)

    async def answer(self, offer: Mapping[str, str]) -> dict[str, str]:
        """Answer ``offer``, sending the synthetic tracks back on its transceivers."""
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        self._add_sources()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return _description(self.pc.localDescription)

    async def accept(self, answer: Mapping[str, str]) -> None:
        """Apply the answer to our offer."""
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    def frames(self, kind: str) -> int:
        """Frames of ``kind`` received so far."""
        return sum(c.frames for c in self.counters if c.track.kind == kind)

    def sizes(self) -> collections.Counter[tuple[int, int]]:
        """Video frames received, by (width, height)."""
        total: collections.Counter[tuple[int, int]] = collections.Counter()
        for counter in self.counters:
            total.update(counter.sizes)
        return total

    async def close(self) -> None:
        """Close the connection and stop the synthetic sources and the readers."""
        for counter in self.counters:
            await counter.stop()
        for track in self.sources:
            track.stop()
        await self.pc.close()
        self.dead.set()


def _description(description: RTCSessionDescription | None) -> dict[str, str]:
    assert description is not None
    return {"sdp": description.sdp, "type": description.type}


def strip_candidates(sdp: str) -> str:
    """``sdp`` without candidates and without end-of-candidates (RFC 8840 section 4).

    The other side then waits for trickled candidates that never come, so neither side sends
    a single connectivity check: a direct path that neither fails nor connects, as behind a
    firewall that drops everything.
    """
    return "\r\n".join(
        line
        for line in sdp.split("\r\n")
        if not line.startswith(("a=candidate:", "a=end-of-candidates"))
    )
