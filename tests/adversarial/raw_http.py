"""Raw HTTP/1.1 over an asyncio socket: what a hostile client sends, byte for byte.

aiohttp's client cannot send a malformed request, split one where we choose, or stall; these
helpers can. Responses are read until the server closes the connection (every probe asks for
``Connection: close`` or is refused) and split into the responses it held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

CLOSE_WITHIN = 10.0
"""Seconds a test waits for the server to close: a bound on the test, never a measurement."""


@dataclass
class RawResponse:
    """One HTTP response as it came over the socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        """The problem+json body."""
        assert self.headers.get("content-type", "").startswith("application/problem+json"), self
        value: dict[str, Any] = json.loads(self.body)
        return value


def parse_responses(data: bytes) -> list[RawResponse]:
    """Every response in ``data`` (bodies by Content-Length; a close ends the last one)."""
    found: list[RawResponse] = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"truncated response head: {data[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        length = int(headers.get("content-length", len(rest)))
        found.append(RawResponse(status, headers, rest[:length]))
        data = rest[length:]
    return found


async def connect(
    client: TestClient[Any, Any],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to the test server (127.0.0.1)."""
    assert client.host == "127.0.0.1"
    return await asyncio.open_connection(client.host, client.port)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (at most CLOSE_WITHIN s)."""
    received = bytearray()
    async with asyncio.timeout(CLOSE_WITHIN):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


async def exchange(
    client: TestClient[Any, Any], parts: Iterable[bytes], pause: float = 0.0
) -> list[RawResponse]:
    """Send ``parts`` (one TCP write each, ``pause`` seconds apart); the responses until close."""
    reader, writer = await connect(client)
    try:
        for index, part in enumerate(parts):
            if index and pause:
                await asyncio.sleep(pause)
            writer.write(part)
            try:
                await writer.drain()
            except ConnectionResetError:
                break
        return parse_responses(await read_until_closed(reader))
    finally:
        writer.close()


def request_head(
    method: str, path: str, headers: dict[str, str] | None = None, *, length: int | None = None
) -> bytes:
    """A request line and headers (with Host and ``Connection: close``), ending the head."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
