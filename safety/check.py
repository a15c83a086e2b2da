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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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
        r"(bol|ucisk|pieczeni|gniecen|sciskani|rozpierani)\w* (w|za|na) (klatce|klatka|mostkiem)",
        r"boli (mnie |go |ja )?klat\w*",
        r"\bklata (mnie )?boli",
        r"(dretwieje|zdretwial\w*) (mi |mu |jej )?(lewa reka|lewe ramie)",
        r"(lewa reka|lewe ramie) (mi |mu |jej )?(dretwieje|zdretwial\w*)",
        r"(pressure|pain|tightness|squeezing) (behind|in|on|across) (his|her|my|the) (breastbone|sternum|chest)",
        r"about to (faint|pass out|collapse)",
        r"(pali|piecze|boli|gniecie|uciska|sciska)\w* (\w+ ){0,2}w (piersiach|piersi|klatce)",
        r"clutching (his|her|my|their) chest",
        r"chest feels like",
        r"(elephant|weight) (is )?(sitting|pressing) on (my|his|her) chest",
        r"\bslon\w* (\w+ ){0,3}(na )?(klatce|piersi|mnie usiadl)",
        r"(grey|gray|szary|szara|blady|blada) (in the face|na twarzy) (\w+ ){0,3}(sweat|poci|spocon)",
        r"(w|za) (mostku|mostkiem)",
        r"(boli|kluje|sciska) (mnie |go |ja |ja |mu |jej )?serce",
        r"(blady|blada|szary|szara) i (caly |cala )?(spocony|spocona|zlany potem)",
        r"(zlapal|zlapala|trzyma)\w* sie za (serce|klatke|piers)",
        r"(clutch|grab|grabbed|clutched|holding)\w* (his|her|my) (heart|chest)",
    ),
    "breathing": (
        r"(nie|ledwo) (moge|moze|mozemy|jestem w stanie|da sie) (zlapac )?(oddychac|oddechu|tchu|nabrac powietrza)",
        r"\bnie oddycha\w*(?! przez nos)",
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
        r"(ciezko|trudno) (mi |mu |jej )?(oddychac|zlapac oddech|zlapac powietrze)",
        r"\bsinie(je|ja|ją)\b",
        r"asthma attack",
        r"(atak|napad) (astmy|dusznosci)",
        r"inhaler (is )?(not|isn't) (working|helping)",
        r"inhalator (nie )?(dziala|pomaga)",
        r"ledwo (oddycham|oddycha|lapie oddech|lapie powietrze)",
        r"(can't|cannot) get (any )?air",
        r"(lips|usta) (\w+ )?(going |turning |robia sie )?(purple|blue|fioletow|sin)\w*",
        r"\bwheezing\b (\w+ )?(so |really |very )?bad",
    ),
    "unconscious": (
        r"nieprzytomn\w*",
        r"(stracil|stracila|straci|traci)\w* przytomnosc",
        r"utrat\w* przytomnosci",
        r"\bzemdl(al|ala|alem|alam|eje|ala|eli|ony)\b",
        r"(?<!mi )(?<!nam )(?<!to )nie (reaguje|odpowiada|rusza sie|daje sie obudzic|mozna (go|jej|jego) (obudzic|dobudzic|docucic))",
        r"nie (moge|mozemy) (go|jej|jego) (obudzic|dobudzic|docucic)",
        r"\bunconscious\b",
        r"passed out",
        r"\bfainted\b",
        r"\bcollapsed\b",
        r"(not|isn't|wasn't) (responding|responsive|waking up)",
        r"\bunresponsive\b",
        r"(won't|can't|cannot|doesn't) wake (him|her|them)? ?up",
        r"can't wake (him|her|them|my)",
        r"nie (da sie|moge|mozemy|mozna) (go|jej|jego|ich) (obudzic|dobudzic|docucic)",
        r"(stracil\w*|traci\w*) (\w+ ){1,2}przytomnosc",
        r"nie (chce|moze) sie (o|do)budzic",
        r"nie kontaktuje",
        r"blacked out",
        r"blacking out",
        r"not making sense",
        r"osun(al|ela|ela|ql)\w* (sie )?(na|po)",
        r"\bosunal\w*",
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
        r"(zdretwial\w*|dretwieje) (mi |mu |jej )?(polowa|pol|cala lewa|cala prawa) (ciala|twarzy)",
        r"polowa (ciala|twarzy) (mi |mu |jej )?(zdretwial\w*|dretwieje|nie dziala)",
        r"widz\w* podwojnie",
        r"najgorszy bol glowy (w|mojego|jej|jego) (zyciu|zycia)",
        r"(jak )?uderzeni\w* piorun\w*",
        r"krzywo (sie )?usmiecha",
        r"nagle nie (rozumie|mowi|widzi)",
        r"half (my|his|her) (body|face) (went |is |has gone |goes )?numb",
        r"seeing double",
        r"worst headache (of|in) (my|his|her) life",
        r"thunderclap",
        r"(smile|face|mouth) (is |looks )?(crooked|lopsided)",
        r"suddenly (can't|cannot) (understand|speak|see|talk)",
        r"mowi\w* (nagle )?niewyraznie",
        r"nie (moge|moze) (nagle )?podniesc (lewej|prawej) (reki|nogi)",
        r"slab\w* (lewa|prawa) (strone|strona|reke|reka)",
        r"(nagle )?przestal\w* (rozumiec|mowic)",
        r"(can't|cannot) (lift|raise) (my|his|her) (left|right) (arm|leg)",
        r"mowi od rzeczy",
        r"nie moze znalezc slow",
        r"(buzie|buzia|twarz|usta) (ma )?(krzyw|opadniet)\w*",
        r"(face|mouth) (has )?(dropped|fallen)",
        r"words are (all )?slurred",
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
        r"(krew|krwawi\w*) .{0,40}nie (przestaje|ustaje|chce przestac)",
        r"krwawi\w* z (glowy|ucha|uszu|oka|ust)",
        r"(bleed\w*|blood) .{0,40}(won't|doesn't|isn't|not|wont) stop",
        r"bleeding through",
        r"(head|ear|eye|mouth) is bleeding",
        r"blood (is )?coming (out )?(of|from) (his|her|my) (ear|ears|nose|mouth|head|eye)",
        r"(wbil|wbila)\w* (sobie )?(noz|szklo|pret)",
        r"krwi (jest )?(mnostwo|duzo|pelno|coraz wiecej)",
        r"\b(stabbed|knifed)\b",
        r"(soaked|soaking) (\w+ ){0,3}(towel|towels|blood)",
        r"towels (are )?soaked",
        r"krew (\w+ ){0,2}(strumieniem|sie leje|leje sie|tryska)",
        r"(rozcial|rozciel|przecial|przeciel)\w* (\w+ ){0,3}(nozem|szklem|pila)",
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
        r"(podwojn|potrojn)\w* dawk\w*",
        r"(wzial|wziel|lykn|polkn|zazyl|zazyw)\w* (za duzo|zbyt duzo|za wiele|za duza dawke)",
        r"napil\w* sie (\w+ ){0,2}(plynu|chemii|domestosu|wybielacza|benzyny|rozpuszczalnika|srodka|kreta|octu)",
        r"(double|triple) dose",
        r"took too (much|many)",
        r"(drank|drunk|swallowed|ate|eaten) (\w+ ){0,2}(dishwasher|washing|cleaning|bleach|detergent|antifreeze|chemical|poison|liquid|capsule|tide pod)",
        r"(ugryzl|ukasil|ukasila|ugryzla)\w* (mnie |go |ja |jej |mu )?(zmija|waz)",
        r"(bitten|bit) by (a |an )?(snake|adder|viper)",
        r"snake ?bite",
        r"(wzial|wziela|wzial|podal|podala)\w* (\w+ ){0,3}dwa razy",
        r"insulin\w* (\w+ ){0,3}(twice|dwa razy|two times)",
        r"\bbredzi\b",
        r"(he's|she's|he is|she is|hes|shes) (\w+ ){0,3}confused",
        r"grzyb\w* (\w+ ){0,5}(wymiot|sromotnik|zatru)",
        r"\bsromotnik\w*",
        r"death caps?",
        r"(wild )?mushrooms? .{0,40}(vomit|sick|poison)",
        r"(ate|swallowed|eaten|took) (\w+ ){0,3}(pills|tablets|meds|medicine|medication)(?! (for|on time|today|every))",
        r"(drank|drunk|swallowed) (\w+ ){0,2}(cleaner|bleach|detergent|fluid)",
        r"(zjadl|zjadla|polknal|polknela|wzial|wziela|lyknal|lyknela)\w* (\w+ ){0,2}(cale|cala|wszystkie|dziesiec|kilkanascie|\d+) (\w+ ){0,2}(opakowanie|tabletek|tabletki|lekow|kapsulek|pastylek)",
        r"(ate|swallowed|took) (a |the )?(whole|entire|full) (pack|packet|box|bottle|strip)",
        r"(tabletk|lek)\w* (\w+ ){0,3}(zamiast|myslal\w* ze to cukierki)",
        r"(thinking|thought) (they|it) (were|was) (sweets|candy)",
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
        r"(poparzyl|oparzyl)\w* sie (\w+ )?(wrzatkiem|mocno|bardzo|ogniem|olejem)",
        r"\bw pecherzach\b",
        r"(przygniot|przygniec)\w*",
        r"nie czuje (nog|rak|nogi|reki)",
        r"(upadl|upadla|przewrocil|przewrocila)\w* i (\w+ ){0,2}(krwawi|nie (reaguje|kontaktuje|wstaje|moze wstac))",
        r"zamkniet\w* w (nagrzanym |goracym )?(aucie|samochodzie)",
        r"(sie topi|topi sie)",
        r"\bscald\w*",
        r"boiling water",
        r"(badly|severely) burn\w*",
        r"fell on (him|her|me|them)",
        r"\btrapped\b",
        r"\bcrushed\b",
        r"locked in a (hot )?car",
        r"can't feel (my|his|her) legs",
        r"fell (out of|from|off) (a |the )?(\w+ )?(\w+ )?(window|balcony|roof)",
        r"(wypadl|wypadla)\w* (z|przez) (okna|balkonu)",
        r"fell into (a |the )?(pool|pond|river|lake|water)",
        r"(wpadl|wpadla)\w* do (wody|basenu|stawu|rzeki|jeziora)",
    ),
    "anaphylaxis": (
        r"anafilak\w*",
        r"(puchnie|puchna|spuchl|spuchla|spuchlo|spuchly|obrzek\w*|zapuchl)\w* (mu |jej |mi )?(gardlo|gardla|jezyk|jezyka|krtan|krtani|twarz|usta|wargi|powieki)",
        r"(gardlo|jezyk|krtan|twarz|usta) (mi |mu |jej )?(puchnie|puchna|spuchl|zamyka|zaciska)\w*",
        r"(uzyl\w*|wstrzyk\w*|podal\w*) (\w+ )?epipen\w*",
        r"(used|gave|give|injected) (\w+ ){0,2}epipen",
        r"(wstrzas|szok) (alergiczn|uczuleniow)\w*",
        r"\banaphyla\w*",
        r"(throat|tongue|lips|face) (is |are )?(swelling|swollen|closing|closing up|tightening)",
        r"swell(ing|ed)? (up )?(throat|tongue|lips|face)",
        r"allergic (reaction|shock) (and|with) (can't|trouble|difficulty|swelling)",
        r"(ukasil|ugryzl|uzadlil|uzadlila|ukasila)\w* (mnie |go |ja )?(osa|pszczola|szerszen)\w* (\w+ ){0,4}(puchn|spuchl|dusz|oddych|gardl)",
        r"(stung|sting) (\w+ ){0,4}(swell|breath|throat)",
    ),
    "seizure": (
        r"\bdrgaw\w*",
        r"napad za napadem",
        r"nie odzyskuj\w* (swiadomosci|przytomnosci)",
        r"(seizure|fit) after (seizure|fit)",
        r"(doesn't|isn't|not) (waking|coming round|coming to) between",
        r"(atak|napad)\w* (padaczk|epilep|drgaw)\w*",
        r"(trzesie|rzuca) (nim|nia|go|ja|sie) (\w+ )?(i )?(nie ma kontaktu|stracil|stracila|piana)",
        r"piana (z|na) (ust|ustach)",
        r"\bseizure\w*",
        r"\bconvuls\w*",
        r"(having|had) a fit",
        r"\bfitting\b",
        r"pian\w* (z|na) ust\w*",
        r"foaming at the mouth",
        r"(febrile|epileptic|having a|having an|had a|had an) (\w+ )?(fit|seizure)",
        r"(drugi|trzeci|kolejny) napad (pod rzad|z rzedu)",
        r"nie odzyskal\w* przytomnosci",
    ),
    "child": (
        r"(dziecko|niemowl\w*|synek|coreczka|syn|corka|maluch|bobas|noworod\w*) (\w+ ){0,3}(nie oddycha|dusi sie|sie dusi|zakrztusil|zadlawil|polknel|zsinial|jest sin|nie reaguje|ma drgawki|wypadl|spadl|topi|jest nieprzytomn)\w*",
        r"(baby|child|kid|toddler|son|daughter|infant|newborn) (\w+ ){0,3}(isn't|is not|not|stopped|can't) (breathing|breathe|responding|waking)",
        r"(baby|child|kid|toddler|son|daughter|infant) (\w+ ){0,3}(swallowed|choking|choked|turned blue|is blue|fell|drowning|having a seizure|unconscious)",
        r"(dziecko|syn|corka|synek|coreczka) (\w+ ){0,2}(jest )?w niebezpieczenstwie",
        r"(krzywdzi|bije) (moje |mojego |moja )?(dziecko|syna|corke)",
        r"(is being hurt|is hurting my (child|kid|son|daughter))",
        r"(niemowl\w*|dziecko|synek|coreczka|bobas|noworod\w*) (\w+ ){0,4}(jest|sa) sin\w*",
        r"(child|kid|baby|son|daughter) (is|was) in danger",
        r"(jest|sa|zrobil\w* sie) sin(a|y|e|i)\b",
        r"\bzsinial\w*",
        r"(sie nie rusza|nie rusza sie)",
        r"(plamk|wysypk)\w* .{0,40}nie (bledn|znika)\w*",
        r"\bwiotk\w*",
        r"went blue",
        r"\bfloppy\b",
        r"rash (that )?(doesn't|does not|won't) fade",
        r"glass test",
    ),
    "call": (
        r"(wezwij|wezwac|zadzwon|zadzwonic|potrzebna|potrzebuje|dzwonie po|wzywam)\w* (\w+ )?(karetk|pogotowi)\w*",
        r"\bkaretk\w*",
        r"^ (ratunku|sos|karetka)( (ratunku|pomocy|sos|prosze|szybko|karetka))* $",
        r"(call|need|send|get) (an |the )?(ambulance|paramedics|911|999|112)",
        r"\bambulance\b",
    ),
}

# Contexts that show a medical rule's words are about the past, the family or a medicine.
_HISTORY = (
    r"\b(\d+|kilka|pare|dwa|dwie|trzy|cztery|piec|wiele|kilkanascie) (lat|lata|miesiecy|miesiace|miesiac|tygodni|tygodnie|dni) temu\b",
    r"\b(rok|miesiac|tydzien) temu\b",
    r"\b(years?|months?|weeks?|a year|a month) ago\b",
    r"\bw (zeszlym|ubieglym|poprzednim) (roku|miesiacu|tygodniu)\b",
    r"\blast week\b",
    r"\bnastepnym razem\b",
    r"\bnext time\b",
    r"\blast (year|month|summer|winter|spring|autumn)\b",
    r"\bw przeszlosci\b",
    r"\bin the past\b",
    r"\bhistory of\b",
    r"\bw wywiadzie\b",
    r"\b(po|after) (przebytym |przebytej )?(zawale|udarze|urazie|operacji)\b",
    r"\bod (miesiaca|tygodnia|tygodni|miesiecy|roku|lat|pol roku|kilku dni|kilku tygodni|kilku miesiecy|paru miesiecy|kilku lat|paru lat|dawna|dluzszego czasu)\b",
    r"\bfor (weeks|months|a month|a week|years|ages|a while|a long time|\d+ (weeks|months|years))\b",
    r"\b(w|in) (styczniu|lutym|marcu|kwietniu|maju|czerwcu|lipcu|sierpniu|wrzesniu|pazdzierniku|listopadzie|grudniu|january|february|march|april|may|june|july|august|september|october|november|december)\b",
    r"\b(w|in) (19|20)\d\d\b",
    r"\b(nie jest to|to nie|to nie jest|nie) nagl\w* (wypadek|stan|przypadek)\b",
    r"\b(not|isn't|is not) an emergency\b",
    r"\bhas (\w+ ){0,2}seizures\b",
    r"\bprzez nos\b",
    r"\bthrough (my|the|his|her) nose\b",
    r"\bphysio\w*",
    r"\bafter (my|his|her|a|the) (heart attack|stroke|accident|seizure|surgery)\b",
    r"\bw rodzinie\b",
    r"\bsince (my|his|her|the|a) (heart attack|stroke|accident|surgery|seizure|operation)\b",
    r"\bod (zawalu|udaru|wypadku|operacji|zabiegu)\b",
    r"\b(need|next|new|renew\w*|refill) (\w+ ){0,2}prescription",
    r"\bhow (do i|do you|can i|to|should i) (recogni[sz]e|spot|know|tell)\b",
    r"\b(asking ahead|asking for the future|just in case|na przyszlosc|na wszelki wypadek|pytam na zapas)\b",
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
    r"\b(szkoleni|kurs|training|course|class|classes|first aid|pierwszej pomocy)\w*",
    r"\b(mild|lekk\w*|slight)\b",
    r"\b(goi sie|healing|healed|zagojon\w*|scar|blizn\w*)\b",
    r"\b(gdyby|jesli kiedys|what if|what should i do if|co robic gdy|co zrobic jesli|jak rozpoznac|po czym poznac|how to recognise|how to recognize|jakie (sa )?objawy|what are (the )?(signs|symptoms) of)\b",
)
# The patient says they are safe: with no rule matched, a model's "emergency" is overruled.
_REASSURED = (
    r"\b(not|i'm not|i am not|nie jestem) (in )?(any )?(danger|niebezpieczenstwie)\b",
    r"\b(nic mi nie (jest|grozi)|i'm (fine|safe|ok|okay))\b",
    r"\b(allergic|uczulon\w*|alergi\w*) (\w+ ){0,6}(desensit|odczul|allergist|alergolog)\w*",
)

# The patient says it is no emergency: a medical rule is silenced whatever else is said.
_NOT_EMERGENCY = (
    r"\b(nie jest to|to nie|to nie jest|nie) nagl\w* (wypadek|stan|przypadek)\b",
    r"\b(nie potrzebuje|nie trzeba|nie wzywam|bez) (\w+ )?(karetki|pogotowia)\b",
    r"\b(not|isn't|is not|it's not|its not) an emergency\b",
    r"\b(don't|do not|no) need (for )?(an |the )?ambulance\b",
)

# Words that say it is happening now: they override the contexts above.
_NOW = (
    r"\b(teraz|wlasnie|nagle|przed chwila|chwile temu|minut\w* temu|godzin\w* temu|natychmiast|pomocy|ratunku|karetk\w*|pogotowi\w*|112|999|911|zamiast|przez pomylke|pomylil\w*)\b(?! (chce|chcialbym|chcialabym|potrzebuje|prosze|musze|bym|szukam|pytam|zapisz|umow))",
    r"\b(now|right now|just now|suddenly|help|urgent|minutes ago|an hour ago|hours ago|ambulance|by mistake|instead of)\b(?! (i )?(need|want|would|looking|please|book|asking))",
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
        r"\bjump (off|from|out of) (a |the |my |our )?(bridge|roof|building|balcony|window|cliff)\b",
        r"\bdisappear forever\b",
        r"\bzasnac i (sie )?nie obudzic",
        r"\bnie obudzic sie (juz )?(nigdy|wiecej)",
        r"\bodechcial\w* mi sie zyc",
        r"\b(juz )?nie istniec\b",
        r"\b(zeby|gdyby|jakby) mnie (juz )?nie bylo",
        r"\b(niedlugo|wkrotce|jutro|juz) mnie nie bedzie\b",
        r"\bznikn\w* na zawsze",
        r"\bjestem (\w+ ){0,3}ciezarem",
        r"\b(jakbym|gdybym|jak) (umarl|umarla|umre|zniknal|zniknela)\w*",
        r"\bnie chce (juz )?(tu |tutaj )?byc\b(?! na| w| u| o| dzis| jutro| tam)",
        r"\b(zakonczyc|skonczyc) (to )?(wszystko|z tym wszystkim|to na zawsze)",
        r"\bnie widze (zadnego )?wyjscia\b",
        r"\bskonczylo na zawsze\b",
        r"\bnie chce sie (juz )?budzic",
        r"\brozdal\w* (swoje |moje |wszystkie )?(rzeczy|wszystko)",
        r"\bpozegnal\w* sie z (bliskimi|rodzina|wszystkimi|przyjaciolmi)",
        r"\bzegnajcie\b",
        r"\b(dzis|dzisiaj|jutro) to koniec\b",
        r"\bto koniec ze mna\b",
        r"\b(przygotowal\w*|mam|kupil\w*|zawiazal\w*) (juz )?(\w+ )?petl\w*",
        r"\bzeby (to )?(wszystko )?(skonczyc|zakonczyc)\b",
        r"\bzeby (umrzec|sie zabic|nie zyc)\b",
        r"\bsie (powiesic|powiesze|zabic|zabije|zabijam)\b",
        r"\b(wjechac|skoczyc|rzucic sie|polozyc sie|wejsc) pod (pociag|auto|samochod|tramwaj|ciezarowke|autobus)",
        r"\blist pozegnaln\w*",
        r"\bzrobie to (dzis|dzisiaj|tej nocy|w nocy|jutro)\b",
        r"\b(ending|end) it all\b",
        r"\bnever wake up\b",
        r"\bwill to live\b",
        r"\b(wish i|want to) (didn't|did not|don't|do not|not|wasn't|weren't) (exist|alive|born|here)",
        r"\b(don't|do not) feel like living",
        r"\bkms\b",
        r"\bunalive\w*",
        r"\bwhy (keep|go on|bother) living\b",
        r"\blife is (pointless|meaningless|not worth)",
        r"\bif i (disappeared|died|was dead|were dead|wasn't here|weren't here|was gone)\b",
        r"\bdisappear(ed)? (for good|forever)\b",
        r"\b(i'm|i am) a burden\b",
        r"\bburden (to|on) (everyone|everybody|my family)\b",
        r"\b(don't|do not) want to be (here|alive|around) (anymore|any more)\b",
        r"\bend everything\b",
        r"\bno way out\b",
        r"\bgave away (my|all my) (stuff|things|belongings)\b",
        r"\bsaid goodbye to (everyone|everybody|my family)\b",
        r"\bgoodbye (everyone|everybody|world)\b",
        r"\b(tonight|today) it ends\b",
        r"\bit ends tonight\b",
        r"\bnoose\b",
        r"\bto end it\b",
        r"\bpills to (end|die|kill)\b",
        r"\bhanging myself\b",
        r"\b(step|stepping|jump|jumping|throw myself|throwing myself|walk|walking) in front of a (train|car|bus|truck|lorry|tram)",
        r"\b(overdose|overdosing|od) .{0,30}(to die|on purpose|to end)\b",
        r"\bto die\b(?! for)",
        r"\bwon't be around (much )?(longer|anymore|any more)\b",
        r"\b(suicide|goodbye) (note|letter)\b",
        r"\bpills (are )?ready\b",
        r"\bdoing it tonight\b",
        r"\bkill (herself|himself|themselves)\b",
        r"\b(wants|going|plans|planning|trying) to (kill|hurt|harm) (herself|himself|themselves)\b",
        r"\b(chce|chca|zamierza|planuje|probowal\w*) (sie )?(zabic|skrzywdzic)\b",
        r"\bma plan (jak )?sie zabic\b",
        r"\b(bym|zebym|chce|chcialbym|chcialabym) (\w+ ){0,3}nie obudzi\w*",
        r"\bnie obudzil\w* (sie )?(juz )?(rano|nigdy)",
        r"\b(odlozon|odkladam|zbieram|chomikuj)\w* (\w+ ){0,2}(tabletk|lek)\w*",
        r"\bwiem (kiedy|jak|gdzie) (to )?zrobie\b",
        r"\b(saved|saving|stockpil\w*|hoard\w*) (up )?(\w+ )?(pills|meds|tablets|medication)\b",
        r"\bpicked (a|the) (date|day)\b",
        r"\bzaraz skocze\b",
        r"\b(na dachu|na moscie|na balkonie|na krawedzi|na torach) .{0,30}(skocz|rzuc)\w*",
        r"\b(on the roof|on a bridge|on the bridge|on the edge|on the ledge|on the tracks) .{0,30}(jump|going to)",
        r"\bgoing to jump\b",
        r"\bzeby (z tym|ze soba|z zyciem|z tym wszystkim) skonczyc\b",
        r"\b(kupil\w*|mam|przygotowal\w*) (juz )?(\w+ )?(line|sznur)\b",
        r"\bgdzie (ja |go |sie )?powiesz\w*",
        r"\b(bought|got|have) (a )?rope\b",
        r"\brope .{0,30}hang\b",
        r"\b(to |z tym )?wszystko (zakonczyc|skonczyc)",
        r"\bwziac wszystkie (\w+ )?(naraz|na raz|jednoczesnie)",
        r"\btake them all at once\b",
        r"\b(jak|gdy|kiedy) mnie zabraknie\b",
        r"\bzegnam (wszystkich|was|sie ze wszystkimi)\b",
        r"\b(chce|chcialbym|chcialabym) (\w+ )?zeby to (sie )?(juz )?(skonczylo|minelo)",
        r"\bmy last message\b",
        r"\b(end|take|ending|taking) (his|her|their) (own )?life\b",
        r"\bwant (it|this|everything) (all )?to (be over|end|stop)\b",
        r"\b(drive|driving|crash|crashing|steer) (my |the )?(car )?into (a |the )?(wall|tree|truck|river)",
        r"\bthis is (my )?goodbye\b",
        r"\bnie widze (juz )?sensu (w )?(zyciu|zycia|dalszego zycia)",
        r"\bchce z tym (wszystkim )?skonczyc\b",
        r"\blepiej beze mnie\b",
        r"\bbeze mnie (\w+ ){0,2}lepiej\b",
        r"\b(uzbieral|nazbieral|zebral)\w* (\w+ )?(tabletk|lek)\w*",
        r"\bwezme (je )?wszystkie\b",
        r"\b(no|nothing|any) (reason|point) (to|in) (keep |keeping |go on |going on )?(live|living|going on|go on)\b",
        r"\b(zasnela|zasnal|zasnac) i (juz )?(nigdy )?sie nie obudzil\w*",
        r"\b(powiedzial|powiedziala|mowi|napisal\w*|grozi)\w*,? (ze )?(\w+ ){0,2}sie (powiesi|zabije|zastrzeli|otruje|utopi)",
        r"\bsie (powiesi|zabije|zastrzeli|otruje|utopi)\b",
        r"\bchce ze soba skonczyc\b",
        r"\bsie (\w+ ){0,2}(zabije|zabic|powiesze|powiesic|zastrzele)\b",
        r"\bze soba skonczyc\b",
        r"\bpo (prostu )?sie zabije\b",
        r"\b(zastrzel|zastrzele|zastrzeli)\w* sie\b",
        r"\bpo co (mam|mi) (dalej )?zyc\b",
        r"\b(lzej|lepiej) (\w+ ){0,2}jak mnie nie bedzie\b",
        r"\b(zeby|aby) to sie (wreszcie |juz )?skonczylo\b",
        r"\bto skoncze\b",
        r"\bsznur (juz )?mam\b",
        r"\b(jego|jej|moj|moja|to) ostatni (dzien|wieczor)\b",
        r"\b(potracil|przejechal|zabil)\w* (mnie )?(samochod|pociag|auto)\w* i (bylo|byloby|bedzie) po wszystkim\b",
        r"\bbylo po wszystkim\b",
        r"\b(shoot|shooting|hang|drown|poison)\w* (himself|herself|themselves|myself)\b",
        r"\b(today|tonight) is (his|her|my) last day\b",
        r"\blast day\b.{0,30}\bsorry\b",
        r"\bmake it stop for good\b",
        r"\bfor good\b.{0,20}\b(stop|end|over)\b",
        r"\bwish a (car|train|bus|truck) would hit me\b",
        r"\bso it would (all )?be over\b",
    ),
    "self_harm": (
        r"\b(tne|tniesz|tnie|ciac|ciachac|ciachnac|pocialem|pocielam|pocielam|pocielem|pociac) (sie|siebie)\b",
        r"\b(okalecz|samookalecz|samouszkodz)\w*",
        r"\b(podciac|podcialem|podcielam|podetne) (sobie )?zyly\b",
        r"\b(krzywdze|skrzywdze|skrzywdzic|zrobic|zrobie) (sobie|siebie) (krzywde|cos zlego)\b",
        r"\b(zrobie|zrobic) sobie (cos|krzywde)\b",
        r"\bself ?harm\w*",
        r"\b(hurt|hurting|harm|harming|cut|cutting|burn|burning) myself\b",
        r"\bcutting (again|my (arms|wrists|legs))\b",
        r"\bsie (pocial|pociel|poci|tne|ciac|tniesz|tnie)\w*",
        r"\btne (sie|rece|reke|nadgarstki|uda|skore|ramiona)\b",
        r"\bzyletk\w*",
        r"\bprzypal\w* sie\b",
        r"\bprzypalam (sobie )?(skore|rece|reke)",
        r"\bbije sie (po|w) (glowie|glowe|twarzy)",
        r"\b(hit|bang|banging|hitting|smash|smashing) my head (against|on) the wall",
        r"\bfeel like cutting\b",
        r"\burge to (cut|hurt myself|self harm)\b",
        r"\b(wale|bije|uderzam|walenie) (sie )?glowa w sciane",
        r"\bsobie (zrobic|zrobie|robie|robic|zrobil\w*) (krzywde|cos zlego)",
        r"\brobie sobie krzywde\b",
        r"\b(pocie|pocia)\w* sobie\b",
        r"\bpociet\w* (rak|rece|ramion|nadgarstk|ud)\w*",
        r"\b(his|her|their|my) cut (arms|wrists|legs)\b",
        r"\b(hitting|hit|punching|bruising|burning|scratching) myself\b",
        r"\b(burning|burnt|burned|cutting|cut|slashing|slashed) my (arms|wrists|legs|thighs|skin|wrist|arm)\b",
        r"\b(przypalam|przypalalam|parzy|parze)\w* (sobie )?(rece|reke|ramiona|skore)\b",
        r"\b(does|doing|did) it to (herself|himself|themselves)\b",
        r"\bcuts on (my|his|her) (daughter's |son's )?(thighs|arms|wrists|legs)\b",
        r"\bcuts on (his|her|their) (thighs|arms|wrists|legs)\b",
    ),
}
# Explicit negations that silence a crisis rule ("nie mam myśli samobójczych").
_CRISIS_NEGATED = (
    r"\b(nie mam|bez|brak|zadnych|nigdy nie mialem|nigdy nie mialam|nie miewam) (\w+ )?(mysli|tendencji|zamiarow|prob) samoboj\w*",
    r"\bnie (jestem|czuje sie) (w kryzysie|samoboj\w*)",
    r"\bnie (chce|zamierzam|planuje) (sie )?(zabic|zrobic sobie krzywdy|krzywdzic)\b",
    r"\b(not|never|no longer|i'm not|im not) (been )?suicidal\b",
    r"\bno (suicidal|self ?harm)\w*",
    r"\b(don't|do not|won't|will not|never) (want to )?(hurt|harm|kill) myself\b",
    r"\b(suicide|suicidal|samoboj\w*) (prevention|awareness|research|statistics|zapobiegan\w*|profilaktyk\w*)\b",
)

# Figures of speech that use alarming words: cut out of the text before the rules look at it.
_FIGURES = (
    r"\bserce (mi |mu |jej )?stanel\w* (jak|gdy|kiedy)\b",
    r"\b(dostal\w*|dostane|dostaje|mialem|mialam|mial|miala|o maly) (prawie )?zawal\w* (jak|gdy|kiedy|z|przez)\b",
    r"\bo maly zawal\b",
    r"\b(lol|xd|haha)\w* (\w+ ){0,3}zawal\w*",
    r"\bzawal\w* (serca )?na widok\b",
    r"\bzawalu (dostane|dostaje|dostalem|dostalam) (z|przez)\b",
    r"\bzakrztusil\w* sie (\w+ )?(kawa|herbata|woda|ze smiechu|smiechem)\b",
    r"\bumr\w* z (nudow|smiechu|ciekawosci)\b",
    r"\bumieram z (nudow|smiechu|ciekawosci)\b",
    r"\b(zabij|zabijcie) mnie,? ale\b",
    r"\bzabojcz\w* bol\w*",
    r"\b(my |his |her )?heart (stopped|skipped a beat) when\b",
    r"\b(nearly|almost) had a heart attack\b",
    r"\bheart attack when\b",
    r"\bchoked on (my |a |the )?(coffee|tea|water|drink|laughing)\b",
    r"\b(die|dying|died) (of|from) (boredom|laughter|laughing|curiosity|embarrassment)\b",
    r"\b(going to|gonna) die (of|from) (boredom|laughter|embarrassment)\b",
    r"\bdie laughing\b",
    r"\bkill me,? (but|i|forgot)\b",
    r"\bkiller headache\b",
    r"\b(i'd|i would) kill for\b",
    r"\bdying to (know|see|hear|find out|get)\b",
    r"\b(is|are) killing me\b",
    r"\b(w zadnym|w takim|w kazdym|na wszelki|w razie|w wypadku gdy|w tym) wypadk\w*",
    r"\b(giving|give|gives) me a heart attack\b",
    r"\b(dasz|da|daje|dajecie) mi zawal\w*",
    r"\bdrowning in (\w+ )?(paperwork|work|emails|debt|papers|forms)\b",
    r"\btone w (papierach|pracy|mailach|dokumentach|dlugach)\b",
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
_NOT_EMERGENCY_RE = _compile(_NOT_EMERGENCY)
_REASSURED_RE = _compile(_REASSURED)
_NOW_RE = _compile(_NOW)
_NEGATED_RE = _compile(_CRISIS_NEGATED)
_BENIGN_RE = _compile(_BENIGN)
_FIGURES_RE = _compile(_FIGURES)


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
    context: bool = False
    """Whether the message speaks of the past, a chronic state, a medicine, a course, or says
    it is no emergency or no suicidal thought: the pipeline then overrules a model that says
    ``emergency`` although no rule does."""

    @property
    def alarm(self) -> bool:
        """Whether the message gets a safety answer."""
        return self.kind is not None

    @property
    def medical(self) -> bool:
        """Whether a medical-emergency category matched (the 112 answer comes first)."""
        return any(c in _EMERGENCY for c in self.categories)

    def finding(self, source: str) -> dict[str, Any]:
        """The finding as it travels from the pipeline to the actions and from the actions to
        the chat bridge: ``{"kind", "categories", "source"}`` (``source``: who decided it,
        "rules" or "model")."""
        return {"kind": self.kind, "categories": list(self.categories), "source": source}

    @classmethod
    def from_finding(cls, finding: Any) -> Assessment | None:
        """The assessment a :meth:`finding` describes; ``None`` for anything else."""
        if not isinstance(finding, Mapping) or finding.get("kind") not in ("emergency", "crisis"):
            return None
        categories = finding.get("categories")
        listed = categories if isinstance(categories, list) else []
        return cls(kind=finding["kind"], categories=tuple(str(c) for c in listed))


def assess(text: str) -> Assessment:
    """Judge one message by the rules alone."""
    normal = normalise(text)
    figurative = bool(_FIGURES_RE.search(normal))
    normal = _FIGURES_RE.sub(" ", normal)
    medical = [name for name, rule in _EMERGENCY_RES.items() if rule.search(normal)]
    silenced: list[str] = []
    if medical and (
        _NOT_EMERGENCY_RE.search(normal)
        or (_HISTORY_RE.search(normal) and not _NOW_RE.search(normal))
    ):
        silenced, medical = medical, []
    crisis: list[str] = []
    if not _NEGATED_RE.search(normal):
        crisis = [name for name, rule in _CRISIS_RES.items() if rule.search(normal)]
    kind: Kind | None = "crisis" if crisis else "emergency" if medical else None
    return Assessment(
        kind=kind,
        categories=tuple(medical + crisis),
        benign=figurative or bool(_BENIGN_RE.search(normal)),
        silenced=tuple(silenced),
        context=bool(
            _HISTORY_RE.search(normal)
            or _NOT_EMERGENCY_RE.search(normal)
            or _NEGATED_RE.search(normal)
            or _REASSURED_RE.search(normal)
        ),
    )
