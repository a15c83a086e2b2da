"""The supervisor starts children, waits for readiness, restarts them, and stops them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from hub.supervisor import ProcessSpec, Supervisor

CHILD = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spec(tmp_path: Path, port: int, name: str = "child") -> ProcessSpec:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return ProcessSpec(
        name=name,
        argv=[sys.executable, str(script), str(port)],
        cwd=tmp_path,
        env=dict(os.environ),
        ready_url=f"http://127.0.0.1:{port}/health",
        log_path=tmp_path / "logs" / f"{name}.log",
        ready_timeout=20,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_child_is_started_restarted_and_stopped(tmp_path: Path) -> None:
    port = _free_port()
    async with aiohttp.ClientSession() as http:
        supervisor = Supervisor([_spec(tmp_path, port)], http)
        supervisor.start()
        try:
            assert await supervisor.wait_ready(20)
            state = supervisor.states["child"]
            first_pid = state.pid
            assert first_pid is not None
            async with http.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200

            os.kill(first_pid, signal.SIGKILL)
            for _ in range(100):
                await asyncio.sleep(0.1)
                if state.state == "running" and state.pid not in (None, first_pid):
                    break
            assert state.restarts == 1
            assert state.state == "running"
            assert state.last_exit_code == -signal.SIGKILL
            second_pid = state.pid
            assert second_pid is not None
        finally:
            await supervisor.stop()
    assert supervisor.states["child"].state == "stopped"
    assert not _alive(second_pid)


async def test_child_that_never_gets_ready_is_killed_and_retried(tmp_path: Path) -> None:
    port = _free_port()
    spec = _spec(tmp_path, port)
    never_ready = ProcessSpec(
        name="slow",
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        cwd=tmp_path,
        env=dict(os.environ),
        ready_url=spec.ready_url,
        log_path=tmp_path / "logs" / "slow.log",
        ready_timeout=1,
    )
    async with aiohttp.ClientSession() as http:
        supervisor = Supervisor([never_ready], http)
        supervisor.start()
        try:
            for _ in range(60):
                await asyncio.sleep(0.1)
                if supervisor.states["slow"].restarts >= 1:
                    break
            assert supervisor.states["slow"].restarts >= 1
            assert not await supervisor.wait_ready(0.5)
        finally:
            await supervisor.stop()
