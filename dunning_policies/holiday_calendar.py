"""Public holidays per country (and subdivision), from the ``holidays`` package.

Computed, not fetched: the package derives every date from rules, so this is pure. The dates
are copied into a workflow's contact rules at issuance (``ContactRules.holidays``), so a newer
package — a holiday added by law — reaches new invoices while running ones replay unchanged.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import lru_cache

import holidays

# Years around the due date the snapshot covers: a reminder before it, escalation after it,
# a payment plan of up to two years.
YEARS_BEFORE_DUE = 1
YEARS_AFTER_DUE = 3


@lru_cache(maxsize=256)
def _holidays_of_year(
    country: str, subdivision: str | None, year: int
) -> tuple[tuple[date, str], ...]:
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:
        return ()
    return tuple(sorted(calendar.items()))


@lru_cache(maxsize=64)
def known_subdivisions(country: str) -> tuple[str, ...]:
    try:
        return tuple(holidays.country_holidays(country.upper()).subdivisions)
    except NotImplementedError:
        return ()


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=64)
def _subdivision_names(country: str) -> dict[str, str]:
    """Codes and the names the package knows them by, folded, to the package's code."""
    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError:
        return {}
    names = {_folded(code): code for code in calendar.subdivisions}
    aliases = getattr(calendar, "subdivisions_aliases", {}) or {}
    names.update({_folded(alias): code for alias, code in aliases.items()})
    return names


def subdivision_code(country: str, text: str) -> str:
    """The ``holidays`` package's code for a subdivision written as a code ("RM", "rm",
    "CL-RM") or as the package names it ("Región Metropolitana de Santiago"). Raises
    ValueError, naming the codes, when the country's holidays vary by subdivision and ``text``
    is none of them; for a country whose holidays do not, the text is kept as written."""
    country = country.strip().upper()
    written = text.strip()
    names = _subdivision_names(country)
    if not names:
        return written
    folded = _folded(written)
    code = names.get(folded) or names.get(folded.removeprefix(f"{country.casefold()}-"))
    if code is None:
        known = ", ".join(known_subdivisions(country))
        raise ValueError(f"{written!r} is not a subdivision of {country}; known codes: {known}")
    return code


def public_holidays(country: str, subdivision: str | None, around: date) -> dict[date, str]:
    """The country's (and subdivision's) public holidays in the years around ``around``; an
    unknown subdivision falls back to the national calendar, an unknown country to none."""
    country = country.upper()
    if subdivision is not None and subdivision not in known_subdivisions(country):
        subdivision = None
    days: dict[date, str] = {}
    for year in range(around.year - YEARS_BEFORE_DUE, around.year + YEARS_AFTER_DUE + 1):
        days.update(_holidays_of_year(country, subdivision, year))
    return days
