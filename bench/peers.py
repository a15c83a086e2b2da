"""The media benchmarks' test peers: :mod:`rtc.testpeer` with clocks on its frames.

:class:`TimedEnd` is a :class:`~rtc.browser.PeerEnd` whose camera runs at a chosen frame rate
and whose received tracks are read by :class:`FrameClock`, which tells the other member's
picture from the hub's black filler (both are 640x480 here) by its colour, and notes when the
first real frame was decoded and when the connection came up. :class:`TimedPeer` is a
:class:`~rtc.testpeer.TestPeer` whose connections are :class:`TimedEnd` s. Each plugs in
through the public hooks of :mod:`rtc` (``FrameCounter.counts``, ``PeerEnd(counter=...)``,
``TestPeer(end_type=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack
from av import VideoFrame
from av.frame import Frame
from av.packet import Packet

from rtc.browser import PeerEnd
from rtc.testpeer import TestPeer
from rtc.tracks import ColourVideoTrack, FrameCounter

VIDEO_SIZE = (640, 480)
VIDEO_FPS = 30
"""The camera's rate: the rtc-background anchors were measured at 30 fps."""
NEUTRAL_CHROMA = 128
"""U and V of black (and grey): the hub's filler; the synthetic camera's U is 90."""
CHROMA_MARGIN = 20
"""How far U must be from neutral for a frame to count as the camera's (VP8 is lossy)."""


def is_camera_frame(frame: VideoFrame) -> bool:
    """Whether ``frame`` shows the synthetic camera (coloured), not the filler (black)."""
    chroma = memoryview(frame.planes[1])[0]
    return abs(chroma - NEUTRAL_CHROMA) > CHROMA_MARGIN


class FrameClock(FrameCounter):
    """A frame counter that counts only the other member's frames and notes the first one.

    Video frames of the hub's filler (black) are counted apart, in ``filled``.
    """

    def __init__(self, track: MediaStreamTrack, on_frame: Callable[[], None] | None) -> None:
        super().__init__(track, on_frame)
        self.filled = 0
        """Filler frames (the hub's black video) received so far."""
        self.first_at: float | None = None
        """``time.perf_counter()`` when the first real frame was decoded."""

    def counts(self, frame: Frame | Packet[Any]) -> bool:
        """Count the other member's frames only; note when the first one came."""
        if isinstance(frame, VideoFrame) and not is_camera_frame(frame):
            self.filled += 1
            return False
        if self.first_at is None:
            self.first_at = time.perf_counter()
        return True


class TimedEnd(PeerEnd):
    """A test peer's connection with a camera at :data:`VIDEO_FPS` and clocked readers."""

    def __init__(
        self, *, video_size: tuple[int, int] = VIDEO_SIZE, video: bool = True, **options: Any
    ) -> None:
        super().__init__(video=False, video_size=video_size, counter=FrameClock, **options)
        if video:
            self.sources.append(ColourVideoTrack(*video_size, fps=VIDEO_FPS))
        self.created_at = time.perf_counter()
        self.connected_at: float | None = None
        """``time.perf_counter()`` when ``connectionState`` became ``connected``."""
        self.pc.on("connectionstatechange", self._note_connected)

    def _note_connected(self) -> None:
        if self.pc.connectionState == "connected" and self.connected_at is None:
            self.connected_at = time.perf_counter()

    def clock(self, kind: str) -> FrameClock | None:
        """The reader of the received ``kind`` track, once it arrived."""
        for counter in self.counters:
            if isinstance(counter, FrameClock) and counter.track.kind == kind:
                return counter
        return None


class TimedPeer(TestPeer):
    """A :class:`~rtc.testpeer.TestPeer` whose connections are :class:`TimedEnd` s."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, end_type=TimedEnd, **options)

    def media_end(self, appointment_id: str) -> TimedEnd | None:
        """The connection carrying the room's media now (relay or direct)."""
        state = self.rooms.get(appointment_id)
        if state is None:
            return None
        end = state.relay or state.direct
        return end if isinstance(end, TimedEnd) else None
