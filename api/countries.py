"""What a customer's country implies when the ERP does not say: time zone, language, currency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountryDefaults:
    timezone: str
    locale: str
    currency: str


COUNTRY_DEFAULTS = {
    "CL": CountryDefaults("America/Santiago", "es_CL", "CLP"),
    "MX": CountryDefaults("America/Mexico_City", "es_MX", "MXN"),
    "CO": CountryDefaults("America/Bogota", "es_CO", "COP"),
    "PE": CountryDefaults("America/Lima", "es_PE", "PEN"),
    "AR": CountryDefaults("America/Argentina/Buenos_Aires", "es_AR", "ARS"),
    "ES": CountryDefaults("Europe/Madrid", "es_ES", "EUR"),
    "US": CountryDefaults("America/New_York", "en_US", "USD"),
}


def defaults_for_country(country: str) -> CountryDefaults:
    try:
        return COUNTRY_DEFAULTS[country.strip().upper()]
    except KeyError:
        known = ", ".join(sorted(COUNTRY_DEFAULTS))
        raise ValueError(
            f"no defaults for country {country!r} (known: {known}); give timezone and locale"
        ) from None
