"""Device check: how soon a page sees itself through the hub's echo peer.

A test peer's connection (:class:`bench.peers.TimedEnd`, 640x480 synthetic video at 30 fps and
a tone, a ``ping`` data channel) offers; the echo peer answers and sends the camera back. Timed
from the start of ``createOffer``: the offer with its gathered candidates, the answer, the
``connected`` state and the first echoed camera frame decoded. Baseline: the same echo peer
(:class:`rtc.echo.EchoPeer`) answering in the benchmark process, no hub and no Socket.IO.
Measured: ``device_check`` on ``/consult`` of a running hub, then ``device_check_stats``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.peers import VIDEO_SIZE, TimedEnd, TimedPeer
from bench.report import Table, ms
from bench.servers import hub_sandbox
from rtc.config import RtcConfig
from rtc.echo import EchoPeer

RUNS = 5
"""Device checks per path (one after another)."""
CHECK_TIMEOUT = 15.0
"""Seconds one check may take up to the first echoed frame."""
STATS_AFTER = 2.0
"""Seconds of echo before asking the hub for its verdict (it needs RTCP reports)."""
BENCH_TIMEOUT = 120.0

Answerer = Callable[[dict[str, str]], Awaitable[dict[str, str]]]


@dataclass
class Check:
    """The times of one device check, in seconds from the start of ``createOffer``."""

    offer: float
    answer: float
    connected: float
    first_frame: float


async def _check(answer: Answerer) -> Check:
    frame = asyncio.Event()
    end = TimedEnd(ping_channel=True, video_size=VIDEO_SIZE, on_frame=frame.set)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            started = time.perf_counter()
            offer = await end.offer()
            offered = time.perf_counter()
            await end.accept(await answer(offer))
            answered = time.perf_counter()
            # The readers stamp the first frame themselves; the event only wakes this up.
            while (clock := end.clock("video")) is None or clock.first_at is None:
                frame.clear()
                await frame.wait()
        assert end.connected_at is not None and clock.first_at is not None
        return Check(
            offer=offered - started,
            answer=answered - started,
            connected=end.connected_at - started,
            first_frame=clock.first_at - started,
        )
    finally:
        await end.close()


async def _in_process() -> list[Check]:
    checks = []
    for index in range(RUNS):
        peer = EchoPeer(f"bench-{index}", RtcConfig())
        try:
            checks.append(await _check(peer.answer))
        finally:
            await peer.close()
    return checks


async def _through_hub() -> tuple[list[Check], list[str]]:
    checks, verdicts = [], []
    async with hub_sandbox() as sandbox, sandbox.hub() as hub:
        peer = TimedPeer(hub.url, "demo.patient", sandbox.password, video_size=VIDEO_SIZE)
        try:
            await peer.start()
            for index in range(RUNS):

                async def answer(offer: dict[str, str]) -> dict[str, str]:
                    ack = await peer.call("device_check", offer)
                    return {"sdp": ack["sdp"], "type": ack["type"]}

                checks.append(await _check(answer))
                if index == 0:
                    # A second check, kept up long enough for RTCP: the hub's verdict.
                    end = TimedEnd(ping_channel=True, video_size=VIDEO_SIZE)
                    try:
                        await end.accept(await answer(await end.offer()))
                        await asyncio.sleep(STATS_AFTER)
                        stats = await peer.device_check_stats()
                        verdicts.append(
                            f"{stats.get('verdict')} (rtt {stats.get('rtt_ms')} ms, "
                            f"loss {stats.get('loss_pct')} %, {stats.get('kbps')} kbit/s)"
                        )
                    finally:
                        await end.close()
                await peer.call("device_check_stop", {})
        finally:
            await peer.close()
    return checks, verdicts


def _median(checks: list[Check], field: str) -> str:
    values = [getattr(check, field) for check in checks]
    return f"{ms(statistics.median(values))} (max {ms(max(values))})"


async def run() -> Table:
    """The in-process baseline, then the hub; one table."""
    table = Table(
        title="Device check (echo peer)",
        setup=(
            f"{RUNS} checks per path, one after another; 640x480 synthetic video at 30 fps "
            f"and a tone with a `ping` data channel; times from the start of `createOffer`, "
            f"median (max)."
        ),
        columns=[
            "path",
            "offer ready (gathered)",
            "answer received",
            "connected",
            "first echoed frame",
            "hub verdict after 2 s",
        ],
    )
    async with asyncio.timeout(BENCH_TIMEOUT):
        local = await _in_process()
        hub, verdicts = await _through_hub()
    table.add(
        "`EchoPeer` in-process (no hub)",
        _median(local, "offer"),
        _median(local, "answer"),
        _median(local, "connected"),
        _median(local, "first_frame"),
        "-",
    )
    table.add(
        "hub `device_check` over `/consult`",
        _median(hub, "offer"),
        _median(hub, "answer"),
        _median(hub, "connected"),
        _median(hub, "first_frame"),
        verdicts[0] if verdicts else "-",
    )
    connected = statistics.median(check.connected for check in hub)
    table.findings.append(
        f"Through the hub a page is connected to its echo {ms(connected)} after it starts "
        f"the offer, against {ms(statistics.median(c.connected for c in local))} in-process; "
        f"the difference is the Socket.IO round trip and the hub's own scheduling (anchor, "
        f"rtc-background notes: offer to connected 36-53 ms on loopback)."
    )
    return table
