"""Runs the assistant's processes (Rasa and its action server) as children of the hub.

Each child is started, polled until it answers its readiness URL, restarted with a growing
back-off when it exits (what is left of its process group is killed first), and stopped
(SIGTERM, then SIGKILL after a grace period) when the hub stops. The hub keeps serving the
portal whatever the children do; ``/healthz`` shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

READY_POLL = 0.5
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=2)
MAX_BACKOFF = 30.0
STOP_GRACE = 10.0


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one child process and how to tell it is ready."""

    name: str
    """Short name for logs and ``/healthz`` (``rasa``, ``actions``)."""
    argv: list[str]
    """The command line."""
    cwd: Path
    """Working directory."""
    env: dict[str, str]
    """The complete environment of the child."""
    ready_url: str
    """A URL that answers 200 once the child can serve."""
    log_path: Path
    """Where the child's stdout and stderr go (appended)."""
    ready_timeout: float = 300.0
    """How long a start may take before the child is killed and started again."""


@dataclass
class ChildState:
    """What the supervisor knows about one child."""

    state: str = "stopped"
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit_code: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The state for ``/healthz``."""
        return {
            "state": self.state,
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
        }


@dataclass
class Supervisor:
    """Keeps a set of child processes running until :meth:`stop`."""

    specs: list[ProcessSpec]
    http: aiohttp.ClientSession
    states: dict[str, ChildState] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    _stopping: bool = False

    def stopping(self) -> bool:
        """Whether :meth:`stop` has been called (children are not restarted any more)."""
        return self._stopping

    def start(self) -> None:
        """Start every child in the background; returns at once."""
        for spec in self.specs:
            self.states[spec.name] = ChildState()
            self._tasks.append(asyncio.create_task(self._keep_alive(spec), name=spec.name))

    async def wait_ready(self, within: float) -> bool:
        """Wait until every child is running; False when ``within`` seconds pass first."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if all(s.state == "running" for s in self.states.values()):
                return True
            await asyncio.sleep(READY_POLL)
        return False

    async def stop(self) -> None:
        """Stop every child: SIGTERM, then SIGKILL after the grace period."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(self._terminate(name) for name in list(self._processes)))
        for state in self.states.values():
            state.state, state.pid = "stopped", None

    async def _keep_alive(self, spec: ProcessSpec) -> None:
        state = self.states[spec.name]
        backoff = 1.0
        while not self.stopping():
            state.state = "starting"
            process = await self._spawn(spec)
            state.pid, state.started_at = process.pid, time.monotonic()
            ready = await self._wait_ready(spec, process)
            if ready:
                state.state = "running"
                log.info("%s is ready (pid %s)", spec.name, process.pid)
                code = await process.wait()
            elif process.returncode is None:
                log.warning("%s did not become ready in %.0f s", spec.name, spec.ready_timeout)
                await self._terminate(spec.name)
                code = process.returncode if process.returncode is not None else -1
            else:  # exited before it was ready: the next line says how
                code = process.returncode
            self._processes.pop(spec.name, None)
            # A child killed outright (OOM, SIGKILL) leaves its own children running, holding
            # its port and memory, and the restarted child could not bind: end its whole group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            state.last_exit_code, state.pid = code, None
            if self.stopping():
                break
            if ready and time.monotonic() - (state.started_at or 0) > 60:
                backoff = 1.0
            state.state = "restarting"
            state.restarts += 1
            log.warning("%s exited with %s; restarting in %.0f s", spec.name, code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        state.state = "stopped"

    async def _spawn(self, spec: ProcessSpec) -> asyncio.subprocess.Process:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                cwd=spec.cwd,
                env=spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes[spec.name] = process
        return process

    async def _wait_ready(self, spec: ProcessSpec, process: asyncio.subprocess.Process) -> bool:
        deadline = time.monotonic() + spec.ready_timeout
        while time.monotonic() < deadline and process.returncode is None:
            try:
                async with self.http.get(spec.ready_url, timeout=PROBE_TIMEOUT) as response:
                    if response.status == 200:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(READY_POLL)
        return False

    async def _terminate(self, name: str) -> None:
        process = self._processes.get(name)
        if process is None or process.returncode is not None:
            return
        # The child leads its own process group (start_new_session): signal the whole group,
        # so Sanic's workers and TensorFlow's helpers go with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
