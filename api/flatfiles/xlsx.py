"""The first worksheet of an .xlsx workbook as rows of cells, numbered like Excel numbers them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import load_workbook

from api.flatfiles.cells import Cell, SourceRow
from api.flatfiles.errors import UnreadableFile

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
OLD_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97–2003 (an OLE container)


def read_xlsx_rows(data: bytes) -> list[SourceRow]:
    """Rows of the first worksheet; cached formula results, not formulas, are read."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(f"not a readable .xlsx workbook ({error})") from error
    try:
        sheet = workbook.worksheets[0]
        # Some generators write a wrong <dimension>; recomputing it reads every row that exists.
        sheet.reset_dimensions()
        return [
            (number, [_cell(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
        ]
    finally:
        workbook.close()


def _cell(value: object) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return excel_number(value)
    if isinstance(value, time):
        return value.isoformat()
    return str(value).strip()


def excel_number(value: float) -> int | Decimal:
    """A float cell as Excel shows it: 15 significant digits, so 1190000.0000000002 is 1190000.

    Formula results carry binary noise that no person typed; Excel itself never displays more
    than 15 significant digits.
    """
    number = Decimal(f"{value:.15g}")
    if number == number.to_integral_value():
        return int(number)
    return number
