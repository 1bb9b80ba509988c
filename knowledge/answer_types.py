"""What kind of answer a question expects, and whether a sentence contains one.

A question asking for a phone number, a time of day, an amount in mg or a duration can only be
answered by a sentence holding such a thing. When no sentence about the question's subject
holds one, the documents do not answer it and the engine abstains, however similar the words.
Types are "hard" (no match means abstain) only where the question plainly asks for a typed value
(a phone or fax number, an e-mail or web address, a time of day, an amount in a named unit or of money,
a number of days or hours, how often, an account or tracking code); other durations ("how long"),
counts and roles are only preferred.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from knowledge.lexicon import in_english_vocabulary as everyday_word

MICROLITRES = r"(?:[µμu][lL]|microlit(?:er|re)s?)"  # the micro sign or the Greek mu, "µL" or "µl"
UNIT_WORDS = {
    "mg": r"mg",
    "mcg": r"(?:mcg|[µμu]g)",
    "g": r"g",
    "kg": r"[kK]g",
    "ml": r"(?:ml|mL)",
    "µl": MICROLITRES,
    "ul": MICROLITRES,
    "microliters": MICROLITRES,
    "l": r"L",
    "units": r"(?:[Uu]nits?|U|IU)",
    "iu": r"(?:IU|[Uu]nits?)",
    "%": r"(?:%|percent)",
    "percent": r"(?:%|percent)",
    "mmhg": r"mm ?Hg",  # "180 mmHg", "180 mm Hg"
    "bpm": r"(?:bpm|beats)",
    "mmol": r"mmol",
    "kg/m2": r"kg/m",
    "cc": r"(?:cc|mL)",
    "rpm": r"(?:rpm|RPM|revolutions per minute)",  # a centrifuge set in rpm: "× g" does not answer it
    "gauge": r"(?:G|g|gauge|ga)",  # a needle's "21G", "23-gauge"
}
NUMBER = r"(?<![A-Za-z])\d+(?:[.,]\d+)?"
NUMBER_WORDS = r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|once|twice|single)\b"
# "Period 1 Day -1", "Visit 3", "Week 12": schedule labels, not durations
NOT_A_LABEL = r"(?<![Pp]eriod )(?<![Vv]isit )(?<![Cc]ycle )(?<![Ww]eek )(?<![Dd]ay )(?<![Dd]ay -)"
TIME_UNIT = (  # "14 calendar days", "3 working days", "5 business days", "10 consecutive days"
    r"(?:(?:calendar|working|business|consecutive|full|clock|whole)\s+)?"
    r"(?:min(?:ute)?s?|h(?:ou)?rs?|hours?|h|days?|d|weeks?|wks?|months?|mos?|years?|yrs?)\b"
)
BOUND_WORDS = r"\b(?:at least|at most|within|no later than|no more than|up to|not exceed\w*|or (?:more|less|longer))\b"


@dataclass(frozen=True)
class AnswerType:
    name: str
    pattern: re.Pattern[str]
    hard: bool  # no sentence of this type about the subject -> abstain
    question: re.Pattern[str] | None = None  # the words of a question that ask for this type
    accept: Callable[[str, re.Match[str]], bool] | None = None  # a further test of a match (is "Covance" a name?)

    def asked_by(self, question: str) -> str:
        m = self.question.search(question) if self.question else None
        return m.group(0) if m else ""

    def matches(self, sentence: str) -> Iterator[re.Match[str]]:
        return (m for m in self.pattern.finditer(sentence) if self.accept is None or self.accept(sentence, m))

    def found_in(self, sentence: str) -> bool:
        return next(self.matches(sentence), None) is not None


PHONE = AnswerType(
    "phone",
    # "+1 617 555 0148", "(800) 555-0199", "0800 123 4567", and the North American "1-800-555-0199"
    re.compile(r"(?<![\d-])(?:\+\d{1,3}[\s.-]?|1[\s.-])?(?:\(\d{2,4}\)|\d{2,4})[\s.-]\d{3,4}[\s.-]\d{3,4}(?![\d-])"),
    True,
)
# A PDF wraps a long address at its hyphen ("kelvara2.safety@orbisyn-⏎clinical.com"): the break is part of it.
EMAIL = AnswerType("email", re.compile(r"[\w.+-]+@(?:[\w-]*-\s+)?[\w-]+\.[\w.]+"), True)
WEB = AnswerType("web address", re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|org|gov|net)\b"), True)
# "what's our courier account number", "the protocol number": a code of four digits or more, or of letters and at
# least three digits ("AC-204981", "M15-554", "1043"); not a date, a phone number or a count ("150 miles")
CODE = re.compile(r"(?<![\w+()/.-])[A-Za-z]{0,6}-?\d[\dA-Za-z]*(?:-[\dA-Za-z]+)*(?![\w/-])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{2,4}")


def _code(sentence: str, match: re.Match[str]) -> bool:
    code = match.group(0)
    digits = sum(ch.isdigit() for ch in code)
    if DATE.fullmatch(code) or not (digits >= 4 or (digits >= 3 and any(ch.isalpha() for ch in code))):
        return False
    return not any(p.start() <= match.start() < p.end() for p in PHONE.pattern.finditer(sentence))  # "555 0147"


IDENTIFIER = AnswerType("identifier", CODE, True, accept=_code)
CODE_NAMED = (
    r"\b(?:account|acct|acc|customer|billing|protocol|kit|lot|batch|order|reference|ref|tracking)\s*"
    r"(?:number|no\.?(?![\w-])|#|id\b)"
)
CONTACTS = frozenset({PHONE.name, EMAIL.name, WEB.name})  # a way to reach someone: often in the sentence after the name
ADDRESSES = frozenset({EMAIL.name, WEB.name})  # contacts made of words, which may name what they reach
CLOCK = AnswerType(
    "time of day",
    re.compile(
        r"\b\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.|h)?\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|\bnoon\b|\bmidnight\b"
        r"|\b(?:morning|evening|afternoon|overnight|bedtime)\b|\b24/7\b|\b24 hours a day\b|\baround the clock\b"
        # the times a dose is set by: "after waking", "with breakfast", "at night", "at the same time each day"
        r"|\b(?:on|after|upon) waking\b|\b(?:before|with|after) (?:breakfast|lunch|dinner|supper|(?:a |the )?meals?)\b"
        r"|\bat night\b|\bnightly\b|\bsame time (?:of day )?(?:each|every) day\b",
        re.IGNORECASE,
    ),
    True,
)
DURATION = AnswerType(
    "duration",
    re.compile(
        rf"{NOT_A_LABEL}(?:{NUMBER}|{NUMBER_WORDS})\s*(?:[-–]|to)?\s*(?:{NUMBER})?\s*-?\s*{TIME_UNIT}|[±+]\s*{NUMBER}"
        r"|\bovernight\b",
        re.IGNORECASE,
    ),
    False,  # a duration is preferred, not required: "until the next visit" and "per the schedule" also answer
)
FREQUENCY = AnswerType(
    "frequency",
    re.compile(
        rf"{DURATION.pattern.pattern}|\b(?:daily|weekly|monthly|yearly|annually|hourly|once|twice|every|each|per)\b"
        rf"|{NUMBER}\s*times\b|\b(?:day|week|visit|month|cycle)s?\s+-?\d+\b",  # "5 times", "at Weeks 4, 8 and 12"
        re.IGNORECASE,
    ),
    False,
)
CURRENCY_CODES = (
    r"(?:USD|EUR|GBP|CAD|AUD|CHF|JPY|SEK|NOK|DKK)"  # written before or after the amount: "USD 75", "75 USD"
)
MONEY = re.compile(
    rf"[$€£]\s*{NUMBER}|\b{CURRENCY_CODES}\s*{NUMBER}|{NUMBER}\s*(?:dollars|euros|{CURRENCY_CODES})\b", re.I
)
AMOUNT = AnswerType("amount", re.compile(rf"{NUMBER}|{NUMBER_WORDS}", re.I), False)
WHEN = AnswerType(  # "timeline?", "when?": a time expression is likely but not certain ("per the protocol's timetable")
    "time",
    re.compile(
        rf"{DURATION.pattern.pattern}|\b(?:day|week|visit|month)\s+-?\d+\b"
        r"|\b(?:immediately|promptly|as soon as possible|no later than|annually|daily|weekly|monthly)\b"
        rf"|{CLOCK.pattern.pattern}"  # "each evening", "at bedtime", "before 10:00"
        r"|\b(?:each|every)\s+(?:day|night|week|month|visit|dose|cycle|infusion)\b",
        re.I,
    ),
    False,
)
# "how often do the raters recertify?": only a sentence that says how often (or when: "at Weeks 4, 8 and 12") answers
ASKED_FREQUENCY = replace(FREQUENCY, name="how often", hard=True)
LEAD_TIME = AnswerType(
    "lead time",
    re.compile(
        rf"(?:{NUMBER}|{NUMBER_WORDS})\s*-?\s*{TIME_UNIT}\s+(?:\w+\s+){{0,3}}(?:prior|before|in advance|ahead|earlier)",
        re.I,
    ),
    False,
)

# "how many days", "max # of hours": a number of a named time unit, asked as plainly as "how many mg". Only a
# duration answers it (any unit: "within 2 days" answers "how many hours"); "how long" stays a preference, since
# "until the next visit" also answers that.
COUNTED_TIME = re.compile(
    r"\bhow many (?:more )?(?:days|weeks|hours|minutes|months|years|mins?|hrs?|wks?|yrs?|mos)\b"
    r"|(?:\bnumber|#)\s*of (?:days|weeks|hours|minutes|months|years|mins|hrs|wks)\b",
    re.I,
)
COUNTED_DURATION = replace(DURATION, name="number of days, hours or weeks", hard=True)

TEMPERATURE = AnswerType("temperature", re.compile(rf"{NUMBER}\s*(?:°|º|degrees?\b)", re.I), False)


def _proper_name(sentence: str, match: re.Match[str]) -> bool:
    """A capitalised word inside running text that is, or belongs to, a name: a company, product or person
    ("shipped by Marken", "the central laboratory, Covance", "through the Waypoint Participant Pay portal"), not
    a Title Case heading or phrase that starts with an English word ("Study Drug Dispensing", "Medical
    Escalation Hotline"). A run of capitalised words is judged by its first: a name leads with its own word."""
    word = match.group(0)
    if word[:2] in ("Dr", "Mr", "Ms") and " " in word:
        return True
    first = word
    for w in reversed(sentence[: match.start()].split()):
        if not w[:1].isupper():
            break
        first = w
    return _unknown_word(first.strip(".,;:()'’"))


def _unknown_word(word: str) -> bool:
    """No English word, nor an English word's inflection: a name's own word ("Marken", "Waypoint")."""
    low = word.lower()
    letters = re.sub(r"[-'’&]", "", word)
    if len(word) < 3 or not any(ch.islower() for ch in word) or not letters.isalpha() or everyday_word(low):
        return False
    for suffix, repl in (("s", ""), ("es", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ion", "e")):
        if low.endswith(suffix) and everyday_word(low[: -len(suffix)] + repl):  # "Dispensing", "Procedures"
            return False
    return not low.endswith(("tion", "ment", "ness", "ity", "ally", "ical"))


NAMED = AnswerType(  # "which courier company", "name of the medical monitor": only a sentence naming one answers
    "name",
    re.compile(r"(?<=[\w,;:)]\s)[A-Z][A-Za-z&'’-]{2,}\b|\b(?:Dr|Mr|Ms|Mrs)\.?\s+[A-Z][a-z]+"),
    True,
    accept=_proper_name,
)

PERSON = AnswerType(  # "who should ...": a sentence naming a role answers better than one that only repeats the topic
    "person or role",
    re.compile(
        r"\b(?:investigator|sub-?investigator|physician|doctor|dentist|nurse|coordinator|staff|pharmacist|monitor"
        r"|sponsor|IRB|committee|third party|person|individual|representative|LAR|advocate|interpreter|witness"
        r"|designee|delegate|guardian|parent|team|personnel)s?\b",
        re.I,
    ),
    False,
)

QUESTION_TYPES: list[tuple[re.Pattern[str], AnswerType]] = [
    (  # before the phone: "tracking # for the box" asks for a code, not a number to call
        re.compile(  # asked for ("what's our account number", "tracking # for…"), not where to write one
            rf"\bwhat(?:'s|s| is| are)?\b[^?.]{{0,40}}{CODE_NAMED}|^\W*(?:\w+\s+){{0,2}}{CODE_NAMED}",
            re.I,
        ),
        IDENTIFIER,
    ),
    (
        re.compile(
            r"\b(?:phone|telephone|tel|fax|pager|cell)\s*(?:number|no\b|#)|\bnumber to (?:call|fax)\b"
            r"|\bcontact number\b|\bhotline\b|\btoll[- ]?free\b|(?<!\w)#\s*(?:for|to call|to fax)\b"
            # not "over the phone", nor a device someone owns ("on a new phone", "lost her phone")
            r"|(?<!over the )(?<!on the )(?<!by )(?<!via )(?<!per )(?<!\ba )(?<!new )(?<!own )"
            r"(?<!\bmy )(?<!your )(?<!\bhis )(?<!\bher )(?<!their )(?<!\bour )\b(?:phone|fax)\s*\??\s*$",
            re.I,
        ),
        PHONE,
    ),
    (re.compile(r"\be-?mail\b", re.I), EMAIL),
    (
        re.compile(
            r"\bname of\b|\b(?:which|what) (?:\w+ ){0,2}"
            r"(?:company|companies|vendor|vendors|courier|cro|app|brand|provider)\b",
            re.I,
        ),
        NAMED,
    ),
    (re.compile(r"\b(?:website|web site|url|web address|portal link)\b", re.I), WEB),
    (
        re.compile(
            r"\bwhat time\b|\bat what time\b|\bwhich time\b|\btime of day\b|\bo'?clock\b|\bwhat hour\b"
            # a desk's hours ("what hours is the helpdesk open"), not how many hours a vial keeps once open
            r"|\b(?:what|which)\s+hours\b.{0,40}\b(?:open|staffed|available|answer\w*)\b|\bopening hours\b"
            r"|\bhours of (?:operation|service)\b"
            r"|\b(?:what|which)\s+(?:are\s+)?(?:the\s+)?(?:\S+\s+)?(?:business|office)\s+hours\b",
            re.I,
        ),
        CLOCK,
    ),
    (COUNTED_TIME, COUNTED_DURATION),
    (
        re.compile(r"\bhow (?:early|far in advance|long before|soon before)\b|\bhow many \w+ (?:before|prior)\b", re.I),
        LEAD_TIME,
    ),
    (re.compile(r"\bhow often\b|\bhow frequently\b", re.I), ASKED_FREQUENCY),
    (re.compile(r"\bfrequency\b|\bhow many times\b", re.I), FREQUENCY),
    (
        re.compile(
            r"\bhow (?:long|soon|early|late|fast|quickly)\b|\bwithin how\b"
            r"|\bwhat(?:'s|s| is)? (?:the )?(?:visit |dosing |time )?(?:window|interval|duration)\b"
            r"|\bwindow (?:for|on) (?:the|that|this)\b"
            r"|(?<!during the )(?<!in the )\bwash-?out (?:for|before|period|length|time|required|needed)\b"
            r"|\bwhat(?:'s| is) the wash-?out\b|\bwash-?out\s*\?",
            re.I,
        ),
        DURATION,
    ),
    (re.compile(r"\b(?:temp|temps|temperature|temperatures)\b", re.I), TEMPERATURE),
    (
        # not "min": "30 min" is minutes
        re.compile(
            r"\bhow (?:many|much)\b|\bwhat (?:dose|amount|volume|size|rate|concentration|strength|speed|percent\w*)\b"
            r"|\b(?:max|maximum|minimum)\b|\bwhat %|\b(?:what|which|certain)\b[^?.\d]{0,30}%"  # "what dropout %"
            r"|\b(?:gauge|micron|g-force|rpm)\b|#\s*(?:of\b|\?)"
            r"|\bcut-?offs?\b|\bthresholds?\b|\bwhat (?:\w+ ){0,2}level\b",  # "the QTc cutoff", "what K+ level"
            re.I,
        ),
        AMOUNT,
    ),
    (re.compile(r"\b(?:timeline|timing|deadline|time ?frame|when)\b", re.I), WHEN),
    (re.compile(r"^\W*who\b|\bwho (?:should|can|must|may|is|are|do|does|will|signs?)\b", re.I), PERSON),
]


GAUGE_FIRST = r"|\bgauge\W{0,3}\d+"  # a gauge also comes before its number: "needle gauge: 27"

# "how much is the stipend", "how much does the sponsor pay per visit": an amount of money, whatever the currency.
# A pay word and "how much" are looked for apart: one pattern spanning both ("how much.*pay") scanned the rest of
# the message from every "how much", quadratic in a long repetitive message.
PAY_WORDS = re.compile(
    r"\b(?:pay|pays|paid|stipends?|reimburs\w*|compensat\w*|payments?|costs?|price|fees?|covers?|allowance|mileage)\b",
    re.I,
)
# "how much", and the other ways a coordinator asks for a sum: "what's the max per night the sponsor covers", "the
# per-km mileage rate we reimburse"
SUM_ASKED = re.compile(r"\bhow much\b|\b(?:max|maximum|rate|amount)\b|\bper[- ](?:night|visit|day|km|mile)\b", re.I)
COUNT_ASKED = re.compile(r"\bhow many\b|\bnumber of\b|#\s*of\b", re.I)  # "max number of visits reimbursed": a count


def _money(asked_by: re.Pattern[str]) -> AnswerType:
    return AnswerType("amount of money", MONEY, True, asked_by)


def _asks_pay(question: str) -> bool:
    return bool(SUM_ASKED.search(question) and PAY_WORDS.search(question) and not COUNT_ASKED.search(question))


GIVEN_VALUE = re.compile(r"\d[\d.,]*\s*-?\s*$")  # "a 9 kg baby", "K+ 5.8": a participant's value, not the unit asked


def _asks_in(unit: str, question: str) -> bool:
    """Whether the question names `unit` as the one it asks in ("how many mL", "dose in mg"), not only as the unit of
    a value it gives ("how much blood from a 9 kg baby" asks for mL)."""
    return any(
        not GIVEN_VALUE.search(question[: m.start()])
        for m in re.finditer(rf"(?<!\w){re.escape(unit)}(?!\w)", question, re.I)
    )


def expected_type(question: str) -> AnswerType | None:
    """The answer type a question asks for, with its unit when it names one ("how many mg ...")."""
    for pattern, kind in QUESTION_TYPES:
        if pattern.search(question):
            if kind is AMOUNT:
                if re.search(r"\$|\bdollars?\b|\busd\b|\beuros?\b", question, re.I) or _asks_pay(question):
                    return _money(pattern)
                unit = next((u for u in UNIT_WORDS if _asks_in(u, question)), None)
                if unit:  # "23 G", "23-gauge", "5 %"
                    # a unit per kilogram, per m² ("vg/kg", "mg/m2"): any amount of it ("1.2 × 10^14 vg/kg")
                    per = re.search(rf"[A-Za-zµμ]+\s*/\s*{re.escape(unit)}(?!\w)", question, re.I)
                    over = r"[A-Za-zµμ]{1,12}\s*/\s*" if per else ""
                    after = rf"{NUMBER}\s*-?\s*{over}{UNIT_WORDS[unit]}(?![A-Za-z])"
                    regex = re.compile(after + (GAUGE_FIRST if unit == "gauge" else ""))
                    return AnswerType(f"amount in {unit}", regex, True, pattern)
            return replace(kind, question=pattern)
    if _asks_pay(question):  # "what's the per-km mileage rate we reimburse": no other way of asking for an amount
        return _money(SUM_ASKED)
    return None
