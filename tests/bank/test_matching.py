from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from api.bank.matching import DEBIT_REASON, LineMatch, OpenInvoice, match_statement
from api.bank.statement import Direction, StatementLine
from api.bank.statement_csv import parse_statement_csv

BOOKED = date(2026, 11, 20)


def bank_line(
    amount: int | str,
    description: str = "",
    *,
    reference: str | None = None,
    tax_id: str | None = None,
    currency: str = "CLP",
    direction: Direction = "credit",
    booked_on: date = BOOKED,
    line: int = 1,
) -> StatementLine:
    return StatementLine(
        line=line,
        booked_on=booked_on,
        amount=Decimal(amount),
        currency=currency,
        direction=direction,
        description=description,
        bank_reference=reference,
        counterparty_name=None,
        counterparty_tax_id=tax_id,
    )


def invoice(
    number: str,
    amount: int | str = 1_234_567,
    *,
    tax_id: str | None = "76.123.456-7",
    due_on: date = BOOKED,
    currency: str = "CLP",
) -> OpenInvoice:
    return OpenInvoice(number, f"C-{tax_id}", tax_id, Decimal(amount), currency, due_on)


def one(line: StatementLine, invoices: list[OpenInvoice]) -> LineMatch:
    [result] = match_statement([line], invoices)
    assert result.line is line
    return result


@pytest.mark.parametrize(
    "description",
    [
        "Transferencia FAC 000123",
        "pago F-123",
        "Factura N° 123 noviembre",
        "PAGO FOLIO 123",
        "fac123",
        "Nº0123",
        "abono factura-123.",
    ],
)
def test_a_an_invoice_number_in_the_description_matches(description):
    result = one(bank_line(999, description), [invoice("123"), invoice("124")])
    assert (result.status, result.invoice_number, result.rule) == (
        "matched",
        "123",
        "invoice_number",
    )
    assert result.candidates == ("123",)


def test_a_the_bank_reference_counts_and_our_numbers_with_prefixes_and_zeros_match():
    result = one(bank_line(999, "TEF", reference="FAC 42"), [invoice("F-000042")])
    assert (result.status, result.invoice_number) == ("matched", "F-000042")
    alphanumeric = one(bank_line(999, "Invoice INV-2026-0042"), [invoice("INV-2026-0042")])
    assert alphanumeric.invoice_number == "INV-2026-0042"


@pytest.mark.parametrize(
    "description",
    ["pago 41234", "transf 1230", "monto 1.234.567", "20/11/2026", "RUT 76.123.456-7", "OC123"],
)
def test_a_a_number_inside_a_longer_number_date_amount_or_rut_does_not_match(description):
    invoices = [invoice("123", 5000), invoice("7", 5000), invoice("20", 5000), invoice("234", 5000)]
    result = one(bank_line(999, description), invoices)
    assert result.status == "unmatched"
    assert result.candidates == ()


def test_a_several_invoice_numbers_are_suggested_for_a_collector_to_split():
    invoices = [invoice("123"), invoice("124"), invoice("125")]
    result = one(bank_line(2_000_000, "FAC 124 y FAC 123"), invoices)
    assert (result.status, result.invoice_number, result.rule) == (
        "suggested",
        None,
        "invoice_number",
    )
    assert result.candidates == ("124", "123")


def test_a_an_invoice_in_another_currency_is_not_matched_by_number():
    result = one(bank_line(999, "FAC 123"), [invoice("123", currency="USD")])
    assert result.status == "unmatched"
    assert result.reason.startswith("invoice 123 is named in the reference but is in USD, not CLP")
    assert result.candidates == ("123",)


def test_b_tax_id_and_exact_amount_match_whatever_the_tax_id_format():
    invoices = [invoice("900", 500_000), invoice("901", 750_000)]
    result = one(bank_line(750_000, "TRANSF", tax_id="761234567"), invoices)
    assert (result.status, result.invoice_number, result.rule) == (
        "matched",
        "901",
        "tax_id_and_amount",
    )


def test_b_several_invoices_of_that_customer_and_amount_are_suggested_oldest_first():
    invoices = [
        invoice("902", 100_000, due_on=date(2026, 12, 1)),
        invoice("900", 100_000, due_on=date(2026, 10, 1)),
        invoice("901", 100_000, due_on=date(2026, 11, 1)),
        invoice("903", 100_000, tax_id="99.999.999-9"),
    ]
    result = one(bank_line(100_000, tax_id="76 123 456-7"), invoices)
    assert (result.status, result.invoice_number, result.rule) == (
        "suggested",
        None,
        "tax_id_and_amount",
    )
    assert result.candidates == ("900", "901", "902")


def test_c_amount_alone_suggests_the_invoice_due_nearest_within_the_window():
    invoices = [
        invoice("A", 350_000, tax_id=None, due_on=BOOKED - timedelta(days=30)),
        invoice("B", 350_000, tax_id=None, due_on=BOOKED + timedelta(days=5)),
        invoice("C", 350_000, tax_id=None, due_on=BOOKED + timedelta(days=3), currency="MXN"),
    ]
    result = one(bank_line(350_000, "DEPOSITO"), invoices)
    assert (result.status, result.invoice_number, result.rule) == (
        "suggested",
        "B",
        "amount_and_due_date",
    )
    assert result.candidates == ("B",)


def test_c_equally_near_due_dates_are_all_candidates():
    invoices = [
        invoice("late", 350_000, tax_id=None, due_on=BOOKED - timedelta(days=10)),
        invoice("early", 350_000, tax_id=None, due_on=BOOKED + timedelta(days=10)),
        invoice("far", 350_000, tax_id=None, due_on=BOOKED + timedelta(days=20)),
    ]
    result = one(bank_line(350_000), invoices)
    assert (result.status, result.invoice_number) == ("suggested", None)
    assert result.candidates == ("late", "early")


def test_c_nothing_outside_the_window():
    invoices = [invoice("old", 350_000, tax_id=None, due_on=BOOKED - timedelta(days=46))]
    assert one(bank_line(350_000), invoices).status == "unmatched"
    [wider] = match_statement([bank_line(350_000)], invoices, date_window_days=60)
    assert (wider.status, wider.invoice_number) == ("suggested", "old")


def test_d_unmatched_lines_say_why_each_rule_failed():
    invoices = [invoice("123", 500_000)]
    result = one(bank_line(1_234_567, "TRANSFERENCIA", tax_id="11.111.111-1"), invoices)
    assert (result.status, result.invoice_number, result.rule) == ("unmatched", None, None)
    assert result.reason == (
        "no invoice number in the reference, no customer with that tax id and amount, "
        "no open invoice of 1.234.567 CLP due near 2026-11-20"
    )
    known_customer = one(bank_line("1234.50", currency="MXN", tax_id="761234567"), invoices)
    assert known_customer.reason == (
        "no invoice number in the reference, no open invoice of that customer for that amount, "
        "no open invoice of 1,234.50 MXN due near 2026-11-20"
    )


def test_debits_are_never_customer_payments():
    result = one(bank_line(1_234_567, "FAC 123", direction="debit"), [invoice("123")])
    assert (result.status, result.invoice_number, result.reason) == (
        "unmatched",
        None,
        DEBIT_REASON,
    )


def test_a_matched_invoice_is_consumed_for_rules_b_and_c_but_not_for_a():
    invoices = [invoice("123", 100_000)]
    lines = [
        bank_line(100_000, "TRANSF", tax_id="76.123.456-7", line=1),
        bank_line(100_000, "TRANSF", tax_id="76.123.456-7", line=2),
        bank_line(100_000, "DEPOSITO", line=3),
        bank_line(40_000, "abono FAC 123", line=4),
    ]
    first, second, third, partial = match_statement(lines, invoices)
    assert (first.status, first.invoice_number, first.rule) == (
        "matched",
        "123",
        "tax_id_and_amount",
    )
    assert second.status == "unmatched"
    assert "(123) is already matched" in second.reason
    assert "(123 already matched by an earlier line)" in second.reason
    assert third.status == "unmatched"
    assert (partial.status, partial.invoice_number, partial.rule) == (
        "matched",
        "123",
        "invoice_number",
    )


def test_a_suggestion_consumes_nothing():
    invoices = [invoice("123", 100_000, tax_id=None)]
    first, second = match_statement([bank_line(100_000), bank_line(100_000)], invoices)
    assert (first.status, second.status) == ("suggested", "suggested")
    assert first.candidates == second.candidates == ("123",)


def test_a_parsed_chilean_cartola_end_to_end():
    data = (
        "Banco Estado\nCuenta: 12345678\n"
        "Fecha;Glosa;Referencia;Cargo;Abono;Saldo;RUT\n"
        "20/11/2026;Transf FAC 000123;1;;1.250.000;;76.123.456-7\n"
        "20/11/2026;Transf;2;;500.000;;77.777.777-7\n"
        "21/11/2026;Comision;3;2.990;;;\n"
        "22/11/2026;Transf;4;;80.000;;\n"
    ).encode("cp1252")
    parsed = parse_statement_csv(data)
    invoices = [
        invoice("123", 1_250_000),
        invoice("200", 500_000, tax_id="77777777-7"),
        invoice("300", 80_000, tax_id=None, due_on=date(2026, 12, 1)),
    ]
    results = match_statement(parsed.lines, invoices)
    assert [(r.line.line, r.status, r.invoice_number) for r in results] == [
        (4, "matched", "123"),
        (5, "matched", "200"),
        (6, "unmatched", None),
        (7, "suggested", "300"),
    ]


def test_a_statement_of_10000_lines_against_50000_open_invoices():
    invoices = [
        OpenInvoice(
            number=str(100_000 + i),
            customer_id=f"C-{i}",
            customer_tax_id=f"{10_000_000 + i}-K",
            amount_due=Decimal(10_000 + i),
            currency="CLP",
            due_on=BOOKED + timedelta(days=i % 30),
        )
        for i in range(50_000)
    ]
    lines = []
    for k in range(10_000):
        target = invoices[k * 5]
        kind = k % 4
        lines.append(
            bank_line(
                target.amount_due,
                f"TRANSF {target.number}" if kind == 0 else "TRANSFERENCIA",
                tax_id=target.customer_tax_id if kind == 1 else None,
                direction="debit" if kind == 3 else "credit",
                line=k + 7,
            )
        )
    results = match_statement(lines, invoices)
    assert len(results) == len(lines)
    assert [r.line.line for r in results] == [line.line for line in lines]
    statuses = [(r.status, r.rule) for r in results]
    assert statuses.count(("matched", "invoice_number")) == 2_500
    assert statuses.count(("matched", "tax_id_and_amount")) == 2_500
    assert statuses.count(("suggested", "amount_and_due_date")) == 2_500
    assert statuses.count(("unmatched", None)) == 2_500
    assert results[2].invoice_number == invoices[10].number
