"""Turning weekly schedules into bookable slots.

A schedule block (practitioner, place, service, weekday, local start and end) yields one slot
per service duration. Times are local (Europe/Warsaw) and converted to UTC per day, so slots
keep their wall-clock time across the daylight-saving changes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Schedule, Service, Slot


async def generate_slots(
    session: AsyncSession, first_day: date, last_day: date, timezone: str
) -> int:
    """Create the missing slots of every schedule for the days ``first_day..last_day``.

    Idempotent: slots that exist (same practitioner and start) are left alone. Returns the
    number of slots created.
    """
    zone = ZoneInfo(timezone)
    schedules = list(await session.scalars(select(Schedule)))
    durations = dict((await session.execute(select(Service.id, Service.duration_minutes))).all())
    start_utc = datetime.combine(first_day, datetime.min.time(), zone)
    end_utc = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), zone)
    rows = await session.execute(
        select(Slot.practitioner_id, Slot.start_at).where(
            Slot.start_at >= start_utc, Slot.start_at < end_utc
        )
    )
    existing: set[tuple[uuid.UUID, datetime]] = {(pid, start) for pid, start in rows}
    created = 0
    day = first_day
    while day <= last_day:
        for schedule in schedules:
            if schedule.weekday != day.weekday():
                continue
            step = timedelta(minutes=durations[schedule.service_id])
            start = datetime.combine(day, schedule.start_time, zone)
            block_end = datetime.combine(day, schedule.end_time, zone)
            while start + step <= block_end:
                key = (schedule.practitioner_id, start)
                if key not in existing:
                    existing.add(key)
                    session.add(
                        Slot(
                            schedule_id=schedule.id,
                            practitioner_id=schedule.practitioner_id,
                            clinic_id=schedule.clinic_id,
                            service_id=schedule.service_id,
                            start_at=start,
                            end_at=start + step,
                            local_date=day,
                            local_minute=start.hour * 60 + start.minute,
                        )
                    )
                    created += 1
                start += step
        day += timedelta(days=1)
    await session.flush()
    return created
