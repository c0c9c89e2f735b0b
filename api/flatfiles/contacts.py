"""Email addresses and phone numbers as customers' records hold them, made usable or rejected."""

from __future__ import annotations

import re

from api.flatfiles.errors import ValueProblem

_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@(?:[^@\s<>(),;:\"._-][^@\s<>(),;:\".]*\.)+[a-z]{2,}", re.I)
_SEVERAL = re.compile(r"\s*[;,/|]\s*|\s+y\s+|\s+or\s+|\s+o\s+")
_PHONE_NOISE = re.compile(r"[\s().\-]+")

# Country calling code and the lengths of a national number without trunk prefix.
_NATIONAL_PLANS = {
    "CL": ("56", (9,)),  # 9 1234 5678 (mobile), 2 2345 6789 (Santiago)
    "MX": ("52", (10,)),  # 55 1234 5678
    "CO": ("57", (10,)),  # 300 123 4567, 601 234 5678
    "PE": ("51", (8, 9)),  # 912 345 678 (mobile), 1 234 5678 (Lima)
}
_LENGTH_BY_CODE = {code: lengths for code, lengths in _NATIONAL_PLANS.values()}
# Mexico's dialling prefixes abolished in 2019-2020, still found in customer records.
_MEXICO_OLD_PREFIXES = ("044", "045", "01")


def first_of_several(text: str) -> tuple[str, int]:
    """ "a@x.cl; b@x.cl" → ("a@x.cl", 2): the first value and how many the cell holds."""
    parts = [part for part in _SEVERAL.split(text.strip()) if part]
    return (parts[0], len(parts)) if parts else ("", 0)


def validate_email(text: str) -> str:
    address = text.strip().removeprefix("mailto:")
    if "@" not in address:
        raise ValueProblem("not an email address: it has no @")
    if not _EMAIL.fullmatch(address):
        raise ValueProblem("not an email address: expected name@domain.tld")
    return address


def normalize_phone(text: str, country: str) -> str:
    """E.164 ("+56912345678"): "9 1234 5678" in Chile gains +56; a "+..." number is kept.

    National forms are understood for CL, MX, CO and PE; elsewhere the number must start with
    "+" and the country code.
    """
    compact = _PHONE_NOISE.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    international = compact.startswith("+")
    digits = compact.removeprefix("+")
    if not digits.isdigit():
        raise ValueProblem("a phone number has only digits, spaces, + ( ) - and .")
    if len(digits) >= 7 and len(set(digits)) == 1:
        raise ValueProblem("not a phone number: every digit is the same")
    if international:
        return _checked_international(digits)
    plan = _NATIONAL_PLANS.get(country)
    if plan is None:
        raise ValueProblem(
            f"write it with + and the country code (national numbers of {country} are not known)"
        )
    code, lengths = plan
    if country == "MX":
        digits = _without_mexican_prefix(digits)
    elif digits.startswith("0") and len(digits) - 1 in lengths:
        digits = digits[1:]  # a trunk "0" (Peru's 01 for Lima)
    if len(digits) in lengths:
        return f"+{code}{digits}"
    if digits.startswith(code) and len(digits) - len(code) in lengths:
        return f"+{digits}"
    expected = " or ".join(str(length) for length in lengths)
    raise ValueProblem(f"a phone number in {country} has {expected} digits after +{code}")


def _without_mexican_prefix(digits: str) -> str:
    if digits.startswith("521") and len(digits) == 13:
        return digits[3:]
    for prefix in _MEXICO_OLD_PREFIXES:
        if digits.startswith(prefix) and len(digits) == len(prefix) + 10:
            return digits[len(prefix) :]
    return digits


def _checked_international(digits: str) -> str:
    if digits.startswith("521") and len(digits) == 13:
        digits = "52" + digits[3:]  # Mexico's old "1" for mobiles
    for code, lengths in _LENGTH_BY_CODE.items():
        if digits.startswith(code) and len(digits) - len(code) not in lengths:
            expected = " or ".join(str(length) for length in lengths)
            raise ValueProblem(f"a +{code} number has {expected} digits after the +{code}")
    if not 8 <= len(digits) <= 15:
        raise ValueProblem("an international number has 8 to 15 digits after the +")
    return f"+{digits}"
