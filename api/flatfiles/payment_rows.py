"""A payments file (a collections report or a bank export from the ERP), one payment per row.

Each payment names the invoice it pays, or at least the customer (tax id or customer id) so the
caller can allocate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from api.flatfiles.defaults import FileDefaults
from api.flatfiles.headers import PAYMENT_ALIASES
from api.flatfiles.layout import lay_out
from api.flatfiles.reports import FileNote, RowError
from api.flatfiles.row_fields import (
    decimal_style,
    read_amount,
    read_country,
    read_currency,
    read_tax_id,
)
from api.flatfiles.row_reader import RowReader
from api.flatfiles.table import read_table
from api.flatfiles.values import DecimalStyle, parse_date

PAYMENT_REQUIRED = (("amount",), ("paid_on",), ("invoice_number", "tax_id", "customer_id"))


@dataclass(frozen=True)
class PaymentRow:
    line: int
    invoice_number: str | None
    customer_tax_id: str | None  # compact, validated for the row's country
    customer_id: str | None
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None


@dataclass(frozen=True)
class ParsedPaymentFile:
    rows: list[PaymentRow]
    rejected: list[RowError]
    notes: list[FileNote]
    encoding: str
    delimiter: str | None


def parse_payment_file(
    data: bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    defaults: FileDefaults,
) -> ParsedPaymentFile:
    """Parses a payments file with the same decoding, header and value rules as invoices.

    A row repeating an earlier one is rejected: same reference, amount and invoice (or
    customer); without a reference, same amount, invoice (or customer) and payment date.
    """
    table = read_table(data, filename)
    layout = lay_out(table.rows, PAYMENT_ALIASES, mapping, PAYMENT_REQUIRED)
    notes = list(layout.notes)
    style = decimal_style(layout, notes)
    rows: list[PaymentRow] = []
    rejected: list[RowError] = []
    first_line_of: dict[tuple[object, ...], int] = {}
    for line, cells in layout.records:
        width = None if table.delimiter is None else len(layout.header)
        reader = RowReader(line, cells, layout.columns, width, notes)
        row = _payment_row(reader, defaults, style)
        if row is not None:
            key = _repeat_key(row)
            if key in first_line_of:
                reader.fail(
                    "reference" if row.reference else "amount",
                    f"repeats the payment on line {first_line_of[key]}",
                )
                row = None
            else:
                first_line_of[key] = line
        if row is None:
            rejected.extend(reader.errors)
        else:
            rows.append(row)
    notes.sort(key=lambda note: note.line)
    return ParsedPaymentFile(rows, rejected, notes, table.encoding, table.delimiter)


def _payment_row(
    reader: RowReader, defaults: FileDefaults, style: DecimalStyle
) -> PaymentRow | None:
    country = read_country(reader, defaults)
    currency = read_currency(reader, country or defaults.country, defaults)
    amount = read_amount(reader, currency, style)
    paid_on = reader.value("paid_on", parse_date, required=True)
    invoice_number = reader.text("invoice_number") or None
    tax_id = read_tax_id(reader, country)
    customer_id = reader.text("customer_id") or None
    if not (invoice_number or reader.text("tax_id") or customer_id):
        field = next(
            name for name in ("invoice_number", "tax_id", "customer_id") if reader.has_column(name)
        )
        reader.fail(field, "required: the payment needs an invoice number or a customer")
    if reader.errors or currency is None or amount is None or paid_on is None:
        return None
    reference = reader.text("reference") or None
    return PaymentRow(
        reader.line, invoice_number, tax_id, customer_id, amount, currency, paid_on, reference
    )


def _repeat_key(row: PaymentRow) -> tuple[object, ...]:
    payer = row.invoice_number or row.customer_tax_id or row.customer_id
    if row.reference:
        return (row.reference, row.amount, row.currency, payer)
    return (None, row.amount, row.currency, payer, row.paid_on)
