"""Media tracks of the hub and of its test peers.

* :class:`SwitchableTrack`: what a relayed member receives. Its source (the other member's
  received track, through :class:`~aiortc.contrib.media.MediaRelay`) comes and goes as that
  member connects, reloads or leaves; meanwhile it sends black video or silence, so the track
  exists from the first answer and the browser's ``<video>`` never stalls.
* :class:`ColourVideoTrack`, :class:`ToneTrack`: synthetic camera and microphone of the test
  peers.
* :class:`FrameCounter`: reads a received track and counts its frames. aiortc's ``getStats()``
  has no frame counts, and a received track must be read or its queue grows without end.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import math
import time
from array import array
from collections.abc import Callable
from typing import Any, Literal

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler, VideoFrame
from av.frame import Frame
from av.packet import Packet

Kind = Literal["audio", "video"]

VIDEO_CLOCK_RATE = 90_000
"""RTP clock of video (RFC 7741 section 4.1 for VP8; the same for H.264)."""
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_RATE = 48_000
"""Opus runs at 48 kHz (RFC 7587 section 4.1); aiortc's Opus decoder yields s16 stereo."""
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)
AUDIO_PTIME = 0.020
"""20 ms of audio per frame, as aiortc's ``AudioStreamTrack``."""
AUDIO_SAMPLES = int(AUDIO_RATE * AUDIO_PTIME)
FILLER_WIDTH, FILLER_HEIGHT, FILLER_FPS = 640, 480, 15
"""Black video while a relayed member has nobody to see."""
STALL = 0.5
"""Seconds without a frame from the source before a switchable track fills in."""


def black_frame(width: int = FILLER_WIDTH, height: int = FILLER_HEIGHT) -> VideoFrame:
    """A black ``yuv420p`` frame (BT.601 limited range: Y 16, U and V 128)."""
    frame = VideoFrame(width=width, height=height, format="yuv420p")
    for plane, value in zip(frame.planes, (16, 128, 128), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def silence_frame(samples: int = AUDIO_SAMPLES) -> AudioFrame:
    """``samples`` of silence, s16 stereo at 48 kHz, the layout aiortc's Opus decoder yields."""
    frame = AudioFrame(format="s16", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = AUDIO_RATE
    return frame


class SwitchableTrack(MediaStreamTrack):
    """An outgoing track fed by whichever source is attached, else by black video or silence.

    Frames are stamped afresh (video on a 90 kHz wall clock, audio by counting samples), so
    the encoder sees one continuous stream however often the source changes.
    """

    def __init__(self, kind: Kind, relay: MediaRelay) -> None:
        super().__init__()
        self.kind = kind
        self._relay = relay
        self._source: MediaStreamTrack | None = None
        self._resampler: AudioResampler | None = None
        self._pending: collections.deque[AudioFrame] = collections.deque()
        self._event_loop = asyncio.get_running_loop()
        self._start = self._event_loop.time()
        self._last_real = self._start
        self._fill_anchor: float | None = None
        self._fill_count = 0
        self._video_pts = -1
        self._samples = 0
        self.forwarded = 0
        """Frames sent from a source."""
        self.filled = 0
        """Black or silent frames sent."""

    @property
    def attached(self) -> bool:
        """Whether a source feeds the track."""
        return self._source is not None

    def attach(self, source: MediaStreamTrack | None) -> None:
        """Feed the track from ``source`` from now on (``None``: black video or silence)."""
        if self._source is not None:
            self._source.stop()
        self._source = None
        if source is not None and self.readyState == "live":
            # Video takes the latest frame (a late encoder skips frames rather than lagging
            # behind); audio keeps every frame, since a gap is heard.
            self._source = self._relay.subscribe(source, buffered=self.kind == "audio")
            self._last_real = self._event_loop.time()

    def stop(self) -> None:
        """End the track and let go of its source."""
        self.attach(None)
        super().stop()

    async def recv(self) -> Frame:
        """The next frame: the source's, or a filler when the source is absent or stalled."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._pending:
            return self._forward(self._pending.popleft())
        while True:
            source = self._source
            due = self._fill_due()
            if source is None:
                await asyncio.sleep(max(0.0, due - self._event_loop.time()))
                break
            try:
                async with asyncio.timeout_at(max(due, self._last_real + STALL)):
                    frame = await source.recv()
            except TimeoutError:
                break
            except MediaStreamError:
                # The source ended (its peer closed); fill in until another is attached.
                if self._source is source:
                    self._source = None
                continue
            if self.readyState != "live":
                raise MediaStreamError
            forwarded = self._received(frame)
            if forwarded is not None:
                return forwarded
        if self.readyState != "live":
            raise MediaStreamError
        return self._fill()

    def _fill_due(self) -> float:
        now = self._event_loop.time()
        if self._fill_anchor is None:
            return now
        interval = AUDIO_PTIME if self.kind == "audio" else 1 / FILLER_FPS
        return self._fill_anchor + self._fill_count * interval

    def _received(self, frame: Frame | Packet[Any]) -> Frame | None:
        self._last_real = self._event_loop.time()
        self._fill_anchor = None
        if isinstance(frame, AudioFrame) and not _opus_ready(frame):
            if self._resampler is None:
                self._resampler = AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
            self._pending.extend(self._resampler.resample(frame))
            if not self._pending:
                return None  # the resampler keeps short input until it has a frame
            frame = self._pending.popleft()
        if not isinstance(frame, (AudioFrame, VideoFrame)):
            raise MediaStreamError("a relayed track yields decoded frames")
        return self._forward(frame)

    def _forward(self, frame: AudioFrame | VideoFrame) -> Frame:
        self.forwarded += 1
        return self._stamp(frame)

    def _fill(self) -> Frame:
        if self._fill_anchor is None:
            self._fill_anchor = self._event_loop.time()
            self._fill_count = 0
        self._fill_count += 1
        self.filled += 1
        return self._stamp(silence_frame() if self.kind == "audio" else black_frame())

    def _stamp(self, frame: AudioFrame | VideoFrame) -> Frame:
        if isinstance(frame, AudioFrame):
            frame.pts = self._samples
            frame.time_base = AUDIO_TIME_BASE
            self._samples += frame.samples
        else:
            pts = int((self._event_loop.time() - self._start) * VIDEO_CLOCK_RATE)
            self._video_pts = max(pts, self._video_pts + 1)
            frame.pts = self._video_pts
            frame.time_base = VIDEO_TIME_BASE
        return frame


def _opus_ready(frame: AudioFrame) -> bool:
    return (
        frame.format.name == "s16"
        and frame.layout.name == "stereo"
        and frame.sample_rate == AUDIO_RATE
    )


class _PacedTrack(MediaStreamTrack):
    """A synthetic source that yields a frame every ``interval`` seconds of wall clock."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self._interval = interval
        self._start: float | None = None
        self.count = 0
        """Frames produced so far."""

    async def _next(self) -> int:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            await asyncio.sleep(self._start + self.count * self._interval - time.monotonic())
        index = self.count
        self.count += 1
        return index


class ColourVideoTrack(_PacedTrack):
    """A synthetic camera: ``width`` x ``height`` frames of one hue whose brightness moves."""

    kind = "video"

    def __init__(
        self,
        width: int = 320,
        height: int = 240,
        fps: int = 15,
        chroma: tuple[int, int] = (90, 240),
    ) -> None:
        super().__init__(1 / fps)
        self.width = width
        self.height = height
        self._fps = fps
        self._chroma = chroma

    async def recv(self) -> Frame:
        index = await self._next()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        luma = 40 + (index * 7) % 180
        for plane, value in zip(frame.planes, (luma, *self._chroma), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = index * VIDEO_CLOCK_RATE // self._fps
        frame.time_base = VIDEO_TIME_BASE
        return frame


class ToneTrack(_PacedTrack):
    """A synthetic microphone: a sine tone, s16 mono at 48 kHz in 20 ms frames."""

    kind = "audio"

    def __init__(self, frequency: int = 440) -> None:
        super().__init__(AUDIO_PTIME)
        # One second of a whole number of periods loops without a click.
        second = array(
            "h",
            (
                int(8000 * math.sin(2 * math.pi * frequency * n / AUDIO_RATE))
                for n in range(AUDIO_RATE)
            ),
        )
        self._second = second.tobytes()

    async def recv(self) -> Frame:
        index = await self._next()
        offset = (index * AUDIO_SAMPLES) % AUDIO_RATE * 2
        frame = AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._second[offset : offset + AUDIO_SAMPLES * 2])
        frame.pts = index * AUDIO_SAMPLES
        frame.sample_rate = AUDIO_RATE
        frame.time_base = AUDIO_TIME_BASE
        return frame


class FrameCounter:
    """Reads a received track until it ends, counting frames (and video frame sizes)."""

    def __init__(self, track: MediaStreamTrack, on_frame: Callable[[], None] | None = None) -> None:
        self.track = track
        self._on_frame = on_frame
        self.frames = 0
        """Frames received so far."""
        self.sizes: collections.Counter[tuple[int, int]] = collections.Counter()
        """Video frames received, by (width, height)."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reading in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._read(), name=f"count {self.track.kind}")

    def counts(self, frame: Frame | Packet[Any]) -> bool:
        """Whether a received frame counts; every one does here (subclasses may filter)."""
        return True

    async def _read(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                return
            if not self.counts(frame):
                continue
            self.frames += 1
            if isinstance(frame, VideoFrame):
                self.sizes[(frame.width, frame.height)] += 1
            if self._on_frame is not None:
                self._on_frame()

    async def stop(self) -> None:
        """Stop reading (the track itself is its peer connection's to end)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                if (current := asyncio.current_task()) is not None and current.cancelling():
                    raise
            self._task = None
