"""The device check's echo peer: the browser sees and hears itself through the hub.

The browser offers its camera and microphone; the echo peer answers with the same tracks sent
back (through :class:`~aiortc.contrib.media.MediaRelay`, so aiortc decodes and re-encodes
them, as the relay mode will), answers ``ping`` on a data channel, and reads the link's figures
from RTCP for :mod:`rtc.quality`.
"""

from __future__ import annotations

import time
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)

from rtc.config import RtcConfig
from rtc.peer import answer_offer, hub_peer_connection
from rtc.quality import LinkQuality
from rtc.tracks import FrameCounter

PING_LABEL = "ping"
"""Label of the data channel the echo peer answers (the aiortc ``server`` example's)."""
BITRATE_WINDOW = 0.5
"""Seconds two ``stats()`` calls must be apart to measure the bitrate afresh."""


class EchoPeer:
    """One device check: an aiortc peer connection that sends the browser's tracks back."""

    def __init__(self, owner: str, config: RtcConfig) -> None:
        self.owner = owner
        """Who asked for the check (the Socket.IO connection's ``sid``)."""
        self.config = config
        self.pc: RTCPeerConnection = hub_peer_connection()
        self._relay = MediaRelay()
        self._outgoing: list[MediaStreamTrack] = []
        self._counters: list[FrameCounter] = []
        self._sample: tuple[float, int] | None = None
        self._kbps: float | None = None
        self.pc.on("datachannel", self._on_datachannel)

    async def answer(self, offer: dict[str, str]) -> dict[str, str]:
        """Answer the browser's offer; raises :class:`~rtc.errors.MediaFailed` on a bad one."""
        answer = await answer_offer(self.pc, offer, self._echo, self.config.host_addresses)
        self._sample = (time.monotonic(), 0)
        return answer

    def _echo(self, pc: RTCPeerConnection) -> None:
        # Each received track goes back on its own transceiver, added before createAnswer so
        # that the answer says sendrecv (addTrack reuses the offer's recvonly transceiver).
        for transceiver in pc.getTransceivers():
            received = transceiver.receiver.track
            if transceiver.kind in ("audio", "video") and received is not None:
                echoed = self._relay.subscribe(received, buffered=transceiver.kind == "audio")
                transceiver.sender.replaceTrack(echoed)
                transceiver.direction = "sendrecv"
                self._outgoing.append(echoed)
                # Read the received track even if the browser does not take it back, or its
                # queue would grow without end.
                counter = FrameCounter(self._relay.subscribe(received, buffered=False))
                counter.start()
                self._counters.append(counter)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != PING_LABEL:
            return

        def on_message(message: Any) -> None:
            # "ping 1234" -> "pong 1234" (the aiortc example's convention); any other text is
            # echoed after "pong ".
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            text = str(message)
            payload = text[4:] if text.startswith("ping") else " " + text
            channel.send("pong" + payload)

        channel.on("message", on_message)

    async def stats(self) -> LinkQuality:
        """Round trip, loss and received bitrate from ``getStats()``, with the verdict.

        * round trip: ``remote-inbound-rtp.roundTripTime`` (the browser's RTCP receiver reports
          about what the echo sends, RFC 3550 section 6.4.1), the worse track;
        * loss: the worse direction, ``fractionLost`` of those reports (aiortc gives the raw
          8-bit fixed-point value, a fraction of 256) or lost over expected packets of what the
          echo received (``inbound-rtp``);
        * bitrate: ``transport.bytesReceived`` over the time since the previous call (or since
          the answer), at least :data:`BITRATE_WINDOW` apart.
        """
        report = await self.pc.getStats()
        rtts: list[float] = []
        losses: list[float] = []
        lost = received = 0
        received_bytes: dict[str, int] = {}
        for stat in report.values():
            if isinstance(stat, RTCRemoteInboundRtpStreamStats):
                if stat.roundTripTime is not None:
                    rtts.append(stat.roundTripTime * 1000)
                    losses.append(stat.fractionLost / 256 * 100)
            elif isinstance(stat, RTCInboundRtpStreamStats):
                lost += max(0, stat.packetsLost)
                received += stat.packetsReceived
            elif isinstance(stat, RTCTransportStats):
                received_bytes[stat.id] = stat.bytesReceived
        if received:
            losses.append(lost / (lost + received) * 100)
        self._measure_bitrate(sum(received_bytes.values()))
        return LinkQuality.of(
            max(rtts) if rtts else None, max(losses) if losses else None, self._kbps
        )

    def _measure_bitrate(self, total_bytes: int) -> None:
        now = time.monotonic()
        if self._sample is None:
            self._sample = (now, total_bytes)
            return
        since, before = self._sample
        if now - since >= BITRATE_WINDOW:
            self._kbps = max(0, total_bytes - before) * 8 / (now - since) / 1000
            self._sample = (now, total_bytes)

    @property
    def connection_state(self) -> str:
        """The peer connection's ``connectionState``."""
        return str(self.pc.connectionState)

    @property
    def frames_received(self) -> dict[str, int]:
        """Frames received from the browser, by kind."""
        return {counter.track.kind: counter.frames for counter in self._counters}

    async def close(self) -> None:
        """Close the peer connection and stop the echoed tracks."""
        for track in self._outgoing:
            track.stop()
        self._outgoing.clear()
        for counter in self._counters:
            await counter.stop()
            counter.track.stop()
        self._counters.clear()
        await self.pc.close()
