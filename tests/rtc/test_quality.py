"""The device check's verdict at and around each threshold."""

from __future__ import annotations

import pytest

from rtc.quality import (
    GOOD_RTT_MS,
    POOR_RTT_MS,
    VIDEO_LOSS_PCT,
    VOICE_LOSS_PCT,
    LinkQuality,
    assess,
)


def test_thresholds_follow_their_sources() -> None:
    # ITU-T G.114: 150 ms one way is fine, 400 ms is not; RTCP measures the round trip.
    assert GOOD_RTT_MS == 2 * 150
    assert POOR_RTT_MS == 2 * 400
    assert VIDEO_LOSS_PCT < VOICE_LOSS_PCT


@pytest.mark.parametrize(
    ("rtt_ms", "loss_pct", "kbps", "verdict"),
    [
        (None, None, None, "unknown"),
        (None, None, 900.0, "unknown"),
        (20.0, 0.0, 900.0, "good"),
        (20.0, None, None, "good"),
        (None, 0.0, None, "good"),
        # round trip
        (300.0, 0.0, 900.0, "good"),
        (300.1, 0.0, 900.0, "voice_only"),
        (800.0, 0.0, 900.0, "voice_only"),
        (800.1, 0.0, 900.0, "poor"),
        # loss
        (20.0, 5.0, 900.0, "good"),
        (20.0, 5.1, 900.0, "voice_only"),
        (20.0, 15.0, 900.0, "voice_only"),
        (20.0, 15.1, 900.0, "poor"),
        # the bitrate is what the browser chose to send: a low one on a clean link is still good
        (20.0, 0.0, 160.0, "good"),
        (20.0, 0.0, 0.0, "good"),
        (None, None, 0.0, "unknown"),
        # the worst figure decides
        (900.0, 1.0, 900.0, "poor"),
        (20.0, 30.0, 900.0, "poor"),
        (400.0, 10.0, 100.0, "voice_only"),
        (400.0, 20.0, 100.0, "poor"),
    ],
)
def test_assess(
    rtt_ms: float | None, loss_pct: float | None, kbps: float | None, verdict: str
) -> None:
    assert assess(rtt_ms, loss_pct) == verdict
    assert LinkQuality.of(rtt_ms, loss_pct, kbps).verdict == verdict


def test_as_json_rounds_and_keeps_missing_figures() -> None:
    quality = LinkQuality.of(12.345, 0.0, None)
    assert quality.as_json() == {
        "rtt_ms": 12.3,
        "loss_pct": 0.0,
        "kbps": None,
        "verdict": "good",
    }
    assert LinkQuality.unknown().as_json() == {
        "rtt_ms": None,
        "loss_pct": None,
        "kbps": None,
        "verdict": "unknown",
    }
