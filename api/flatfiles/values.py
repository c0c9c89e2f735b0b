"""Amounts, dates and currencies as Latin American ERPs print them.

Amounts: "1.234.567,50", "1,234,567.50", "1234567,5", "$ 1.234.567", "CLP 1.234.567" and
" 1 234 567,50 " are all understood. Which separator is the decimal one:

1. When both "." and "," appear, the last one is the decimal separator: "1.234,50".
2. When one appears several times, it separates thousands: "1.234.567" is 1234567.
3. When one appears once, not followed by exactly three digits, it is the decimal separator:
   "1234,5" and "1234.50".
4. Once and followed by exactly three digits ("1.234") it is ambiguous; in order:
   a. after a lone "0" it is decimal ("0,500");
   b. the file's decimal separator decides, when the file's unambiguous amounts (rules 1–3) all
      agree on one (see ``infer_decimal_separator``);
   c. otherwise the currency decides: with at most two decimals (CLP, MXN, USD...) three
      decimal digits would be invalid anyway, so it separates thousands: CLP "1.234" is 1234;
   d. otherwise (CLF, with four decimals) the amount is rejected as ambiguous.

Thousands groups must have three digits ("1.23.456" is rejected). Dates are always day first
(never MM/DD): DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY, DD-MM-YY (20YY) or ISO YYYY-MM-DD, with an
optional time of day after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from babel.numbers import get_territory_currencies

from api.flatfiles.cells import Cell, cell_text
from api.flatfiles.errors import ValueProblem
from dunning_policies.money import currency_exponent, to_minor, validate_currency

_AMOUNT = re.compile(
    r"""
    (?P<lead>[-(])?\s*
    (?:(?P<before>[A-Z]{3}|US\$|\$|S/\.?)\s*)?    # "$", "US$", "S/" or an ISO code before it
    (?P<sign>-)?\s*
    (?P<number>\d(?:[\d.,\s']*\d)?)
    \s*(?P<after>[A-Z]{3})?\s*                     # or an ISO code after it
    (?P<trail>[-)])?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_GROUPING_NOISE = (" ", "\u00a0", "\u202f", "'")  # spaces and Swiss apostrophes
_AMOUNT_EXAMPLES = "write it like 1.234.567, 1.234,50 or 1234.50"

_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_TIME_OF_DAY = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")
DATE_FORMATS = "DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY, DD-MM-YY or YYYY-MM-DD"

# What people write in a currency column instead of an ISO code; "" means the country's own.
_CURRENCY_WORDS = {
    "$": "",
    "PESO": "",
    "PESOS": "",
    "UF": "CLF",
    "US$": "USD",
    "U$S": "USD",
    "DOLAR": "USD",
    "DÓLAR": "USD",
    "DOLARES": "USD",
    "DÓLARES": "USD",
    "SOLES": "PEN",
    "S/": "PEN",
}


@dataclass(frozen=True)
class DecimalStyle:
    """The decimal separator a file's unambiguous amounts agree on (None when unknown)."""

    separator: str | None
    conflicting: bool = False  # some amounts use "," and others "." as decimal separator


def infer_decimal_separator(raw_amounts: Iterable[Cell]) -> DecimalStyle:
    """Reads the amounts that say which separator is decimal (rules 1–3 of the module doc)."""
    seen: set[str] = set()
    for raw in raw_amounts:
        if not isinstance(raw, str) or not (match := _AMOUNT.fullmatch(raw.strip())):
            continue
        evidence = _decimal_evidence(_without_grouping_noise(match["number"]))
        if evidence:
            seen.add(evidence)
            if len(seen) == 2:
                return DecimalStyle(None, conflicting=True)
    return DecimalStyle(seen.pop() if seen else None)


def _without_grouping_noise(number: str) -> str:
    for noise in _GROUPING_NOISE:
        if noise in number:
            number = number.replace(noise, "")
    return number


def _decimal_evidence(number: str) -> str | None:
    last = max(number.rfind("."), number.rfind(","))
    if last < 0:
        return None
    mark = number[last]
    other = "," if mark == "." else "."
    if other in number:
        return mark
    if number.count(mark) > 1:
        return other
    return mark if len(number) - last - 1 != 3 or number[:last] == "0" else None


def parse_amount(raw: Cell, currency: str, style: DecimalStyle | None = None) -> Decimal:
    """A positive amount with no more decimals than ``currency`` allows; raises ValueProblem."""
    if isinstance(raw, Decimal | int):
        amount = Decimal(raw)
    else:
        text = cell_text(raw)
        match = _AMOUNT.fullmatch(text)
        if match is None:
            raise ValueProblem(f"not a number: {_AMOUNT_EXAMPLES}")
        _check_code(match["before"], currency)
        _check_code(match["after"], currency)
        negative = "-" in (match["lead"], match["sign"], match["trail"]) or (
            match["lead"] == "(" and match["trail"] == ")"
        )
        amount = _unsigned(_without_grouping_noise(match["number"]), currency, style)
        if negative:
            amount = -amount
    if amount <= 0:
        raise ValueProblem("must be a positive amount" + (", not zero" if amount == 0 else ""))
    try:
        to_minor(amount, currency)
    except ValueError as error:
        raise ValueProblem(str(error)) from error
    return amount


def _check_code(code: str | None, currency: str) -> None:
    if code and len(code) == 3 and code.isalpha() and code.upper() != currency:
        raise ValueProblem(f"the amount says {code.upper()} but the row's currency is {currency}")


def _unsigned(number: str, currency: str, style: DecimalStyle | None) -> Decimal:
    last = max(number.rfind("."), number.rfind(","))
    if last < 0:
        return Decimal(number)
    mark = number[last]
    decimal_mark = _decimal_mark(number, mark, last, currency, style)
    if decimal_mark is None:
        integer, fraction = number, ""
    else:
        integer, fraction = number[:last], number[last + 1 :]
    separators = set(integer) - set("0123456789")
    if len(separators) > 1 or decimal_mark in separators:
        raise ValueProblem(f"not a number (mixed separators): {_AMOUNT_EXAMPLES}")
    if separators:
        groups = integer.split(separators.pop())
        if not (1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])):
            raise ValueProblem(f"not a number (thousands grouped wrongly): {_AMOUNT_EXAMPLES}")
        integer = "".join(groups)
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _decimal_mark(
    number: str, mark: str, last: int, currency: str, style: DecimalStyle | None
) -> str | None:
    """Which separator is decimal in this amount (None: none is), by the module doc's rules."""
    other = "," if mark == "." else "."
    if other in number:
        return mark
    if number.count(mark) > 1:
        return None
    if len(number) - last - 1 != 3 or number[:last] == "0":
        return mark
    if style is not None and style.separator is not None:
        return mark if style.separator == mark else None
    if currency_exponent(currency) < 3:
        return None
    raise ValueProblem(
        f"ambiguous: the {mark!r} in {number} may separate thousands or {currency} decimals; "
        "write all the decimals (1.234,0000) or no thousands separator (1234)"
    )


@cache
def currency_of_country(country: str) -> str | None:
    """The legal tender of a country today (CL → CLP); None when Babel does not know one."""
    currencies = get_territory_currencies(country, datetime.now(UTC).date(), tender=True)
    return currencies[0] if currencies else None


def parse_currency(raw: Cell, country_currency: str) -> str:
    """An ISO 4217 code; "$" or "pesos" is ``country_currency``, "UF" is CLF."""
    text = cell_text(raw).upper()
    word = _CURRENCY_WORDS.get(text)
    if word is not None:
        return word or country_currency
    try:
        return validate_currency(text)
    except ValueError as error:
        raise ValueProblem(str(error)) from error


def parse_date(raw: Cell) -> date:
    """A day-first or ISO date (see the module doc); raises ValueProblem naming the formats."""
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | Decimal):
        raise ValueProblem(
            f"a number, not a date (an Excel cell not formatted as date?); use {DATE_FORMATS}"
        )
    text = _TIME_OF_DAY.sub("", raw.strip(), count=1)
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
        if len(match[4]) == 2:
            year += 2000
    else:
        raise ValueProblem(f"not a date: use {DATE_FORMATS}")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueProblem(f"no such day ({error}); use {DATE_FORMATS}") from error
