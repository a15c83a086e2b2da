"""The app starts on both databases, serves health, OpenAPI and the catalogue."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import Api


async def test_healthz_reports_components(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["components"]["db"]["status"] == "ok"
    assert body["components"]["rasa"]["status"] == "unavailable"
    assert body["status"] == "degraded"


async def test_demo_patient_sees_upcoming_visit(api: Api) -> None:
    user = await api.login("demo.patient")
    response = await api.client.get(
        "/api/v1/appointments", params={"period": "upcoming"}, headers=user.headers
    )
    assert response.status == 200
    items = (await response.json())["items"]
    assert [a["status"] for a in items] == ["booked"]


async def test_widget_modules_may_be_loaded_by_other_sites(client: TestClient[Any, Any]) -> None:
    response = await client.get("/widget.js", headers={"Origin": "https://clinic.example"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page = await client.get("/index.html")
    assert "Access-Control-Allow-Origin" not in page.headers
    api = await client.get("/api/v1/services", headers={"Origin": "https://clinic.example"})
    assert "Access-Control-Allow-Origin" not in api.headers
