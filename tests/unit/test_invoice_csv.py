from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.invoice_csv import COLUMNS, BadHeader, parse_invoice_csv

HEADER = ",".join(COLUMNS)
GOOD = (
    "F-1,C-1,Ferretería Los Andes,pagos@a.cl,+56911111111,,CL,America/Santiago,es_CL,standard,"
    "1250000,CLP,2026-11-01,2026-12-01"
)


def test_good_rows_parse_with_decimal_amounts_and_dates():
    rows, problems = parse_invoice_csv(f"\ufeff{HEADER}\n{GOOD}\n")
    assert problems == []
    [row] = rows
    assert row.line == 2
    assert row.invoice.amount == Decimal(1250000) and row.invoice.currency == "CLP"
    assert row.invoice.due_on == date(2026, 12, 1)
    assert row.customer.name == "Ferretería Los Andes" and row.customer.whatsapp is None


@pytest.mark.parametrize(
    ("replace", "column", "reason"),
    [
        ("1250000,CLP", "amount", "not a number"),
        ("1250000,CLP", "amount", "positive"),
        ("1250000,CLP", "amount", "more decimals"),
        ("1250000,CLP", "currency", "unknown currency"),
        ("2026-12-01", "due_on", "before the issue date"),
        ("2026-12-01", "due_on", "not a date"),
        ("America/Santiago", "timezone", "IANA"),
        ("Ferretería Los Andes", "customer_name", "required"),
    ],
)
def test_each_bad_row_names_its_line_column_and_reason(replace, column, reason):
    bad_values = {
        "not a number": "abc,CLP",
        "positive": "-5,CLP",
        "more decimals": "10.5,CLP",
        "unknown currency": "10,ZZZ",
        "before the issue date": "2026-10-01",
        "not a date": "01/12/2026",
        "IANA": "Mars/Olympus",
        "required": "",
    }
    bad = GOOD.replace(replace, bad_values[reason]).replace("F-1,", "F-2,")
    rows, problems = parse_invoice_csv(f"{HEADER}\n{GOOD}\n{bad}\n")
    assert [r.invoice.number for r in rows] == ["F-1"], "the good row is still imported"
    [problem] = problems
    assert (problem.line, problem.column) == (3, column)
    assert reason in problem.reason


def test_a_repeated_invoice_number_is_rejected_and_blank_lines_skipped():
    rows, problems = parse_invoice_csv(f"{HEADER}\n{GOOD}\n\n{GOOD}\n")
    assert len(rows) == 1
    assert [(p.line, p.column, p.reason) for p in problems] == [
        (4, "invoice_number", "repeats line 2")
    ]


def test_a_missing_column_is_reported_before_any_row():
    with pytest.raises(BadHeader, match="missing columns amount"):
        parse_invoice_csv("invoice_number,customer_id\nF-1,C-1\n")
