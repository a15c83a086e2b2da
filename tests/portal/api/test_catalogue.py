"""The catalogue over HTTP: searchSlots filters, ordering and paging, the list operations.

Every test runs against the real app on SQLite and on PostgreSQL with the seeded demo network.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse

from portal.demo_data import PHYSICIANS
from tests.conftest import Api

ZONE = ZoneInfo("Europe/Warsaw")
SLOTS = "/api/v1/slots"


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    assert body["status"] == status
    return body


async def search(api: Api, **query: Any) -> dict[str, Any]:
    """One page of searchSlots."""
    response = await api.client.get(SLOTS, params={k: str(v) for k, v in query.items()})
    assert response.status == 200, await response.text()
    page: dict[str, Any] = await response.json()
    return page


async def search_all(api: Api, **query: Any) -> list[dict[str, Any]]:
    """Every slot matching ``query``, paging through with the largest page size."""
    found: list[dict[str, Any]] = []
    while True:
        page = await search(api, **query, limit=100, offset=len(found))
        found.extend(page["items"])
        if not page["has_more"]:
            return found


async def physician_id(api: Api, code: str = PHYSICIANS[0].code) -> str:
    """The id of the demo physician ``code`` as listPhysicians reports it."""
    wanted = next(p for p in PHYSICIANS if p.code == code)
    response = await api.client.get("/api/v1/physicians")
    for item in (await response.json())["items"]:
        if (item["first_name"], item["last_name"]) == (wanted.first_name, wanted.last_name):
            return str(item["id"])
    raise AssertionError(f"{wanted.code} is not listed")


def local(item: dict[str, Any]) -> datetime:
    """The start of a slot in clinic-local time."""
    start = datetime.fromisoformat(item["start"])
    assert start.utcoffset() is not None
    return start.astimezone(ZONE)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["id"]) for item in items]


# -- searchSlots filters --------------------------------------------------------------------


async def test_service_filter_by_code_and_by_id(api: Api) -> None:
    services = (await (await api.client.get("/api/v1/services")).json())["items"]
    service = next(s for s in services if s["code"] == "cardiology-visit")
    by_code = await search_all(api, service="cardiology-visit")
    by_id = await search_all(api, service=service["id"])
    assert by_code, "the demo network offers cardiology visits"
    assert ids(by_code) == ids(by_id)
    assert {item["service"]["code"] for item in by_code} == {"cardiology-visit"}
    assert {item["service"]["id"] for item in by_code} == {service["id"]}
    unknown = await search(api, service="no-such-service")
    assert unknown["items"] == []


async def test_service_type_filter(api: Api) -> None:
    items = (await search(api, service_type="examination", limit=100))["items"]
    assert items
    assert {item["service"]["type"] for item in items} == {"examination"}
    remote = (await search(api, service_type="telephone_consultation", limit=100))["items"]
    assert remote
    assert {item["service"]["type"] for item in remote} == {"telephone_consultation"}
    assert all(item["clinic"] is None for item in remote)


async def test_specialty_filter(api: Api) -> None:
    items = await search_all(api, specialty="cardiology")
    assert {item["service"]["code"] for item in items} == {
        "cardiology-visit",
        "cardiology-phone",
        "cardiology-online",
    }
    online = await search_all(api, specialty="cardiology", service_type="online_consultation")
    assert online
    assert {item["service"]["code"] for item in online} == {"cardiology-online"}


async def test_physician_filter(api: Api) -> None:
    anna = await physician_id(api)
    items = await search_all(api, physician_id=anna)
    assert items
    assert {item["physician"]["id"] for item in items} == {anna}
    assert {item["physician"]["name"] for item in items} == {"dr n. med. Anna Kowalska"}


@pytest.mark.parametrize("spelling", ["Łódź", "łódź", "ŁÓDŹ", " Łódź "])
async def test_city_filter_ignores_case_of_polish_letters(api: Api, spelling: str) -> None:
    items = await search_all(api, city=spelling)
    assert items, f"no slots found in {spelling!r}"
    assert {item["clinic"]["city"] for item in items} == {"Łódź"}


async def test_city_filter_leaves_out_other_cities_and_remote_slots(api: Api) -> None:
    items = await search_all(api, city="Kraków", service_type="in_person_visit")
    assert items
    assert {item["clinic"]["city"] for item in items} == {"Kraków"}
    assert (await search(api, city="Kraków", service_type="telephone_consultation"))["items"] == []


async def test_date_filters_use_clinic_local_dates(api: Api) -> None:
    anna = await physician_id(api)
    everything = await search_all(api, physician_id=anna)
    days = sorted({local(item).date() for item in everything})
    assert len(days) >= 10
    first, last = days[2], days[6]
    window = await search_all(api, physician_id=anna, date_from=first, date_to=last)
    expected = [item for item in everything if first <= local(item).date() <= last]
    assert ids(window) == ids(expected)
    single = await search_all(api, physician_id=anna, date_from=first, date_to=first)
    assert single
    assert {local(item).date() for item in single} == {first}
    from_only = await search_all(api, physician_id=anna, date_from=last)
    assert ids(from_only) == ids([i for i in everything if local(i).date() >= last])
    to_only = await search_all(api, physician_id=anna, date_to=first)
    assert ids(to_only) == ids([i for i in everything if local(i).date() <= first])


@pytest.mark.parametrize(
    ("part", "hours"),
    [("morning", range(0, 12)), ("afternoon", range(12, 17)), ("evening", range(17, 24))],
)
async def test_time_of_day_checks_the_local_hour(api: Api, part: str, hours: range) -> None:
    items = (await search(api, time_of_day=part, limit=100))["items"]
    assert items, f"no {part} slots"
    assert all(local(item).hour in hours for item in items), [i["start"] for i in items]
    # Exactly the physician's slots in that part of the day, none lost or added.
    mazur = await physician_id(api, "andrzej-mazur")
    everything = await search_all(api, physician_id=mazur)
    chosen = await search_all(api, physician_id=mazur, time_of_day=part)
    assert chosen
    assert ids(chosen) == ids([i for i in everything if local(i).hour in hours])


def minute_of_day(item: dict[str, Any]) -> int:
    start = local(item)
    return start.hour * 60 + start.minute


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [
        ({"time_from": "15:00"}, 15 * 60, 24 * 60),
        ({"time_to": "10:00"}, 0, 10 * 60),
        ({"time_from": "09:30", "time_to": "11:15"}, 9 * 60 + 30, 11 * 60 + 15),
        ({"time_from": "10:00", "time_of_day": "morning"}, 10 * 60, 12 * 60),
    ],
)
async def test_clock_bounds_check_the_local_start_of_slots(
    api: Api, query: dict[str, str], low: int, high: int
) -> None:
    mazur = await physician_id(api, "andrzej-mazur")
    everything = await search_all(api, physician_id=mazur)
    chosen = await search_all(api, physician_id=mazur, **query)
    assert chosen, query
    # time_from is inclusive, time_to exclusive; nothing inside the bounds is lost.
    assert ids(chosen) == ids([i for i in everything if low <= minute_of_day(i) < high])
    assert len(chosen) < len(everything)


async def test_a_slot_at_time_to_is_left_out_and_one_at_time_from_is_kept(api: Api) -> None:
    mazur = await physician_id(api, "andrzej-mazur")
    everything = await search_all(api, physician_id=mazur)
    start = local(everything[3])
    clock = start.strftime("%H:%M")
    day = start.date().isoformat()
    at = await search_all(api, physician_id=mazur, date_from=day, date_to=day, time_from=clock)
    before = await search_all(api, physician_id=mazur, date_from=day, date_to=day, time_to=clock)
    assert everything[3]["id"] in ids(at)
    assert everything[3]["id"] not in ids(before)
    assert all(local(i) < start for i in before)


@pytest.mark.parametrize("weekdays", ["1", "1,3", "6,7", "2,4,5"])
async def test_exclude_weekdays_leaves_out_slots_on_those_days(api: Api, weekdays: str) -> None:
    anna = await physician_id(api)
    everything = await search_all(api, physician_id=anna)
    left_out = {int(day) for day in weekdays.split(",")}
    expected = [i for i in everything if local(i).isoweekday() not in left_out]
    chosen = await search_all(api, physician_id=anna, exclude_weekdays=weekdays)
    assert chosen
    assert ids(chosen) == ids(expected)
    assert {local(i).isoweekday() for i in chosen}.isdisjoint(left_out)


async def test_slot_search_clock_and_weekday_parameters_are_documented(api: Api) -> None:
    document = await (await api.client.get("/api/v1/openapi.json")).json()
    search_op = document["paths"]["/api/v1/slots"]["get"]
    assert search_op["operationId"] == "searchSlots"
    parameters = {p["name"]: p for p in search_op["parameters"]}
    for name in ("time_from", "time_to", "exclude_weekdays"):
        assert parameters[name]["in"] == "query"
        assert parameters[name]["required"] is False
        assert parameters[name]["schema"]["description"]
    for name in ("service", "date_from", "date_to", "time_of_day", "limit", "offset"):
        assert name in parameters


async def test_language_filter_matches_list_physicians(api: Api) -> None:
    response = await api.client.get("/api/v1/physicians", params={"language": "de"})
    speakers = {p["id"] for p in (await response.json())["items"]}
    assert len(speakers) == 2
    items = await search_all(api, language="de", service_type="in_person_visit")
    assert items
    assert {item["physician"]["id"] for item in items} == speakers
    french = await search_all(api, language="FR")
    response = await api.client.get("/api/v1/physicians", params={"language": "fr"})
    (piotrowska,) = (await response.json())["items"]
    assert ids(french) == ids(await search_all(api, physician_id=piotrowska["id"]))
    assert (await search(api, language="xx"))["items"] == []


async def test_results_are_ordered_by_time_across_pages(api: Api) -> None:
    first = await search(api, limit=100)
    second = await search(api, limit=100, offset=100)
    starts = [datetime.fromisoformat(i["start"]) for i in first["items"] + second["items"]]
    assert len(starts) == 200
    assert starts == sorted(starts)


async def test_paging_has_no_overlaps_and_ends(api: Api) -> None:
    anna = await physician_id(api)
    everything = await search_all(api, physician_id=anna, service_type="in_person_visit")
    day = sorted({local(item).date() for item in everything})[3]
    query = {"physician_id": anna, "date_from": day, "date_to": day}
    whole = await search(api, **query, limit=100)
    total = len(whole["items"])
    assert total > 10
    assert whole["has_more"] is False
    pages = []
    offset = 0
    while True:
        page = await search(api, **query, limit=7, offset=offset)
        assert page["limit"] == 7
        assert page["offset"] == offset
        pages.append(page)
        offset += 7
        if not page["has_more"]:
            break
    assert len(pages) == math.ceil(total / 7)
    assert all(len(p["items"]) == 7 for p in pages[:-1])
    assert all(p["has_more"] for p in pages[:-1])
    seen = [slot_id for p in pages for slot_id in ids(p["items"])]
    assert len(seen) == len(set(seen))
    assert seen == ids(whole["items"])
    beyond = await search(api, **query, limit=7, offset=total)
    assert beyond["items"] == []
    assert beyond["has_more"] is False


async def test_booked_slot_disappears_from_results(api: Api) -> None:
    anna = await physician_id(api)
    tomorrow = (datetime.now(ZONE) + timedelta(days=7)).date()
    before = await search_all(api, physician_id=anna, date_from=tomorrow)
    slot = before[5]
    user = await api.register()
    response = await api.book(user, slot["id"])
    assert response.status == 201, await response.text()
    after = await search_all(api, physician_id=anna, date_from=tomorrow)
    assert ids(after) == [i for i in ids(before) if i != slot["id"]]


# -- searchSlots: wrong input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"date_from": "2026-12-10", "date_to": "2026-12-01"}, "date_from", "date_range"),
        ({"date_from": "10-12-2026"}, "date_from", "iso_date_format"),
        ({"date_to": "2026-13-01"}, "date_to", "iso_date_format"),
        ({"limit": "0"}, "limit", "invalid_value"),
        ({"limit": "101"}, "limit", "invalid_value"),
        ({"offset": "-1"}, "offset", "invalid_value"),
        ({"time_of_day": "night"}, "time_of_day", "invalid_value"),
        ({"time_from": "25:00"}, "time_from", "invalid_value"),
        ({"time_from": "3pm"}, "time_from", "invalid_value"),
        ({"time_from": "9:00"}, "time_from", "invalid_value"),
        ({"time_to": "10:00:00"}, "time_to", "invalid_value"),
        ({"time_from": "15:00", "time_to": "10:00"}, "time_to", "invalid_value"),
        ({"time_from": "10:00", "time_to": "10:00"}, "time_to", "invalid_value"),
        ({"exclude_weekdays": "0"}, "exclude_weekdays", "invalid_value"),
        ({"exclude_weekdays": "8"}, "exclude_weekdays", "invalid_value"),
        ({"exclude_weekdays": "mon"}, "exclude_weekdays", "invalid_value"),
        ({"exclude_weekdays": "1,,2"}, "exclude_weekdays", "invalid_value"),
        ({"service_type": "surgery"}, "service_type", "invalid_value"),
        ({"physician_id": "not-a-uuid"}, "physician_id", "invalid_value"),
        ({"colour": "blue"}, "colour", "unknown_field"),
    ],
)
async def test_search_rejects_wrong_input(
    api: Api, query: dict[str, str], field: str, code: str
) -> None:
    response = await api.client.get(SLOTS, params=query, headers={"Accept-Language": "en"})
    body = await problem(response, 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert body["errors"][0]["message"]


# -- the lists ------------------------------------------------------------------------------


async def test_list_services_filters_and_rules(api: Api) -> None:
    response = await api.client.get("/api/v1/services", params={"type": "rehabilitation"})
    rehab = (await response.json())["items"]
    assert {s["code"] for s in rehab} == {"rehab-physio", "rehab-kinesiotherapy", "rehab-massage"}
    assert all(s["requires_referral"] and s["required_access"] == "full" for s in rehab)
    response = await api.client.get("/api/v1/services", params={"specialty": "cardiology"})
    cardiology = {s["code"]: s for s in (await response.json())["items"]}
    assert set(cardiology) == {"cardiology-visit", "cardiology-phone", "cardiology-online"}
    assert cardiology["cardiology-online"]["required_access"] == "full"
    assert cardiology["cardiology-visit"]["required_access"] == "basic"
    response = await api.client.get(
        "/api/v1/services", params={"type": "online_consultation", "specialty": "cardiology"}
    )
    assert [s["code"] for s in (await response.json())["items"]] == ["cardiology-online"]
    await problem(
        await api.client.get("/api/v1/services", params={"type": "x"}), 422, "invalid_input"
    )


async def test_list_physicians_filters(api: Api) -> None:
    async def names(**query: str) -> set[str]:
        response = await api.client.get("/api/v1/physicians", params=query)
        assert response.status == 200
        return {p["last_name"] for p in (await response.json())["items"]}

    assert await names(specialty="cardiology") == {"Mazur", "Krawczyk"}
    assert await names(language="fr") == {"Piotrowska"}
    assert await names(language="uk") == {"Szewczenko"}
    assert await names(specialty="cardiology", language="de") == {"Mazur"}
    assert await names(specialty="cardiology", city="Kraków") == {"Krawczyk"}
    assert await names(specialty="internal-medicine", city="łódź") == set()
    assert await names(specialty="family-medicine", city="ŁÓDŹ") == {"Szewczenko"}
    everyone = await names()
    assert len(everyone) == len({p.last_name for p in PHYSICIANS})


async def test_list_clinics_by_city(api: Api) -> None:
    async def codes(**query: str) -> list[str]:
        response = await api.client.get("/api/v1/clinics", params=query)
        assert response.status == 200
        return [c["code"] for c in (await response.json())["items"]]

    assert sorted(await codes(city="Warszawa")) == ["waw-pulawska", "waw-ursynow", "waw-zlota"]
    assert await codes(city="warszawa") == await codes(city="Warszawa")
    assert await codes(city="Łódź") == ["lod-piotrkowska"]
    assert await codes(city="łódź") == ["lod-piotrkowska"]
    assert await codes(city="Radom") == []
    assert len(await codes()) == 9


@pytest.mark.parametrize(
    ("language", "service_name", "specialty_name", "physician_noun"),
    [
        ("en", "In-person visit with a cardiologist", "cardiology", "cardiologist"),
        ("pl", "Wizyta u kardiologa", "kardiologia", "kardiolog"),
        ("en-GB,pl;q=0.5", "In-person visit with a cardiologist", "cardiology", "cardiologist"),
        ("de", "Wizyta u kardiologa", "kardiologia", "kardiolog"),
    ],
)
async def test_names_follow_accept_language(
    api: Api, language: str, service_name: str, specialty_name: str, physician_noun: str
) -> None:
    headers = {"Accept-Language": language}
    response = await api.client.get(
        "/api/v1/services", params={"specialty": "cardiology"}, headers=headers
    )
    visit = next(s for s in (await response.json())["items"] if s["code"] == "cardiology-visit")
    assert visit["name"] == service_name
    response = await api.client.get("/api/v1/specialties", headers=headers)
    cardiology = next(s for s in (await response.json())["items"] if s["code"] == "cardiology")
    assert (cardiology["name"], cardiology["physician"]) == (specialty_name, physician_noun)
    response = await api.client.get(
        "/api/v1/physicians", params={"specialty": "cardiology"}, headers=headers
    )
    mazur = next(p for p in (await response.json())["items"] if p["last_name"] == "Mazur")
    assert [s["name"] for s in mazur["specialties"]] == [specialty_name]
    response = await api.client.get(
        SLOTS, params={"service": "cardiology-visit", "limit": "3"}, headers=headers
    )
    assert {s["service"]["name"] for s in (await response.json())["items"]} == {service_name}


async def test_problem_titles_follow_accept_language(api: Api) -> None:
    query = {"date_from": "2026-12-10", "date_to": "2026-12-01"}
    english = await problem(
        await api.client.get(SLOTS, params=query, headers={"Accept-Language": "en"}),
        422,
        "invalid_input",
    )
    polish = await problem(await api.client.get(SLOTS, params=query), 422, "invalid_input")
    assert english["errors"][0]["message"] == "The start date must come before the end date."
    assert polish["errors"][0]["message"] == "Data początkowa musi poprzedzać końcową."
