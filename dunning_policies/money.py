"""Money: ``Decimal`` amounts with an ISO 4217 currency; integer minor units at the storage edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, list_currencies

_MAJOR_TO_MINOR_CACHE: dict[str, int] = {}
_KNOWN_CURRENCIES = frozenset(list_currencies())
# ISO 4217 codes that are not money an invoice can be in: "no currency", testing, metals.
_NOT_MONEY = frozenset({"XXX", "XTS", "XAU", "XAG", "XPD", "XPT"})
# Stored amounts are integer minor units, so the exponent must never move under stored rows.
# It is ISO 4217's, not the display digits in Babel's CLDR data, which differ for these codes
# and have changed between releases (COP went from 2 to 0 in Babel 2.19).
_ISO_4217_MINOR_UNITS = {
    "AFN": 2,
    "ALL": 2,
    "COP": 2,
    "HUF": 2,
    "IDR": 2,
    "IQD": 3,
    "IRR": 2,
    "KPW": 2,
    "LAK": 2,
    "LBP": 2,
    "MGA": 2,
    "MMK": 2,
    "SLL": 2,
    "SOS": 2,
    "SYP": 2,
    "YER": 2,
}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point: CLP 0, MXN 2, CLF 4."""
    code = currency.upper()
    if code not in _MAJOR_TO_MINOR_CACHE:
        # Babel answers a default precision for any code, so check the code is a real one.
        if code not in _KNOWN_CURRENCIES or code in _NOT_MONEY:
            raise ValueError(f"unknown currency {currency!r}")
        _MAJOR_TO_MINOR_CACHE[code] = _ISO_4217_MINOR_UNITS.get(code) or get_currency_precision(
            code
        )
    return _MAJOR_TO_MINOR_CACHE[code]


def validate_currency(currency: str) -> str:
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    currency_exponent(code)
    return code


def quantize(amount: Decimal, currency: str) -> Decimal:
    exponent = currency_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """1250000 CLP → 1250000; 12500.5 MXN → 1250050. Rejects amounts finer than the currency."""
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows ({exponent})")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))
