"""Country, region, time zone and locale cells: codes or the names people write in their place;
and the debt type, which with the country picks the law's contact rules."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, localedata

from api.flatfiles.errors import ValueProblem
from api.flatfiles.headers import normalize_header
from dunning_policies.holiday_calendar import subdivision_code
from dunning_policies.jurisdictions import DebtType

_LOCALE = re.compile(r"([a-z]{2,3})(?:[_-]([a-z]{2}))?", re.I)
_LANGUAGE_NAMES = {
    "espanol": "es",
    "castellano": "es",
    "spanish": "es",
    "ingles": "en",
    "english": "en",
    "portugues": "pt",
    "portuguese": "pt",
}


@cache
def _countries() -> dict[str, str]:
    """Normalized Spanish and English country names, and the codes, to ISO 3166 alpha-2."""
    names: dict[str, str] = {}
    for language in ("en", "es"):
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names[normalize_header(name)] = code
                names[code.casefold()] = code
    return names


def parse_country(text: str) -> str:
    """ "CL", "cl", "Chile" or "México" → the ISO code."""
    code = _countries().get(normalize_header(text))
    if code is None:
        raise ValueProblem("not a country: use a 2-letter ISO code such as CL, MX, CO or PE")
    return code


# What ERPs write for whose debt it is, matched after ``normalize_header`` (accents dropped).
_DEBT_TYPE_NAMES = {
    DebtType.CONSUMER: "consumidor | consumo | consumer | persona | persona natural | "
    "persona física | natural | individual | particular | b2c",
    DebtType.BUSINESS: "empresa | business | company | comercial | persona jurídica | "
    "persona moral | jurídica | moral | b2b",
}
_DEBT_TYPE_WORDS = {
    normalize_header(word): debt_type
    for debt_type, words in _DEBT_TYPE_NAMES.items()
    for word in words.split("|")
}


def parse_debt_type(text: str) -> DebtType:
    """ "consumidor", "persona natural", "empresa", "business"… → consumer or business."""
    found = _DEBT_TYPE_WORDS.get(normalize_header(text))
    if found is None:
        raise ValueProblem(
            "not a debt type: write consumidor (consumer, persona) or empresa (business)"
        )
    return found


def parse_subdivision(text: str, country: str) -> str:
    """ "RM", "CL-RM" or "Región Metropolitana de Santiago" → "RM": the region whose holidays
    join the country's."""
    try:
        return subdivision_code(country, text)
    except ValueError as error:
        raise ValueProblem(str(error)) from None


@cache
def parse_timezone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueProblem("not an IANA time zone such as America/Santiago") from None
    return name


@cache
def parse_locale(text: str, country: str) -> str:
    """ "es-cl" → "es_CL"; a bare language ("es", "español") takes the row's country."""
    cleaned = text.strip()
    language, region = _LANGUAGE_NAMES.get(normalize_header(cleaned)), None
    if language is None:
        if (match := _LOCALE.fullmatch(cleaned)) is None:
            raise ValueProblem("not a locale: use a code such as es_CL, es_MX or en_US")
        language, region = match[1].lower(), match[2].upper() if match[2] else None
    if region is None:
        # "es" for a Chilean customer means es_CL; a language not spoken there stays bare.
        with_country = f"{language}_{country}"
        return with_country if localedata.exists(with_country) else _known(language)
    return _known(f"{language}_{region}")


def _known(locale: str) -> str:
    if not localedata.exists(locale):
        raise ValueProblem("not a locale we know: use a code such as es_CL, es_MX or en_US")
    return locale
