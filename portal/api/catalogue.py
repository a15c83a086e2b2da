"""REST operations of the catalogue: clinics, specialties, services, physicians, free slots."""

from __future__ import annotations

from portal.i18n import Language
from portal.services import Portal

from .framework import Router
from .schemas import (
    ClinicList,
    ClinicOut,
    ClinicsQuery,
    PhysicianList,
    PhysicianOut,
    PhysiciansQuery,
    ServiceList,
    ServiceOut,
    ServicesQuery,
    SlotOut,
    SlotPageOut,
    SlotSearchQuery,
    SpecialtyList,
    SpecialtyOut,
)

router = Router("catalogue")


@router.operation(
    "GET", "/clinics", "listClinics", summary="Clinics of the network.", authenticated=False
)
async def list_clinics(portal: Portal, query: ClinicsQuery) -> ClinicList:
    clinics = await portal.catalogue.list_clinics(query.city)
    return ClinicList(items=[ClinicOut.of(c) for c in clinics])


@router.operation(
    "GET", "/specialties", "listSpecialties", summary="Medical specialties.", authenticated=False
)
async def list_specialties(portal: Portal, language: Language) -> SpecialtyList:
    specialties = await portal.catalogue.list_specialties()
    return SpecialtyList(items=[SpecialtyOut.of(s, language) for s in specialties])


@router.operation(
    "GET",
    "/services",
    "listServices",
    summary="Bookable services with their access level and referral rules.",
    authenticated=False,
    problems=(422,),
)
async def list_services(portal: Portal, query: ServicesQuery, language: Language) -> ServiceList:
    services = await portal.catalogue.list_services(query.type, query.specialty)
    return ServiceList(items=[ServiceOut.of(s, language) for s in services])


@router.operation(
    "GET",
    "/physicians",
    "listPhysicians",
    summary="Physicians by specialty, city and language spoken.",
    authenticated=False,
    problems=(422,),
)
async def list_physicians(
    portal: Portal, query: PhysiciansQuery, language: Language
) -> PhysicianList:
    found = await portal.catalogue.list_physicians(query.specialty, query.city, query.language)
    return PhysicianList(items=[PhysicianOut.of(p, language) for p in found])


@router.operation(
    "GET",
    "/slots",
    "searchSlots",
    summary="Free slots by service, specialty, physician, city, dates, time of day, clock "
    "times, weekdays, language.",
    authenticated=False,
    problems=(422,),
)
async def search_slots(portal: Portal, query: SlotSearchQuery, language: Language) -> SlotPageOut:
    page = await portal.catalogue.search_slots(query.slot_query())
    return SlotPageOut(
        items=[SlotOut.of(slot, language) for slot in page.items],
        limit=page.limit,
        offset=page.offset,
        has_more=page.has_more,
    )
