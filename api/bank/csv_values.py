"""Amounts and dates as Latin American bank exports print them.

Our own small parsers instead of locale machinery: a file does not say its locale, and the
same bank prints "1.234.567" for CLP and "1,234.56" for USD.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

_AMOUNT = re.compile(
    r"""
    (?P<lead>[-+(])?\s*
    (?:US\$|\$|[A-Z]{3})?\s*          # "$", "US$" or an ISO code before the number
    (?P<sign>[-+])?\s*
    (?P<number>\d[\d.,]*)
    \s*(?:[A-Z]{3})?\s*               # or an ISO code after it
    (?P<trail>[-)])?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_DAY_FIRST = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
DATE_FORMATS = "DD/MM/YYYY, DD-MM-YYYY or YYYY-MM-DD"


def parse_bank_amount(text: str) -> Decimal:
    """A signed amount: "1.234.567" → 1234567, "1.234,56" and "1,234.56" → 1234.56.

    The last separator is the decimal point when 1–2 digits follow it; every other separator
    groups thousands and must be followed by exactly three digits. Negative amounts may be
    written "-5.000", "5.000-" or "(5.000)". Raises ValueError with the reason.
    """
    cleaned = text.strip().replace("\u00a0", " ")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise ValueError("not an amount")
    negative = "-" in (match["lead"], match["sign"], match["trail"]) or match["lead"] == "("
    value = _unsigned(match["number"])
    return -value if negative else value


def _unsigned(number: str) -> Decimal:
    last = max(number.rfind("."), number.rfind(","))
    fraction = number[last + 1 :] if last >= 0 else ""
    if last >= 0 and 1 <= len(fraction) <= 2 and fraction.isdigit():
        decimal_mark: str | None = number[last]
        integer = number[:last]
    else:
        decimal_mark, integer, fraction = None, number, ""
    separators = {c for c in integer if c in ".,"}
    if len(separators) > 1 or (decimal_mark is not None and decimal_mark in separators):
        raise ValueError("mixes separators in a way no bank prints (expected 1.234,56 or 1,234.56)")
    if separators:
        groups = integer.split(separators.pop())
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise ValueError("thousands must be grouped by three digits (1.234.567)")
        integer = "".join(groups)
    if not integer.isdigit():
        raise ValueError("not an amount")
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def parse_bank_date(text: str) -> date:
    """DD/MM/YYYY, DD-MM-YYYY or YYYY-MM-DD, optionally followed by a time of day."""
    cleaned = _TIME_SUFFIX.sub("", text.strip())
    if match := _YEAR_FIRST.fullmatch(cleaned):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(cleaned):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    else:
        raise ValueError(f"not a date ({DATE_FORMATS})")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"no such day ({error})") from error
