"""Slot generation keeps the schedule's wall-clock time across the daylight-saving changes.

Poland changes clocks on the last Sunday of March (CET +01:00 to CEST +02:00) and of October
(back again). A block starting at 08:00 local must yield slots at 08:00 local on both sides, so
their UTC instants differ by an hour. Runs on a copy of the seeded database, on SQLite and
PostgreSQL; the seed holds slots for four weeks from today only, so these days start empty.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.models import Practitioner, Service, Slot
from portal.schedules import generate_slots

ZONE = ZoneInfo("Europe/Warsaw")


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of ``month``: the day the clocks change in the EU."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def dst_change(after: date) -> date:
    """The first change of the clocks after ``after`` (either direction)."""
    candidates = [
        last_sunday(year, month)
        for year in (after.year, after.year + 1)
        for month in (3, 10)
        if last_sunday(year, month) > after
    ]
    return min(candidates)


def test_last_sunday_helper() -> None:
    assert last_sunday(2026, 10) == date(2026, 10, 25)
    assert last_sunday(2027, 3) == date(2027, 3, 28)
    assert last_sunday(2027, 10) == date(2027, 10, 31)


@pytest.mark.parametrize("nth_change", [0, 1], ids=["next-change", "the-one-after"])
async def test_eight_oclock_stays_eight_oclock(database_url: str, nth_change: int) -> None:
    # Past the seeded four weeks, so that every slot around the change is made here.
    change = dst_change(datetime.now(UTC).date() + timedelta(days=35))
    for _ in range(nth_change):
        change = dst_change(change)
    friday, monday = change - timedelta(days=2), change + timedelta(days=1)
    offsets = {ZONE.utcoffset(datetime.combine(d, time(8))) for d in (friday, monday)}
    assert len(offsets) == 2, "the two days must straddle a change of the clocks"

    db = Database(database_url)
    try:
        async with db.write() as session:
            created = await generate_slots(session, friday, monday, "Europe/Warsaw")
        assert created > 0
        async with db.read() as session:
            demo = await session.scalar(
                select(Practitioner.id).where(Practitioner.code == PHYSICIANS[0].code)
            )
            visit = await session.scalar(
                select(Service.id).where(Service.code == "internal-medicine-visit")
            )
            rows = list(
                await session.scalars(
                    select(Slot)
                    .where(Slot.practitioner_id == demo, Slot.service_id == visit)
                    .where(Slot.local_date.in_([friday, monday]))
                    .order_by(Slot.start_at)
                )
            )
            every = list(
                await session.scalars(
                    select(Slot).where(Slot.local_date >= friday, Slot.local_date <= monday)
                )
            )
        # The demo physician sees patients 08:00-12:00 on weekdays, 15-minute visits.
        expected = [time(8 + m // 60, m % 60) for m in range(0, 240, 15)]
        for day in (friday, monday):
            ours = [slot for slot in rows if slot.local_date == day]
            assert [slot.start_at.astimezone(ZONE).time() for slot in ours] == expected
            assert [slot.local_minute for slot in ours] == [480 + 15 * i for i in range(16)]
            assert {slot.start_at.astimezone(ZONE).date() for slot in ours} == {day}
            assert all(slot.end_at - slot.start_at == timedelta(minutes=15) for slot in ours)
        first_utc = {
            slot.local_date: slot.start_at.astimezone(UTC).time()
            for slot in reversed(rows)  # the earliest of each day wins
        }
        # 08:00 local is 07:00 UTC in winter (CET) and 06:00 UTC in summer (CEST).
        assert {first_utc[friday], first_utc[monday]} == {time(6), time(7)}
        for slot in every:
            start = slot.start_at.astimezone(ZONE)
            assert slot.local_date == start.date()
            assert slot.local_minute == start.hour * 60 + start.minute

        # A second run over the same days, and one overlapping them, creates nothing new there.
        async with db.write() as session:
            assert await generate_slots(session, friday, monday, "Europe/Warsaw") == 0
        async with db.write() as session:
            widened = await generate_slots(
                session, friday - timedelta(days=1), monday, "Europe/Warsaw"
            )
        async with db.read() as session:
            total = await session.scalar(
                select(func.count())
                .select_from(Slot)
                .where(Slot.local_date >= friday, Slot.local_date <= monday)
            )
            thursday = await session.scalar(
                select(func.count())
                .select_from(Slot)
                .where(Slot.local_date == friday - timedelta(days=1))
            )
        assert total == len(every)
        assert widened == thursday
    finally:
        await db.close()
