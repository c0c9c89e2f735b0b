from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.flatfiles.cells import Cell
from api.flatfiles.errors import ValueProblem
from api.flatfiles.values import (
    DATE_FORMATS,
    DecimalStyle,
    infer_decimal_separator,
    parse_amount,
    parse_currency,
    parse_date,
)

COMMA = DecimalStyle(",")
POINT = DecimalStyle(".")


@pytest.mark.parametrize(
    ("raw", "currency", "style", "expected"),
    [
        ("1.234.567,50", "USD", None, Decimal("1234567.50")),
        ("1,234,567.50", "USD", None, Decimal("1234567.50")),
        ("1234567,5", "USD", None, Decimal("1234567.5")),
        ("1234567.50", "USD", None, Decimal("1234567.50")),
        ("$ 1.234.567", "CLP", None, Decimal(1234567)),
        ("CLP 1.234.567", "CLP", None, Decimal(1234567)),
        ("1.234.567 CLP", "CLP", None, Decimal(1234567)),
        (" 1 234 567,50 ", "USD", None, Decimal("1234567.50")),
        ("1\u00a0234\u00a0567", "CLP", None, Decimal(1234567)),
        ("12'345.50", "USD", None, Decimal("12345.50")),
        ("US$ 1,234.50", "USD", None, Decimal("1234.50")),
        ("S/ 1,234.50", "PEN", None, Decimal("1234.50")),
        ("1.234.567", "CLP", None, Decimal(1234567)),
        ("1234567", "CLP", None, Decimal(1234567)),
        # One separator and three digits after it: the currency decides without a file hint...
        ("1.234", "CLP", None, Decimal(1234)),
        ("1,234", "CLP", None, Decimal(1234)),
        ("1.234", "USD", None, Decimal(1234)),
        # ...and the file's decimal separator decides with one.
        ("1.234", "CLF", COMMA, Decimal(1234)),
        ("1.234", "CLF", POINT, Decimal("1.234")),
        ("1,234", "CLF", COMMA, Decimal("1.234")),
        ("0,500", "CLF", None, Decimal("0.5")),
        ("1.234,5678", "CLF", None, Decimal("1234.5678")),
        (Decimal("1234.5"), "USD", None, Decimal("1234.5")),
        (1234, "CLP", None, Decimal(1234)),
    ],
)
def test_amounts_as_erps_print_them(
    raw: Cell, currency: str, style: DecimalStyle | None, expected: Decimal
) -> None:
    assert parse_amount(raw, currency, style) == expected


@pytest.mark.parametrize(
    ("raw", "currency", "style", "reason"),
    [
        ("-1.234", "CLP", None, "must be a positive amount"),
        ("(1.234)", "CLP", None, "must be a positive amount"),
        ("1.234-", "CLP", None, "must be a positive amount"),
        ("$ -1.234", "CLP", None, "must be a positive amount"),
        ("0", "CLP", None, "must be a positive amount, not zero"),
        (Decimal("-5"), "CLP", None, "must be a positive amount"),
        ("abc", "CLP", None, "not a number"),
        ("N/A", "CLP", None, "not a number"),
        ("12O.000", "CLP", None, "not a number"),
        ("1.23.456", "CLP", None, "thousands grouped wrongly"),
        ("1.234,567,8", "USD", None, "mixed separators"),
        ("12,50", "CLP", None, "more decimals than CLP allows (0)"),
        ("1,234", "USD", COMMA, "more decimals than USD allows (2)"),
        ("10.555", "USD", POINT, "more decimals than USD allows (2)"),
        ("1.234", "CLF", None, "ambiguous"),
        ("USD 100", "CLP", None, "the amount says USD but the row's currency is CLP"),
    ],
)
def test_bad_amounts_say_why(
    raw: Cell, currency: str, style: DecimalStyle | None, reason: str
) -> None:
    with pytest.raises(ValueProblem) as problem:
        parse_amount(raw, currency, style)
    assert reason in str(problem.value)


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        (["1.234.567", "5.000"], DecimalStyle(",")),
        (["1,234.50", "5,000"], DecimalStyle(".")),
        (["12,5", "1.000"], DecimalStyle(",")),
        (["0,500"], DecimalStyle(",")),
        (["1.234", "5.000", "700"], DecimalStyle(None)),
        ([Decimal("1.5"), 3, ""], DecimalStyle(None)),
        (["1.234,50", "1,234.50"], DecimalStyle(None, conflicting=True)),
    ],
)
def test_the_files_decimal_separator_comes_from_its_unambiguous_amounts(
    amounts: list[Cell], expected: DecimalStyle
) -> None:
    assert infer_decimal_separator(amounts) == expected


@pytest.mark.parametrize(
    ("raw", "country_currency", "expected"),
    [
        ("CLP", "CLP", "CLP"),
        (" mxn ", "MXN", "MXN"),
        ("$", "MXN", "MXN"),
        ("Pesos", "CLP", "CLP"),
        ("UF", "CLP", "CLF"),
        ("US$", "CLP", "USD"),
        ("Dólares", "CLP", "USD"),
    ],
)
def test_currencies_and_the_words_used_for_them(
    raw: str, country_currency: str, expected: str
) -> None:
    assert parse_currency(raw, country_currency) == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("ZZZ", "unknown currency 'ZZZ'"), ("EURO", "3-letter ISO 4217")]
)
def test_unknown_currencies_are_rejected(raw: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_currency(raw, "CLP")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01-12-2026", date(2026, 12, 1)),
        ("1/12/2026", date(2026, 12, 1)),
        ("01.12.2026", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/01", date(2026, 12, 1)),
        ("01-12-26", date(2026, 12, 1)),
        ("01/12/26", date(2026, 12, 1)),
        ("13/01/2026", date(2026, 1, 13)),
        ("05/04/2026", date(2026, 4, 5)),  # day first: 5 April, never May 4
        ("01/12/2026 00:00:00", date(2026, 12, 1)),
        ("2026-12-01T10:30:00", date(2026, 12, 1)),
        (date(2026, 12, 1), date(2026, 12, 1)),
    ],
)
def test_dates_are_day_first_or_iso(raw: Cell, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12/31/2026", "no such day"),  # a US date: month 31 does not exist
        ("31-02-2026", "no such day"),
        ("mañana", "not a date"),
        ("2026/13/01", "no such day"),
        ("1-12-2026x", "not a date"),
        ("", "not a date"),
        (46000, "a number, not a date"),
    ],
)
def test_bad_dates_name_the_accepted_formats(raw: Cell, reason: str) -> None:
    with pytest.raises(ValueProblem) as problem:
        parse_date(raw)
    assert reason in str(problem.value)
    assert DATE_FORMATS in str(problem.value)
