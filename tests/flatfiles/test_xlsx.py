from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook

from api.flatfiles import FileDefaults, parse_invoice_file
from api.flatfiles.xlsx import excel_number, read_xlsx_rows

HEADER = ["Folio", "RUT", "Razón Social", "Monto", "Moneda", "Emisión", "Vencimiento", "Correo"]


def workbook_bytes(*rows: Sequence[object], title_rows: int = 0) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for _ in range(title_rows):
        sheet.append(["Cartera de clientes — diciembre"])
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Otra hoja").append(["ignored"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_cells_keep_their_types_and_rows_their_excel_numbers() -> None:
    data = workbook_bytes(
        ["Folio", "Monto", "Fecha", "Nota"],
        [1042, 1234.5, datetime(2026, 12, 1, 0, 0), None],
        [],
        ["F-2", 1250000, date(2026, 12, 2), True],
    )
    rows = read_xlsx_rows(data)
    assert rows == [
        (1, ["Folio", "Monto", "Fecha", "Nota"]),
        (2, [1042, Decimal("1234.5"), date(2026, 12, 1)]),  # trailing empty cells are not read
        (3, []),
        (4, ["F-2", 1250000, date(2026, 12, 2), "TRUE"]),
    ]


def test_float_noise_from_formulas_is_dropped_like_excel_does() -> None:
    assert excel_number(1190000.0000000002) == 1190000
    assert excel_number(0.1 + 0.2) == Decimal("0.3")
    assert excel_number(1234.5) == Decimal("1234.5")
    assert isinstance(excel_number(42.0), int)


def test_an_invoice_workbook_round_trips_through_the_parser() -> None:
    data = workbook_bytes(
        HEADER,
        [
            1042,
            "12.345.678-5",
            "Ferretería Ñuñoa",
            1250000,
            "CLP",
            date(2026, 11, 1),
            datetime(2026, 12, 1),
            "pagos@nunoa.cl",
        ],
        [1043, 123456785, "Café Ñandú", 99.5, "USD", "01-11-2026", "15/12/2026", "cafe@nandu.cl"],
        [
            1044,
            "12.345.678-5",
            "Sin Monto",
            "1.234,5",
            "CLP",
            date(2026, 11, 1),
            date(2026, 12, 1),
            "x@y.cl",
        ],
        [],
        ["Total", None, None, 1250099.5],
        title_rows=1,
    )
    parsed = parse_invoice_file(data, filename="cartera.xlsx", defaults=FileDefaults())
    assert (parsed.encoding, parsed.delimiter) == ("xlsx", None)
    first, second = parsed.rows
    assert (first.line, first.invoice.number, first.invoice.amount) == (3, "1042", Decimal(1250000))
    assert first.invoice.issued_on == date(2026, 11, 1) and first.invoice.due_on == date(
        2026, 12, 1
    )
    assert first.customer.tax_id == "123456785" and first.customer.id == "CL-123456785"
    assert (second.line, second.invoice.amount, second.invoice.currency) == (
        4,
        Decimal("99.5"),
        "USD",
    )
    assert second.customer.tax_id == "123456785"
    [rejected] = parsed.rejected
    assert (rejected.line, rejected.column, rejected.field) == (5, "Monto", "amount")
    assert "more decimals than CLP allows" in rejected.reason
    assert [note.line for note in parsed.notes] == [1, 6, 7]
    assert "totals row skipped" in parsed.notes[-1].message


def test_a_workbook_is_recognised_by_its_bytes_without_a_filename() -> None:
    data = workbook_bytes(
        HEADER, [1, "12.345.678-5", "A", 10, "CLP", "01-11-2026", "01-12-2026", "a@b.cl"]
    )
    parsed = parse_invoice_file(data, defaults=FileDefaults())
    assert parsed.encoding == "xlsx"
    assert [row.invoice.number for row in parsed.rows] == ["1"]


def test_a_cell_beyond_the_header_is_no_error_in_a_workbook() -> None:
    row = [1, "12.345.678-5", "A", 10, "CLP", "01-11-2026", "01-12-2026", "a@b.cl", "nota suelta"]
    parsed = parse_invoice_file(workbook_bytes(HEADER, row), defaults=FileDefaults())
    assert parsed.rejected == [] and [r.invoice.number for r in parsed.rows] == ["1"]
