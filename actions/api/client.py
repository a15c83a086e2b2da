"""An async client of the hub's REST API (``/api/v1``), one instance per action run.

Operation names follow the OpenAPI ``operationId`` s of the portal (``portal/api/*.py``). The
``Accept-Language`` header asks the hub for names and problem titles in the patient's language.
"""

from __future__ import annotations

import asyncio
import os
from types import TracebackType
from typing import Any

import aiohttp

from .errors import HubProblem, HubUnavailable, LoginRequired

DEFAULT_HUB_URL = "http://127.0.0.1:8080"
API_PREFIX = "/api/v1"


def hub_url() -> str:
    """The hub's base URL from ``HUB_URL``, read at call time (tests start their own hub)."""
    return os.environ.get("HUB_URL", DEFAULT_HUB_URL).rstrip("/")


class HubClient:
    """Calls the hub as the patient whose bearer ``token`` came with the message.

    Use as ``async with HubClient(token, language) as hub: ...``; the session is closed on exit.
    Operations that need a patient raise :class:`LoginRequired` before any request when the
    token is missing.
    """

    def __init__(
        self,
        token: str | None,
        language: str = "pl",
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.token = token or None
        self.language = language
        self.base_url = (base_url or hub_url()).rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HubClient:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def logged_in(self) -> bool:
        """Whether the message carried a token (its validity is the hub's call)."""
        return self.token is not None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        if auth and not self.token:
            raise LoginRequired(path)
        if self._session is None:
            raise RuntimeError("use HubClient as an async context manager")
        headers = {"Accept": "application/json", "Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with self._session.request(
                method, self.base_url + API_PREFIX + path, params=query, json=body, headers=headers
            ) as response:
                if response.status == 204:
                    return None
                try:
                    data = await response.json(content_type=None)
                except ValueError as error:
                    raise HubUnavailable(f"{method} {path}: not JSON") from error
                if response.status >= 400:
                    raise HubProblem.from_body(response.status, data)
                return data
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise HubUnavailable(f"{method} {path}: {error!r}") from error

    # -- accounts ---------------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """getMe: the logged-in account."""
        return await self._call("GET", "/me")

    async def list_dependents(self) -> list[dict[str, Any]]:
        """listDependents: the children the patient books for."""
        return (await self._call("GET", "/me/dependents"))["items"]

    # -- catalogue (public) -----------------------------------------------------------------

    async def list_services(
        self, service_type: str | None = None, specialty: str | None = None
    ) -> list[dict[str, Any]]:
        """listServices, optionally of one type or specialty."""
        params = {"type": service_type, "specialty": specialty}
        return (await self._call("GET", "/services", params=params, auth=False))["items"]

    async def list_specialties(self) -> list[dict[str, Any]]:
        """listSpecialties."""
        return (await self._call("GET", "/specialties", auth=False))["items"]

    async def list_physicians(
        self, specialty: str | None = None, city: str | None = None
    ) -> list[dict[str, Any]]:
        """listPhysicians by specialty and city."""
        params = {"specialty": specialty, "city": city}
        return (await self._call("GET", "/physicians", params=params, auth=False))["items"]

    async def list_clinics(self) -> list[dict[str, Any]]:
        """listClinics."""
        return (await self._call("GET", "/clinics", auth=False))["items"]

    async def search_slots(self, **filters: Any) -> dict[str, Any]:
        """searchSlots: ``service``, ``service_type``, ``specialty``, ``physician_id``, ``city``,
        ``date_from``, ``date_to`` (ISO), ``time_of_day``, ``time_from`` and ``time_to``
        ("HH:MM" clinic-local; a slot starts at or after ``time_from`` and before ``time_to``),
        ``exclude_weekdays`` (ISO weekday numbers, "1,7" or a sequence of ints), ``limit``,
        ``offset``."""
        weekdays = filters.get("exclude_weekdays")
        if weekdays is not None and not isinstance(weekdays, str):
            filters["exclude_weekdays"] = ",".join(str(day) for day in weekdays) or None
        return await self._call("GET", "/slots", params=filters, auth=False)

    # -- appointments -----------------------------------------------------------------------

    async def book_appointment(
        self,
        slot_id: str,
        patient_id: str | None = None,
        idempotency_key: str | None = None,
        *,
        allow_overlap: bool = False,
    ) -> dict[str, Any]:
        """bookAppointment (the hub records the source "assistant" for bearer-token calls);
        ``allow_overlap`` books although the patient has a visit at that time."""
        body: dict[str, Any] = {"slot_id": slot_id}
        if allow_overlap:
            body["allow_overlap"] = True
        if patient_id:
            body["patient_id"] = patient_id
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        return await self._call("POST", "/appointments", body=body)

    async def list_appointments(self, period: str = "upcoming") -> list[dict[str, Any]]:
        """listAppointments of the patient and their children."""
        return (await self._call("GET", "/appointments", params={"period": period}))["items"]

    async def cancel_appointment(
        self, appointment_id: str, reason: str | None = None
    ) -> dict[str, Any]:
        """cancelAppointment."""
        body = {"reason": reason} if reason else {}
        return await self._call("POST", f"/appointments/{appointment_id}/cancel", body=body)

    async def reschedule_appointment(self, appointment_id: str, slot_id: str) -> dict[str, Any]:
        """rescheduleAppointment to another slot of the same service."""
        return await self._call(
            "POST", f"/appointments/{appointment_id}/reschedule", body={"slot_id": slot_id}
        )

    # -- records ----------------------------------------------------------------------------

    async def list_prescriptions(self) -> dict[str, Any]:
        """listPrescriptions: ``prescriptions`` (history) and ``orders``."""
        return await self._call("GET", "/prescriptions")

    async def order_prescription(
        self, prescription_id: str, note: str | None = None
    ) -> dict[str, Any]:
        """orderPrescription: ask the physician to renew a medication."""
        body: dict[str, Any] = {"prescription_id": prescription_id}
        if note:
            body["note"] = note
        return await self._call("POST", "/prescriptions/orders", body=body)

    async def list_results(self) -> list[dict[str, Any]]:
        """listResults."""
        return (await self._call("GET", "/results"))["items"]

    async def list_referrals(self) -> list[dict[str, Any]]:
        """listReferrals."""
        return (await self._call("GET", "/referrals"))["items"]

    async def list_instructions(self) -> list[dict[str, Any]]:
        """listInstructions."""
        return (await self._call("GET", "/instructions"))["items"]
