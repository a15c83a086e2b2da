"""Short answers about the patient's records, each with a link to the portal page.

Results are named, never interpreted: the values and their meaning are the physician's to
explain (no medical advice from the assistant).
"""

from __future__ import annotations

from datetime import date, datetime

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import HubClient
from .cancel import appointment_line, upcoming
from .common import with_hub
from .dates import ZONE, format_day
from .texts import SERVICE_TYPE_NAMES, count_of, say

SHOWN = 3
VISITS_SHOWN = 5


def _day(iso: str, language: str) -> str:
    if "T" in iso:
        return format_day(datetime.fromisoformat(iso).astimezone(ZONE).date(), language)
    return format_day(date.fromisoformat(iso), language)


class ActionListAppointments(Action):
    """listAppointments: the next visits, then /visits.html."""

    def name(self) -> str:
        return "action_list_appointments"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        async def work(hub: HubClient, language: str) -> list[EventType]:
            items = await upcoming(hub)
            if not items:
                dispatcher.utter_message(text=say("no_upcoming", language))
                return []
            lines = "\n".join(f"• {appointment_line(i, language)}" for i in items[:VISITS_SHOWN])
            count = count_of(len(items), "upcoming_visit", language)
            more = say("nearest_more", language) if len(items) > VISITS_SHOWN else ""
            dispatcher.utter_message(
                text=say("appointments_list", language, count=count, more=more, items=lines)
            )
            return []

        return await with_hub(dispatcher, tracker, work)


class ActionCheckResults(Action):
    """listResults: how many and which, then /results.html (no values, no interpretation)."""

    def name(self) -> str:
        return "action_check_results"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        async def work(hub: HubClient, language: str) -> list[EventType]:
            items = await hub.list_results()
            if not items:
                dispatcher.utter_message(text=say("results_none", language))
                return []
            items.sort(key=lambda r: r["performed_at"], reverse=True)
            lines = "\n".join(
                f"• {r['test_name']} ({_day(r['performed_at'], language)})" for r in items[:SHOWN]
            )
            count = count_of(len(items), "result", language)
            more = say("latest_more", language) if len(items) > SHOWN else ""
            dispatcher.utter_message(
                text=say("results_list", language, count=count, more=more, items=lines)
            )
            return []

        return await with_hub(dispatcher, tracker, work)


class ActionCheckReferrals(Action):
    """listReferrals: the valid ones, then /referrals.html."""

    def name(self) -> str:
        return "action_check_referrals"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        async def work(hub: HubClient, language: str) -> list[EventType]:
            valid = [r for r in await hub.list_referrals() if r.get("status") == "issued"]
            if not valid:
                dispatcher.utter_message(text=say("referrals_none", language))
                return []
            lines = []
            for referral in valid[:5]:
                target = (referral.get("service") or referral.get("specialty") or {}).get("name")
                kind = referral.get("service_type") or ""
                target = target or SERVICE_TYPE_NAMES.get(kind, {}).get(language, kind)
                until = say("valid_until", language, date=_day(referral["valid_until"], language))
                lines.append(f"• {target} – {until}")
            dispatcher.utter_message(text=say("referrals_list", language, items="\n".join(lines)))
            return []

        return await with_hub(dispatcher, tracker, work)


class ActionCheckInstructions(Action):
    """listInstructions: how many, from whom and when, then /instructions.html."""

    def name(self) -> str:
        return "action_check_instructions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        async def work(hub: HubClient, language: str) -> list[EventType]:
            items = await hub.list_instructions()
            if not items:
                dispatcher.utter_message(text=say("instructions_none", language))
                return []
            items.sort(key=lambda i: i["created_at"], reverse=True)
            lines = "\n".join(
                f"• {_day(i['created_at'], language)} – {i['physician']['name']}"
                for i in items[:SHOWN]
            )
            count = count_of(len(items), "instruction", language)
            more = say("latest_more", language) if len(items) > SHOWN else ""
            dispatcher.utter_message(
                text=say("instructions_list", language, count=count, more=more, items=lines)
            )
            return []

        return await with_hub(dispatcher, tracker, work)
