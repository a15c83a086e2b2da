"""The link-quality verdict of the device check.

The hub's echo peer measures the browser's link (round-trip time and loss from RTCP, received
bitrate from the transport) and :func:`assess` turns the figures into advice for the patient:

``good``
    voice and video will work.
``voice_only``
    video will stutter: use voice.
``poor``
    even voice may break up.
``unknown``
    no RTCP figures yet; ask again after a second or two.

Thresholds and where they come from:

* Delay: ITU-T G.114 (05/2003) finds one-way mouth-to-ear delay below 150 ms acceptable for
  most conversations and above 400 ms unacceptable. RTCP gives the round trip (RFC 3550
  section 6.4.1), so the limits are doubled: up to 300 ms is good, above 800 ms is poor.
* Loss: VP8 in aiortc has NACK and PLI but no FEC, so a few percent of lost packets already
  freeze the picture while Opus conceals isolated losses; above about 5 % video breaks up,
  above about 15 % speech does too.

The received bitrate is shown with the verdict but does not decide it. It says how much the
browser chose to send, not how much the path could carry: a still room or a plain wall encodes
to far less than aiortc's VP8 floor of 250 kbps (``codecs/vpx.py``), and the sender's congestion
control (RFC 8836 requirements; Chrome's GCC) starts low and climbs for the first seconds of a
call. Measured on loopback, Chromium's fake camera sent about 160 kbps over a perfect link, which
a bitrate rule called "voice only". A path too thin for video shows itself in the figures that do
decide: the sender's backing off still leaves queueing delay in the round trip, and loss when it
backs off too late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["good", "voice_only", "poor", "unknown"]

GOOD_RTT_MS = 300.0
"""Largest round trip that is still good: twice the 150 ms one-way limit of ITU-T G.114."""
POOR_RTT_MS = 800.0
"""Round trips above this are poor: twice the 400 ms one-way limit of ITU-T G.114."""
VIDEO_LOSS_PCT = 5.0
"""Loss above this breaks video (VP8 without FEC)."""
VOICE_LOSS_PCT = 15.0
"""Loss above this breaks voice (Opus concealment no longer hides it)."""


def assess(rtt_ms: float | None, loss_pct: float | None) -> Verdict:
    """The verdict for a link with this round trip and loss (``None``: not measured yet).

    ``unknown`` until the round trip or the loss is known: both come from RTCP, so without them
    the link has not been observed yet. A figure exactly on a threshold counts on the better
    side.
    """
    if rtt_ms is None and loss_pct is None:
        return "unknown"
    if (rtt_ms is not None and rtt_ms > POOR_RTT_MS) or (
        loss_pct is not None and loss_pct > VOICE_LOSS_PCT
    ):
        return "poor"
    if (rtt_ms is not None and rtt_ms > GOOD_RTT_MS) or (
        loss_pct is not None and loss_pct > VIDEO_LOSS_PCT
    ):
        return "voice_only"
    return "good"


@dataclass(frozen=True)
class LinkQuality:
    """What the device check measured, and what it means."""

    rtt_ms: float | None
    """Round-trip time in milliseconds (RTCP receiver reports), ``None`` before the first."""
    loss_pct: float | None
    """Packets lost, percent: the worse of the two directions."""
    kbps: float | None
    """Bitrate the hub received from the browser, kilobits per second (shown, not judged)."""
    verdict: Verdict
    """:func:`assess` of the round trip and the loss."""

    @classmethod
    def of(cls, rtt_ms: float | None, loss_pct: float | None, kbps: float | None) -> LinkQuality:
        """The figures with their verdict."""
        return cls(rtt_ms, loss_pct, kbps, assess(rtt_ms, loss_pct))

    @classmethod
    def unknown(cls) -> LinkQuality:
        """Nothing measured."""
        return cls.of(None, None, None)

    def as_json(self) -> dict[str, float | str | None]:
        """The ``device_check_stats`` acknowledgement's fields (figures to one decimal)."""
        return {
            "rtt_ms": _round(self.rtt_ms),
            "loss_pct": _round(self.loss_pct),
            "kbps": _round(self.kbps),
            "verdict": self.verdict,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
