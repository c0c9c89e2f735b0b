"""Country, time zone and locale cells: codes or the names people write in their place."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, localedata

from api.flatfiles.errors import ValueProblem
from api.flatfiles.headers import normalize_header

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
