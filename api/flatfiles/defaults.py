"""Per-file defaults: what a row means when it has no country, time zone, locale or currency."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


_BY_COUNTRY = {
    "CL": FileDefaults("CL", "America/Santiago", "es_CL", "CLP"),
    "MX": FileDefaults("MX", "America/Mexico_City", "es_MX", "MXN"),
    "CO": FileDefaults("CO", "America/Bogota", "es_CO", "COP"),
    "PE": FileDefaults("PE", "America/Lima", "es_PE", "PEN"),
}


def defaults_for_country(country: str, *, segment: str | None = None) -> FileDefaults:
    """The usual time zone, locale and currency of a country we serve: CL, MX, CO or PE."""
    try:
        found = _BY_COUNTRY[country.strip().upper()]
    except KeyError:
        known = ", ".join(sorted(_BY_COUNTRY))
        raise ValueError(f"no defaults for country {country!r}; known: {known}") from None
    return FileDefaults(found.country, found.timezone, found.locale, found.currency, segment)
