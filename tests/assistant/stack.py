"""The whole assistant stack for end-to-end tests: ``python -m hub run`` as a subprocess.

It is the product's own start path: the hub seeds its database, trains the model when its
inputs changed (normally already done by ``make test``'s model step), and supervises Rasa and
the action server on free loopback ports. The stack stops (SIGTERM to the hub, which stops its
children) when the test module ends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.assistant import AssistantProject
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "assistant stack password 7"
START_TIMEOUT = 420.0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """A running hub with Rasa and the action server."""

    hub_url: str
    rasa_url: str
    var_dir: Path
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.hub_url + path, timeout=5) as response:  # noqa: S310
            return json.load(response)


def require_assistant() -> AssistantProject:
    """The assistant project, or skip (fail under REQUIRE_SERVICES) when it cannot run here."""
    project = AssistantProject()
    if not project.runtime_available():
        service_missing("the assistant runtime (.venv-bot)")
    if not project.project_available():
        pytest.skip("no Rasa project in this checkout")
    return project


def start_stack(tmp: Path, redis_url: str | None = None) -> Iterator[Stack]:
    """Start ``python -m hub run`` and wait until Rasa and the actions are healthy.

    With ``redis_url`` the stack runs as a scaled node does: Rasa keeps its trackers and locks
    in Redis (endpoints.redis.yml).
    """
    require_assistant()
    hub_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp / "var"),
        "HUB_PORT": str(hub_port),
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
        "DEMO_PASSWORD": PASSWORD,
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    log = (tmp / "hub.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack = Stack(
        hub_url=f"http://127.0.0.1:{hub_port}",
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        var_dir=tmp / "var",
        process=process,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        health: dict[str, Any] = {}
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = stack.get("/healthz")
            except OSError:
                health = {}
            components = health.get("components", {})
            if all(components.get(n, {}).get("status") == "ok" for n in ("rasa", "actions")):
                break
            time.sleep(1)
        else:
            log.flush()
            tail = (tmp / "hub.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"the assistant stack did not become healthy: {health}\n{tail}")
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
