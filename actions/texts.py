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
        "pl": "Do tego potrzebne jest zalogowanie w portalu. Zaloguj się: /login.html "
        "i napisz ponownie – wrócimy do tego samego miejsca rozmowy.",
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
        "pl": "Przepraszam, nie rozumiem. Możesz napisać to inaczej, np. „umów wizytę "
        "u kardiologa”, „odwołaj wizytę” albo „zamów receptę”?",
        "en": "Sorry, I did not understand. Could you put it differently, e.g. “book a "
        "cardiologist”, “cancel my visit” or “renew my prescription”?",
    },
    "fallback_human": {
        "pl": "Nadal nie rozumiem, przepraszam. Wybierz jedną z opcji, porozmawiaj z recepcją "
        "albo napisz to jeszcze raz, inaczej.",
        "en": "I still do not understand, sorry. Pick one of the options, talk to reception, "
        "or put it differently once more.",
    },
    "inform_outside": {
        "pl": "Co mam z tym zrobić? Mogę np. umówić wizytę, przełożyć ją lub odwołać albo "
        "zamówić e-receptę.",
        "en": "What should I do with that? I can e.g. book, move or cancel a visit, or renew "
        "an e-prescription.",
    },
    "button_human": {"pl": "Porozmawiaj z recepcją", "en": "Talk to reception"},
    "button_help": {"pl": "Co potrafisz?", "en": "What can you do?"},
    "button_yes": {"pl": "Tak", "en": "Yes"},
    "button_no": {"pl": "Nie", "en": "No"},
    "button_continue": {"pl": "Kontynuuj", "en": "Continue"},
    "button_stop": {"pl": "Przerwij", "en": "Stop"},
    "button_book": {"pl": "Umów wizytę", "en": "Book a visit"},
    "button_visits": {"pl": "Moje wizyty", "en": "My visits"},
    "button_prescription": {"pl": "Zamów e-receptę", "en": "Renew a prescription"},
    "button_asap": {"pl": "Jak najszybciej", "en": "As soon as possible"},
    "continue_form": {
        "pl": "Dwa razy nie udało mi się zrozumieć odpowiedzi. Kontynuujemy czy przerywamy?",
        "en": "I could not understand the answer twice. Shall we continue or stop?",
    },
    "form_stopped": {
        # The same text as utter_form_stopped in domain.yml: one text per meaning.
        "pl": "Dobrze, przerywam. Nic nie zostało zmienione. W czym jeszcze mogę pomóc?",
        "en": "All right, I have stopped. Nothing was changed. What else can I do for you?",
    },
    # -- repair inside a form: two answers it could not use, "wróć", "zmień ...", "od nowa" -----
    "repair_prompt": {
        "pl": "Nadal nie rozumiem odpowiedzi, przepraszam. Wybierz jedną z opcji albo napisz "
        "inaczej (możesz też napisać „wróć” albo „od nowa”).",
        "en": "Sorry, I still do not understand the answer. Pick one of the options or put it "
        "differently (you can also write “go back” or “start over”).",
    },
    "repair_back": {
        "pl": "Dobrze, wracamy do poprzedniego pytania.",
        "en": "All right, back to the previous question.",
    },
    "repair_first": {
        "pl": "To jest pierwsze pytanie.",
        "en": "This is the first question.",
    },
    "repair_restart": {
        "pl": "Dobrze, zaczynamy od nowa.",
        "en": "All right, let us start over.",
    },
    "repair_not_needed": {
        "pl": "Tego w tej sprawie nie trzeba wybierać.",
        "en": "That is not needed here.",
    },
    "repair_change_service_type": {
        "pl": "Dobrze, zmieńmy rodzaj usługi.",
        "en": "All right, let us change the kind of service.",
    },
    "repair_change_specialty": {
        "pl": "Dobrze, zmieńmy specjalistę lub lekarza.",
        "en": "All right, let us change the specialist or physician.",
    },
    "repair_change_examination": {
        "pl": "Dobrze, zmieńmy badanie.",
        "en": "All right, let us change the examination.",
    },
    "repair_change_city": {
        "pl": "Dobrze, zmieńmy miasto.",
        "en": "All right, let us change the city.",
    },
    "repair_change_preferred_date": {
        "pl": "Dobrze, zmieńmy termin.",
        "en": "All right, let us change the date.",
    },
    "repair_change_patient_choice": {
        "pl": "Dobrze, zmieńmy osobę, dla której jest wizyta.",
        "en": "All right, let us change who the visit is for.",
    },
    "repair_change_appointment_choice": {
        "pl": "Dobrze, zmieńmy wizytę.",
        "en": "All right, let us pick another visit.",
    },
    "repair_change_prescription_choice": {
        "pl": "Dobrze, zmieńmy lek.",
        "en": "All right, let us pick another medication.",
    },
    # -- a typed answer that replaced an earlier one ------------------------------------------
    "changed_city": {"pl": "Zmieniam na {city}.", "en": "Changed to {city}."},
    "changed_city_other": {"pl": "Zmieniam miasto: {city}.", "en": "Changed to {city}."},
    "changed_date": {"pl": "Zmieniam termin: {when}.", "en": "Changed the date: {when}."},
    "changed_specialty": {
        "pl": "Zmieniam na {specialty}.",
        "en": "Changed the specialty: {specialty}.",
    },
    "changed_physician": {
        "pl": "Zmieniam lekarza: {name}.",
        "en": "Changed the physician: {name}.",
    },
    "changed_service_type": {
        "pl": "Zmieniam na {service}.",
        "en": "Changed the service: {service}.",
    },
    "changed_patient": {
        "pl": "Zmieniam osobę, dla której jest wizyta: {name}.",
        "en": "Changed: the visit is for {name}.",
    },
    "changed_patient_self": {
        "pl": "Zmieniam: wizyta jest dla Ciebie.",
        "en": "Changed: the visit is for you.",
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
        "pl": "W którym mieście? Przyjmujemy {cities}.",
        "en": "In which city? Our clinics are {cities}.",
    },
    "ask_city_plain": {"pl": "W którym mieście?", "en": "In which city?"},
    "ask_preferred_date": {
        "pl": "Kiedy Ci pasuje? Napisz np. „jutro o 10”, „w przyszły wtorek rano”, "
        "„15 grudnia” albo „jak najszybciej”.",
        "en": "When would suit you? E.g. “tomorrow at 10”, “next Tuesday morning”, "
        "“15 December” or “as soon as possible”.",
    },
    # "w przyszły piątek" said when this week's Friday is still ahead: which one?
    "ask_date_options": {
        "pl": "O który dzień chodzi: {options}?",
        "en": "Which day do you mean: {options}?",
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
        "pl": "Nie ma wolnych terminów {in_city}. Wolne terminy w innych miastach:",
        "en": "Nothing is free {in_city}. Free slots in other cities:",
    },
    "offer_other_physicians": {
        "pl": "Ten lekarz nie ma wolnych terminów. Wolne terminy u innych lekarzy tej "
        "specjalności:",
        "en": "This physician has no free slots. Free slots with other physicians of the same "
        "specialty:",
    },
    "no_slots": {
        "pl": "Niestety w najbliższych tygodniach nie ma żadnego wolnego terminu ({what}), także "
        "w innych dniach i miastach. Zadzwoń do recepcji albo wybierz inną usługę.",
        "en": "Sorry, I found no free slot ({what}) in the coming weeks, not even on other days "
        "or in other cities. Please call reception or choose another service.",
    },
    "slot_hint": {
        "pl": "Wybierz termin przyciskiem (albo napisz jego numer z listy) lub podaj inny dzień.",
        "en": "Pick a slot with a button (or type its number) or tell me another day.",
    },
    "ask_confirmed_overlap": {
        "pl": "{warning} Czy mimo to zarezerwować ten termin?",
        "en": "{warning} Book this slot anyway?",
    },
    "ask_confirmed_booking": {
        "pl": "Potwierdzasz rezerwację? {summary}",
        "en": "Shall I book it? {summary}",
    },
    "booked": {
        "pl": "Gotowe, wizyta zarezerwowana: {summary} Zobaczysz ją (i w razie potrzeby odwołasz) "
        "na stronie /visits.html.",
        "en": "Done, I booked: {summary} You will find it (and can cancel it) at /visits.html.",
    },
    "not_booked": {
        "pl": "Dobrze, nic nie zostało zarezerwowane. Gdy zechcesz, napisz „umów wizytę”, "
        "a zaczniemy od nowa.",
        "en": "All right, nothing was booked. Write “book a visit” whenever you want to start "
        "again.",
    },
    "remote_place": {"pl": "konsultacja zdalna", "en": "remote consultation"},
    "for_patient": {"pl": "pacjent: {name}", "en": "patient: {name}"},
    # -- hints after an answer the form could not use -----------------------------------------
    "hint_service_type": {
        "pl": "Nie rozpoznaję rodzaju usługi. Wybierz jeden z przycisków.",
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
        "pl": "Nie rozpoznaję tego miasta – mamy placówki tylko w miastach z listy. Wybierz "
        "jedno z nich.",
        "en": "I did not recognise the city – we have clinics only in the cities listed. "
        "Please pick one of them.",
    },
    "hint_preferred_date": {
        "pl": "Nie rozumiem tej daty. Napisz np. „jutro o 10” albo „w piątek po południu”.",
        "en": "I did not understand the date. Try e.g. “tomorrow at 10” or “Friday afternoon”.",
    },
    "date_in_past": {
        "pl": "Ten dzień już minął. Podaj datę od dziś wzwyż.",
        "en": "That day has passed. Please give a date from today on.",
    },
    "hint_patient_choice": {
        "pl": "Nie rozpoznaję tej osoby. Wybierz siebie albo dziecko z listy.",
        "en": "I did not recognise the person. Pick yourself or a child from the list.",
    },
    "hint_appointment_choice": {
        "pl": "Wybierz wizytę przyciskiem.",
        "en": "Please pick the visit with a button.",
    },
    "hint_prescription_choice": {
        "pl": "Tego leku nie ma w Twoich receptach. Wybierz go z listy.",
        "en": "I did not find that medication in your prescriptions. Please pick it from the list.",
    },
    "hint_confirmed": {
        "pl": "Odpowiedz „tak” albo „nie”.",
        "en": "Please answer “yes” or “no”.",
    },
    # -- cancel and reschedule --------------------------------------------------------------
    "no_upcoming": {
        "pl": "Nie masz żadnych nadchodzących wizyt (wszystkie wizyty: /visits.html). Jeśli "
        "chcesz, umówię nową.",
        "en": "You have no upcoming visits (all visits: /visits.html). I can book a new one if "
        "you like.",
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
        "pl": "Wizyta odwołana: {summary}. Termin jest znowu wolny dla innych pacjentów.",
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
        "pl": "Wizyta przełożona. Nowy termin: {summary}. Szczegóły: /visits.html.",
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
        "pl": "Wysłać prośbę o receptę na {medication} ({dosage})? Rozpatrzy ją {physician}.",
        "en": "Send a renewal request for {medication} ({dosage})? {physician} will review it.",
    },
    "prescription_ordered": {
        "pl": "Prośba o receptę na {medication} została wysłana – rozpatrzy ją {physician}. "
        "Gdy e-recepta zostanie wystawiona, jej kod dostępu zobaczysz na stronie "
        "/prescriptions.html (tam też ewentualny powód odmowy).",
        "en": "The renewal request for {medication} has been sent; {physician} will review it. "
        "Once the e-prescription is issued you will find its access code at "
        "/prescriptions.html (and the reason, if it is declined).",
    },
    "not_ordered": {
        "pl": "Dobrze, prośba o receptę nie została wysłana.",
        "en": "All right, the request was not sent.",
    },
    "order_pending": {
        "pl": "Zamówienie na {medication} już czeka na lekarza (od {since}). Nie trzeba "
        "wysyłać kolejnego – status sprawdzisz na stronie /prescriptions.html.",
        "en": "A renewal request for {medication} is already waiting for the physician (since "
        "{since}). There is no need to send another – check its status at /prescriptions.html.",
    },
    # -- records ----------------------------------------------------------------------------
    "appointments_list": {
        "pl": "Masz {count}{more}:\n{items}\nWszystkie wizyty: /visits.html",
        "en": "You have {count}{more}:\n{items}\nAll visits: /visits.html",
    },
    "nearest_more": {"pl": ", najbliższe", "en": "; the next ones"},
    "latest_more": {"pl": ", najnowsze", "en": "; the latest"},
    "results_list": {
        "pl": "Masz w portalu {count}{more}:\n{items}\nWyniki z komentarzem lekarza przeczytasz "
        "na stronie /results.html. Nie interpretuję wyników – w razie pytań zapytaj lekarza.",
        "en": "You have {count} in the portal{more}:\n{items}\nThe physician's comments are "
        "with the results at /results.html. I do not interpret results – please ask your "
        "physician about them.",
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
        "pl": "Masz {count} po wizytach{more}:\n{items}\nPrzeczytasz je na stronie "
        "/instructions.html.",
        "en": "You have {count} from your visits{more}:\n{items}\n"
        "The full text is at /instructions.html.",
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

# Polish accusative, for "Zmieniam na kardiologa" / "Zmieniam na konsultację telefoniczną".
SPECIALTY_ACCUSATIVE_PL: dict[str, str] = {
    "internal-medicine": "internistę",
    "family-medicine": "lekarza rodzinnego",
    "paediatrics": "pediatrę",
    "cardiology": "kardiologa",
    "dermatology": "dermatologa",
    "ent": "laryngologa",
    "orthopaedics": "ortopedę",
    "gynaecology": "ginekologa",
    "neurology": "neurologa",
    "ophthalmology": "okulistę",
    "endocrinology": "endokrynologa",
    "physiotherapy": "fizjoterapeutę",
    "occupational-medicine": "medycynę pracy",
}
SERVICE_TYPE_ACCUSATIVE_PL: dict[str, str] = {
    "in_person_visit": "wizytę w placówce",
    "telephone_consultation": "konsultację telefoniczną",
    "online_consultation": "konsultację online",
    "examination": "badanie",
    "occupational_medicine": "medycynę pracy",
    "rehabilitation": "rehabilitację",
}

# Polish cases of city names: (locative with its preposition, accusative). The network's cities
# (portal/demo_data.py) and the largest others; any other city gets a neutral fallback.
CITY_CASES_PL: dict[str, tuple[str, str]] = {
    "Warszawa": ("w Warszawie", "Warszawę"),
    "Kraków": ("w Krakowie", "Kraków"),
    "Wrocław": ("we Wrocławiu", "Wrocław"),
    "Poznań": ("w Poznaniu", "Poznań"),
    "Gdańsk": ("w Gdańsku", "Gdańsk"),
    "Łódź": ("w Łodzi", "Łódź"),
    "Katowice": ("w Katowicach", "Katowice"),
    "Gdynia": ("w Gdyni", "Gdynię"),
    "Sopot": ("w Sopocie", "Sopot"),
    "Szczecin": ("w Szczecinie", "Szczecin"),
    "Bydgoszcz": ("w Bydgoszczy", "Bydgoszcz"),
    "Toruń": ("w Toruniu", "Toruń"),
    "Lublin": ("w Lublinie", "Lublin"),
    "Białystok": ("w Białymstoku", "Białystok"),
    "Rzeszów": ("w Rzeszowie", "Rzeszów"),
    "Kielce": ("w Kielcach", "Kielce"),
    "Olsztyn": ("w Olsztynie", "Olsztyn"),
    "Opole": ("w Opolu", "Opole"),
    "Gliwice": ("w Gliwicach", "Gliwice"),
    "Zielona Góra": ("w Zielonej Górze", "Zieloną Górę"),
}

# Counted nouns: Polish (1, 2-4, 5+) as they read after "Masz"; English (1, other).
NOUNS: dict[str, dict[str, tuple[str, ...]]] = {
    "visit": {"pl": ("wizyta", "wizyty", "wizyt"), "en": ("visit", "visits")},
    "upcoming_visit": {
        "pl": ("nadchodzącą wizytę", "nadchodzące wizyty", "nadchodzących wizyt"),
        "en": ("upcoming visit", "upcoming visits"),
    },
    "result": {
        "pl": ("wynik badań", "wyniki badań", "wyników badań"),
        "en": ("examination result", "examination results"),
    },
    "instruction": {
        "pl": ("zalecenie", "zalecenia", "zaleceń"),
        "en": ("set of instructions", "sets of instructions"),
    },
    "slot": {"pl": ("termin", "terminy", "terminów"), "en": ("slot", "slots")},
    "referral": {
        "pl": ("skierowanie", "skierowania", "skierowań"),
        "en": ("referral", "referrals"),
    },
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
        "pl": "Nie ma takiej wizyty. Sprawdź listę wizyt na stronie /visits.html.",
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
        "pl": "Tej osoby nie ma wśród Twoich podopiecznych. Dziecko dodasz na /children.html.",
        "en": "I could not find that patient among your dependents. Add a child at /children.html.",
    },
    "prescription_not_found": {
        "pl": "Tej recepty nie ma w portalu. Twoje recepty: /prescriptions.html.",
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


# -- grammar: plurals and the cases of city names ---------------------------------------------


def plural_pl(count: int, one: str, few: str, many: str) -> str:
    """The Polish form for ``count``: 1 wizyta, 2-4 wizyty (not 12-14), 5+ wizyt (also 0, 12,
    25, ...)."""
    count = abs(count)
    if count == 1:
        return one
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return few
    return many


def count_of(count: int, noun: str, language: str | None) -> str:
    """ "1 wizyta", "3 wizyty", "5 wizyt" / "1 visit", "5 visits" (``noun`` from NOUNS)."""
    forms = NOUNS[noun][lang_of(language)]
    if lang_of(language) == "pl":
        return f"{count} {plural_pl(count, *forms)}"
    return f"{count} {forms[0] if count == 1 else forms[1]}"


def _city_cases(city: str) -> tuple[str, str] | None:
    known = CITY_CASES_PL.get(city.strip())
    if known is None:
        wanted = city.strip().casefold()
        known = next((v for k, v in CITY_CASES_PL.items() if k.casefold() == wanted), None)
    return known


def in_city(city: str, language: str | None) -> str:
    """ "w Krakowie", "we Wrocławiu" / "in Kraków"; a city without a known locative reads
    "(miasto: X)", which fits wherever the locative would."""
    if lang_of(language) == "en":
        return f"in {city}"
    cases = _city_cases(city)
    return cases[0] if cases else f"(miasto: {city})"


def in_cities(cities: list[str], language: str | None) -> str:
    """ "w Gdańsku, w Katowicach i we Wrocławiu" / "in Gdańsk, Katowice and Wrocław"; with any
    city without a known locative: "w placówkach: Gdańsk, Katowice, X"."""
    if lang_of(language) == "en":
        return "in " + _and(list(cities), "and")
    cases = [_city_cases(city) for city in cities]
    if all(cases):
        return _and([c[0] for c in cases if c], "i")
    return "w placówkach: " + ", ".join(cities)


def changed_city(city: str, language: str | None) -> str:
    """ "Zmieniam na Warszawę." / "Changed to Warszawa."; unknown cities in the nominative."""
    cases = _city_cases(city) if lang_of(language) == "pl" else None
    if lang_of(language) == "pl" and cases is None:
        return say("changed_city_other", language, city=city)
    return say("changed_city", language, city=cases[1] if cases else city)


def _and(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
