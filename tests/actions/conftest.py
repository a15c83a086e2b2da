"""Fixtures of the bot-side tests: the real hub in a subprocess, patients, and a form driver.

The hub runs as ``python -m hub serve`` from the hub's own environment (``.venv``, Python 3.11)
on a free port, with its own ``VAR_DIR`` seeded by ``python -m hub seed``; the actions reach it
through ``HUB_URL`` exactly as in production. Nothing is faked: bookings land in its database.

:class:`FormDriver` plays the part of Rasa core for a form: it builds the tracker the action
server would receive (latest message with metadata, candidate ``SlotSet`` events after the
form's ``ActionExecuted``) and applies the returned events to its slots.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
HUB_PYTHON = Path(os.environ.get("HUB_PYTHON", ROOT / ".venv" / "bin" / "python"))
DEMO_PASSWORD = "Demo-pass-" + secrets.token_hex(6)
DOMAIN: dict[str, Any] = {"slots": {}, "forms": {}, "responses": {}}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    """A running hub: its base URL and helpers to call its API synchronously (setup only)."""

    url: str
    var_dir: Path

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> Any:
        """JSON in, JSON out; raises for HTTP errors."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - a http://127.0.0.1 URL we built
            self.url + "/api/v1" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def token_for(self, login: str, password: str) -> str:
        """A delegated bearer token, as the chat bridge obtains it: log in, then /auth/token."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        session = self.call(
            "POST", "/auth/login", {"login": login, "password": password}, None, opener
        )
        token = self.call(
            "POST", "/auth/token", None, {"X-CSRF-Token": session["csrf_token"]}, opener
        )
        return str(token["access_token"])

    def appointments(self, token: str) -> list[dict[str, Any]]:
        """listAppointments (all periods) of the token's patient."""
        found = self.call(
            "GET", "/appointments?period=all", None, {"Authorization": f"Bearer {token}"}
        )
        return list(found["items"])


def _hub_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "HUB_HOST", "HUB_PORT", "RASA_URL", "ACTIONS_URL")
    }
    env.update(VAR_DIR=str(var_dir), DEMO_PASSWORD=DEMO_PASSWORD, PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The real hub, seeded with the demo clinic network, for the whole session."""
    if not HUB_PYTHON.exists():
        pytest.fail(f"the hub's environment is missing: {HUB_PYTHON} (run `make setup`)")
    var_dir = tmp_path_factory.mktemp("hub-var")
    env = _hub_env(var_dir)
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [str(HUB_PYTHON), "-m", "hub", "seed"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (var_dir / "hub.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(HUB_PYTHON), "-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, var_dir / "hub.log")
        previous = os.environ.get("HUB_URL")
        os.environ["HUB_URL"] = url
        yield Hub(url, var_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if "previous" in locals():
            if previous is None:
                os.environ.pop("HUB_URL", None)
            else:
                os.environ["HUB_URL"] = previous


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the hub exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/api/v1/specialties", timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"the hub did not answer within 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def patient_token(hub: Hub) -> str:
    """demo.patient (full access, with a child) as the chat bridge would pass it."""
    return hub.token_for("demo.patient", DEMO_PASSWORD)


def pesel_for(born: date, male: bool, serial: int) -> str:
    """A valid PESEL: birth date (century in the month), serial, sex digit, check digit."""
    month = born.month + (20 if born.year >= 2000 else 0)
    sex_digit = (2 * (serial % 5) + (1 if male else 0)) % 10
    first_ten = f"{born.year % 100:02d}{month:02d}{born.day:02d}{serial % 1000:03d}{sex_digit}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(w * int(d) for w, d in zip(weights, first_ten, strict=True)) % 10) % 10
    return first_ten + str(check)


@pytest.fixture(scope="session")
def basic_token(hub: Hub) -> str:
    """A newly registered patient: basic access (no Terms accepted), no children."""
    login = "bot.test." + secrets.token_hex(3)
    password = "Zielony-kot-" + secrets.token_hex(4)
    born = date(1990, 5, 17)
    hub.call(
        "POST",
        "/accounts",
        {
            "first_name": "Ewa",
            "last_name": "Testowa",
            "email": f"{login}@example.com",
            "phone": "+48 600 200 300",
            "birth_date": born.strftime("%d-%m-%Y"),
            "sex": "female",
            "pesel": pesel_for(born, male=False, serial=secrets.randbelow(900) + 100),
            "login": login,
            "password": password,
        },
    )
    return hub.token_for(login, password)


# -- trackers as the action server receives them ------------------------------------------------


def user_event(
    text: str, intent: str, metadata: dict[str, Any], entities: list[Any]
) -> dict[str, Any]:
    """A ``UserUttered`` event as Rasa serialises it."""
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
        },
        "metadata": metadata,
    }


def make_tracker(
    slots: dict[str, Any],
    text: str,
    intent: str,
    *,
    language: str = "pl",
    token: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    sender: str = "test-user",
) -> Tracker:
    """A tracker like the one Rasa sends: latest message with metadata; for a form's validation,
    ``SlotSet(requested_slot)``, ``ActionExecuted(form)`` and the candidate slots at the end."""
    metadata: dict[str, Any] = {"language": language}
    if token:
        metadata["access_token"] = token
    entity_list = entities or []
    events = [*(history or []), user_event(text, intent, metadata, entity_list)]
    state = dict(slots)
    if active_loop:
        events.append(
            {"event": "slot", "name": "requested_slot", "value": slots.get("requested_slot")}
        )
        events.append({"event": "action", "name": active_loop})
        for name, value in (candidates or {}).items():
            events.append({"event": "slot", "name": name, "value": value})
            state[name] = value
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": state,
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entity_list,
                "metadata": metadata,
            },
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


async def run_action(
    action: Action, tracker: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run one action; returns (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return list(events), list(dispatcher.messages)


@dataclass
class FormDriver:
    """Plays Rasa core's part in a form conversation against the real actions."""

    form: str
    validator: Action
    ask_actions: dict[str, Action]
    language: str = "pl"
    token: str | None = None
    sender: str = field(default_factory=lambda: "conv-" + secrets.token_hex(4))
    slots: dict[str, Any] = field(default_factory=dict)
    said: list[dict[str, Any]] = field(default_factory=list)
    rejected: bool = False

    async def say(
        self,
        text: str,
        intent: str = "inform",
        candidates: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """One user turn: validation, then the question for the next slot; returns messages."""
        tracker = make_tracker(
            self.slots,
            text,
            intent,
            language=self.language,
            token=self.token,
            entities=entities,
            active_loop=self.form,
            candidates=candidates,
            sender=self.sender,
        )
        for name, value in (candidates or {}).items():
            self.slots[name] = value
        events, messages = await run_action(self.validator, tracker)
        self.rejected = any(e.get("event") == "action_execution_rejected" for e in events)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        requested = self.slots.get("requested_slot")
        if requested and not self.rejected:
            ask = self.ask_actions[requested]
            ask_tracker = make_tracker(
                self.slots,
                text,
                intent,
                language=self.language,
                token=self.token,
                active_loop=self.form,
                sender=self.sender,
            )
            _, asked = await run_action(ask, ask_tracker)
            messages += asked
        self.said = messages
        return messages

    @property
    def requested(self) -> str | None:
        """The slot the form asks for next (None: done)."""
        return self.slots.get("requested_slot")

    def text(self) -> str:
        """All text the bot said in the last turn."""
        return "\n".join(str(m.get("text") or "") for m in self.said)

    def payloads(self) -> list[str]:
        """Button payloads of the last turn."""
        return [b["payload"] for m in self.said for b in (m.get("buttons") or [])]


def pytest_report_header() -> str:
    """Which Python runs the bot-side tests and which runs the hub."""
    return f"bot python: {sys.version.split()[0]}; hub python: {HUB_PYTHON}"
