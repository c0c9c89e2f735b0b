from __future__ import annotations

import pytest

from api.flatfiles.contacts import first_of_several, normalize_phone, validate_email
from api.flatfiles.errors import ValueProblem
from api.flatfiles.places import parse_country, parse_locale, parse_timezone


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("9 1234 5678", "CL", "+56912345678"),
        ("+56 9 1234 5678", "CL", "+56912345678"),
        ("(2) 2345-6789", "CL", "+56223456789"),
        ("56912345678", "CL", "+56912345678"),
        ("0056 9 1234 5678", "CL", "+56912345678"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("044 55 1234 5678", "MX", "+525512345678"),
        ("+52 1 55 1234 5678", "MX", "+525512345678"),
        ("300 123 4567", "CO", "+573001234567"),
        ("912 345 678", "PE", "+51912345678"),
        ("01 234 5678", "PE", "+5112345678"),
        ("+1 (415) 555-0100", "CL", "+14155550100"),
        ("+1 415 555 0100", "US", "+14155550100"),
    ],
)
def test_phones_become_e164(raw: str, country: str, expected: str) -> None:
    assert normalize_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("1234", "CL", "a phone number in CL has 9 digits after +56"),
        ("+56 9 1234 567", "CL", "a +56 number has 9 digits"),
        ("9 1234 5678 anexo 2", "CL", "only digits"),
        ("999999999", "CL", "every digit is the same"),
        ("555 1234", "MX", "a phone number in MX has 10 digits"),
        ("4155550100", "US", "write it with + and the country code"),
        ("+123", "CL", "8 to 15 digits"),
    ],
)
def test_obviously_bad_phones_are_rejected(raw: str, country: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as problem:
        normalize_phone(raw, country)
    assert reason in str(problem.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pagos@cliente.cl", "pagos@cliente.cl"),
        (" mailto:a.b@sub.empresa.com.mx ", "a.b@sub.empresa.com.mx"),
    ],
)
def test_emails(raw: str, expected: str) -> None:
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("pagos.cliente.cl", "it has no @"),
        ("pagos@cliente", "name@domain.tld"),
        ("a@@cliente.cl", "name@domain.tld"),
        ("pagos @cliente.cl", "name@domain.tld"),
        ("@cliente.cl", "name@domain.tld"),
    ],
)
def test_bad_emails(raw: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        validate_email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a@x.cl; b@x.cl", ("a@x.cl", 2)),
        ("9 1234 5678 / 9 8765 4321", ("9 1234 5678", 2)),
        ("a@x.cl, b@x.cl y c@x.cl", ("a@x.cl", 3)),
        ("a@x.cl", ("a@x.cl", 1)),
    ],
)
def test_a_cell_with_several_contacts_gives_the_first(raw: str, expected: tuple[str, int]) -> None:
    assert first_of_several(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("CL", "CL"), ("mx", "MX"), ("Chile", "CL"), ("México", "MX"), ("Peru", "PE"), ("Perú", "PE")],
)
def test_countries_by_code_or_name(raw: str, expected: str) -> None:
    assert parse_country(raw) == expected


def test_unknown_countries_and_time_zones_are_rejected() -> None:
    with pytest.raises(ValueProblem, match="2-letter ISO code"):
        parse_country("Chilee")
    with pytest.raises(ValueProblem, match="IANA time zone"):
        parse_timezone("Santiago")
    assert parse_timezone("America/Mexico_City") == "America/Mexico_City"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("es_CL", "CL", "es_CL"),
        ("es-mx", "CL", "es_MX"),
        ("es", "MX", "es_MX"),
        ("Español", "CO", "es_CO"),
        ("en", "CL", "en"),  # CLDR has no en_CL
        ("en_US", "CL", "en_US"),
    ],
)
def test_locales(raw: str, country: str, expected: str) -> None:
    assert parse_locale(raw, country) == expected


@pytest.mark.parametrize("raw", ["zz_ZZ", "klingon", "es_XX"])
def test_unknown_locales_are_rejected(raw: str) -> None:
    with pytest.raises(ValueProblem, match="locale"):
        parse_locale(raw, "CL")
