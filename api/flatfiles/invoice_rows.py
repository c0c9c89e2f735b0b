"""An invoice file, one invoice (with its customer) per row, as ERPs export it.

Bad rows are rejected with every reason found, the good ones parsed; see ``parse_invoice_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from api.flatfiles.cells import cell_text
from api.flatfiles.contacts import normalize_phone, validate_email
from api.flatfiles.defaults import FileDefaults
from api.flatfiles.headers import INVOICE_ALIASES
from api.flatfiles.layout import lay_out
from api.flatfiles.places import (
    parse_debt_type,
    parse_locale,
    parse_subdivision,
    parse_timezone,
)
from api.flatfiles.reports import FileNote, RowError
from api.flatfiles.row_fields import (
    decimal_style,
    read_amount,
    read_country,
    read_currency,
    read_tax_id,
    row_defaults,
)
from api.flatfiles.row_reader import RowReader
from api.flatfiles.table import read_table
from api.flatfiles.values import DecimalStyle, parse_date
from api.invoicing import CustomerDetails, NewInvoice

CONTACT_FIELDS = ("email", "phone", "whatsapp")
INVOICE_REQUIRED = (
    ("invoice_number",),
    ("customer_name",),
    ("amount",),
    ("issued_on",),
    ("due_on",),
    ("tax_id", "customer_id"),
    CONTACT_FIELDS,
)


@dataclass(frozen=True)
class InvoiceRow:
    line: int
    invoice: NewInvoice
    customer: CustomerDetails


@dataclass(frozen=True)
class ParsedInvoiceFile:
    rows: list[InvoiceRow]
    rejected: list[RowError]
    notes: list[FileNote]
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp1252", or "xlsx"
    delimiter: str | None  # None for .xlsx


def parse_invoice_file(
    data: bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    defaults: FileDefaults,
) -> ParsedInvoiceFile:
    """Parses a CSV/TSV (any delimiter, UTF-8 or cp1252) or .xlsx invoice file.

    Line numbers are physical (the header is usually line 1). A row without customer_id gets
    ``f"{country}-{tax id}"``. Columns country, timezone, locale and currency override
    ``defaults`` per row; a row in another country we serve takes that country's defaults.
    Raises FlatFileError (MissingColumns, UnreadableFile, MappingError) for the whole file.
    """
    table = read_table(data, filename)
    layout = lay_out(table.rows, INVOICE_ALIASES, mapping, INVOICE_REQUIRED)
    notes = list(layout.notes)
    style = decimal_style(layout, notes)
    rows: list[InvoiceRow] = []
    rejected: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for line, cells in layout.records:
        width = None if table.delimiter is None else len(layout.header)
        reader = RowReader(line, cells, layout.columns, width, notes)
        row = _invoice_row(reader, defaults, style, first_line_of)
        if row is None:
            rejected.extend(reader.errors)
        else:
            rows.append(row)
    notes.sort(key=lambda note: note.line)
    return ParsedInvoiceFile(rows, rejected, notes, table.encoding, table.delimiter)


def _invoice_row(
    reader: RowReader,
    defaults: FileDefaults,
    style: DecimalStyle,
    first_line_of: dict[str, int],
) -> InvoiceRow | None:
    number = reader.required_text("invoice_number")
    name = reader.required_text("customer_name")
    country = read_country(reader, defaults)
    local = row_defaults(country or defaults.country, defaults)
    currency = read_currency(reader, country or defaults.country, defaults)
    amount = read_amount(reader, currency, style)
    issued_on = reader.value("issued_on", parse_date, required=True)
    due_on = reader.value("due_on", parse_date, required=True)
    if issued_on and due_on and due_on < issued_on:
        reader.fail("due_on", f"the due date {due_on} is before the issue date {issued_on}")
    tax_id = read_tax_id(reader, country)
    customer_id = _customer_id(reader, country, tax_id)
    timezone = reader.value(
        "timezone", lambda cell: parse_timezone(cell_text(cell)), default=local.timezone
    )
    locale = reader.value(
        "locale",
        lambda cell: parse_locale(cell_text(cell), country or defaults.country),
        default=local.locale,
    )
    email, phone, whatsapp = _contacts(reader, country)
    debt_type = reader.value("debt_type", lambda cell: parse_debt_type(cell_text(cell)))
    subdivision = None
    if country is not None:  # a region is read as one of the row's country
        subdivision = reader.value(
            "subdivision", lambda cell: parse_subdivision(cell_text(cell), country)
        )
    if number is not None:
        if number in first_line_of:
            reader.fail("invoice_number", f"repeats line {first_line_of[number]}")
        else:
            first_line_of[number] = reader.line
    if (
        reader.errors
        or number is None
        or name is None
        or country is None
        or currency is None
        or amount is None
        or issued_on is None
        or due_on is None
        or customer_id is None
        or timezone is None
        or locale is None
    ):
        return None
    customer = CustomerDetails(
        id=customer_id,
        name=name,
        country=country,
        timezone=timezone,
        locale=locale,
        email=email,
        phone=phone,
        whatsapp=whatsapp,
        segment=reader.text("segment") or defaults.segment,
        tax_id=tax_id,
        debt_type=debt_type,
        subdivision=subdivision,
    )
    invoice = NewInvoice(number, customer_id, amount, currency, issued_on, due_on)
    return InvoiceRow(reader.line, invoice, customer)


def _customer_id(reader: RowReader, country: str | None, tax_id: str | None) -> str | None:
    """The customer id column, else ``f"{country}-{tax id}"``."""
    given = reader.text("customer_id")
    if given:
        return given
    if tax_id is not None:
        return f"{country}-{tax_id}"
    if not reader.text("tax_id"):
        field = "tax_id" if reader.has_column("tax_id") else "customer_id"
        reader.fail(field, "required: the row needs a customer id or a tax id (RUT, RFC...)")
    return None


def _contacts(reader: RowReader, country: str | None) -> tuple[str | None, str | None, str | None]:
    """Email, phone and WhatsApp; at least one must be there. Phones are read as numbers of
    the row's country, so they are not checked when the country is bad."""
    if not any(reader.text(field) for field in CONTACT_FIELDS):
        field = next(field for field in CONTACT_FIELDS if reader.has_column(field))
        reader.fail(field, "the customer needs an email, phone or WhatsApp: all are empty")
        return None, None, None
    if country is None:
        return None, None, None
    return (
        reader.first_value("email", validate_email),
        reader.first_value("phone", lambda text: normalize_phone(text, country)),
        reader.first_value("whatsapp", lambda text: normalize_phone(text, country)),
    )
