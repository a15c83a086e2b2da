"""The assistant's two processes, faked as real processes so that the fault tests can kill them.

    python -m tests.adversarial.fake_assistant rasa --port P [--actions URL] [--calls FILE]
                                                    [--grandchild FILE]
    python -m tests.adversarial.fake_assistant actions --port P

``rasa`` answers Rasa's REST channel (``POST /webhooks/rest/webhook``) with ``echo: <text>``;
with ``--actions`` it first runs a custom action on the action server, as Rasa does, and, like
Rasa's REST channel when an action fails, answers ``200 []`` when the action server is down. A
message containing ``[hold]`` is held (never answered), so a test can kill a process mid-turn.
``--calls`` appends each message received to a file (one JSON line, surviving restarts);
``--grandchild`` starts a helper process in the same process group (as Sanic's workers are)
and writes its pid there. The fixed port lets a restarted process come back where it was:
``tests/web/fake_rasa.py`` binds a random one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

HOLD = "[hold]"


def rasa_app(actions_url: str | None, calls: Path | None) -> web.Application:
    """The fake Rasa server."""
    app = web.Application()

    async def status(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21 (fake)")

    async def webhook(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        text = str(body.get("message", ""))
        if calls is not None:
            with calls.open("a") as out:
                out.write(json.dumps({"sender": body.get("sender"), "message": text}) + "\n")
        if HOLD in text:
            await asyncio.Event().wait()
        if actions_url is not None:
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(f"{actions_url}/webhook", json={"next_action": "action_echo"}) as r,
                ):
                    r.raise_for_status()
            except aiohttp.ClientError:
                return web.json_response([])
        return web.json_response([{"recipient_id": body.get("sender"), "text": f"echo: {text}"}])

    app.router.add_get("/", status)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


def actions_app() -> web.Application:
    """The fake action server."""
    app = web.Application()

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def run(request: web.Request) -> web.Response:
        return web.json_response({"events": [], "responses": []})

    app.router.add_get("/health", health)
    app.router.add_post("/webhook", run)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["rasa", "actions"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--actions")
    parser.add_argument("--calls", type=Path)
    parser.add_argument("--grandchild", type=Path)
    args = parser.parse_args()
    if args.grandchild is not None:
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        args.grandchild.write_text(str(helper.pid))
    app = rasa_app(args.actions, args.calls) if args.kind == "rasa" else actions_app()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
