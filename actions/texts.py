"""Everything the actions say, in Polish and English, and the explanations of hub refusals.

Fixed replies chosen by rules live in ``domain.yml`` as conditional response variations; the
texts here are the ones actions assemble at run time (lists of slots, summaries, refusals).
Polish is the default, as in the portal (``portal/i18n.py``).
"""

from __future__ import annotations

from typing import Any

from .api import HubProblem

Texts = dict[str, dict[str, str]]

TEXTS: Texts = {
    # -- session and errors -----------------------------------------------------------------
    "login_required": {
        "pl": "Żeby to zrobić, musisz być zalogowany w portalu. Zaloguj się: /login.html "
        "i napisz do mnie ponownie – zaczniemy od miejsca, w którym skończyliśmy.",
        "en": "You need to be logged in to the portal for that. Please log in at /login.html "
        "and write to me again – we will pick up where we left off.",
    },
    "hub_unavailable": {
        "pl": "Nie mogę teraz połączyć się z portalem. Spróbuj ponownie za chwilę; "
        "w pilnej sprawie zadzwoń do recepcji.",
        "en": "I cannot reach the portal right now. Please try again in a moment; "
        "if it is urgent, call reception.",
    },
    "fallback_rephrase": {
        "pl": "Przepraszam, nie zrozumiałem. Możesz napisać to inaczej, np. „umów wizytę "
        "u kardiologa”, „odwołaj wizytę” albo „zamów receptę”?",
        "en": "Sorry, I did not understand. Could you put it differently, e.g. “book a "
        "cardiologist”, “cancel my visit” or “renew my prescription”?",
    },
    "fallback_human": {
        "pl": "Nadal nie rozumiem, przepraszam. Mogę przekazać rozmowę pracownikowi recepcji "
        "albo możesz spróbować jeszcze raz.",
        "en": "I still do not understand, sorry. I can pass the conversation to a member of "
        "our reception staff, or you can try once more.",
    },
    "inform_outside": {
        "pl": "Co mam z tym zrobić? Mogę np. umówić wizytę, przełożyć ją lub odwołać albo "
        "zamówić e-receptę.",
        "en": "What should I do with that? I can e.g. book, move or cancel a visit, or renew "
        "an e-prescription.",
    },
    "button_human": {"pl": "Porozmawiaj z człowiekiem", "en": "Talk to a person"},
    "button_help": {"pl": "Co potrafisz?", "en": "What can you do?"},
    "button_yes": {"pl": "Tak", "en": "Yes"},
    "button_no": {"pl": "Nie", "en": "No"},
    "button_continue": {"pl": "Kontynuuj", "en": "Continue"},
    "button_stop": {"pl": "Przerwij", "en": "Stop"},
    "continue_form": {
        "pl": "Dwa razy nie udało mi się zrozumieć odpowiedzi. Kontynuujemy czy przerywamy?",
        "en": "I could not understand the answer twice. Shall we continue or stop?",
    },
    "form_stopped": {
        "pl": "Dobrze, przerwałem. Niczego nie zmieniłem. W czym jeszcze mogę pomóc?",
        "en": "All right, I stopped. Nothing was changed. What else can I do for you?",
    },
    # -- booking form -----------------------------------------------------------------------
    "ask_service_type": {
        "pl": "Jakiej usługi potrzebujesz?",
        "en": "What kind of service do you need?",
    },
    "ask_specialty": {
        "pl": "Do jakiego specjalisty lub lekarza? Np. internista, kardiolog, dermatolog, "
        "pediatra, ginekolog, okulista – albo nazwisko lekarza.",
        "en": "Which specialist or physician? E.g. internist, cardiologist, dermatologist, "
        "paediatrician, gynaecologist, ophthalmologist – or the physician's name.",
    },
    "ask_examination": {
        "pl": "Jakie badanie? Wybierz z listy albo napisz nazwę.",
        "en": "Which examination? Pick one or type its name.",
    },
    "ask_city": {
        "pl": "W którym mieście? Mamy placówki w: {cities}.",
        "en": "In which city? We have clinics in: {cities}.",
    },
    "ask_preferred_date": {
        "pl": "Kiedy Ci pasuje? Napisz np. „jutro o 10”, „w przyszły wtorek rano”, "
        "„15 grudnia” albo „jak najszybciej”.",
        "en": "When would suit you? E.g. “tomorrow at 10”, “next Tuesday morning”, "
        "“15 December” or “as soon as possible”.",
    },
    "ask_patient_choice": {
        "pl": "Dla kogo jest wizyta?",
        "en": "Who is the appointment for?",
    },
    "patient_self": {"pl": "Dla mnie", "en": "For me"},
    "offer_slots": {
        "pl": "Najbliższe wolne terminy ({what}, {when}). Wybierz jeden:",
        "en": "The nearest free slots ({what}, {when}). Pick one:",
    },
    "offer_other_times": {
        "pl": "O tej porze dnia nie ma wolnych terminów. Tego samego dnia są jeszcze:",
        "en": "There is nothing free at that time of day. The same day(s) still have:",
    },
    "offer_other_days": {
        "pl": "W wybranym terminie nie ma wolnych miejsc. Najbliższe inne dni:",
        "en": "Nothing is free on the dates you chose. The nearest other days:",
    },
    "offer_other_cities": {
        "pl": "W mieście {city} nie ma wolnych terminów. Wolne terminy w innych miastach:",
        "en": "Nothing is free in {city}. Free slots in other cities:",
    },
    "offer_other_physicians": {
        "pl": "Ten lekarz nie ma wolnych terminów. Wolne terminy u innych lekarzy tej "
        "specjalności:",
        "en": "This physician has no free slots. Free slots with other physicians of the same "
        "specialty:",
    },
    "no_slots": {
        "pl": "Niestety nie znalazłem żadnego wolnego terminu ({what}) w najbliższych tygodniach, "
        "także w innych dniach i miastach. Zadzwoń do recepcji albo wybierz inną usługę.",
        "en": "Sorry, I found no free slot ({what}) in the coming weeks, not even on other days "
        "or in other cities. Please call reception or choose another service.",
    },
    "slot_hint": {
        "pl": "Wybierz termin przyciskiem (albo napisz jego numer z listy) lub podaj inny dzień.",
        "en": "Pick a slot with a button (or type its number) or tell me another day.",
    },
    "ask_confirmed_booking": {
        "pl": "Potwierdzasz rezerwację? {summary}",
        "en": "Shall I book it? {summary}",
    },
    "booked": {
        "pl": "Gotowe, zarezerwowałem: {summary} Wizytę zobaczysz (i w razie potrzeby odwołasz) "
        "na stronie /visits.html.",
        "en": "Done, I booked: {summary} You will find it (and can cancel it) at /visits.html.",
    },
    "not_booked": {
        "pl": "Dobrze, niczego nie rezerwowałem. Jeśli chcesz, podaj inny termin albo zacznij "
        "od nowa.",
        "en": "All right, I did not book anything. Tell me another date or start again whenever "
        "you like.",
    },
    "remote_place": {"pl": "konsultacja zdalna", "en": "remote consultation"},
    "for_patient": {"pl": "pacjent: {name}", "en": "patient: {name}"},
    # -- hints after an answer the form could not use -----------------------------------------
    "hint_service_type": {
        "pl": "Nie rozpoznałem rodzaju usługi. Wybierz jeden z przycisków.",
        "en": "I did not recognise the kind of service. Please pick one of the buttons.",
    },
    "hint_specialty": {
        "pl": "Nie znam takiej specjalizacji ani lekarza. Napisz np. „kardiolog” albo "
        "„dermatolog”.",
        "en": "I do not know that specialty or physician. Try e.g. “cardiologist” or "
        "“dermatologist”.",
    },
    "hint_examination": {
        "pl": "Nie znam takiego badania. Wybierz je z listy.",
        "en": "I do not know that examination. Please pick it from the list.",
    },
    "hint_city": {
        "pl": "Nie rozpoznałem miasta – mamy placówki tylko w miastach z listy. Wybierz jedno "
        "z nich.",
        "en": "I did not recognise the city – we have clinics only in the cities listed. "
        "Please pick one of them.",
    },
    "hint_preferred_date": {
        "pl": "Nie zrozumiałem daty. Napisz np. „jutro o 10” albo „w piątek po południu”.",
        "en": "I did not understand the date. Try e.g. “tomorrow at 10” or “Friday afternoon”.",
    },
    "date_in_past": {
        "pl": "Ten dzień już minął. Podaj datę od dziś wzwyż.",
        "en": "That day has passed. Please give a date from today on.",
    },
    "hint_patient_choice": {
        "pl": "Nie rozpoznałem osoby. Wybierz siebie albo dziecko z listy.",
        "en": "I did not recognise the person. Pick yourself or a child from the list.",
    },
    "hint_appointment_choice": {
        "pl": "Wybierz wizytę przyciskiem.",
        "en": "Please pick the visit with a button.",
    },
    "hint_prescription_choice": {
        "pl": "Nie znalazłem takiego leku w Twoich receptach. Wybierz go z listy.",
        "en": "I did not find that medication in your prescriptions. Please pick it from the list.",
    },
    "hint_confirmed": {
        "pl": "Odpowiedz „tak” albo „nie”.",
        "en": "Please answer “yes” or “no”.",
    },
    # -- cancel and reschedule --------------------------------------------------------------
    "no_upcoming": {
        "pl": "Nie masz żadnych nadchodzących wizyt. Jeśli chcesz, umówię nową.",
        "en": "You have no upcoming visits. I can book a new one if you like.",
    },
    "ask_appointment_cancel": {
        "pl": "Którą wizytę chcesz odwołać?",
        "en": "Which visit do you want to cancel?",
    },
    "ask_appointment_reschedule": {
        "pl": "Którą wizytę chcesz przełożyć?",
        "en": "Which visit do you want to move?",
    },
    "ask_confirmed_cancel": {
        "pl": "Odwołać wizytę: {summary}?",
        "en": "Cancel this visit: {summary}?",
    },
    "cancelled": {
        "pl": "Odwołałem wizytę: {summary}. Termin jest znowu wolny dla innych pacjentów.",
        "en": "I cancelled the visit: {summary}. The slot is free again for other patients.",
    },
    "not_cancelled": {
        "pl": "Dobrze, wizyta zostaje bez zmian.",
        "en": "All right, the visit stays as it is.",
    },
    "ask_preferred_date_reschedule": {
        "pl": "Na kiedy przełożyć wizytę ({summary})? Np. „w czwartek po południu”.",
        "en": "When should the visit ({summary}) move to? E.g. “Thursday afternoon”.",
    },
    "ask_confirmed_reschedule": {
        "pl": "Przełożyć wizytę {old} na {new}?",
        "en": "Move the visit {old} to {new}?",
    },
    "rescheduled": {
        "pl": "Przełożyłem wizytę. Nowy termin: {summary}. Szczegóły: /visits.html.",
        "en": "I moved the visit. New time: {summary}. Details: /visits.html.",
    },
    "not_rescheduled": {
        "pl": "Dobrze, wizyta zostaje w dotychczasowym terminie.",
        "en": "All right, the visit keeps its current time.",
    },
    # -- prescriptions ----------------------------------------------------------------------
    "no_prescriptions": {
        "pl": "Nie widzę w Twojej historii recept, które można odnowić. Nowy lek przepisze "
        "lekarz na wizycie lub konsultacji – mogę ją umówić.",
        "en": "I see no prescriptions in your history that can be renewed. A new medication is "
        "prescribed at a visit or consultation – I can book one.",
    },
    "ask_prescription_choice": {
        "pl": "Który lek chcesz zamówić ponownie?",
        "en": "Which medication would you like to renew?",
    },
    "ask_confirmed_prescription": {
        "pl": "Wysłać lekarzowi ({physician}) prośbę o receptę na {medication} ({dosage})?",
        "en": "Send {physician} a renewal request for {medication} ({dosage})?",
    },
    "prescription_ordered": {
        "pl": "Wysłałem prośbę o receptę na {medication} do: {physician}. Lekarz ją rozpatrzy; "
        "gdy wystawi e-receptę, jej kod dostępu zobaczysz na stronie /prescriptions.html "
        "(tam też ewentualny powód odmowy).",
        "en": "I sent the renewal request for {medication} to {physician}. The physician will "
        "review it; once the e-prescription is issued you will find its access code at "
        "/prescriptions.html (and the reason, if it is declined).",
    },
    "not_ordered": {
        "pl": "Dobrze, nie wysłałem prośby o receptę.",
        "en": "All right, I did not send the request.",
    },
    "order_pending_mark": {"pl": "czeka na lekarza", "en": "waiting for the physician"},
    # -- records ----------------------------------------------------------------------------
    "appointments_list": {
        "pl": "Twoje nadchodzące wizyty:\n{items}\nWszystkie wizyty: /visits.html",
        "en": "Your upcoming visits:\n{items}\nAll visits: /visits.html",
    },
    "results_list": {
        "pl": "Udostępnione wyniki badań: {count}. Ostatnie:\n{items}\nWyniki z komentarzem "
        "lekarza przeczytasz na stronie /results.html. Nie interpretuję wyników – w razie pytań "
        "zapytaj lekarza.",
        "en": "Released examination results: {count}. The latest:\n{items}\nRead them with "
        "the physician's comment at /results.html. I do not interpret results – please ask "
        "your physician about them.",
    },
    "results_none": {
        "pl": "Nie masz jeszcze udostępnionych wyników badań. Pojawią się na stronie "
        "/results.html.",
        "en": "You have no released examination results yet. They will appear at /results.html.",
    },
    "referrals_list": {
        "pl": "Twoje ważne skierowania:\n{items}\nSzczegóły i kody: /referrals.html",
        "en": "Your valid referrals:\n{items}\nDetails and codes: /referrals.html",
    },
    "referrals_none": {
        "pl": "Nie masz ważnych skierowań. Wszystkie skierowania: /referrals.html",
        "en": "You have no valid referrals. All referrals: /referrals.html",
    },
    "instructions_list": {
        "pl": "Zalecenia po wizytach: {count}. Ostatnie:\n{items}\nPrzeczytasz je na stronie "
        "/instructions.html.",
        "en": "Instructions after visits: {count}. The latest:\n{items}\n"
        "Read them at /instructions.html.",
    },
    "instructions_none": {
        "pl": "Nie masz jeszcze zaleceń po wizytach. Pojawią się na stronie /instructions.html.",
        "en": "You have no instructions after visits yet. They will appear at /instructions.html.",
    },
    "valid_until": {"pl": "ważne do {date}", "en": "valid until {date}"},
}

SERVICE_TYPE_NAMES: Texts = {
    "in_person_visit": {"pl": "Wizyta w placówce", "en": "In-person visit"},
    "telephone_consultation": {"pl": "Konsultacja telefoniczna", "en": "Telephone consultation"},
    "online_consultation": {"pl": "Konsultacja online (wideo/czat)", "en": "Online consultation"},
    "examination": {"pl": "Badanie", "en": "Examination"},
    "occupational_medicine": {"pl": "Medycyna pracy", "en": "Occupational medicine"},
    "rehabilitation": {"pl": "Rehabilitacja", "en": "Rehabilitation"},
}

# Specialty codes of portal/demo_data.py SPECIALTIES, as the patient reads them.
SPECIALTY_NAMES: Texts = {
    "internal-medicine": {"pl": "internista", "en": "internist"},
    "family-medicine": {"pl": "lekarz rodzinny", "en": "family physician"},
    "paediatrics": {"pl": "pediatra", "en": "paediatrician"},
    "cardiology": {"pl": "kardiolog", "en": "cardiologist"},
    "dermatology": {"pl": "dermatolog", "en": "dermatologist"},
    "ent": {"pl": "laryngolog", "en": "ENT specialist"},
    "orthopaedics": {"pl": "ortopeda", "en": "orthopaedist"},
    "gynaecology": {"pl": "ginekolog", "en": "gynaecologist"},
    "neurology": {"pl": "neurolog", "en": "neurologist"},
    "ophthalmology": {"pl": "okulista", "en": "ophthalmologist"},
    "endocrinology": {"pl": "endokrynolog", "en": "endocrinologist"},
    "physiotherapy": {"pl": "fizjoterapeuta", "en": "physiotherapist"},
    "occupational-medicine": {"pl": "medycyna pracy", "en": "occupational medicine"},
}

# Every refusal code the assistant can meet, with the next step (portal/i18n.py MESSAGES has
# the short titles; these say what to do about it).
PROBLEMS: Texts = {
    "authentication_required": TEXTS["login_required"],
    "token_invalid": {
        "pl": "Twoja sesja w portalu wygasła. Zaloguj się ponownie: /login.html i napisz do mnie "
        "jeszcze raz.",
        "en": "Your portal session has expired. Please log in again at /login.html and write to "
        "me once more.",
    },
    "session_expired": {
        "pl": "Twoja sesja wygasła. Zaloguj się ponownie: /login.html.",
        "en": "Your session has expired. Please log in again at /login.html.",
    },
    "full_access_required": {
        "pl": "Ta usługa wymaga pełnego dostępu do portalu, a Twoje konto ma dostęp podstawowy. "
        "Pełny dostęp uzyskasz, akceptując regulamin na stronie /terms.html (albo w recepcji "
        "z dowodem osobistym). Do tego czasu mogę umówić wizytę w placówce lub konsultację "
        "telefoniczną.",
        "en": "This service needs full access to the portal, and your account has basic access. "
        "You get full access by accepting the Terms of Service at /terms.html (or at "
        "reception with an ID). Until then I can book an in-person visit or a telephone "
        "consultation.",
    },
    "full_access_required_records": {
        "pl": "Dokumentacja medyczna (wyniki, zalecenia, skierowania, recepty) jest dostępna przy "
        "pełnym dostępie. Zaakceptuj regulamin na stronie /terms.html albo poproś o to "
        "w recepcji.",
        "en": "Medical records (results, instructions, referrals, prescriptions) need full "
        "access. Accept the Terms of Service at /terms.html or ask at reception.",
    },
    "active_service_limit": {
        "pl": "Konto z dostępem podstawowym może mieć najwyżej 10 aktywnych usług i ten limit "
        "jest wyczerpany. Odwołaj jedną z wizyt (/visits.html) albo uzyskaj pełny dostęp, "
        "akceptując regulamin (/terms.html).",
        "en": "A basic account may hold at most 10 active services and you have reached the "
        "limit. Cancel one of your visits (/visits.html) or get full access by accepting the "
        "Terms of Service (/terms.html).",
    },
    "referral_required": {
        "pl": "Ta usługa wymaga ważnego skierowania od naszego lekarza, a nie widzę takiego "
        "skierowania. Umów najpierw konsultację (np. u internisty) – lekarz oceni, czy "
        "skierowanie jest potrzebne. Twoje skierowania: /referrals.html.",
        "en": "This service needs a valid referral from one of our physicians and I see none. "
        "Book a consultation first (e.g. with an internist) – the physician will decide whether "
        "you need one. Your referrals: /referrals.html.",
    },
    "referral_not_applicable": {
        "pl": "Twoje skierowanie nie obejmuje tej usługi albo straciło ważność. Sprawdź je na "
        "stronie /referrals.html lub umów konsultację.",
        "en": "Your referral does not cover this service or is no longer valid. Check it at "
        "/referrals.html or book a consultation.",
    },
    "cancel_source_forbidden": {
        "pl": "Tę wizytę umówiono w recepcji, więc przy dostępie podstawowym odwołasz ją "
        "telefonicznie lub w recepcji (albo w portalu po uzyskaniu pełnego dostępu: "
        "/terms.html).",
        "en": "This visit was booked at reception, so with basic access it is cancelled by "
        "phone or at reception (or in the portal once you have full access: /terms.html).",
    },
    "slot_taken": {
        "pl": "Ktoś właśnie zajął ten termin. Pokażę inne wolne terminy.",
        "en": "Someone has just taken this slot. I will show you other free slots.",
    },
    "slot_in_past": {
        "pl": "Ten termin już minął. Pokażę aktualne wolne terminy.",
        "en": "This slot is already in the past. I will show you current free slots.",
    },
    "slot_not_found": {
        "pl": "Tego terminu już nie ma w grafiku. Pokażę inne wolne terminy.",
        "en": "This slot is no longer in the schedule. I will show you other free slots.",
    },
    "appointment_not_found": {
        "pl": "Nie znalazłem tej wizyty. Sprawdź listę wizyt na stronie /visits.html.",
        "en": "I could not find that visit. Please check your visits at /visits.html.",
    },
    "appointment_not_active": {
        "pl": "Tej wizyty nie można już zmienić (jest odwołana lub zakończona). Sprawdź "
        "/visits.html.",
        "en": "This visit can no longer be changed (it is cancelled or over). See /visits.html.",
    },
    "appointment_started": {
        "pl": "Ta wizyta już się rozpoczęła albo minęła, więc nie mogę jej zmienić. "
        "W razie potrzeby zadzwoń do recepcji.",
        "en": "This visit has already started or passed, so I cannot change it. Call "
        "reception if you need to.",
    },
    "reschedule_service_mismatch": {
        "pl": "Nowy termin musi dotyczyć tej samej usługi. Wybierz inny termin z listy.",
        "en": "The new slot must be for the same service. Please pick another one from the list.",
    },
    "idempotency_key_reused": {
        "pl": "Ta rezerwacja koliduje z wcześniejszą próbą. Sprawdź wizyty na /visits.html "
        "i spróbuj jeszcze raz.",
        "en": "This booking clashes with an earlier attempt. Check /visits.html and try again.",
    },
    "patient_not_found": {
        "pl": "Nie znalazłem tego pacjenta wśród Twoich podopiecznych. Dziecko dodasz na "
        "/children.html.",
        "en": "I could not find that patient among your dependents. Add a child at /children.html.",
    },
    "prescription_not_found": {
        "pl": "Nie znalazłem tej recepty. Twoje recepty: /prescriptions.html.",
        "en": "I could not find that prescription. Your prescriptions: /prescriptions.html.",
    },
    "prescription_order_pending": {
        "pl": "Prośba o ten lek już czeka na decyzję lekarza – nie trzeba wysyłać drugiej. "
        "Status sprawdzisz na stronie /prescriptions.html.",
        "en": "A request for this medication is already waiting for the physician – no need "
        "to send another. Check its status at /prescriptions.html.",
    },
    "role_forbidden": {
        "pl": "Tę operację może wykonać tylko pacjent na własnym koncie.",
        "en": "Only a patient can do this, on their own account.",
    },
    "forbidden": {
        "pl": "Nie masz dostępu do tych danych.",
        "en": "You do not have access to this information.",
    },
    "internal_error": {
        "pl": "Po stronie portalu wystąpił błąd. Spróbuj ponownie za chwilę.",
        "en": "Something went wrong in the portal. Please try again in a moment.",
    },
}

# Refusals after which the same form can go on with another slot.
RETRY_WITH_OTHER_SLOT = frozenset(
    {"slot_taken", "slot_in_past", "slot_not_found", "reschedule_service_mismatch"}
)


def lang_of(language: str | None) -> str:
    """``pl`` or ``en``; anything else is Polish, the portal's default."""
    return language if language in ("pl", "en") else "pl"


def say(key: str, language: str | None, **params: Any) -> str:
    """The text ``key`` in ``language`` with ``params`` filled in."""
    text = TEXTS[key][lang_of(language)]
    return text.format(**params) if params else text


def explain(problem: HubProblem, language: str | None) -> str:
    """A refusal of the hub in the patient's words, with the next step."""
    language = lang_of(language)
    known = PROBLEMS.get(problem.code)
    if known is not None:
        return known[language]
    if problem.code == "invalid_input" and problem.errors:
        details = "; ".join(str(e.get("message", "")) for e in problem.errors)
        return f"{problem.title} {details}".strip()
    # The hub's own title is already in the patient's language (Accept-Language).
    fallback = {
        "pl": "W razie wątpliwości napisz „człowiek”, a przekażę rozmowę do recepcji.",
        "en": "If in doubt, write “human” and I will pass you to reception.",
    }[language]
    return f"{problem.title or problem.code}. {fallback}"


def buttons(pairs: list[tuple]) -> list[dict[str, str]]:
    """Buttons from (title, payload) pairs."""
    return [{"title": title, "payload": payload} for title, payload in pairs]
