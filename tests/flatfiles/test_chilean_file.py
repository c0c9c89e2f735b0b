"""The 10,000-row Chilean export: 300 bad rows of ten kinds, found exactly, in well under 2 s."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from api.flatfiles import FileDefaults, parse_invoice_file
from tests.flatfiles.chilean_file import BAD_KINDS, build_chilean_invoice_file, chilean_invoice_file

TODAY = date(2026, 12, 1)


def test_ten_thousand_rows_with_exactly_300_known_bad_ones() -> None:
    built = build_chilean_invoice_file(rows=10_000, bad_per_kind=30, seed=7, today=TODAY)
    assert Counter(built.bad_rows.values()) == {kind: 30 for kind in BAD_KINDS}
    assert built.data.decode("cp1252").count("\r\n") > 10_002  # multi-line addresses inside

    started = time.perf_counter()
    parsed = parse_invoice_file(built.data, filename="cartera.csv", defaults=FileDefaults())
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0, f"parsing took {elapsed:.2f} s"
    assert (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    assert len(parsed.rows) == built.good_rows == 9_700
    assert len(parsed.rejected) == 300
    for error in parsed.rejected:
        kind = BAD_KINDS[built.bad_rows[error.line]]
        assert (error.column, kind.reason in error.reason) == (kind.column, True), error
    assert {error.line for error in parsed.rejected} == set(built.bad_rows)
    assert parsed.notes[-1].line == built.total_line
    assert parsed.notes[-1].message.startswith("totals row skipped: Totales")
    names = [row.customer.name for row in parsed.rows]
    assert any("ñ" in name for name in names) and any("é" in name for name in names)
    assert all(row.invoice.due_on >= row.invoice.issued_on for row in parsed.rows)
    usd = [row.invoice.amount for row in parsed.rows if row.invoice.currency == "USD"]
    assert usd and any(amount != amount.to_integral_value() for amount in usd)


def test_the_generator_contract_other_tests_rely_on() -> None:
    data, bad_columns = chilean_invoice_file(rows=200, bad_per_kind=2, seed=3, today=TODAY)
    assert len(bad_columns) == 20
    parsed = parse_invoice_file(data, defaults=FileDefaults())
    assert {(error.line, error.column) for error in parsed.rejected} == set(bad_columns.items())
    assert len(parsed.rows) == 180
    due_dates = [row.invoice.due_on for row in parsed.rows]
    assert min(due_dates) < TODAY < max(due_dates)  # some overdue, some not yet due
    again, _ = chilean_invoice_file(rows=200, bad_per_kind=2, seed=3, today=TODAY)
    assert again == data
