"""Per-file defaults: what a row means when it has no country, time zone, locale or currency."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.countries import defaults_for_country as country_defaults
from dunning_policies.money import validate_currency


@dataclass(frozen=True)
class FileDefaults:
    """Values for the columns a file may leave out; a column in the file overrides them per row."""

    country: str = "CL"
    timezone: str = "America/Santiago"
    locale: str = "es_CL"
    currency: str = "CLP"
    segment: str | None = None

    def __post_init__(self) -> None:
        # Defaults come from code or configuration: a mistake there is a bug, not a row error.
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise ValueError(f"default country must be like 'CL', got {self.country!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"default time zone {self.timezone!r} is not an IANA zone") from None
        if validate_currency(self.currency) != self.currency:
            raise ValueError(f"default currency must be like 'CLP', got {self.currency!r}")


def defaults_for_country(country: str, *, segment: str | None = None) -> FileDefaults:
    """The usual time zone, locale and currency of a country (``api.countries``, the one
    table the API and the imports share)."""
    found = country_defaults(country)  # ValueError names the country
    code = country.strip().upper()
    return FileDefaults(code, found.timezone, found.locale, found.currency, segment)
