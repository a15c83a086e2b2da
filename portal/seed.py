"""Demo data: the clinic network, four weeks of slots, and the three demo logins."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import demo_data
from portal.models import (
    AccessLevel,
    Account,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    BookingSource,
    Clinic,
    Consent,
    ConsentKind,
    DiagnosticReport,
    Instruction,
    MedicationRequest,
    Patient,
    Practitioner,
    PractitionerSpecialty,
    PrescriptionStatus,
    Question,
    QuestionStatus,
    Referral,
    ReferralStatus,
    Role,
    Schedule,
    Service,
    ServiceType,
    Sex,
    Slot,
    Specialty,
)
from portal.pesel import make_pesel
from portal.records import ResultValue
from portal.schedules import generate_slots
from portal.services import Portal

SLOT_DAYS = 28
DEMO_LOGINS = ("demo.patient", "demo.physician", "demo.reception")


@dataclass(frozen=True)
class SeedReport:
    """What seeding did."""

    seeded: bool
    """False when the database already held accounts and was left alone."""
    slots_created: int
    logins: tuple[str, ...] = DEMO_LOGINS


async def seed_demo(portal: Portal, demo_password: str) -> SeedReport:
    """Fill an empty database with the demo clinic network; a non-empty one is left alone."""
    async with portal.db.write() as session:
        if await session.scalar(select(func.count(Account.id))):
            return SeedReport(seeded=False, slots_created=0)
        ids = await _catalogue(session)
        today = _today(portal)
        created = await generate_slots(
            session, today, today + timedelta(days=SLOT_DAYS - 1), portal.config.timezone
        )
    password_hash = await portal.passwords.hash(demo_password)
    async with portal.db.write() as session:
        await _people(session, portal, ids, password_hash)
    return SeedReport(seeded=True, slots_created=created)


async def extend_slots(portal: Portal) -> int:
    """Keep ``SLOT_DAYS`` days of slots ahead of today (run at every start)."""
    today = _today(portal)
    async with portal.db.write() as session:
        return await generate_slots(
            session, today, today + timedelta(days=SLOT_DAYS - 1), portal.config.timezone
        )


def random_password() -> str:
    """A demo password for when ``DEMO_PASSWORD`` is not set (printed once by the CLI)."""
    return secrets.token_urlsafe(12)


def _today(portal: Portal) -> date:
    return portal.clock.now().astimezone(ZoneInfo(portal.config.timezone)).date()


async def _catalogue(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Insert clinics, specialties, services, practitioners and schedules; return ids by code."""
    ids: dict[str, uuid.UUID] = {}
    for c in demo_data.CLINICS:
        clinic = Clinic(id=uuid.uuid4(), code=c.code, name=c.name, city=c.city, address=c.address)
        session.add(clinic)
        ids[f"clinic:{c.code}"] = clinic.id
    for s in demo_data.SPECIALTIES:
        specialty = Specialty(
            id=uuid.uuid4(),
            code=s.code,
            name_pl=s.name_pl,
            name_en=s.name_en,
            physician_pl=s.physician_pl,
            physician_en=s.physician_en,
        )
        session.add(specialty)
        ids[f"specialty:{s.code}"] = specialty.id
    await session.flush()
    durations: dict[str, int] = {}
    for v in demo_data.SERVICES:
        service = Service(
            id=uuid.uuid4(),
            code=v.code,
            name_pl=v.name_pl,
            name_en=v.name_en,
            type=ServiceType(v.type),
            specialty_id=ids[f"specialty:{v.specialty}"] if v.specialty else None,
            duration_minutes=v.duration_minutes,
            required_access=AccessLevel(v.required_access),
            requires_referral=v.requires_referral,
        )
        session.add(service)
        ids[f"service:{v.code}"] = service.id
        durations[v.code] = v.duration_minutes
    for p in demo_data.PHYSICIANS:
        practitioner = Practitioner(
            id=uuid.uuid4(),
            code=p.code,
            title=p.title,
            first_name=p.first_name,
            last_name=p.last_name,
            sex=Sex(p.sex),
            languages=list(p.languages),
        )
        session.add(practitioner)
        ids[f"practitioner:{p.code}"] = practitioner.id
    await session.flush()
    for p in demo_data.PHYSICIANS:
        for code in p.specialties:
            session.add(
                PractitionerSpecialty(
                    practitioner_id=ids[f"practitioner:{p.code}"],
                    specialty_id=ids[f"specialty:{code}"],
                )
            )
        for block in p.schedule:
            # A block offering several services is split into equal consecutive parts, one
            # per service, so that every slot is for exactly one service.
            start = datetime.combine(date(2000, 1, 3), block.start)
            end = datetime.combine(date(2000, 1, 3), block.end)
            part = (end - start) / len(block.services)
            for index, code in enumerate(block.services):
                part_start = start + part * index
                session.add(
                    Schedule(
                        practitioner_id=ids[f"practitioner:{p.code}"],
                        clinic_id=ids[f"clinic:{block.clinic}"] if block.clinic else None,
                        service_id=ids[f"service:{code}"],
                        weekday=block.weekday,
                        start_time=part_start.time(),
                        end_time=(part_start + part).time(),
                    )
                )
    await session.flush()
    return ids


async def _people(
    session: AsyncSession, portal: Portal, ids: dict[str, uuid.UUID], password_hash: str
) -> None:
    now = portal.clock.now()
    today = _today(portal)
    patient = Patient(
        id=uuid.uuid4(),
        first_name="Jan",
        last_name="Nowicki",
        birth_date=date(1985, 3, 14),
        sex=Sex.MALE,
        pesel=make_pesel(date(1985, 3, 14), "male", 417),
        created_at=now,
    )
    child = Patient(
        id=uuid.uuid4(),
        first_name="Zofia",
        last_name="Nowicka",
        birth_date=date(2017, 9, 2),
        sex=Sex.FEMALE,
        pesel=make_pesel(date(2017, 9, 2), "female", 128),
        guardian_id=patient.id,
        created_at=now,
    )
    session.add(patient)
    await session.flush()
    session.add(child)
    demo_physician = demo_data.PHYSICIANS[0]
    accounts = [
        Account(
            id=uuid.uuid4(),
            login="demo.patient",
            login_key="demo.patient",
            password_hash=password_hash,
            role=Role.PATIENT,
            email="demo.patient@example.com",
            phone="+48600100200",
            access_level=AccessLevel.FULL,
            full_access_at=now,
            full_access_source="online",
            patient_id=patient.id,
            created_at=now,
            password_changed_at=now,
        ),
        Account(
            id=uuid.uuid4(),
            login="demo.physician",
            login_key="demo.physician",
            password_hash=password_hash,
            role=Role.PHYSICIAN,
            email="demo.physician@example.com",
            access_level=AccessLevel.FULL,
            practitioner_id=ids[f"practitioner:{demo_physician.code}"],
            created_at=now,
            password_changed_at=now,
        ),
        Account(
            id=uuid.uuid4(),
            login="demo.reception",
            login_key="demo.reception",
            password_hash=password_hash,
            role=Role.RECEPTION,
            email="demo.reception@example.com",
            access_level=AccessLevel.FULL,
            created_at=now,
            password_changed_at=now,
        ),
    ]
    session.add_all(accounts)
    await session.flush()
    patient_account = accounts[0]
    session.add(
        Consent(
            account_id=patient_account.id,
            kind=ConsentKind.TERMS_OF_SERVICE,
            version=portal.config.terms_version,
            accepted_at=now,
            source="online",
        )
    )
    # A rehabilitation referral, so the demo can book physiotherapy.
    session.add(
        Referral(
            patient_id=patient.id,
            issued_by_practitioner_id=ids[f"practitioner:{demo_physician.code}"],
            service_type=ServiceType.REHABILITATION,
            reason="Przewlekły ból odcinka lędźwiowego kręgosłupa; fizjoterapia 10 zabiegów.",
            issued_at=now - timedelta(days=3),
            valid_until=today + timedelta(days=90),
            status=ReferralStatus.ISSUED,
        )
    )
    await _history(session, portal, ids, patient, patient_account)
    # One upcoming visit with the demo physician, booked through the portal.
    slot = await session.scalar(
        select(Slot)
        .join(Service, Service.id == Slot.service_id)
        .where(
            Slot.practitioner_id == ids[f"practitioner:{demo_physician.code}"],
            Service.type == ServiceType.IN_PERSON_VISIT,
            Slot.local_date >= today + timedelta(days=2),
        )
        .order_by(Slot.start_at)
        .limit(1)
    )
    if slot is not None:
        _book(session, slot, patient.id, patient_account.id, now)


async def _history(
    session: AsyncSession,
    portal: Portal,
    ids: dict[str, uuid.UUID],
    patient: Patient,
    account: Account,
) -> None:
    """Two attended visits with the demo physician and the records they produced."""
    zone = ZoneInfo(portal.config.timezone)
    physician_id = ids[f"practitioner:{demo_data.PHYSICIANS[0].code}"]
    service_id = ids["service:internal-medicine-visit"]
    clinic_id = ids[f"clinic:{demo_data.CLINICS[0].code}"]
    medications = {m.code: m for m in demo_data.MEDICATIONS}
    visits: list[Appointment] = []
    for days_ago in (20, 5):
        day = _today(portal) - timedelta(days=days_ago)
        start = datetime.combine(day, datetime.min.time(), zone).replace(hour=10)
        slot = Slot(
            practitioner_id=physician_id,
            clinic_id=clinic_id,
            service_id=service_id,
            start_at=start,
            end_at=start + timedelta(minutes=15),
            local_date=day,
            local_minute=600,
        )
        session.add(slot)
        await session.flush()
        visit = Appointment(
            id=uuid.uuid4(),
            slot_id=slot.id,
            patient_id=patient.id,
            booked_by_account_id=account.id,
            service_id=service_id,
            practitioner_id=physician_id,
            clinic_id=clinic_id,
            start_at=start,
            end_at=start + timedelta(minutes=15),
            status=AppointmentStatus.COMPLETED,
            source=BookingSource.PORTAL,
            created_at=start - timedelta(days=3),
            updated_at=start + timedelta(minutes=15),
        )
        session.add(visit)
        for status, at in (
            (AppointmentStatus.BOOKED, start - timedelta(days=3)),
            (AppointmentStatus.COMPLETED, start + timedelta(minutes=15)),
        ):
            session.add(
                AppointmentEvent(
                    appointment_id=visit.id,
                    status=status,
                    at=at,
                    by_account_id=account.id,
                    source=BookingSource.PORTAL,
                )
            )
        visits.append(visit)
    await session.flush()
    first, second = visits
    session.add(
        Instruction(
            appointment_id=first.id,
            patient_id=patient.id,
            practitioner_id=physician_id,
            text=(
                "Metformina 500 mg 2 razy dziennie po posiłku. Dieta z ograniczeniem cukrów "
                "prostych, 30 minut ruchu dziennie. Kontrola glikemii na czczo co tydzień; "
                "wizyta kontrolna za 3 miesiące z wynikiem HbA1c."
            ),
            created_at=first.end_at,
        )
    )
    session.add(
        DiagnosticReport(
            patient_id=patient.id,
            appointment_id=first.id,
            test_name="Morfologia krwi z rozmazem",
            values=[
                ResultValue("Hemoglobina (HGB)", "14.8", "g/dl", 13.5, 18.0).as_json(),
                ResultValue("Leukocyty (WBC)", "11.2", "tys/µl", 4.0, 10.0).as_json(),
                ResultValue("Płytki krwi (PLT)", "243", "tys/µl", 150, 400).as_json(),
                ResultValue("Glukoza na czczo", "118", "mg/dl", 70, 99).as_json(),
            ],
            performed_at=first.start_at + timedelta(days=1),
            physician_comment=(
                "Nieznacznie podwyższone leukocyty, prawdopodobnie po niedawnej infekcji; "
                "glikemia na czczo podwyższona - kontynuować leczenie, kontrola za 3 miesiące."
            ),
            commented_by_practitioner_id=physician_id,
            created_by_account_id=account.id,
            created_at=first.start_at + timedelta(days=2),
            released_at=first.start_at + timedelta(days=2),
        )
    )
    for visit, codes in ((first, ("metformax-500", "bisocard-5")), (second, ("euthyrox-n-50",))):
        for code in codes:
            medication = medications[code]
            session.add(
                MedicationRequest(
                    patient_id=patient.id,
                    practitioner_id=physician_id,
                    appointment_id=visit.id,
                    medication_code=medication.code,
                    medication_name=medication.name,
                    substance=medication.substance,
                    form=medication.form,
                    dosage=medication.dosage_pl,
                    prescription_key="".join(str(secrets.randbelow(10)) for _ in range(44)),
                    access_code=f"{secrets.randbelow(10_000):04d}",
                    issued_at=visit.end_at,
                    valid_until=visit.end_at.astimezone(zone).date() + timedelta(days=30),
                    status=PrescriptionStatus.ACTIVE,
                    issuer="local",
                )
            )
    session.add(
        Question(
            appointment_id=first.id,
            patient_id=patient.id,
            practitioner_id=physician_id,
            asked_by_account_id=account.id,
            text="Czy metforminę mogę brać razem z suplementem magnezu?",
            status=QuestionStatus.ANSWERED,
            created_at=first.end_at + timedelta(days=1),
            answer="Tak, można je przyjmować razem; magnez najlepiej wieczorem.",
            answered_at=first.end_at + timedelta(days=2),
        )
    )


async def book_demo_consultation(
    portal: Portal,
    *,
    patient_login: str = "demo.patient",
    physician_login: str = "demo.physician",
    starts_in: timedelta = timedelta(minutes=5),
    service_type: ServiceType = ServiceType.ONLINE_CONSULTATION,
    minutes: int = 20,
    for_child: bool = False,
) -> Appointment:
    """Book a remote consultation between two demo accounts, starting ``starts_in`` from now.

    For trying the consultation room at once (``python -m hub demo-consultation``) and for the
    tests: the room opens 15 minutes before the start, so the default is joinable right away.
    The slot is made for it (outside the weekly schedule), at a minute nobody else holds.
    ``for_child`` books it for the patient's first child (the guardian joins for them).
    """
    now = portal.clock.now()
    zone = ZoneInfo(portal.config.timezone)
    async with portal.db.write() as session:
        patient_account = await session.scalar(
            select(Account).where(Account.login == patient_login)
        )
        physician_account = await session.scalar(
            select(Account).where(Account.login == physician_login)
        )
        if (
            patient_account is None
            or patient_account.patient_id is None
            or physician_account is None
            or physician_account.practitioner_id is None
        ):
            raise LookupError(f"no patient {patient_login!r} or physician {physician_login!r}")
        patient_id: uuid.UUID | None = patient_account.patient_id
        if for_child:
            patient_id = await session.scalar(
                select(Patient.id).where(Patient.guardian_id == patient_account.patient_id).limit(1)
            )
            if patient_id is None:
                raise LookupError(f"{patient_login!r} has no child")
        practitioner = await session.get(Practitioner, physician_account.practitioner_id)
        assert practitioner is not None
        specialty_ids = [specialty.id for specialty in practitioner.specialties]
        service = await session.scalar(
            select(Service)
            .where(Service.type == service_type, Service.specialty_id.in_(specialty_ids))
            .limit(1)
        ) or await session.scalar(select(Service).where(Service.type == service_type).limit(1))
        if service is None:
            raise LookupError(f"no {service_type.value} service in the catalogue")
        start = (now + starts_in).replace(second=0, microsecond=0)
        while await session.scalar(
            select(Slot.id).where(Slot.practitioner_id == practitioner.id, Slot.start_at == start)
        ):
            start += timedelta(minutes=1)
        local = start.astimezone(zone)
        slot = Slot(
            id=uuid.uuid4(),
            schedule_id=None,
            practitioner_id=practitioner.id,
            clinic_id=None,
            service_id=service.id,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            local_date=local.date(),
            local_minute=local.hour * 60 + local.minute,
        )
        session.add(slot)
        await session.flush()  # the slot's row first: the appointment refers to it
        assert patient_id is not None
        appointment = _book(
            session, slot, patient_id, patient_account.id, now, note="demo consultation"
        )
        appointment_id = appointment.id
    async with portal.db.read() as session:
        booked = await session.get(Appointment, appointment_id)
    assert booked is not None
    return booked


def _book(
    session: AsyncSession,
    slot: Slot,
    patient_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
    note: str | None = None,
) -> Appointment:
    """Add a booked appointment in ``slot`` and its first status change (demo data only)."""
    appointment = Appointment(
        id=uuid.uuid4(),
        slot_id=slot.id,
        patient_id=patient_id,
        booked_by_account_id=account_id,
        service_id=slot.service_id,
        practitioner_id=slot.practitioner_id,
        clinic_id=slot.clinic_id,
        start_at=slot.start_at,
        end_at=slot.end_at,
        status=AppointmentStatus.BOOKED,
        source=BookingSource.PORTAL,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    session.add(
        AppointmentEvent(
            appointment_id=appointment.id,
            status=AppointmentStatus.BOOKED,
            at=now,
            by_account_id=account_id,
            source=BookingSource.PORTAL,
            note=note,
        )
    )
    return appointment
