from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.flatfiles import (
    FileDefaults,
    MissingColumns,
    ParsedPaymentFile,
    PaymentRow,
    defaults_for_country,
    parse_payment_file,
)

CHILE = FileDefaults()
HEADER = "Fecha;N° Documento;RUT;Monto;N° Operación"


def parse(*lines: str, defaults: FileDefaults = CHILE) -> ParsedPaymentFile:
    return parse_payment_file("\r\n".join(lines).encode("cp1252"), defaults=defaults)


def test_payments_by_invoice_or_by_customer() -> None:
    parsed = parse(
        HEADER,
        "05-12-2026;F-1;12.345.678-5;1.250.000;OP-991",
        "06/12/2026;;12.345.678-5;500.000;",
        "07.12.2026;F-2;;1.000;OP-993",
    )
    assert parsed.rejected == [] and (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    assert parsed.rows == [
        PaymentRow(
            2, "F-1", "123456785", None, Decimal(1250000), "CLP", date(2026, 12, 5), "OP-991"
        ),
        PaymentRow(3, None, "123456785", None, Decimal(500000), "CLP", date(2026, 12, 6), None),
        PaymentRow(4, "F-2", None, None, Decimal(1000), "CLP", date(2026, 12, 7), "OP-993"),
    ]


def test_a_mexican_bank_style_export_with_customer_ids() -> None:
    parsed = parse_payment_file(
        (
            "Fecha de Pago,Código Cliente,Importe,Moneda,Referencia\n"
            '2026-12-05,C-77,"12,500.50",,SPEI 123\n'
            "2026-12-05,C-78,99.9,USD,SPEI 124\n"
        ).encode(),
        defaults=defaults_for_country("MX"),
    )
    first, second = parsed.rows
    assert (first.customer_id, first.amount, first.currency) == ("C-77", Decimal("12500.50"), "MXN")
    assert (second.amount, second.currency, second.reference) == (
        Decimal("99.9"),
        "USD",
        "SPEI 124",
    )


@pytest.mark.parametrize(
    ("row", "column", "field", "reason"),
    [
        (";F-9;;1.000;X", "Fecha", "paid_on", "required"),
        ("31-11-2026;F-9;;1.000;X", "Fecha", "paid_on", "no such day"),
        ("01-12-2026;F-9;;-1.000;X", "Monto", "amount", "must be a positive amount"),
        ("01-12-2026;F-9;;mil;X", "Monto", "amount", "not a number"),
        ("01-12-2026;F-9;12.345.678-0;1.000;X", "RUT", "tax_id", "expected 5"),
        (
            "01-12-2026;;;1.000;X",
            "N° Documento",
            "invoice_number",
            "an invoice number or a customer",
        ),
    ],
)
def test_bad_payment_rows(row: str, column: str, field: str, reason: str) -> None:
    parsed = parse(HEADER, row, "01-12-2026;F-1;;2.000;OK")
    assert [payment.line for payment in parsed.rows] == [3]
    [error] = parsed.rejected
    assert (error.line, error.column, error.field) == (2, column, field)
    assert reason in error.reason


def test_repeated_payments_are_rejected_but_lookalikes_are_kept() -> None:
    parsed = parse(
        HEADER,
        "01-12-2026;F-1;;1.000;OP-1",
        "01-12-2026;F-1;;1.000;OP-1",  # same reference, amount and invoice: a repeat
        "01-12-2026;F-1;;2.000;OP-1",  # same reference, other amount: kept
        "01-12-2026;F-1;;1.000;OP-2",  # other reference: kept
        "02-12-2026;F-1;;5.000;",
        "02-12-2026;F-1;;5.000;",  # no reference, same day, amount and invoice: a repeat
        "03-12-2026;F-1;;5.000;",  # no reference, another day: kept
    )
    assert [payment.line for payment in parsed.rows] == [2, 4, 5, 6, 8]
    assert [(error.line, error.field, error.reason) for error in parsed.rejected] == [
        (3, "reference", "repeats the payment on line 2"),
        (7, "amount", "repeats the payment on line 6"),
    ]


def test_fecha_alone_is_a_payment_date_in_payment_files_only() -> None:
    parsed = parse("Fecha;Folio;Abono", "01-12-2026;F-1;1.000")
    assert parsed.rows[0].paid_on == date(2026, 12, 1)
    assert parsed.rows[0].amount == Decimal(1000)


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Folio;Monto", ["paid_on (e.g. 'Fecha Pago')"]),
        (
            "Fecha;Monto;Glosa",
            [
                "invoice_number (e.g. 'Folio') or tax_id (e.g. 'RUT') "
                "or customer_id (e.g. 'Código Cliente')"
            ],
        ),
    ],
)
def test_payment_files_need_a_date_an_amount_and_a_payer(header: str, missing: list[str]) -> None:
    with pytest.raises(MissingColumns) as error:
        parse(header, "x;y;z")
    assert error.value.missing == missing
