"""Issue 12, HTTP layer: bodies, timeouts and smuggling, with raw sockets against the real hub.

Each case sends what a hostile (or merely slow) client sends, byte for byte, and asserts the
exact answer: status and problem code, that the connection is closed, and that a request
hidden in another is never answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from hub.app import MalformedRequestFilter, create_app
from hub.settings import Settings
from portal.api.framework import MAX_JSON_BODY, MAX_JSON_DEPTH
from portal.clock import ManualClock
from tests.conftest import DEMO_PASSWORD, Api

from .raw_http import connect, exchange, parse_responses, read_until_closed, request_head

LOGIN = "/api/v1/auth/login"
GOOD_LOGIN = json.dumps({"login": "demo.patient", "password": DEMO_PASSWORD}).encode()
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
async def slow(aiohttp_client: Any, settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    """The hub with short header and body timeouts (half a second each)."""
    short = dataclasses.replace(settings, header_timeout=0.5, body_timeout=0.5)
    return await aiohttp_client(create_app(short, clock=clock), cookie_jar=aiohttp.DummyCookieJar())


@pytest.fixture
async def dripping(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> TestClient[Any, Any]:
    """The hub with half a second per piece of a body and a whole body at 100 bytes a second."""
    short = dataclasses.replace(settings, body_timeout=0.5, body_min_rate=100)
    return await aiohttp_client(create_app(short, clock=clock), cookie_jar=aiohttp.DummyCookieJar())


def stored_files(root: Path) -> list[Path]:
    """Every file under ``root`` (a temporary file left behind counts too)."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def json_head(path: str, length: int, **headers: str) -> bytes:
    return request_head(
        "POST", path, {"Content-Type": "application/json", **headers}, length=length
    )


# -- bodies -----------------------------------------------------------------------------------


async def test_a_json_body_in_two_segments_is_read_whole(client: TestClient[Any, Any]) -> None:
    # A slow mobile link: the head and half the body, then (later) the rest.
    half = len(GOOD_LOGIN) // 2
    head = json_head(LOGIN, len(GOOD_LOGIN))
    [response] = await exchange(client, [head + GOOD_LOGIN[:half], GOOD_LOGIN[half:]], pause=0.3)
    assert response.status == 200, response
    assert response.headers["set-cookie"].startswith("mp_session=")
    assert json.loads(response.body)["account"]["login"] == "demo.patient"


async def test_thirty_thousand_levels_of_nesting_are_refused_before_parsing(
    client: TestClient[Any, Any],
) -> None:
    for body in (b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        response = await client.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
        assert response.status == 400
        assert (await response.json(content_type=None))["code"] == "json_too_deep"


async def test_nesting_up_to_the_limit_is_parsed_and_brackets_in_strings_do_not_count(
    client: TestClient[Any, Any],
) -> None:
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = await client.post(LOGIN, data=deepest, headers={"Content-Type": "application/json"})
    assert response.status == 422  # parsed, then refused by the schema: not a list
    one_more = b"[" + deepest + b"]"
    response = await client.post(LOGIN, data=one_more, headers={"Content-Type": "application/json"})
    assert (await response.json(content_type=None))["code"] == "json_too_deep"
    response = await client.post(LOGIN, json={"login": "demo.patient", "password": "[{" * 500})
    assert response.status == 401
    assert (await response.json(content_type=None))["code"] == "invalid_credentials"


async def test_ten_megabytes_with_a_content_length_are_413(client: TestClient[Any, Any]) -> None:
    body = b'{"login": "' + b"x" * TEN_MB + b'"}'
    [response] = await exchange(client, [json_head(LOGIN, len(body)), body])
    assert response.status == 413
    assert response.problem()["code"] == "payload_too_large"


async def test_ten_megabytes_chunked_without_a_length_are_413(
    client: TestClient[Any, Any],
) -> None:
    head = request_head(
        "POST", LOGIN, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    piece = 64 * 1024
    chunk = f"{piece:x}\r\n".encode() + b" " * piece + b"\r\n"
    [response] = await exchange(client, [head, chunk * (TEN_MB // piece), b"0\r\n\r\n"])
    assert response.status == 413
    assert response.problem()["code"] == "payload_too_large"


async def test_one_byte_over_the_limit_chunked_is_413_and_the_limit_itself_is_read(
    client: TestClient[Any, Any],
) -> None:
    head = request_head(
        "POST", LOGIN, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    for size, status in ((MAX_JSON_BODY + 1, 413), (MAX_JSON_BODY, 401)):
        start = b'{"login": "demo.patient", "password": "not it"'
        body = start + b" " * (size - len(start) - 1) + b"}"  # whitespace is valid JSON
        assert len(body) == size
        chunks = [f"{len(body) // 2:x}\r\n".encode() + body[: len(body) // 2] + b"\r\n"]
        rest = body[len(body) // 2 :]
        chunks.append(f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n")
        [response] = await exchange(client, [head, *chunks], pause=0.05)
        assert response.status == status, (size, response)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/json; charset=iso-8859-2",
        "application/jsonx",
        "text/json",
    ],
)
async def test_a_json_operation_refuses_other_media_types(
    client: TestClient[Any, Any], content_type: str
) -> None:
    response = await client.post(LOGIN, data=GOOD_LOGIN, headers={"Content-Type": content_type})
    assert response.status == 415
    assert (await response.json(content_type=None))["code"] == "json_required"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; Charset=UTF-8",
        "application/merge-patch+json",
    ],
)
async def test_a_json_operation_takes_json_media_types(
    client: TestClient[Any, Any], content_type: str
) -> None:
    response = await client.post(LOGIN, data=GOOD_LOGIN, headers={"Content-Type": content_type})
    assert response.status == 200, await response.text()


async def test_a_body_without_a_content_type_is_415_and_no_body_at_all_is_an_empty_object(
    client: TestClient[Any, Any],
) -> None:
    [response] = await exchange(
        client, [request_head("POST", LOGIN, length=len(GOOD_LOGIN)) + GOOD_LOGIN]
    )
    assert (response.status, response.problem()["code"]) == (415, "json_required")
    [response] = await exchange(client, [request_head("POST", LOGIN, length=0)])
    assert response.status == 422  # {} reached the schema: login and password missing
    assert {e["field"] for e in response.problem()["errors"]} == {"login", "password"}


# -- timeouts ---------------------------------------------------------------------------------


async def test_a_connection_that_sends_nothing_is_closed(slow: TestClient[Any, Any]) -> None:
    reader, writer = await connect(slow)
    try:
        assert await read_until_closed(reader) == b""
    finally:
        writer.close()


async def test_unfinished_headers_are_closed_even_while_bytes_trickle_in(
    slow: TestClient[Any, Any],
) -> None:
    reader, writer = await connect(slow)

    async def trickle() -> None:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        with contextlib.suppress(ConnectionError):
            while not writer.is_closing():
                await asyncio.sleep(0.05)
                writer.write(b"a")
                await writer.drain()

    dripping = asyncio.create_task(trickle())
    try:
        assert await read_until_closed(reader) == b""  # closed, and never answered
    finally:
        dripping.cancel()
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed(slow: TestClient[Any, Any]) -> None:
    reader, writer = await connect(slow)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # keep-alive
        await writer.drain()
        received = await read_until_closed(reader)
    finally:
        writer.close()
    assert received.startswith(b"HTTP/1.1 200 ")


async def test_a_stalled_json_body_is_408_and_the_connection_closed(
    slow: TestClient[Any, Any],
) -> None:
    head = json_head(LOGIN, len(GOOD_LOGIN))
    [response] = await exchange(slow, [head + GOOD_LOGIN[:10]])  # the rest never comes
    assert response.status == 408
    assert response.problem()["code"] == "request_timeout"
    assert response.headers["connection"] == "close"


async def test_a_body_dripping_a_byte_at_a_time_is_408_once_it_falls_below_the_rate(
    dripping: TestClient[Any, Any],
) -> None:
    # No single wait stalls (a byte every 0.1 s; the per-piece limit is 0.5 s), but at 100 B/s
    # the whole body of about 200 bytes must be there within 0.5 + 2 s, and would take 20 s.
    body = json.dumps({"login": "x" * 180, "password": "y"}).encode()
    reader, writer = await connect(dripping)

    async def drip() -> None:
        writer.write(json_head(LOGIN, len(body)))
        with contextlib.suppress(ConnectionError):
            for index in range(len(body)):
                writer.write(body[index : index + 1])
                await writer.drain()
                await asyncio.sleep(0.1)

    task = asyncio.create_task(drip())
    try:
        async with asyncio.timeout(10):
            first = await reader.read(65536)  # the answer, long before the body could end
        task.cancel()
        with contextlib.suppress(ConnectionError):
            first += await read_until_closed(reader)
    finally:
        task.cancel()
        writer.close()
    [response] = parse_responses(first)
    assert response.status == 408
    assert response.problem()["code"] == "request_timeout"
    assert response.headers["connection"] == "close"


async def test_a_slow_body_above_the_rate_is_read_whole(
    dripping: TestClient[Any, Any],
) -> None:
    # The same hub, a body in four pieces 0.2 s apart: slow, never stalled, well above 100 B/s.
    head = json_head(LOGIN, len(GOOD_LOGIN))
    quarter = -(-len(GOOD_LOGIN) // 4)
    parts = [head, *(GOOD_LOGIN[i : i + quarter] for i in range(0, len(GOOD_LOGIN), quarter))]
    [response] = await exchange(dripping, parts, pause=0.2)
    assert response.status == 200


async def test_a_stalled_upload_is_408_and_stores_nothing(
    slow: TestClient[Any, Any], settings: Settings
) -> None:
    patient = await Api(slow).full_patient()
    boundary = "----stalled"
    start = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="description"\r\n\r\n'
        "wyniki krwi, strona pierwsza"
    ).encode()
    head = request_head(
        "POST",
        "/api/v1/documents",
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **patient.headers,
        },
        length=len(start) + 200_000,  # announced, never sent
    )
    [response] = await exchange(slow, [head + start])
    assert response.status == 408
    assert response.problem()["code"] == "request_timeout"
    listed = await slow.get("/api/v1/documents", headers=patient.headers)
    assert (await listed.json())["items"] == []
    assert stored_files(settings.documents_dir) == []


async def test_a_stalled_body_of_a_handler_that_never_reads_it_is_answered_then_closed(
    slow: TestClient[Any, Any],
) -> None:
    # /healthz takes no POST: the 405 goes out at once; the server's own draining of the
    # announced body is bounded too, so the connection does not stay open waiting for it.
    [response] = await exchange(slow, [request_head("POST", "/healthz", length=100_000)])
    assert response.status == 405


# -- smuggling --------------------------------------------------------------------------------

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
"""The request hidden in each probe: answered, it would be a 200 with the health report."""

PROBES: dict[str, bytes] = {
    "two Content-Length, different": b"Content-Length: 5\r\nContent-Length: 48\r\n\r\nhello",
    "two Content-Length, equal": b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "Content-Length as a list": b"Content-Length: 5, 5\r\n\r\nhello",
    "Content-Length with a sign": b"Content-Length: +5\r\n\r\nhello",
    "Content-Length then chunked": (
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "chunked then Content-Length": (
        b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "Transfer-Encoding with a space before the colon": (
        b"Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "Transfer-Encoding xchunked": b"Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "chunked, gzip": b"Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "chunked twice": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "obs-fold": b"X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
    "obs-fold hiding a length": b"Content-Length: 0\r\n 5\r\n\r\nhello",
    "chunk size 0x5": b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk size -5": b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk size with a space": b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
    "chunk size overflow": (
        b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"
    ),
    "chunk longer than its size": b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    "chunk lines ended by LF only": b"Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
    "bare CR in a header": b"X-A: a\rContent-Length: 5\r\n\r\nhello",
    "NUL in a header": b"X-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello",
}


async def test_every_smuggling_probe_is_400_and_never_two_requests(
    client: TestClient[Any, Any],
) -> None:
    # One server for all the probes (they never reach the database), one connection each.
    for name, probe in PROBES.items():
        raw = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" + probe + SMUGGLED
        responses = await exchange(client, [raw])
        assert [response.status for response in responses] == [400], (name, responses)


async def test_a_malformed_request_is_one_warning_line_in_the_log(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    server_log = logging.getLogger("aiohttp.server")
    quiet = MalformedRequestFilter()
    server_log.addFilter(quiet)  # what configure_logging installs for the CLI
    try:
        with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
            raw = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            responses = await exchange(client, [raw + PROBES["two Content-Length, different"]])
    finally:
        server_log.removeFilter(quiet)
    assert [response.status for response in responses] == [400]
    [record] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "Error handling request from 127.0.0.1: malformed request (400 Duplicate Content-Length:)"
    )
    # Any other error keeps its level and traceback.
    try:
        raise RuntimeError("a bug of ours")
    except RuntimeError:
        ours = logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "boom", (), sys.exc_info()
        )
    assert quiet.filter(ours)
    assert (ours.levelno, ours.exc_info is not None) == (logging.ERROR, True)
