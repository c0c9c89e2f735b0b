from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.bank.csv_values import parse_bank_amount, parse_bank_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567", "1234567"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234,5", "1234.5"),
        ("1,234", "1234"),
        ("950", "950"),
        ("$ 1.250.000", "1250000"),
        ("-5.000", "-5000"),
        ("5.000-", "-5000"),
        ("(5.000)", "-5000"),
        ("$-12,500.00", "-12500.00"),
        ("12.500,00 MXN", "12500.00"),
        ("\u00a01.000 ", "1000"),
    ],
)
def test_amounts_in_every_style_banks_print(text, expected):
    assert parse_bank_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "not an amount"),
        ("", "not an amount"),
        ("1234.567", "grouped by three"),
        ("1.23.456", "grouped by three"),
        ("1.234.56", "mixes separators"),
        ("1,234,56.7", "grouped by three"),
        ("12 345", "not an amount"),
    ],
)
def test_malformed_amounts_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_bank_amount(text)


@pytest.mark.parametrize(
    "text", ["20/11/2026", "20-11-2026", "2026-11-20", "20/11/2026 00:00:00", "2026-11-20T09:30"]
)
def test_dates_day_first_or_iso(text):
    assert parse_bank_date(text) == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("11/20/26", "not a date"), ("31/02/2026", "no such day"), ("", "not a date")],
)
def test_bad_dates_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_bank_date(text)
