"""Real processes for the fault tests: the hub as ``python -m hub serve``, killed for real."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]


class HubDidNotStart(AssertionError):
    """The hub process ended before it served (its log is the message)."""


@dataclass
class HubProcess:
    """``python -m hub serve`` as a child process of the test, optionally behind a command
    ``prefix`` (``unshare --mount ...`` for a filesystem of its own)."""

    env: dict[str, str]
    port: int
    log: Path
    prefix: Sequence[str] = ()
    process: asyncio.subprocess.Process | None = None
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start it and wait until ``/healthz`` answers (it migrates first: up to 60 s)."""
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self.prefix,
                sys.executable,
                "-m",
                "hub",
                "serve",
                "--port",
                str(self.port),
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if self.process.returncode is not None:
                    raise HubDidNotStart(self.log.read_text())
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("the hub did not start:\n" + self.log.read_text())

    def api(self) -> Api:
        """The test helpers, speaking to this process (no cookie jar: users carry theirs)."""
        session = aiohttp.ClientSession(self.url, cookie_jar=aiohttp.DummyCookieJar())
        self.sessions.append(session)
        return Api(session)  # type: ignore[arg-type]  # the same calls as a TestClient

    def seen(self, path: Path) -> Path:
        """``path`` as the hub sees it, in its own mount namespace."""
        assert self.process is not None
        return Path(f"/proc/{self.process.pid}/root") / path.relative_to("/")

    async def kill(self) -> None:
        """SIGKILL: no shutdown handler, no rollback by the hub, no flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        for session in self.sessions:
            await session.close()
        self.sessions.clear()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hub_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a hub process on ``database_url``, its assistant absent (unless
    ``extra`` names one), its state under ``tmp_path``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        # The same secret across restarts, as var/hub_secret gives a real deployment.
        "HUB_SECRET": secrets.token_hex(16),
        "RASA_URL": "http://127.0.0.1:9",
        "ACTIONS_URL": "http://127.0.0.1:9",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("REDIS_URL", "HUB_HOST", "HUB_PORT", "PUBLIC_URL", "DOCUMENTS_DIR"):
        env.pop(name, None)
    return {**env, **extra}
