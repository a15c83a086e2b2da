"""Whether a message is a medical emergency or a crisis, by rules that do not depend on the model.

Two kinds of alarm (``docs/assistant.md``, "Safety"):

- ``emergency``: something is happening now that needs an ambulance (chest pain, not
  breathing, unconscious, stroke signs, heavy bleeding, poisoning or overdose, an accident,
  anaphylaxis, a seizure, a child in danger): the answer is 112 at once;
- ``crisis``: thoughts of suicide or self-harm: a calm answer with 112 for immediate danger,
  the crisis lines and the offer of a person.

The rules are regular expressions over :func:`safety.normalise.normalise`'d text, in Polish and
English. A medical rule is silenced by a context that shows the message is about the past or
the family ("zawał 3 lata temu", "family history of stroke") or about medicines for a
condition ("leki na padaczkę"), unless the message also says it is happening now. A crisis
rule is silenced only by an explicit negation ("nie mam myśli samobójczych"). Figures of
speech ("umrę z nudów", "this app is killing me") match no rule. Words that only look
alarming are listed as ``benign``: the pipeline uses them to overrule a model that says
``emergency`` where no rule does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from safety.normalise import normalise

Kind = Literal["emergency", "crisis"]

# -- medical emergencies ----------------------------------------------------------------------
# Each category: patterns on normalised text (lower case, no diacritics, single spaces).
_EMERGENCY: dict[str, tuple[str, ...]] = {
    "cardiac": (
        r"bol\w* (w|za|na) (klatce|klatka|mostkiem)",
        r"(boli|bola|pali|piecze|gniecie|uciska|sciska|rozrywa)\w* (mnie |go |ja |mi )?(w|za) (klatce|klatka|mostkiem)",
        r"(klatk\w* piersiow\w*|w klatce|mostek|mostkiem) (\w+ )?(boli|bol|pali|piecze|gniecie|uciska|sciska|rozrywa)",
        r"\bzawal\w*",
        r"zatrzymani\w* (krazenia|akcji serca|serca)",
        r"serce (mi |mu |jej )?(stanel\w*|przestal\w* bic|nie bije)",
        r"\breanim\w*",
        r"chest (pain|pains|hurts|is hurting|feels tight|tightness|pressure)",
        r"pain (in|across) (my|his|her|the) chest",
        r"(crushing|tight|heavy|sharp) (pain )?(in )?(my |his |her )?chest",
        r"heart attack",
        r"cardiac arrest",
        r"(heart|pulse) (has )?stopped",
        r"\bcpr\b",
    ),
    "breathing": (
        r"(nie|ledwo) (moge|moze|mozemy|jestem w stanie|da sie) (zlapac )?(oddychac|oddechu|tchu|nabrac powietrza)",
        r"\bnie oddycha\w*",
        r"przestal\w* oddychac",
        r"\bdus(i|ze|zi)\w* sie",
        r"\bsie dus(i|ze|zi)\w*",
        r"(zakrztusil|zadlawil|zachlysnal)\w*",
        r"brak\w* (mi |mu |jej )?(tchu|powietrza|oddechu)",
        r"(bardzo|strasznie|okropnie) (mi |mu |jej )?duszno",
        r"(sin\w*|zsinial\w*) (usta|twarz|na twarzy)",
        r"(usta|twarz) (\w+ )?(sine|zsinial\w*|robi\w* sie sin\w*)",
        r"can't (breathe|breathing|get (my )?breath|catch (my|his|her) breath)",
        r"(not|stopped|isn't|wasn't|struggling|struggles|barely) (breathing|to breathe)",
        r"\bchoking\b",
        r"\bchoked\b",
        r"gasping for (air|breath)",
        r"turn(ed|ing)? blue",
        r"lips (are |turned |turning )?blue",
    ),
    "unconscious": (
        r"nieprzytomn\w*",
        r"(stracil|stracila|straci|traci)\w* przytomnosc",
        r"utrat\w* przytomnosci",
        r"\bzemdl(al|ala|alem|alam|eje|ala|eli|ony)\b",
        r"nie (reaguje|odpowiada|rusza sie|daje sie obudzic|mozna (go|jej|jego) (obudzic|dobudzic|docucic))",
        r"nie (moge|mozemy) (go|jej|jego) (obudzic|dobudzic|docucic)",
        r"\bunconscious\b",
        r"passed out",
        r"\bfainted\b",
        r"\bcollapsed\b",
        r"(not|isn't|wasn't) (responding|responsive|waking up)",
        r"\bunresponsive\b",
        r"(won't|can't|cannot|doesn't) wake (him|her|them)? ?up",
        r"can't wake (him|her|them|my)",
    ),
    "stroke": (
        r"\budar\w*",
        r"(opadl|opada|opadniet|krzyw|wykrzywi)\w* (mu |jej |mi )?(kacik|kaciki|twarz|usta|buzia|polowa twarzy)",
        r"(kacik|twarz|usta|buzia) (\w+ )?(opadl|opada|krzyw|wykrzywi)\w*",
        r"\bbelkocz\w*",
        r"(nagle )?(nie moze|nie moge) (mowic|wymowic slowa|ruszyc (reka|noga|reka ani noga))",
        r"(paraliz|sparalizowan|niedowlad)\w*",
        r"dretwieje (mi |mu |jej )?(cala )?(polowa|lewa|prawa) (strona|reka|twarz)",
        r"\bstroke\b",
        r"(face|mouth|smile) (is )?(drooping|droops|drooped|lopsided)",
        r"drooping (face|mouth|smile)",
        r"slurr(ed|ing) (speech|words|his words|her words)",
        r"(suddenly )?can't (move|lift|feel) (my|his|her) (arm|leg|face|left|right)",
        r"(one|left|right) side (of (my|his|her) (body|face) )?(is )?(numb|paralys|paralyz|weak|gone)",
        r"\bparaly[sz]ed\b",
    ),
    "bleeding": (
        r"\bkrwotok\w*",
        r"(silne|mocne|duze|obfite|ogromne) krwawieni\w*",
        r"krwawi\w* (bardzo |strasznie |mocno |ciagle |caly czas )*(i )?(nie (przestaje|ustaje|chce przestac)|mocno|bardzo|strasznie|jak z kranu)",
        r"(nie (moge|mozemy|da sie) )?zatamowa\w* (krwi|krwawienia|krwotoku)",
        r"(leje|tryska|cieknie|leci) (sie |mu |jej |mi )?(duzo |mnostwo )?krew",
        r"(duzo|mnostwo|pelno|kaluza|mase|cala|wszedzie) (\w+ )?krwi",
        r"krew (jest )?(wszedzie|sie leje|tryska)",
        r"(wymiotuje|wymiotowal\w*|kaszle|kaszlal\w*|pluje|plul\w*) krwi\w*",
        r"bleeding (heavily|a lot|badly|profusely|so much|everywhere|non stop|nonstop|won't stop)",
        r"(heavy|severe|massive|uncontrollable|serious) bleeding",
        r"(won't|can't|doesn't|isn't|not) stop(ping)? bleeding",
        r"(lots|lot|loads|pool|so much|tons) of blood",
        r"blood (is )?(everywhere|pouring|gushing|spurting)",
        r"(vomiting|coughing|throwing) (up )?blood",
        r"(cut|slashed) (my |his |her )?(wrist|artery|throat)",
    ),
    "poisoning": (
        r"przedawkow\w*",
        r"(polknal|polknela|polknelo|polknelam|polknalem|wypil|wypila|wypilo|zjadl|zjadla|zjadlo)\w* (\w+ ){0,3}(tabletk|lekow|leki|baterie|bateri|magnes|wybielacz|domestos|plyn|chemi|trutk|grzyb|srodek)\w*",
        r"(lykn|wzial|wziel|wziela|wzielam|wzialem)\w* (cale|cala|wszystkie|cale opakowanie|garsc|za duzo|duzo) (\w+ )?(tabletek|lekow|tabletki|leki|opakowanie)",
        r"\bzatru(l|la|ly|lo|cie|ty|ta|ci)\w* (\w+ )?(czadem|tlenkiem|grzybami|chemikal\w*|lekami|tabletkami|gazem|srodk\w*)",
        r"\bczad\w*",
        r"tlenek wegla",
        r"\boverdos\w*",
        r"\bod'?d\b",
        r"took (all|too many|a lot of|loads of|a whole (box|bottle|pack|packet) of|the whole (box|bottle|pack|packet)( of)?) (\w+ )?(my )?(pills|tablets|meds|medication|medicine|paracetamol|sleeping pills)",
        r"swallow(ed)? (a |some |the )?(battery|batteries|bleach|pills|tablets|magnet|magnets|detergent|chemicals|poison)",
        r"(drank|drunk|ate|eaten) (some )?(bleach|poison|detergent|antifreeze|chemicals|cleaning)",
        r"\bpoison(ed|ing)\b",
        r"carbon monoxide",
    ),
    "accident": (
        r"\bwypad(ek|ku)\b",
        r"(potracil|potracila|potracony|potracona|potracone|przejechal|przejechala)\w*",
        r"(spadl|spadla|spadlo|wypadl|wypadla|wypadlo)\w* (z|ze) (okna|balkonu|dachu|schodow|drabiny|rusztowania|wysokosci|lozka|przewijaka|konia|roweru)",
        r"(uderzyl|uderzyla|rozbil|rozbila)\w* (sie )?(glowa|glowe|w glowe)",
        r"(zlamani\w* otwart|kosc (wystaje|na wierzchu))\w*",
        r"(porazeni\w* pradem|porazil\w* (go |ja |mnie )?prad|kopnal (go |ja |mnie )?prad)",
        r"(topi sie|tonie|utonal|utonela|podtopi\w*|wyciagnel\w* z wody)",
        r"(poparz|oparz)\w* (cal\w*|mocno|wrzatkiem|twarz|twarzy)",
        r"car (accident|crash)",
        r"\b(crash|crashed|accident)\b",
        r"hit by a (car|bus|truck|bike|train)",
        r"(run|ran) over",
        r"fell (off|from|down) (a |the )?(ladder|roof|window|balcony|stairs|height|scaffold)",
        r"(electrocuted|electric shock)",
        r"\bdrown(ing|ed)?\b",
        r"(bone (is )?sticking out|open fracture)",
        r"(hit|banged|smashed) (his|her|my) head",
    ),
    "anaphylaxis": (
        r"anafilak\w*",
        r"(puchnie|puchna|spuchl|spuchla|spuchlo|spuchly|obrzek\w*|zapuchl)\w* (mu |jej |mi )?(gardlo|gardla|jezyk|jezyka|krtan|krtani|twarz|usta|wargi|powieki)",
        r"(gardlo|jezyk|krtan|twarz|usta) (mi |mu |jej )?(puchnie|puchna|spuchl|zamyka|zaciska)\w*",
        r"\bepipen\w*",
        r"(wstrzas|szok) (alergiczn|uczuleniow)\w*",
        r"\banaphyla\w*",
        r"(throat|tongue|lips|face) (is |are )?(swelling|swollen|closing|closing up|tightening)",
        r"swell(ing|ed)? (up )?(throat|tongue|lips|face)",
        r"allergic (reaction|shock) (and|with) (can't|trouble|difficulty|swelling)",
    ),
    "seizure": (
        r"\bdrgawk\w*",
        r"(atak|napad)\w* (padaczk|epilep|drgaw)\w*",
        r"(trzesie|rzuca) (nim|nia|go|ja|sie) (\w+ )?(i )?(nie ma kontaktu|stracil|stracila|piana)",
        r"piana (z|na) (ust|ustach)",
        r"\bseizure\w*",
        r"\bconvuls\w*",
        r"(having|had) a fit",
        r"\bfitting\b",
    ),
    "child": (
        r"(dziecko|niemowl\w*|synek|coreczka|syn|corka|maluch|bobas|noworod\w*) (\w+ ){0,3}(nie oddycha|dusi sie|sie dusi|zakrztusil|zadlawil|polknel|zsinial|jest sin|nie reaguje|ma drgawki|wypadl|spadl|topi|jest nieprzytomn)\w*",
        r"(baby|child|kid|toddler|son|daughter|infant|newborn) (\w+ ){0,3}(isn't|is not|not|stopped|can't) (breathing|breathe|responding|waking)",
        r"(baby|child|kid|toddler|son|daughter|infant) (\w+ ){0,3}(swallowed|choking|choked|turned blue|is blue|fell|drowning|having a seizure|unconscious)",
        r"(w niebezpieczenstwie|krzywdzi (moje )?dziecko|bije (moje )?dziecko)",
        r"(in danger|is being hurt|is hurting my (child|kid|son|daughter))",
    ),
    "call": (
        r"(wezwij|wezwac|zadzwon|zadzwonic|potrzebna|potrzebuje|dzwonie po|wzywam)\w* (\w+ )?(karetk|pogotowi)\w*",
        r"\bkaretk\w*",
        r"\bratunku\b",
        r"(call|need|send|get) (an |the )?(ambulance|paramedics|911|999|112)",
        r"\bambulance\b",
    ),
}

# Contexts that show a medical rule's words are about the past, the family or a medicine.
_HISTORY = (
    r"\b(\d+|kilka|pare|dwa|dwie|trzy|cztery|piec|wiele|kilkanascie) (lat|lata|miesiecy|miesiace|miesiac|tygodni|tygodnie|dni) temu\b",
    r"\b(rok|miesiac|tydzien) temu\b",
    r"\b(years?|months?|weeks?|a year|a month) ago\b",
    r"\bw (zeszlym|ubieglym|poprzednim) (roku|miesiacu)\b",
    r"\blast (year|month|summer|winter|spring|autumn)\b",
    r"\bw przeszlosci\b",
    r"\bin the past\b",
    r"\bhistory of\b",
    r"\bw wywiadzie\b",
    r"\b(po|after) (przebytym |przebytej )?(zawale|udarze|wypadku|urazie|operacji)\b",
    r"\bafter (my|his|her|a|the) (heart attack|stroke|accident|seizure|surgery)\b",
    r"\bw rodzinie\b",
    r"\bin (my|the|our) family\b",
    r"\bfamily history\b",
    r"\bw dziecinstwie\b",
    r"\bas a (child|kid)\b",
    r"\bjako dziecko\b",
    r"\b(kontrol|check ?up|follow ?up|rehabilit|rehab|fizjoterap|zaswiadczeni|orzeczeni|odszkodowani|ubezpieczeni|insurance|certificate|claim|l4|zwolnieni)\w*",
    r"\b(lek\w*|tablet\w*|recept\w*|meds?|medication|medicine|pills?|tablets?|prescription)s? (na|for|against|po|przeciw)\b",
    r"\b(seizure|epilepsy|heart|stroke|blood pressure|asthma|padaczk\w*|serc\w*) (meds|medication|medicine|pills|tablets|prescription|inhaler|lekow|leki|tabletki)\b",
    r"\b(badani\w*|wynik\w*|results?|test|tests|scan|ekg|echo|holter)\b",
    r"\b(ryzyk|risk|zapobieg|prevent|profilakty)\w*",
    r"\b(szkoleni|kurs|training|course|first aid|pierwszej pomocy)\w*",
    r"\b(gdyby|jesli kiedys|what if|what should i do if|co robic gdy|co zrobic jesli|jak rozpoznac|how to recognise|how to recognize|objawy|symptoms of)\b",
)
# Words that say it is happening now: they override the contexts above.
_NOW = (
    r"\b(teraz|wlasnie|nagle|przed chwila|chwile temu|minut\w* temu|godzin\w* temu|natychmiast|szybko|pomocy|ratunku|pilne|karetk\w*|pogotowi\w*|112|999|911)\b",
    r"\b(now|right now|just now|suddenly|help|urgent|minutes ago|an hour ago|hours ago|ambulance|quick|quickly)\b",
)

# -- crisis: suicide and self-harm ----------------------------------------------------------------
_CRISIS: dict[str, tuple[str, ...]] = {
    "suicide": (
        r"\bsamoboj\w*",
        r"\b(zabic|zabije|zabijam|zabilbym|zabilabym|zabijac) (sie|siebie)\b",
        r"\b(chce|chcialbym|chcialabym|musze|zamierzam|planuje|mysle zeby|mysle o tym zeby) (sie )?(zabic|umrzec|zniknac na zawsze|skonczyc ze soba|skonczyc z tym wszystkim|odebrac sobie zycie)\b",
        r"\b(odebrac|odbiore|odbierze|odbiorę) sobie zycie\b",
        r"\bskoncz\w* ze soba\b",
        r"\bskonczyc z (tym|zyciem) (wszystkim|na zawsze)?\b",
        r"\bnie (chce|chcialbym|chcialabym) (juz )?(dalej )?zyc\b",
        r"\bnie chce mi sie (juz )?zyc\b",
        r"\bnie (mam|widze) (po co|sensu|powodu) (\w+ )?(zyc|zycia|zeby zyc|dalej zyc|zeby dalej zyc|istniec)\b",
        r"\b(zycie|to wszystko) nie ma (juz )?sensu\b",
        r"\bnie ma sensu (zyc|zebym zyl|zebym zyla|dalej)\b",
        r"\b(chce|wolal\w*|wolalabym|wolalbym) umrzec\b",
        r"\bchce mi sie umierac\b",
        r"\b(lepiej|latwiej) (by|bedzie|byloby) (bylo )?(wszystkim )?(beze mnie|gdyby mnie nie bylo|jak mnie nie bedzie)\b",
        r"\b(beze mnie|jak mnie nie bedzie) (wszystkim )?(bedzie|byloby) (lepiej|latwiej)\b",
        r"\bwszyscy (beda|byliby) (szczesliwsi|szczesliwi) beze mnie\b",
        r"\b(powiesic sie|powiesze sie|wiesze sie)\b",
        r"\b(rzucic|rzuce) sie (pod|z|ze)\b",
        r"\bskocz\w* (z|ze) (mostu|dachu|okna|balkonu|wiezowca|bloku)\b",
        r"\bmam dosc (zycia|zycia juz|wszystkiego i wszystkich|zycia i)\b",
        r"\bnie (dam|daje) (juz )?rady (dluzej )?(zyc|zyc dalej|tak zyc)\b",
        r"\b(pozegnac sie|zegnam sie) ze (wszystkimi|swiatem)\b",
        r"\bsuicid\w*",
        r"\bkill(ing)? myself\b",
        r"\b(end|ending|take|taking) (my|my own) life\b",
        r"\bend it all\b",
        r"\b(want|wanted|going|planning|ready) to die\b",
        r"\bwish (i was|i were|to be) dead\b",
        r"\bbetter off (dead|without me)\b",
        r"\b(no|nothing) (reason|point) (to|in) (live|living|go on|going on)\b",
        r"\bnothing (left )?to live for\b",
        r"\b(don't|do not|no longer) (want|wish) to (live|be alive|exist|wake up)\b",
        r"\bnot worth living\b",
        r"\bcan't go on (anymore|any more|like this|living)\b",
        r"\bcan't (do|take) (this|it) (anymore|any more)\b",
        r"\bhang myself\b",
        r"\bjump (off|from) (a |the )?(bridge|roof|building|balcony|window)\b",
        r"\bdisappear forever\b",
    ),
    "self_harm": (
        r"\b(tne|tniesz|tnie|ciac|ciachac|ciachnac|pocialem|pocielam|pocielam|pocielem|pociac) (sie|siebie)\b",
        r"\b(okaleczam|okaleczyc|okaleczylem|okaleczylam|samookalecz|samouszkodz)\w*",
        r"\b(podciac|podcialem|podcielam|podetne) (sobie )?zyly\b",
        r"\b(krzywdze|skrzywdze|skrzywdzic|zrobic|zrobie) (sobie|siebie) (krzywde|cos zlego)\b",
        r"\b(zrobie|zrobic) sobie (cos|krzywde)\b",
        r"\bself ?harm\w*",
        r"\b(hurt|hurting|harm|harming|cut|cutting|burn|burning) myself\b",
        r"\bcutting (again|my (arms|wrists|legs))\b",
    ),
}
# Explicit negations that silence a crisis rule ("nie mam myśli samobójczych").
_CRISIS_NEGATED = (
    r"\b(nie mam|bez|brak|nigdy nie mialem|nigdy nie mialam|nie miewam) (\w+ )?(mysli|tendencji|zamiarow|prob) samoboj\w*",
    r"\bnie (jestem|czuje sie) (w kryzysie|samoboj\w*)",
    r"\bnie (chce|zamierzam|planuje) (sie )?(zabic|zrobic sobie krzywdy|krzywdzic)\b",
    r"\b(not|never|no longer) (been )?suicidal\b",
    r"\bno (suicidal|self ?harm)\w*",
    r"\b(don't|do not|won't|will not|never) (want to )?(hurt|harm|kill) myself\b",
    r"\b(suicide|suicidal|samoboj\w*) (prevention|awareness|research|statistics|zapobiegan\w*|profilaktyk\w*)\b",
)

# Words that only look alarming: with no rule above, a model that says "emergency" is overruled.
_BENIGN = (
    r"\b(konczy|koncza|skonczyl|skonczyla|skonczyly|brakuje|zabraklo|wykupic|recept\w*|e ?recept\w*|przedluz\w*|odnow\w*|zamow\w*)\b",
    r"\b(running|run|ran) out\b",
    r"\b(refill|renew|repeat prescription|prescription|order)\w*",
    r"\b(wynik\w*|results?|lab|laboratori\w*|morfologi\w*|bloods|blood (test|work|results|sample|draw|pressure)|badani\w* krwi|krew na|pobrani\w* krwi|pobierali|pobrali)\b",
    r"\b(lost|zgubil\w*|zagubion\w*)\b",
    r"\b(nie pasuje|doesn't suit|don't suit|not suit)\w*",
    r"\b(krwiodaw\w*|oddac krew|donate blood|blood donation)\b",
    r"\b(killing me|kills me|dying to|to die for|dead battery|deadline|umre z nudow|umieram z nudow|zabija mnie)\b",
    r"\b(umow|zapisz|zarezerw|book|appointment|wizyt\w*|termin\w*)\w*",
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_EMERGENCY_RES = {name: _compile(p) for name, p in _EMERGENCY.items()}
_CRISIS_RES = {name: _compile(p) for name, p in _CRISIS.items()}
_HISTORY_RE = _compile(_HISTORY)
_NOW_RE = _compile(_NOW)
_NEGATED_RE = _compile(_CRISIS_NEGATED)
_BENIGN_RE = _compile(_BENIGN)


@dataclass(frozen=True)
class Assessment:
    """What the rules found in one message."""

    kind: Kind | None = None
    """``"crisis"`` when a suicide or self-harm rule matched, else ``"emergency"`` when a
    medical rule did, else ``None``."""
    categories: tuple[str, ...] = ()
    """Every category that matched ("cardiac", "suicide", ...), medical ones first."""
    benign: bool = False
    """Whether the message has words that only look alarming ("running out of", "wyniki")."""
    silenced: tuple[str, ...] = field(default=())
    """Medical categories that matched but were silenced by a past, family or medicine context."""

    @property
    def alarm(self) -> bool:
        """Whether the message gets a safety answer."""
        return self.kind is not None

    @property
    def medical(self) -> bool:
        """Whether a medical-emergency category matched (the 112 answer comes first)."""
        return any(c in _EMERGENCY for c in self.categories)


def assess(text: str) -> Assessment:
    """Judge one message by the rules alone."""
    normal = normalise(text)
    medical = [name for name, rule in _EMERGENCY_RES.items() if rule.search(normal)]
    silenced: list[str] = []
    if medical and _HISTORY_RE.search(normal) and not _NOW_RE.search(normal):
        silenced, medical = medical, []
    crisis: list[str] = []
    if not _NEGATED_RE.search(normal):
        crisis = [name for name, rule in _CRISIS_RES.items() if rule.search(normal)]
    kind: Kind | None = "crisis" if crisis else "emergency" if medical else None
    return Assessment(
        kind=kind,
        categories=tuple(medical + crisis),
        benign=bool(_BENIGN_RE.search(normal)),
        silenced=tuple(silenced),
    )
