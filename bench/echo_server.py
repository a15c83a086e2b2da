"""Baseline of the chat benchmark: a bare python-socketio ``/consult`` with nothing behind it.

It speaks the chat subset of ``docs/consult-protocol.md`` (``join``, ``admit``, ``chat``) with
the same Socket.IO server options as the hub and answers with messages of the same shape, but
keeps nothing, checks nobody and touches no database: what is left is the cost of Socket.IO
itself. Run as ``python -m bench.echo_server --port P`` (loopback only).
"""

from __future__ import annotations

import argparse
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import socketio  # type: ignore[import-untyped]
from aiohttp import web

NAMESPACE = "/consult"


class EchoNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Acks every event and broadcasts chat to the room, like ``/consult`` without a portal."""

    def __init__(self) -> None:
        super().__init__(NAMESPACE)
        self._seq: dict[str, Iterator[int]] = {}

    async def on_connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        """Accept everyone."""

    async def on_join(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Enter the appointment's room."""
        appointment_id = str(data["appointment_id"])
        await self.enter_room(sid, f"consult:{appointment_id}")
        return {"ok": True, "room": {"appointment_id": appointment_id, "messages": []}}

    async def on_admit(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Nothing to admit into."""
        return {"ok": True, "state": "admitted"}

    async def on_chat(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Number the message, show it to the room, ack it."""
        appointment_id = str(data["appointment_id"])
        seq = self._seq.setdefault(appointment_id, itertools.count(1))
        message = {
            "id": str(uuid.uuid4()),
            "appointment_id": appointment_id,
            "seq": next(seq),
            "sender": "patient",
            "sender_name": "Demo Patient",
            "text": data["text"],
            "client_msg_id": data["client_msg_id"],
            "at": datetime.now(UTC).isoformat(),
        }
        await self.emit("chat", {"message": message}, room=f"consult:{appointment_id}")
        return {"ok": True, "message": message}


async def healthz(request: web.Request) -> web.Response:
    """Readiness probe."""
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    """The baseline app: Socket.IO with the hub's server options, and ``/healthz``."""
    server = socketio.AsyncServer(
        async_mode="aiohttp", cors_allowed_origins="*", max_http_buffer_size=64 * 1024
    )
    server.register_namespace(EchoNamespace())
    app = web.Application()
    server.attach(app)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    """Serve on ``127.0.0.1:--port`` until terminated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(create_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
