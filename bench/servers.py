"""The processes a benchmark starts: the hub (seeded, in a temporary ``VAR_DIR``) and baselines.

Every server runs in its own process group on a free loopback port and is stopped (the whole
group: SIGTERM, then SIGKILL) when its ``async with`` block ends, whatever happened inside. On
Linux the children are also asked to die with the benchmark process (``PR_SET_PDEATHSIG``), so
a benchmark killed outright leaves nothing behind either.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from portal.services import Portal

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 30.0
"""Seconds a server may take to answer its first request."""
STOP_TIMEOUT = 10.0
"""Seconds a server may take to stop after SIGTERM before it is killed."""
SEED_TIMEOUT = 120.0
"""Seconds ``python -m hub seed`` may take."""
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child before ``exec``: receive SIGKILL when the benchmark process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class ServerError(RuntimeError):
    """A server did not start, or a setup command failed; the message ends with its log."""


class Server:
    """A child process that serves HTTP on ``port``; an async context manager.

    ``ready_path`` is polled until it answers (any status), so the block starts with a server
    that accepts requests.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        port: int,
        log_path: Path,
        ready_path: str = "/healthz",
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        self.ready_path = ready_path
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None, "the server is not running"
        return self.process.pid

    async def __aenter__(self) -> Server:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the process and wait until it answers ``ready_path``."""
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        assert self.process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while loop.time() < deadline:
                if self.process.returncode is not None:
                    raise ServerError(
                        f"{self.name} exited with {self.process.returncode}\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(self.url + self.ready_path) as response:
                        await response.read()
                        return
                await asyncio.sleep(0.1)
        raise ServerError(f"{self.name} did not answer within {READY_TIMEOUT:.0f} s")

    async def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`."""
        process = self.process
        if process is not None:
            if process.returncode is None:
                _signal_group(process.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    _signal_group(process.pid, signal.SIGKILL)
                    await process.wait()
            # Whatever the leader left behind in its group goes too.
            _signal_group(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self) -> str:
        """The last lines of the server's output."""
        return _tail(self.log_path)


def _tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` of a log (small, read once when something failed)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


async def run_command(
    argv: list[str], env: Mapping[str, str], log_path: Path, limit: float
) -> None:
    """Run a setup command to its end (at most ``limit`` seconds); raise :class:`ServerError`."""
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            code = await asyncio.wait_for(process.wait(), limit)
        finally:
            _signal_group(process.pid, signal.SIGKILL)
    if code != 0:
        raise ServerError(f"{' '.join(argv)} exited with {code}\n{_tail(log_path)}")


class HubSandbox:
    """A temporary ``VAR_DIR`` holding the demo clinic, from which hubs are started.

    The demo logins' password is random for each sandbox; the directory goes at the end.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.password = secrets.token_urlsafe(18)
        self.log_path = root / "bench.log"

    def env(self, port: int | None = None, **extra: str) -> dict[str, str]:
        """The environment of the hub's commands; the hub's own settings in ``extra``."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        }
        env.update(
            VAR_DIR=str(self.root),
            DEMO_PASSWORD=self.password,
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if port is not None:
            env.update(HUB_HOST=LOOPBACK, HUB_PORT=str(port))
        env.update(extra)
        return env

    async def seed(self) -> None:
        """``python -m hub seed``: migrate and load the demo data."""
        await run_command(
            [sys.executable, "-m", "hub", "seed"], self.env(), self.log_path, SEED_TIMEOUT
        )

    @contextlib.asynccontextmanager
    async def portal(self) -> AsyncIterator[Portal]:
        """The sandbox's domain services in this process (while no hub writes, preferably)."""
        # Imported here: only benchmarks that reach into the database load the portal.
        from hub.settings import Settings
        from portal.db import Database
        from portal.services import Portal

        settings = Settings.from_env(self.env()).ensure_secret()
        db = Database(settings.database_url)
        try:
            yield Portal(db, settings.portal_config())
        finally:
            await db.close()

    async def book(self, count: int) -> list[str]:
        """Book ``count`` online consultations of demo.patient with demo.physician, open now.

        They start in the recent past, one minute apart (``book_demo_consultation`` takes the
        next free minute), so every room is inside its window (open from 15 minutes before
        the start until 2 hours after the end) for the whole run.
        """
        from portal.seed import book_demo_consultation

        async with self.portal() as portal:
            booked = []
            for _ in range(count):
                appointment = await book_demo_consultation(
                    portal, starts_in=timedelta(minutes=-(count + 5))
                )
                booked.append(str(appointment.id))
        return booked

    def hub(self, name: str = "hub", **extra: str) -> Server:
        """A hub (``python -m hub serve``) on a free port, with ``extra`` settings."""
        port = free_port()
        return Server(
            name,
            [sys.executable, "-m", "hub", "serve", "--host", LOOPBACK, "--port", str(port)],
            self.env(port, **extra),
            port,
            self.log_path,
        )


@contextlib.asynccontextmanager
async def hub_sandbox() -> AsyncIterator[HubSandbox]:
    """A seeded :class:`HubSandbox` in a temporary directory, removed at the end."""
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as root:
        sandbox = HubSandbox(Path(root))
        await sandbox.seed()
        yield sandbox


async def login(base_url: str, login_name: str, password: str) -> str:
    """Log in over the REST API; the session cookie's value."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.post(
            f"{base_url}/api/v1/auth/login",
            json={"login": login_name, "password": password},
            headers={"Origin": base_url},
        ) as response,
    ):
        if response.status != 200:
            raise ServerError(f"login of {login_name} failed: {response.status}")
        cookie = response.cookies.get("mp_session")
        if cookie is None:
            raise ServerError(f"login of {login_name} set no session cookie")
        return cookie.value
