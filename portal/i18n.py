"""Polish and English texts for every error code and field name the portal uses.

The domain raises codes (:mod:`portal.errors`); the edges (REST problems, the assistant) render
them here in the user's language. Polish is the default: the clinic network is Polish.
"""

from __future__ import annotations

from typing import Any, Final, Literal

Language = Literal["pl", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("pl", "en")
DEFAULT_LANGUAGE: Final[Language] = "pl"

FIELD_NAMES: Final[dict[str, dict[Language, str]]] = {
    "first_name": {"pl": "imię", "en": "first name"},
    "last_name": {"pl": "nazwisko", "en": "last name"},
    "email": {"pl": "adres e-mail", "en": "email address"},
    "phone": {"pl": "numer telefonu", "en": "phone number"},
    "birth_date": {"pl": "data urodzenia", "en": "date of birth"},
    "sex": {"pl": "płeć", "en": "sex"},
    "pesel": {"pl": "PESEL", "en": "PESEL"},
    "login": {"pl": "login", "en": "login"},
    "password": {"pl": "hasło", "en": "password"},
    "new_password": {"pl": "nowe hasło", "en": "new password"},
    "old_password": {"pl": "obecne hasło", "en": "current password"},
    "file": {"pl": "plik", "en": "file"},
    "description": {"pl": "opis", "en": "description"},
    "text": {"pl": "treść", "en": "text"},
    "reason": {"pl": "powód", "en": "reason"},
}

MESSAGES: Final[dict[str, dict[Language, str]]] = {
    # generic
    "bad_request": {"pl": "Nieprawidłowe żądanie.", "en": "Bad request."},
    "invalid_input": {
        "pl": "Popraw zaznaczone pola.",
        "en": "Please correct the highlighted fields.",
    },
    "invalid_json": {
        "pl": "Treść żądania nie jest poprawnym JSON-em.",
        "en": "The request body is not valid JSON.",
    },
    "not_found": {"pl": "Nie znaleziono.", "en": "Not found."},
    "method_not_allowed": {
        "pl": "Ta metoda nie jest obsługiwana pod tym adresem.",
        "en": "This method is not supported here.",
    },
    "payload_too_large": {"pl": "Żądanie jest za duże.", "en": "The request is too large."},
    "json_required": {
        "pl": "Wyślij treść żądania jako JSON (Content-Type: application/json).",
        "en": "Send the request body as JSON (Content-Type: application/json).",
    },
    "json_too_deep": {
        "pl": "Treść żądania jest zagnieżdżona zbyt głęboko.",
        "en": "The request body is nested too deeply.",
    },
    "request_timeout": {
        "pl": "Żądanie przychodziło zbyt wolno. Spróbuj ponownie.",
        "en": "The request arrived too slowly. Please try again.",
    },
    "cross_site_request": {
        "pl": "Żądanie z innej witryny zostało odrzucone.",
        "en": "A request from another site was refused.",
    },
    "internal_error": {
        "pl": "Wystąpił błąd po naszej stronie. Spróbuj ponownie za chwilę.",
        "en": "Something went wrong on our side. Please try again in a moment.",
    },
    "service_unavailable": {
        "pl": "Serwis jest chwilowo niedostępny. Spróbuj ponownie za kilka sekund.",
        "en": "The service is briefly unavailable. Please try again in a few seconds.",
    },
    "forbidden": {
        "pl": "Nie masz dostępu do tego zasobu.",
        "en": "You do not have access to this resource.",
    },
    "conflict": {"pl": "Operacja koliduje z bieżącym stanem.", "en": "The operation conflicts."},
    # fields
    "field_required": {"pl": "To pole jest wymagane.", "en": "This field is required."},
    "invalid_value": {"pl": "Nieprawidłowa wartość.", "en": "Invalid value."},
    "invalid_type": {"pl": "Nieprawidłowy typ wartości.", "en": "Invalid value type."},
    "too_short": {
        "pl": "Wartość jest za krótka (minimum {min_length}).",
        "en": "The value is too short (at least {min_length}).",
    },
    "too_long": {
        "pl": "Wartość jest za długa (maksimum {max_length}).",
        "en": "The value is too long (at most {max_length}).",
    },
    "unknown_field": {"pl": "Nieznane pole.", "en": "Unknown field."},
    "date_format": {
        "pl": "Podaj datę w formacie DD-MM-RRRR.",
        "en": "Enter the date as DD-MM-YYYY.",
    },
    "iso_date_format": {
        "pl": "Podaj datę w formacie RRRR-MM-DD.",
        "en": "Enter the date as YYYY-MM-DD.",
    },
    "date_in_future": {
        "pl": "Data urodzenia nie może być w przyszłości.",
        "en": "The date of birth cannot be in the future.",
    },
    "date_range": {
        "pl": "Data początkowa musi poprzedzać końcową.",
        "en": "The start date must come before the end date.",
    },
    "sex_invalid": {
        "pl": "Wybierz płeć: female lub male.",
        "en": "Choose the sex: female or male.",
    },
    "name_invalid": {
        "pl": "Może zawierać litery, spacje, apostrof i myślnik.",
        "en": "May contain letters, spaces, apostrophes and hyphens.",
    },
    "pesel_format": {"pl": "PESEL ma 11 cyfr.", "en": "A PESEL has 11 digits."},
    "pesel_checksum": {
        "pl": "PESEL ma błędną cyfrę kontrolną.",
        "en": "The PESEL check digit is wrong.",
    },
    "pesel_date_invalid": {
        "pl": "PESEL koduje nieistniejącą datę urodzenia.",
        "en": "The PESEL encodes a date of birth that does not exist.",
    },
    "pesel_birth_date_mismatch": {
        "pl": "PESEL nie zgadza się z datą urodzenia.",
        "en": "The PESEL does not match the date of birth.",
    },
    "pesel_sex_mismatch": {
        "pl": "PESEL nie zgadza się z płcią.",
        "en": "The PESEL does not match the sex.",
    },
    "pesel_taken": {
        "pl": "Osoba o tym numerze PESEL ma już konto lub jest podopiecznym innej osoby.",
        "en": "A person with this PESEL already has an account or is someone's dependent.",
    },
    "email_invalid": {
        "pl": "Podaj poprawny adres e-mail.",
        "en": "Enter a valid email address.",
    },
    "phone_invalid": {
        "pl": "Podaj poprawny numer telefonu (polski lub z kodem kraju, np. +48 600 100 200).",
        "en": "Enter a valid phone number (Polish, or with a country code, e.g. +44 20 7946 0000).",
    },
    "login_invalid": {
        "pl": "Login ma 3-64 znaki: litery, cyfry, kropka, myślnik, podkreślnik.",
        "en": "A login has 3-64 characters: letters, digits, dot, hyphen, underscore.",
    },
    "login_taken": {
        "pl": "Ten login jest zajęty, wybierz inny.",
        "en": "This login is taken, choose another one.",
    },
    "password_too_short": {
        "pl": "Hasło musi mieć co najmniej {min_length} znaków.",
        "en": "The password must have at least {min_length} characters.",
    },
    "password_too_long": {
        "pl": "Hasło może mieć najwyżej {max_length} znaków.",
        "en": "The password may have at most {max_length} characters.",
    },
    "password_common": {
        "pl": "To hasło jest zbyt popularne i łatwe do odgadnięcia.",
        "en": "This password is too common and easy to guess.",
    },
    "password_contains_login": {
        "pl": "Hasło nie może zawierać loginu.",
        "en": "The password must not contain the login.",
    },
    "password_wrong": {
        "pl": "Obecne hasło jest nieprawidłowe.",
        "en": "The current password is wrong.",
    },
    "dependent_not_minor": {
        "pl": "Podopieczny musi mieć mniej niż 18 lat.",
        "en": "A dependent must be under 18.",
    },
    "terms_not_accepted": {
        "pl": "Zaakceptuj aktualny regulamin, aby uzyskać pełny dostęp.",
        "en": "Accept the current Terms of Service to get full access.",
    },
    "terms_version_outdated": {
        "pl": "Aktualna wersja regulaminu to {current}. Zapoznaj się z nią i zaakceptuj ją.",
        "en": "The current Terms of Service version is {current}. Please read and accept it.",
    },
    # authentication
    "authentication_required": {
        "pl": "Zaloguj się, aby kontynuować.",
        "en": "Please log in to continue.",
    },
    "session_expired": {
        "pl": "Sesja wygasła. Zaloguj się ponownie.",
        "en": "Your session has expired. Please log in again.",
    },
    "invalid_credentials": {
        "pl": "Nieprawidłowy login lub hasło.",
        "en": "Wrong login or password.",
    },
    "too_many_attempts": {
        "pl": "Zbyt wiele prób w krótkim czasie. Spróbuj ponownie za {retry_after} s.",
        "en": "Too many attempts in a short time. Try again in {retry_after} s.",
    },
    "csrf_failed": {
        "pl": "Brak lub nieprawidłowy token CSRF (nagłówek X-CSRF-Token).",
        "en": "Missing or wrong CSRF token (X-CSRF-Token header).",
    },
    "origin_forbidden": {
        "pl": "Żądanie z niedozwolonej domeny.",
        "en": "Request from a forbidden origin.",
    },
    "token_invalid": {
        "pl": "Token jest nieprawidłowy lub wygasł.",
        "en": "The token is invalid or has expired.",
    },
    "reset_token_invalid": {
        "pl": "Link do zmiany hasła jest nieprawidłowy, wygasł lub został już użyty.",
        "en": "The password reset link is invalid, expired or already used.",
    },
    # access levels and roles
    "full_access_required": {
        "pl": "Ta usługa wymaga pełnego dostępu: zaakceptuj regulamin w portalu "
        "lub poproś o to w recepcji.",
        "en": "This needs full access: accept the Terms of Service in the portal "
        "or ask at reception.",
    },
    "active_service_limit": {
        "pl": "Konto z dostępem podstawowym może mieć najwyżej {limit} aktywnych usług. "
        "Odwołaj jedną z wizyt lub uzyskaj pełny dostęp, akceptując regulamin.",
        "en": "A basic account may hold at most {limit} active services. Cancel a visit "
        "or get full access by accepting the Terms of Service.",
    },
    "referral_required": {
        "pl": "Ta usługa wymaga ważnego, niewykorzystanego skierowania od naszego lekarza.",
        "en": "This service needs a valid, unused referral from one of our physicians.",
    },
    "referral_not_applicable": {
        "pl": "To skierowanie nie dotyczy wybranej usługi lub jest nieważne.",
        "en": "This referral does not cover the chosen service or is no longer valid.",
    },
    "role_forbidden": {
        "pl": "Ta operacja jest niedostępna dla Twojej roli.",
        "en": "This operation is not available to your role.",
    },
    "cancel_source_forbidden": {
        "pl": "Wizytę umówioną w recepcji odwołasz telefonicznie lub w recepcji "
        "(albo w portalu po uzyskaniu pełnego dostępu).",
        "en": "A visit booked at reception can be cancelled by phone or at reception "
        "(or in the portal once you have full access).",
    },
    # booking
    "slot_not_found": {"pl": "Nie ma takiego terminu.", "en": "No such slot."},
    "slot_taken": {
        "pl": "Ten termin został właśnie zajęty. Wybierz inny.",
        "en": "This slot has just been taken. Please choose another one.",
    },
    "appointment_overlap": {
        "pl": "O tej porze jest już umówiona inna wizyta tego pacjenta ({date}, {time}). "
        "Można ją zachować i umówić obie albo wybrać inny termin.",
        "en": "This patient already has another visit at that time ({date}, {time}). "
        "You can keep it and book both, or choose another slot.",
    },
    "slot_in_past": {
        "pl": "Ten termin już minął.",
        "en": "This slot is in the past.",
    },
    "appointment_not_found": {"pl": "Nie ma takiej wizyty.", "en": "No such appointment."},
    "audit_cursor_unknown": {
        "pl": "Nie ma takiego zdarzenia w dzienniku tego pacjenta.",
        "en": "No such event in this patient's audit log.",
    },
    "room_not_open": {
        "pl": "Pokój konsultacji otworzy się 15 minut przed jej rozpoczęciem.",
        "en": "The consultation room opens 15 minutes before the start.",
    },
    "room_closed": {
        "pl": "Ta konsultacja już się zakończyła albo została odwołana.",
        "en": "This consultation has ended or was cancelled.",
    },
    "not_a_consultation": {
        "pl": "Ta wizyta nie jest konsultacją telefoniczną ani online.",
        "en": "This appointment is not a telephone or online consultation.",
    },
    "not_joined": {
        "pl": "Najpierw dołącz do pokoju konsultacji.",
        "en": "Join the consultation room first.",
    },
    "not_admitted": {
        "pl": "Lekarz jeszcze nie wpuścił pacjenta do rozmowy.",
        "en": "The physician has not admitted the patient yet.",
    },
    "peer_absent": {
        "pl": "Druga strona nie jest teraz połączona.",
        "en": "The other side is not connected now.",
    },
    "invalid_message": {
        "pl": "Nieprawidłowa wiadomość.",
        "en": "Invalid message.",
    },
    "rate_limited": {
        "pl": "Za dużo wiadomości naraz. Odczekaj chwilę.",
        "en": "Too many messages at once. Please wait a moment.",
    },
    "busy": {
        "pl": "Serwer obsługuje teraz zbyt wiele połączeń wideo. Spróbuj za chwilę.",
        "en": "The server is handling too many video connections. Please try again shortly.",
    },
    "echo_limit": {
        "pl": "Test kamery i mikrofonu działa już w innej karcie. Zamknij ją i spróbuj ponownie.",
        "en": "A camera and microphone check is already running in another tab. Close it and "
        "try again.",
    },
    "media_failed": {
        "pl": "Nie udało się zestawić połączenia audio-wideo.",
        "en": "The audio and video connection could not be set up.",
    },
    "session_invalid": {
        "pl": "Sesja wygasła. Zaloguj się ponownie.",
        "en": "Your session has expired. Please log in again.",
    },
    "appointment_not_active": {
        "pl": "Tej wizyty nie można już zmienić (status: {status}).",
        "en": "This appointment can no longer be changed (status: {status}).",
    },
    "appointment_started": {
        "pl": "Wizyta już się rozpoczęła lub minęła.",
        "en": "The appointment has already started or passed.",
    },
    "reschedule_service_mismatch": {
        "pl": "Nowy termin musi dotyczyć tej samej usługi.",
        "en": "The new slot must be for the same service.",
    },
    "idempotency_key_reused": {
        "pl": "Ten klucz idempotencji został użyty do innej rezerwacji.",
        "en": "This idempotency key was used for a different booking.",
    },
    "patient_not_found": {"pl": "Nie ma takiego pacjenta.", "en": "No such patient."},
    # records
    "full_access_required_records": {
        "pl": "Dokumentacja medyczna jest dostępna przy pełnym dostępie: zaakceptuj regulamin.",
        "en": "Medical records need full access: accept the Terms of Service.",
    },
    "appointment_not_completed": {
        "pl": "Pytanie możesz zadać tylko po odbytej wizycie.",
        "en": "You can ask a question only about a visit that took place.",
    },
    "question_window_closed": {
        "pl": "Pytania do lekarza można zadawać do {days} dni po wizycie.",
        "en": "Questions can be asked up to {days} days after the visit.",
    },
    "question_already_open": {
        "pl": "Masz już otwarte pytanie dotyczące tej wizyty. Poczekaj na odpowiedź lekarza.",
        "en": "You already have an open question about this visit. Please wait for the answer.",
    },
    "question_not_found": {"pl": "Nie ma takiego pytania.", "en": "No such question."},
    "question_already_answered": {
        "pl": "Na to pytanie już udzielono odpowiedzi.",
        "en": "This question has already been answered.",
    },
    "prescription_not_found": {"pl": "Nie ma takiej recepty.", "en": "No such prescription."},
    "prescription_order_pending": {
        "pl": "Zamówienie tego leku czeka już na decyzję lekarza.",
        "en": "An order for this medication is already waiting for the physician.",
    },
    "order_not_found": {"pl": "Nie ma takiego zamówienia.", "en": "No such order."},
    "order_already_reviewed": {
        "pl": "To zamówienie zostało już rozpatrzone.",
        "en": "This order has already been reviewed.",
    },
    "rejection_reason_required": {
        "pl": "Podaj powód odmowy.",
        "en": "Give the reason for the rejection.",
    },
    "appointment_not_started": {
        "pl": "Wizytę można oznaczyć jako odbytą dopiero od jej rozpoczęcia.",
        "en": "A visit can be marked as attended only once it has started.",
    },
    "result_not_found": {"pl": "Nie ma takiego wyniku.", "en": "No such result."},
    "referral_target_required": {
        "pl": "Wskaż usługę, rodzaj usługi lub specjalizację, do której kierujesz.",
        "en": "Name the service, service type or specialty the referral is for.",
    },
    "referral_not_found": {"pl": "Nie ma takiego skierowania.", "en": "No such referral."},
    "valid_until_past": {
        "pl": "Data ważności musi być w przyszłości.",
        "en": "The expiry date must be in the future.",
    },
    # documents
    "document_regulations_required": {
        "pl": "Zaakceptuj regulamin dodawania dokumentów, zanim dodasz plik.",
        "en": "Accept the document regulations before adding a file.",
    },
    "document_regulations_outdated": {
        "pl": "Aktualna wersja regulaminu dokumentów to {current}.",
        "en": "The current version of the document regulations is {current}.",
    },
    "file_type_not_allowed": {
        "pl": "Dozwolone są tylko pliki JPG, JPEG, PNG i PDF.",
        "en": "Only JPG, JPEG, PNG and PDF files are allowed.",
    },
    "file_too_large": {
        "pl": "Plik może mieć najwyżej {max_mb} MB.",
        "en": "A file may be at most {max_mb} MB.",
    },
    "file_empty": {"pl": "Plik jest pusty.", "en": "The file is empty."},
    "document_limit_reached": {
        "pl": "Możesz przechowywać najwyżej {limit} plików. Usuń jeden, aby dodać nowy.",
        "en": "You can keep at most {limit} files. Delete one to add another.",
    },
    "image_too_large": {
        "pl": "Obraz ma zbyt wiele pikseli (najwyżej {max_megapixels} Mpx).",
        "en": "The image has too many pixels (at most {max_megapixels} MP).",
    },
    "file_corrupt": {
        "pl": "Pliku nie da się odczytać. Zapisz go ponownie i spróbuj jeszcze raz.",
        "en": "The file cannot be read. Save it again and retry.",
    },
    "pdf_active_content": {
        "pl": "Ten PDF zawiera aktywną treść (skrypty, automatyczne akcje lub załączniki). "
        "Wydrukuj go do nowego PDF-a i spróbuj ponownie.",
        "en": "This PDF carries active content (scripts, automatic actions or attachments). "
        "Print it to a new PDF and try again.",
    },
    "pdf_encrypted": {
        "pl": "Ten PDF jest zaszyfrowany, więc nie możemy go sprawdzić. "
        "Wydrukuj go do nowego PDF-a bez hasła i spróbuj ponownie.",
        "en": "This PDF is encrypted, so we cannot check it. "
        "Print it to a new PDF without a password and try again.",
    },
    "pdf_too_complex": {
        "pl": "Ten PDF jest zbyt złożony do sprawdzenia (najwyżej {max_pages} stron "
        "i {max_objects} obiektów). Podziel go lub wydrukuj do nowego PDF-a.",
        "en": "This PDF is too complex to check (at most {max_pages} pages and "
        "{max_objects} objects). Split it or print it to a new PDF.",
    },
    "storage_full": {
        "pl": "Nie możemy teraz zapisać pliku: brak miejsca. Spróbuj później.",
        "en": "We cannot store the file right now: no space left. Please try later.",
    },
    "upload_incomplete": {
        "pl": "Przesyłanie zostało przerwane. Spróbuj ponownie.",
        "en": "The upload was interrupted. Please try again.",
    },
    "multipart_required": {
        "pl": "Wyślij plik jako multipart/form-data z polami file i description.",
        "en": "Send the file as multipart/form-data with the fields file and description.",
    },
    "no_upcoming_consultation": {
        "pl": "Nie masz nadchodzącej konsultacji telefonicznej ani online, "
        "do której można dodać plik.",
        "en": "You have no upcoming telephone or online consultation to attach a file to.",
    },
    "appointment_not_remote": {
        "pl": "Pliki dodaje się do konsultacji telefonicznej lub online.",
        "en": "Files are attached to a telephone or online consultation.",
    },
    "document_not_found": {"pl": "Nie ma takiego dokumentu.", "en": "No such document."},
    # widget chat
    "chat_empty": {"pl": "Wiadomość jest pusta.", "en": "The message is empty."},
    "chat_too_long": {
        "pl": "Wiadomość może mieć najwyżej {max_length} znaków.",
        "en": "A message may be at most {max_length} characters long.",
    },
    "chat_rate_limited": {
        "pl": "Wysyłasz wiadomości zbyt szybko. Odczekaj chwilę.",
        "en": "You are sending messages too quickly. Please wait a moment.",
    },
    "chat_already_taken": {
        "pl": "Tę rozmowę prowadzi już inna osoba z recepcji.",
        "en": "Another receptionist has already taken this conversation.",
    },
    "chat_not_taken": {
        "pl": "Nie prowadzisz tej rozmowy.",
        "en": "You have not taken this conversation.",
    },
    "chat_not_waiting": {
        "pl": "Ta rozmowa nie czeka na recepcję.",
        "en": "This conversation is not waiting for reception.",
    },
    "chat_conversation_not_found": {
        "pl": "Nie ma takiej rozmowy.",
        "en": "No such conversation.",
    },
    "chat_invalid_value": {"pl": "Nieprawidłowa wartość.", "en": "Invalid value."},
    "chat_assistant_slow": {
        "pl": "Asystent odpowiada dłużej niż zwykle. Odpowiedź pojawi się tutaj; "
        "możesz też porozmawiać z osobą z recepcji.",
        "en": "The assistant is taking longer than usual. The answer will appear here; "
        "you can also talk to a person at reception.",
    },
    "chat_assistant_unavailable": {
        "pl": "Asystent jest w tej chwili niedostępny. Spróbuj ponownie za chwilę "
        "albo porozmawiaj z osobą z recepcji.",
        "en": "The assistant is unavailable right now. Please try again in a moment "
        "or talk to a person at reception.",
    },
    "chat_assistant_interrupted": {
        "pl": "Przepraszamy, asystent nie zdążył odpowiedzieć na Twoją wiadomość „{text}”. "
        "Napisz ją proszę jeszcze raz albo porozmawiaj z osobą z recepcji.",
        "en": "Sorry, the assistant could not answer your message “{text}”. "
        "Please send it again or talk to a person at reception.",
    },
    "chat_talk_to_person": {"pl": "Porozmawiaj z osobą", "en": "Talk to a person"},
    "chat_handoff_waiting": {
        "pl": "Łączymy Cię z recepcją. Ktoś odpowie najszybciej, jak to możliwe.",
        "en": "We are connecting you with reception. Someone will answer as soon as possible.",
    },
    "chat_handoff_human": {
        "pl": "Rozmawiasz teraz z recepcją ({staff_name}).",
        "en": "You are now talking to reception ({staff_name}).",
    },
    "chat_handoff_bot": {
        "pl": "Recepcja zakończyła rozmowę. Dalej odpowiada asystent.",
        "en": "Reception has finished the conversation. The assistant is answering again.",
    },
}


def negotiate(accept_language: str | None) -> Language:
    """Choose pl or en from an ``Accept-Language`` header (RFC 9110, section 12.5.4)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def translate(code: str, language: Language, **params: Any) -> str:
    """The message for ``code`` in ``language``, with ``params`` filled in."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    text = texts[language]
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def field_label(name: str, language: Language) -> str:
    """A human name for a field, falling back to its API name."""
    return FIELD_NAMES.get(name, {}).get(language, name)
