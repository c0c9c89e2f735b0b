"""Public holidays per country (and subdivision), from the ``holidays`` package.

Computed, not fetched: the package derives every date from rules, so this is pure. The dates
are copied into a workflow's contact rules at issuance (``ContactRules.holidays``), so a newer
package — a holiday added by law — reaches new invoices while running ones replay unchanged.
"""

from __future__ import annotations

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


def known_subdivisions(country: str) -> tuple[str, ...]:
    try:
        return tuple(holidays.country_holidays(country).subdivisions)
    except NotImplementedError:
        return ()


def public_holidays(country: str, subdivision: str | None, around: date) -> dict[date, str]:
    """The country's (and subdivision's) public holidays in the years around ``around``; an
    unknown subdivision falls back to the national calendar, an unknown country to none."""
    if subdivision is not None and subdivision not in known_subdivisions(country):
        subdivision = None
    days: dict[date, str] = {}
    for year in range(around.year - YEARS_BEFORE_DUE, around.year + YEARS_AFTER_DUE + 1):
        days.update(_holidays_of_year(country.upper(), subdivision, year))
    return days
