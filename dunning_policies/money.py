"""Money: ``Decimal`` amounts with an ISO 4217 currency; integer minor units at the storage edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import UnknownCurrencyError, get_currency_precision

_MAJOR_TO_MINOR_CACHE: dict[str, int] = {}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point: CLP 0, MXN 2, CLF 4."""
    code = currency.upper()
    if code not in _MAJOR_TO_MINOR_CACHE:
        try:
            precision = get_currency_precision(code)
        except UnknownCurrencyError as error:
            raise ValueError(f"unknown currency {currency!r}") from error
        _MAJOR_TO_MINOR_CACHE[code] = precision
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
