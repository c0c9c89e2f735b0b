from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal

import pytest

from api.flatfiles import (
    FileDefaults,
    MappingError,
    MissingColumns,
    ParsedInvoiceFile,
    RowError,
    UnreadableFile,
    defaults_for_country,
    parse_invoice_file,
)

CHILE = FileDefaults()
HEADER = "Folio;RUT;Razón Social;Monto Total;Moneda;Fecha Emisión;Fecha Vencimiento;Correo;Teléfono"
GOOD = (
    "F-1;12.345.678-5;Ferretería Ñuñoa;1.250.000;CLP;01-11-2026;01-12-2026;pagos@nunoa.cl;"
    "9 1234 5678"
)


def parse(
    *lines: str, defaults: FileDefaults = CHILE, encoding: str = "cp1252"
) -> ParsedInvoiceFile:
    return parse_invoice_file("\r\n".join(lines).encode(encoding), defaults=defaults)


def with_cells(**changes: str) -> str:
    """GOOD with some cells replaced, by header title without spaces or accents."""
    names = ["folio", "rut", "name", "amount", "currency", "issued", "due", "email", "phone"]
    cells = dict(zip(names, GOOD.split(";"), strict=True))
    cells.update(changes)
    return ";".join(cells[name] for name in names)


def test_a_chilean_row_becomes_an_invoice_and_its_customer() -> None:
    parsed = parse(HEADER, GOOD)
    assert parsed.rejected == [] and (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    [row] = parsed.rows
    assert row.line == 2
    invoice, customer = row.invoice, row.customer
    assert (invoice.number, invoice.amount, invoice.currency) == ("F-1", Decimal(1250000), "CLP")
    assert (invoice.issued_on, invoice.due_on) == (date(2026, 11, 1), date(2026, 12, 1))
    assert invoice.customer_id == customer.id == "CL-123456785"
    assert customer.name == "Ferretería Ñuñoa" and customer.tax_id == "123456785"
    assert (customer.country, customer.timezone, customer.locale) == (
        "CL",
        "America/Santiago",
        "es_CL",
    )
    assert (customer.email, customer.phone, customer.whatsapp) == (
        "pagos@nunoa.cl",
        "+56912345678",
        None,
    )


def test_an_english_comma_separated_utf8_file_with_bom_and_iso_dates() -> None:
    text = (
        "Invoice Number,Customer ID,Customer Name,Amount,Currency,Issue Date,Due Date,Email\r\n"
        'INV-7,ACME-1,"Acme, Inc.","1,234.50",USD,2026-11-01,2026-12-01,ap@acme.com\r\n'
    )
    parsed = parse_invoice_file(codecs.BOM_UTF8 + text.encode(), defaults=CHILE)
    assert (parsed.encoding, parsed.delimiter) == ("utf-8-sig", ",")
    [row] = parsed.rows
    assert row.invoice.amount == Decimal("1234.50") and row.invoice.currency == "USD"
    assert row.customer.id == "ACME-1" and row.customer.name == "Acme, Inc."
    assert row.customer.tax_id is None


def assert_only_error(
    parsed: ParsedInvoiceFile, line: int, column: str, field: str, reason: str
) -> RowError:
    [error] = parsed.rejected
    assert (error.line, error.column, error.field) == (line, column, field)
    assert reason in error.reason
    return error


@pytest.mark.parametrize(
    ("changes", "column", "field", "reason"),
    [
        ({"folio": ""}, "Folio", "invoice_number", "required"),
        ({"name": ""}, "Razón Social", "customer_name", "required"),
        ({"amount": ""}, "Monto Total", "amount", "required"),
        ({"issued": ""}, "Fecha Emisión", "issued_on", "required"),
        ({"rut": "12.345.678-9"}, "RUT", "tax_id", "RUT check digit is wrong: expected 5"),
        ({"due": "31-10-2026"}, "Fecha Vencimiento", "due_on", "before the issue date 2026-11-01"),
        ({"due": "2026-13-01"}, "Fecha Vencimiento", "due_on", "DD-MM-YYYY"),
        ({"amount": "-1.000"}, "Monto Total", "amount", "must be a positive amount"),
        ({"amount": "0"}, "Monto Total", "amount", "not zero"),
        ({"amount": "a convenir"}, "Monto Total", "amount", "not a number"),
        ({"amount": "1.000,5"}, "Monto Total", "amount", "more decimals than CLP allows"),
        ({"currency": "ZZZ"}, "Moneda", "currency", "unknown currency 'ZZZ'"),
        ({"email": "", "phone": ""}, "Correo", "email", "needs an email, phone or WhatsApp"),
        ({"email": "pagos.nunoa.cl"}, "Correo", "email", "not an email address"),
        ({"phone": "12 34"}, "Teléfono", "phone", "has 9 digits after +56"),
    ],
)
def test_each_bad_row_names_line_column_value_and_reason_and_the_rest_still_parse(
    changes: dict[str, str], column: str, field: str, reason: str
) -> None:
    bad = with_cells(
        folio=changes.get("folio", "F-2"), **{k: v for k, v in changes.items() if k != "folio"}
    )
    parsed = parse(HEADER, GOOD, bad, with_cells(folio="F-3"))
    assert [row.invoice.number for row in parsed.rows] == ["F-1", "F-3"]
    error = assert_only_error(parsed, 3, column, field, reason)
    assert error.value == bad.split(";")[HEADER.split(";").index(column)]


def test_a_repeated_invoice_number_names_the_first_line() -> None:
    parsed = parse(HEADER, GOOD, with_cells(folio="F-2"), GOOD)
    assert [row.line for row in parsed.rows] == [2, 3]
    assert_only_error(parsed, 4, "Folio", "invoice_number", "repeats line 2")


def test_every_problem_of_a_row_is_reported_at_once() -> None:
    parsed = parse(HEADER, with_cells(amount="-5", due="01-01-2026", email="x", phone=""))
    assert parsed.rows == []
    assert [(error.line, error.field) for error in parsed.rejected] == [
        (2, "amount"),
        (2, "due_on"),
        (2, "email"),
    ]


def test_country_timezone_locale_and_segment_columns_override_the_defaults() -> None:
    header = "Folio;RFC;Cliente;Total;País;Zona Horaria;Idioma;Segmento;Emisión;Vencimiento;Celular"
    parsed = parse(
        header,
        "A-1;MAB930714 8T4;Abarrotes;12.500,50;México;;;pyme;01/11/2026;01/12/2026;55 1234 5678",
        "A-2;GODE561231GR8;Gómez;100;MX;America/Tijuana;en-us;;01/11/2026;01/12/2026;"
        "+52 1 55 1234 5678",
        "A-3;MAB9307148T4;Abarrotes;100;Mars;Mars/Olympus;zz;;01/11/2026;01/12/2026;55 1234 5678",
    )
    first, second = parsed.rows
    assert first.invoice.currency == "MXN" and first.invoice.amount == Decimal("12500.50")
    assert first.customer.id == "MX-MAB9307148T4"
    assert (first.customer.country, first.customer.timezone, first.customer.locale) == (
        "MX",
        "America/Mexico_City",
        "es_MX",
    )
    assert first.customer.segment == "pyme" and first.customer.phone == "+525512345678"
    assert (second.customer.timezone, second.customer.locale) == ("America/Tijuana", "en_US")
    assert [(error.line, error.field) for error in parsed.rejected] == [
        (4, "country"),
        (4, "timezone"),
        (4, "locale"),
    ]


def test_a_row_from_another_country_takes_its_defaults_and_tax_id_rules() -> None:
    parsed = parse(
        "Folio;CUIT;Cliente;Monto;País;Emisión;Vencimiento;Correo",
        "B-1;20-26756539-3;Porteña SA;1.500,75;Argentina;01-11-2026;01-12-2026;a@b.com.ar",
        "B-2;20-26756539-0;Porteña SA;1.500,75;AR;01-11-2026;01-12-2026;a@b.com.ar",
    )
    [row] = parsed.rows
    assert (row.invoice.currency, row.invoice.amount) == ("ARS", Decimal("1500.75"))
    assert row.customer.id == "AR-20267565393" and row.customer.country == "AR"
    assert row.customer.timezone == "America/Argentina/Buenos_Aires"
    assert_only_error(parsed, 3, "CUIT", "tax_id", "CUIT check digit is wrong: expected 3")


def test_currency_words_and_the_file_segment_default() -> None:
    parsed = parse(
        "Folio;Código Cliente;Cliente;Monto;Moneda;Emisión;Vencimiento;WhatsApp",
        "1;C-9;Uno;$ 15.000;$;01-11-2026;01-12-2026;+56 9 8765 4321",
        "2;C-9;Uno;12,3456;UF;01-11-2026;01-12-2026;+56 9 8765 4321",
        defaults=FileDefaults(segment="retail"),
    )
    first, second = parsed.rows
    assert (first.invoice.currency, first.invoice.amount) == ("CLP", Decimal(15000))
    assert (second.invoice.currency, second.invoice.amount) == ("CLF", Decimal("12.3456"))
    assert first.customer.id == "C-9" and first.customer.tax_id is None
    assert first.customer.whatsapp == "+56987654321" and first.customer.segment == "retail"


def test_a_row_with_neither_customer_id_nor_tax_id_is_rejected() -> None:
    parsed = parse(HEADER, with_cells(rut=""))
    assert_only_error(parsed, 2, "RUT", "tax_id", "needs a customer id or a tax id")


def test_an_unquoted_delimiter_in_a_value_is_caught_not_misread() -> None:
    header = "Folio,Cliente,RUT,Monto,Emisión,Vencimiento,Correo"
    parsed = parse(header, "1,Pérez,12.345.678-5,1234,01-11-2026,01-12-2026,a@b.cl,extra")
    [error] = parsed.rejected
    assert (error.line, error.column, error.field, error.value) == (2, "column 8", "row", "extra")
    assert "separator without quotes" in error.reason


def test_blank_lines_title_rows_extra_columns_totals_and_several_emails_are_notes() -> None:
    parsed = parse(
        "Cartera vencida al 01-12-2026",
        "",
        HEADER + ";Vendedor;Dirección",
        with_cells(email="a@nunoa.cl, b@nunoa.cl") + ";Ana;Irarrázaval 1",
        ";;;;;;;;;;",
        "",
        with_cells(folio="F-2") + ";Ana;Irarrázaval 1",
        "Total general;;;2.500.000;;;;;;;",
    )
    assert [row.line for row in parsed.rows] == [4, 7] and parsed.rejected == []
    assert [(note.line, note.message) for note in parsed.notes] == [
        (1, "lines before the header (line 3) skipped"),
        (3, "columns ignored: Vendedor, Dirección"),
        (4, "Correo has 2 values; only a@nunoa.cl is used"),
        (5, "blank lines 5–6 skipped"),
        (8, "totals row skipped: Total general | 2.500.000"),
    ]


def test_a_totals_row_in_the_invoice_number_column_is_skipped_too() -> None:
    parsed = parse("Sucursal;" + HEADER, "Centro;" + GOOD, "Centro;TOTALES;;;1.250.000")
    assert [row.line for row in parsed.rows] == [2] and parsed.rejected == []
    assert parsed.notes[-1].line == 3 and "totals row" in parsed.notes[-1].message


def test_line_numbers_count_physical_lines_of_quoted_multi_line_cells() -> None:
    parsed = parse(
        HEADER + ";Dirección",
        GOOD + ';"Los Álamos 55\r\nDepto. 3\r\nPeñalolén"',
        with_cells(folio="F-2", amount="abc") + ";Centro",
    )
    assert [row.line for row in parsed.rows] == [2]
    assert_only_error(parsed, 5, "Monto Total", "amount", "not a number")


def test_missing_required_columns_fail_the_whole_file() -> None:
    with pytest.raises(MissingColumns) as error:
        parse("Folio;Razón Social;Monto;Vencimiento;Correo", "1;A;100;01-12-2026;a@b.cl")
    assert error.value.missing == [
        "issued_on (e.g. 'Fecha Emisión')",
        "tax_id (e.g. 'RUT') or customer_id (e.g. 'Código Cliente')",
    ]
    assert error.value.line == 1
    message = str(error.value)
    assert message.startswith("line 1: missing required columns issued_on")
    assert "the header read was: Folio | Razón Social | Monto | Vencimiento | Correo" in message


def test_a_file_without_any_contact_column_fails_as_a_whole() -> None:
    with pytest.raises(MissingColumns, match=r"email .* or phone .* or whatsapp"):
        parse("Folio;RUT;Razón Social;Monto;Emisión;Vencimiento", "1;2;A;100;01-11-2026;01-12-2026")


def test_a_mapping_renames_columns_the_aliases_do_not_know() -> None:
    text = (
        "Doc;Cliente;Nombre Fantasía;Neto;F. Emi;F. Venc;Mail\r\n"
        "7;C-1;Ñandú;100;01-11-2026;01-12-2026;a@b.cl"
    )
    mapping = {
        "Doc": "invoice_number",
        "Cliente": "customer_id",
        "Nombre Fantasía": "customer_name",
        "Neto": "amount",
        "F. Emi": "issued_on",
        "F. Venc": "due_on",
    }
    parsed = parse_invoice_file(text.encode(), mapping=mapping, defaults=CHILE)
    [row] = parsed.rows
    assert (row.invoice.number, row.customer.id, row.customer.name) == ("7", "C-1", "Ñandú")
    with pytest.raises(MappingError):
        parse_invoice_file(text.encode(), mapping={"Doc": "folio"}, defaults=CHILE)


def test_an_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        parse_invoice_file(b"", defaults=CHILE)


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("CL", ("America/Santiago", "es_CL", "CLP")),
        ("mx", ("America/Mexico_City", "es_MX", "MXN")),
        ("CO", ("America/Bogota", "es_CO", "COP")),
        ("PE", ("America/Lima", "es_PE", "PEN")),
    ],
)
def test_defaults_for_country(country: str, expected: tuple[str, str, str]) -> None:
    defaults = defaults_for_country(country)
    assert (defaults.timezone, defaults.locale, defaults.currency) == expected
    assert defaults.country == country.upper()


def test_defaults_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="no defaults for country 'BR'"):
        defaults_for_country("BR")
    with pytest.raises(ValueError, match="unknown currency"):
        FileDefaults(currency="ZZZ")
    with pytest.raises(ValueError, match="default country"):
        FileDefaults(country="Chile")
    with pytest.raises(ValueError, match="not an IANA zone"):
        FileDefaults(timezone="Chile/Santiago de Chile")
