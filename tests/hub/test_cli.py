"""The CLI: seed is idempotent, serve answers on its port, the bot runtime is set up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.app import create_app
from hub.cli import main
from hub.settings import Settings
from portal.clock import ManualClock
from tests.conftest import REDIS_URL, service_missing

ROOT = Path(__file__).resolve().parents[2]


def test_seed_fills_an_empty_database_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("HUB_SECRET", raising=False)
    assert main(["seed"]) == 0
    first = capsys.readouterr().out
    password = (tmp_path / "demo_password").read_text().strip()
    assert "demo.patient, demo.physician, demo.reception" in first
    assert password in first
    assert main(["seed"]) == 0
    second = capsys.readouterr().out
    assert "left as it is" in second
    assert password not in second


def test_seed_uses_demo_password_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password 123")
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "DEMO_PASSWORD" in out
    assert "a demo password 123" not in out
    assert not (tmp_path / "demo_password").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_health_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "hub", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.3)
        assert b'"db": {"status": "ok"' in body, body
        assert (tmp_path / "hub_secret").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/api/v1/openapi.json".encode() in output


async def test_healthz_reports_redis_when_configured(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> None:
    import redis.asyncio as aioredis

    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(probe.ping(), 3)
    except (OSError, TimeoutError, aioredis.ConnectionError) as error:
        service_missing("Redis", error)
    finally:
        await probe.aclose()
    client = await aiohttp_client(
        create_app(replace(settings, redis_url=REDIS_URL), clock=clock),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    body = await (await client.get("/healthz")).json()
    assert body["components"]["redis"]["status"] == "ok"


def test_bot_runtime_has_pinned_rasa() -> None:
    found = subprocess.run(  # noqa: S603
        [str(ROOT / "scripts" / "find-python310")], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.skip("python3.10 is not installed: the assistant's runtime cannot exist here")
    python = ROOT / ".venv-bot" / "bin" / "python"
    assert python.exists(), "make setup should have created .venv-bot"
    versions = subprocess.run(  # noqa: S603
        [
            str(python),
            "-c",
            "import importlib.metadata as m, sys; "
            "print(sys.version_info[:2], m.version('rasa'), m.version('jax'), m.version('jaxlib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert versions == "(3, 10) 3.6.21 0.4.30 0.4.30"
