"""A debtor's reply that promises a payment date: "PAGARÉ 30/11", "PAGO EL 30-11-2026",
"PROMESA 30/11" or "I WILL PAY 11/30".

Like the opt-out keywords (``keywords.py``), the reply must be the promise and nothing else
(an optional "gracias" / "thanks" may follow): "pago el 30/11 si me pagan a mí" is a sentence
for a collector, not a commitment a machine should take. Case, accents and outer punctuation
are forgiven.

Numeric dates are read in the order the debtor's locale writes them (CLDR's short date
pattern: day first in es_CL and es_MX, month first in en_US). A day without a year is the next
such day from today; an impossible or past dated one is no promise.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from api.webhooks.keywords import normalize_keyword

_KEYWORDS = (
    r"pagare(?:mos)?",
    r"pago",
    r"promesa(?: de pago)?",
    r"(?:voy|vamos) a pagar",
    r"(?:i|we) will pay",
    r"(?:i|we)['’]?ll pay",
    r"will pay",
    r"promise(?: to pay)?",
)
PROMISE_WORDS: tuple[str, ...] = (
    "pagare",
    "pago",
    "promesa",
    "voy a pagar",
    "vamos a pagar",
    "i will pay",
    "we will pay",
    "i'll pay",
    "i’ll pay",
    "will pay",
    "promise",
)
"""How a promise begins (normalised): a reply that begins so but does not parse is logged."""
_PROMISE = re.compile(
    r"^(?:" + "|".join(_KEYWORDS) + r")"
    r"(?:\s+(?:el|on|the|para el|by))?\s+"
    r"(?P<first>\d{1,2})\s*[/.-]\s*(?P<second>\d{1,2})(?:\s*[/.-]\s*(?P<year>\d{2}|\d{4}))?"
    r"(?:[\s,.!]+(?:muchas gracias|gracias|thanks|thank you))?$"
)


def parse_promise_reply(body: str, locale: str, today: date) -> date | None:
    """The promised date, or None when the reply is not (only) a promise with a valid date."""
    found = _PROMISE.match(" ".join(normalize_keyword(body).split()))
    if found is None:
        return None
    first, second = int(found["first"]), int(found["second"])
    month, day = (first, second) if _month_first(locale) else (second, first)
    year_text = found["year"]
    if year_text is None:
        return _next_occurrence(month, day, today)
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        promised = date(year, month, day)
    except ValueError:
        return None
    return promised if promised >= today else None


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    """This year's day, or next year's when it has passed (29/2 waits for a leap year)."""
    for year in range(today.year, today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31 or (month, day) != (2, 29):
                return None
            continue
        if candidate >= today:
            return candidate
    return None


@lru_cache(maxsize=64)
def _month_first(locale: str) -> bool:
    """Whether the locale writes a numeric date month first (en_US: 11/30/26)."""
    try:
        parsed = Locale.parse(locale.strip().replace("-", "_") or "es")
    except (UnknownLocaleError, ValueError):
        return False
    pattern = parsed.date_formats["short"].pattern.lower()
    return 0 <= pattern.find("m") < pattern.find("d")
