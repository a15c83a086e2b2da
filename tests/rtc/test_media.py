"""The hub's aiortc roles against real aiortc peers in the same process (no hub, no mocks).

Each "browser" is a :class:`~rtc.browser.PeerEnd`: an aiortc peer connection with a synthetic
camera and microphone that counts the frames it receives and their sizes. The two members of a
relayed room send different picture sizes, so a member can tell the other's picture from its
own, and from the hub's black filler (640x480).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiortc import MediaStreamTrack
from av import VideoFrame
from av.frame import Frame
from av.packet import Packet

from rtc.browser import PeerEnd
from rtc.config import RtcConfig
from rtc.errors import MediaBusy, MediaFailed
from rtc.media import MediaPeers
from rtc.tracks import FILLER_HEIGHT, FILLER_WIDTH, FrameCounter

PATIENT_SIZE = (320, 240)
PHYSICIAN_SIZE = (160, 120)
FILLER = (FILLER_WIDTH, FILLER_HEIGHT)
WITHIN = 10.0
"""Seconds any one wait may take; loopback connects in well under a second."""


@pytest.fixture
async def peers() -> AsyncIterator[MediaPeers]:
    """The registry with the default limits, closed at the end."""
    registry = MediaPeers(RtcConfig())
    yield registry
    await registry.close()


@pytest.fixture
async def ends() -> AsyncIterator[Callable[..., PeerEnd]]:
    """Make browser stand-ins; each is closed at the end of the test."""
    made: list[PeerEnd] = []

    def make(**options: Any) -> PeerEnd:
        made.append(PeerEnd(**options))
        return made[-1]

    yield make
    for end in made:
        await end.close()


async def until(condition: Callable[[], bool], within: float = WITHIN) -> None:
    """Wait for ``condition`` (checked every 20 ms) for up to ``within`` seconds.

    Polled: the conditions span the registry and several peers, which share no event.
    """
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def echo(peers: MediaPeers, end: PeerEnd, owner: str = "sid-1") -> None:
    await end.accept(await peers.echo_answer(owner, await end.offer()))


async def relay(peers: MediaPeers, end: PeerEnd, role: str, room: str = "room-1") -> None:
    await end.accept(await peers.relay_answer(room, role, await end.offer()))


# -- device check ------------------------------------------------------------------------------


async def test_echo_sends_the_browsers_own_media_back(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    browser = ends(video_size=PATIENT_SIZE, ping_channel=True)
    await echo(peers, browser)

    await until(lambda: browser.sizes()[PATIENT_SIZE] >= 10 and browser.frames("audio") >= 25)
    assert set(browser.sizes()) == {PATIENT_SIZE}, "only our own picture comes back"

    async with asyncio.timeout(WITHIN):
        await browser.ping_open.wait()
    assert browser.ping is not None
    browser.ping.send("ping 1234")
    browser.ping.send("hello")
    await until(lambda: len(browser.pongs) == 2)
    assert browser.pongs == ["pong 1234", "pong hello"]


class VideoOnly(FrameCounter):
    """A reader that counts video and passes over audio (the ``counts`` hook)."""

    def __init__(self, track: MediaStreamTrack, on_frame: Callable[[], None] | None) -> None:
        super().__init__(track, on_frame)
        self.passed = 0

    def counts(self, frame: Frame | Packet[Any]) -> bool:
        if isinstance(frame, VideoFrame):
            return True
        self.passed += 1
        return False


async def test_a_peer_end_reads_its_tracks_with_the_counter_it_is_given(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    browser = ends(video_size=PATIENT_SIZE, counter=VideoOnly)
    await echo(peers, browser)
    await until(lambda: browser.frames("video") >= 10)
    readers = {counter.track.kind: counter for counter in browser.counters}
    assert all(isinstance(reader, VideoOnly) for reader in readers.values())
    await until(lambda: isinstance(audio := readers.get("audio"), VideoOnly) and audio.passed > 25)
    assert browser.frames("audio") == 0, "the audio came back and was passed over"


async def test_echo_stats_measure_the_link(peers: MediaPeers, ends: Callable[..., PeerEnd]) -> None:
    assert (await peers.echo_stats("nobody")).verdict == "unknown"
    browser = ends(video_size=PATIENT_SIZE)
    await echo(peers, browser)

    # The round trip needs a sender report and the browser's receiver report about it.
    quality = await peers.echo_stats("sid-1")
    async with asyncio.timeout(WITHIN):
        while quality.rtt_ms is None:
            await asyncio.sleep(0.25)
            quality = await peers.echo_stats("sid-1")
    assert quality.rtt_ms is not None and 0 < quality.rtt_ms < 300, quality
    assert quality.loss_pct is not None and quality.loss_pct < 5, quality
    assert quality.kbps is not None and quality.kbps > 30, quality
    # Loopback is perfect; only the synthetic picture's low bitrate may ask for voice.
    assert quality.verdict in ("good", "voice_only"), quality
    assert quality.as_json()["verdict"] == quality.verdict


async def test_a_new_check_replaces_the_owners_earlier_echo_peer(
    ends: Callable[..., PeerEnd],
) -> None:
    peers = MediaPeers(RtcConfig(max_echo_peers=1))
    try:
        first = ends()
        await echo(peers, first)
        await until(first.connected.is_set)
        with pytest.raises(MediaBusy):
            await peers.echo_answer("sid-2", await ends().offer())
        second = ends(video_size=PHYSICIAN_SIZE)
        await echo(peers, second)
        assert peers.echo_owners() == ["sid-1"]
        await until(lambda: second.sizes()[PHYSICIAN_SIZE] >= 5)
        await until(first.dead.is_set)
    finally:
        await peers.close()


async def test_echo_peer_closes_after_its_lifetime_and_when_the_browser_leaves(
    ends: Callable[..., PeerEnd],
) -> None:
    peers = MediaPeers(RtcConfig(echo_lifetime=0.5))
    try:
        browser = ends()
        await echo(peers, browser)
        await until(browser.connected.is_set)
        await until(lambda: not peers.echo_owners(), within=5)
        await until(browser.dead.is_set)
    finally:
        await peers.close()


async def test_echo_peer_is_dropped_when_its_connection_closes(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    browser = ends()
    await echo(peers, browser)
    await until(browser.connected.is_set)
    await browser.close()
    await until(lambda: not peers.echo_owners())
    assert (await peers.echo_stats("sid-1")).verdict == "unknown"


async def test_close_echo(peers: MediaPeers, ends: Callable[..., PeerEnd]) -> None:
    browser = ends()
    await echo(peers, browser)
    await until(browser.connected.is_set)
    await peers.close_echo("sid-1")
    await peers.close_echo("sid-1")
    assert peers.echo_owners() == []
    await until(browser.dead.is_set)


GOOD_LOOKING_WITHOUT_ICE = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
)


@pytest.mark.parametrize(
    "offer",
    [
        {"sdp": "garbage", "type": "offer"},
        {"sdp": "v=0\r\ns=-\r\n", "type": "offer"},
        {"sdp": GOOD_LOOKING_WITHOUT_ICE, "type": "offer"},
        {"sdp": GOOD_LOOKING_WITHOUT_ICE, "type": "answer"},
        {"type": "offer"},
    ],
)
async def test_bad_offers_fail_and_leave_nothing_behind(
    peers: MediaPeers, offer: dict[str, str]
) -> None:
    with pytest.raises(MediaFailed):
        await peers.echo_answer("sid-1", offer)
    with pytest.raises(MediaFailed):
        await peers.relay_answer("room-1", "patient", offer)
    assert peers.echo_owners() == []
    assert peers.relayed_rooms() == []


def candidate_addresses(sdp: str) -> set[str]:
    return {line.split()[4] for line in sdp.split("\r\n") if line.startswith("a=candidate:")}


async def test_answers_offer_only_the_configured_host_addresses(
    ends: Callable[..., PeerEnd],
) -> None:
    probe = MediaPeers(RtcConfig())
    try:
        gathered = candidate_addresses(
            (await probe.echo_answer("sid-1", await ends().offer()))["sdp"]
        )
    finally:
        await probe.close()
    assert gathered
    chosen = min(gathered, key=lambda address: (":" in address, address))  # IPv4 first

    peers = MediaPeers(RtcConfig(host_addresses=(chosen,)))
    try:
        browser = ends()
        answer = await peers.echo_answer("sid-1", await browser.offer())
        assert candidate_addresses(answer["sdp"]) == {chosen}
        await browser.accept(answer)
        await until(lambda: browser.frames("video") >= 3)
    finally:
        await peers.close()


# -- relay -------------------------------------------------------------------------------------


async def test_relay_carries_each_members_media_to_the_other(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    patient = ends(video_size=PATIENT_SIZE)
    physician = ends(video_size=PHYSICIAN_SIZE)
    await relay(peers, patient, "patient")
    # Alone in the room, the patient gets black video (the track exists from the answer on).
    await until(lambda: patient.sizes()[FILLER] >= 3)

    await relay(peers, physician, "physician")
    await until(lambda: physician.sizes()[PATIENT_SIZE] >= 10)
    await until(lambda: patient.sizes()[PHYSICIAN_SIZE] >= 10)
    await until(lambda: patient.frames("audio") >= 50 and physician.frames("audio") >= 50)
    assert PHYSICIAN_SIZE not in physician.sizes(), "nobody sees their own picture"
    assert PATIENT_SIZE not in patient.sizes()

    stats = peers.relay_stats("room-1")
    assert stats["peers"]["patient"]["connection_state"] == "connected"
    assert stats["peers"]["physician"]["connection_state"] == "connected"
    for direction in ("patient_to_physician", "physician_to_patient"):
        assert stats["forwarded"][direction]["audio"] > 0
        assert stats["forwarded"][direction]["video"] > 0
    assert peers.relayed_rooms() == ["room-1"]


async def test_a_reloaded_member_replaces_its_peer_and_the_bridge_goes_on(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    patient = ends(video_size=PATIENT_SIZE)
    physician = ends(video_size=PHYSICIAN_SIZE)
    await relay(peers, patient, "patient")
    await relay(peers, physician, "physician")
    await until(lambda: physician.sizes()[PATIENT_SIZE] >= 5)

    reloaded_size = (240, 180)
    reloaded = ends(video_size=reloaded_size)
    await relay(peers, reloaded, "patient")
    await until(lambda: physician.sizes()[reloaded_size] >= 10)
    await until(lambda: reloaded.sizes()[PHYSICIAN_SIZE] >= 10)
    await until(patient.dead.is_set)
    assert peers.relayed_rooms() == ["room-1"]


async def test_a_member_who_leaves_is_replaced_by_black_video(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    patient = ends(video_size=PATIENT_SIZE)
    physician = ends(video_size=PHYSICIAN_SIZE)
    await relay(peers, patient, "patient")
    await relay(peers, physician, "physician")
    await until(lambda: patient.sizes()[PHYSICIAN_SIZE] >= 5)
    black_before = patient.sizes()[FILLER]

    await peers.close_role("room-1", "physician")
    await until(physician.dead.is_set)
    await until(lambda: patient.sizes()[FILLER] >= black_before + 5)
    assert list(peers.relay_stats("room-1")["peers"]) == ["patient"]

    # The patient closing too empties the room, and the node forgets it.
    await patient.close()
    await until(lambda: peers.relayed_rooms() == [])
    assert peers.relay_stats("room-1") == {}


async def test_close_relay_closes_both_members(
    peers: MediaPeers, ends: Callable[..., PeerEnd]
) -> None:
    patient = ends()
    physician = ends(video_size=PHYSICIAN_SIZE)
    await relay(peers, patient, "patient")
    await relay(peers, physician, "physician")
    await until(lambda: patient.connected.is_set() and physician.connected.is_set())
    await peers.close_relay("room-1")
    assert peers.relayed_rooms() == []
    await until(lambda: patient.dead.is_set() and physician.dead.is_set())
    # A closed room's members may offer again: a new bridge.
    again = ends()
    await relay(peers, again, "patient")
    assert peers.relayed_rooms() == ["room-1"]


async def test_relayed_rooms_are_limited(ends: Callable[..., PeerEnd]) -> None:
    peers = MediaPeers(RtcConfig(max_relayed_rooms=1))
    try:
        await relay(peers, ends(), "patient", room="room-1")
        with pytest.raises(MediaBusy):
            await relay(peers, ends(), "patient", room="room-2")
        await relay(peers, ends(), "physician", room="room-1")
        await relay(peers, ends(), "patient", room="room-1")
        assert peers.relayed_rooms() == ["room-1"]
        with pytest.raises(ValueError, match="reception"):
            await peers.relay_answer("room-1", "reception", await ends().offer())
    finally:
        await peers.close()


async def test_close_leaves_no_peer_and_no_task(ends: Callable[..., PeerEnd]) -> None:
    peers = MediaPeers(RtcConfig())
    checker = ends()
    patient = ends()
    physician = ends(video_size=PHYSICIAN_SIZE)
    await echo(peers, checker)
    await relay(peers, patient, "patient")
    await relay(peers, physician, "physician")
    await until(lambda: physician.sizes()[PATIENT_SIZE] >= 3)

    await peers.close()
    await peers.close()
    assert peers.echo_owners() == []
    assert peers.relayed_rooms() == []
    await until(lambda: all(end.dead.is_set() for end in (checker, patient, physician)))
    late = ends()
    with pytest.raises(MediaFailed):
        await peers.echo_answer("sid-1", await late.offer())

    for end in (checker, patient, physician, late):
        await end.close()
    current = asyncio.current_task()
    await until(lambda: not [task for task in asyncio.all_tasks() if task is not current])
