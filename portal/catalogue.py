"""The clinic network's catalogue: clinics, specialties, services, physicians and free slots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, and_, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import InvalidInput
from portal.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Practitioner,
    PractitionerSpecialty,
    Schedule,
    Service,
    ServiceType,
    Slot,
    Specialty,
)


class TimeOfDay(StrEnum):
    """Parts of the day a patient may prefer, in clinic-local time."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


TIME_OF_DAY_MINUTES: dict[TimeOfDay, tuple[int, int]] = {
    TimeOfDay.MORNING: (0, 12 * 60),
    TimeOfDay.AFTERNOON: (12 * 60, 17 * 60),
    TimeOfDay.EVENING: (17 * 60, 24 * 60),
}


@dataclass(frozen=True)
class SlotQuery:
    """Filters of a free-slot search; every one is optional."""

    service: str | None = None
    """A service code or id."""
    service_type: ServiceType | None = None
    specialty: str | None = None
    """A specialty code."""
    physician_id: uuid.UUID | None = None
    city: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    time_of_day: TimeOfDay | None = None
    time_from: time | None = None
    """Earliest clinic-local start (inclusive)."""
    time_to: time | None = None
    """Clinic-local start before this time (exclusive)."""
    exclude_weekdays: frozenset[int] = frozenset()
    """ISO weekday numbers (1 Monday ... 7 Sunday) to leave out."""
    language: str | None = None
    """ISO 639-1 code of a language the physician speaks."""
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SlotPage:
    """One page of free slots, earliest first."""

    items: list[Slot]
    limit: int
    offset: int
    has_more: bool


class Catalogue:
    """Read-only views of what can be booked."""

    def __init__(self, db: Database, config: PortalConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    async def list_clinics(self, city: str | None = None) -> list[Clinic]:
        """Clinics, by city then name."""
        query = select(Clinic).order_by(Clinic.city, Clinic.name)
        if city:
            query = query.where(Clinic.id.in_(await self._clinics_in(city)))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def list_specialties(self) -> list[Specialty]:
        """Specialties by their Polish name."""
        async with self.db.read() as session:
            return list(await session.scalars(select(Specialty).order_by(Specialty.name_pl)))

    async def list_services(
        self, service_type: ServiceType | None = None, specialty: str | None = None
    ) -> list[Service]:
        """Bookable services, optionally of one type or specialty."""
        query = select(Service).order_by(Service.type, Service.name_pl)
        if service_type is not None:
            query = query.where(Service.type == service_type)
        if specialty:
            query = query.join(Specialty, Service.specialty_id == Specialty.id).where(
                Specialty.code == specialty
            )
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def list_physicians(
        self,
        specialty: str | None = None,
        city: str | None = None,
        language: str | None = None,
    ) -> list[Practitioner]:
        """Practitioners, optionally by specialty, a city they work in, a language they speak."""
        query = (
            select(Practitioner)
            .options(selectinload(Practitioner.specialties))
            .order_by(Practitioner.last_name, Practitioner.first_name)
        )
        if specialty:
            query = query.where(
                Practitioner.id.in_(
                    select(PractitionerSpecialty.practitioner_id)
                    .join(Specialty, Specialty.id == PractitionerSpecialty.specialty_id)
                    .where(Specialty.code == specialty)
                )
            )
        if city:
            query = query.where(
                Practitioner.id.in_(
                    select(Schedule.practitioner_id).where(
                        Schedule.clinic_id.in_(await self._clinics_in(city))
                    )
                )
            )
        async with self.db.read() as session:
            found = list(await session.scalars(query))
        if language:
            found = [p for p in found if language.lower() in p.languages]
        return found

    async def get_service(self, code_or_id: str) -> Service | None:
        """A service by code or id."""
        async with self.db.read() as session:
            return await session.scalar(_service_by(code_or_id))

    async def search_slots(self, query: SlotQuery) -> SlotPage:
        """Free, future slots matching ``query``, earliest first, one page."""
        if query.date_from and query.date_to and query.date_from > query.date_to:
            raise InvalidInput.single("date_from", "date_range")
        if query.time_from and query.time_to and query.time_from >= query.time_to:
            raise InvalidInput.single("time_to", "invalid_value")
        if not query.exclude_weekdays <= set(range(1, 8)):
            raise InvalidInput.single("exclude_weekdays", "invalid_value")
        now = self.clock.now()
        taken = exists().where(
            and_(Appointment.slot_id == Slot.id, Appointment.status != AppointmentStatus.CANCELLED)
        )
        statement: Select[Slot] = (
            select(Slot)
            .join(Service, Service.id == Slot.service_id)
            .where(Slot.start_at > now, ~taken)
        )
        if query.service:
            statement = statement.where(
                Service.id.in_(_service_by(query.service).with_only_columns(Service.id))
            )
        if query.service_type is not None:
            statement = statement.where(Service.type == query.service_type)
        if query.specialty:
            statement = statement.where(
                Service.specialty_id.in_(
                    select(Specialty.id).where(Specialty.code == query.specialty)
                )
            )
        if query.physician_id is not None:
            statement = statement.where(Slot.practitioner_id == query.physician_id)
        if query.city:
            statement = statement.where(Slot.clinic_id.in_(await self._clinics_in(query.city)))
        if query.date_from:
            statement = statement.where(Slot.local_date >= query.date_from)
        if query.date_to:
            statement = statement.where(Slot.local_date <= query.date_to)
        if query.time_of_day is not None:
            low, high = TIME_OF_DAY_MINUTES[query.time_of_day]
            statement = statement.where(Slot.local_minute >= low, Slot.local_minute < high)
        if query.time_from is not None:
            statement = statement.where(Slot.local_minute >= _minutes(query.time_from))
        if query.time_to is not None:
            statement = statement.where(Slot.local_minute < _minutes(query.time_to))
        if query.exclude_weekdays:
            statement = statement.where(
                IsoWeekday(Slot.local_date).not_in(sorted(query.exclude_weekdays))
            )
        if query.language:
            speakers = await self._speakers(query.language)
            statement = statement.where(Slot.practitioner_id.in_(speakers))
        statement = (
            statement.order_by(Slot.start_at, Slot.id).offset(query.offset).limit(query.limit + 1)
        )
        async with self.db.read() as session:
            rows = list(await session.scalars(statement))
        return SlotPage(
            items=rows[: query.limit],
            limit=query.limit,
            offset=query.offset,
            has_more=len(rows) > query.limit,
        )

    async def _clinics_in(self, city: str) -> list[uuid.UUID]:
        # Case-insensitive in Python: SQLite's lower() folds ASCII only, so "Łódź" would never
        # match "łódź" there. The network has a handful of clinics.
        wanted = city.strip().casefold()
        async with self.db.read() as session:
            rows = (await session.execute(select(Clinic.id, Clinic.city))).all()
        return [clinic_id for clinic_id, name in rows if name.casefold() == wanted]

    async def _speakers(self, language: str) -> list[uuid.UUID]:
        # Languages are a short JSON list per practitioner; filtering ~100 rows in Python is
        # simpler and as fast as dialect-specific JSON operators.
        async with self.db.read() as session:
            rows = (await session.execute(select(Practitioner.id, Practitioner.languages))).all()
        return [pid for pid, languages in rows if language.lower() in languages]

    def local_time(self, instant: datetime) -> datetime:
        """An instant in the clinics' time zone."""
        return instant.astimezone(ZoneInfo(self.config.timezone))


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class IsoWeekday(FunctionElement[int]):
    """The ISO weekday (1 Monday ... 7 Sunday) of a DATE expression, in each dialect's words:
    neither SQLite nor PostgreSQL has a portable weekday function."""

    type = Integer()
    inherit_cache = True
    name = "iso_weekday"


@compiles(IsoWeekday)
def _iso_weekday(element: IsoWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: ISODOW is already 1-7 from Monday.
    return f"CAST(EXTRACT(ISODOW FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(IsoWeekday, "sqlite")
def _iso_weekday_sqlite(element: IsoWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    # strftime('%w') counts 0 Sunday ... 6 Saturday.
    day = compiler.process(element.clauses, **kw)
    return f"((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7 + 1)"


def _service_by(code_or_id: str) -> Select[Service]:
    try:
        return select(Service).where(Service.id == uuid.UUID(code_or_id))
    except ValueError:
        return select(Service).where(Service.code == code_or_id)
