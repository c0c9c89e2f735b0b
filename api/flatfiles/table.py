"""Any supported file (CSV-like text or .xlsx) as one list of numbered rows of cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from api.flatfiles.cells import SourceRow
from api.flatfiles.decoding import decode_bytes, detect_delimiter
from api.flatfiles.errors import UnreadableFile
from api.flatfiles.xlsx import OLD_XLS_MAGIC, XLSX_MAGIC, read_xlsx_rows

_XLSX_SUFFIXES = (".xlsx", ".xlsm")
XLSX_ENCODING = "xlsx"


@dataclass(frozen=True)
class Table:
    rows: list[SourceRow]
    encoding: str  # the text encoding, or "xlsx" for a workbook
    delimiter: str | None  # None for a workbook


def read_table(data: bytes, filename: str | None = None) -> Table:
    """Reads a workbook when the name ends in .xlsx/.xlsm or the bytes are a zip; else text."""
    if not data.strip():
        raise UnreadableFile("the file is empty")
    name = (filename or "").lower()
    if data.startswith(OLD_XLS_MAGIC) or name.endswith(".xls"):
        raise UnreadableFile(
            "this is an old Excel 97–2003 .xls file; save it as .xlsx or as CSV and upload again"
        )
    if name.endswith(_XLSX_SUFFIXES) or data.startswith(XLSX_MAGIC):
        return Table(read_xlsx_rows(data), XLSX_ENCODING, None)
    decoded = decode_bytes(data)
    if "\x00" in decoded.text:
        raise UnreadableFile("this looks like a binary file, not CSV text or an .xlsx workbook")
    delimiter = detect_delimiter(decoded.text)
    return Table(read_delimited_rows(decoded.text, delimiter), decoded.encoding, delimiter)


def read_delimited_rows(text: str, delimiter: str) -> list[SourceRow]:
    """Rows numbered by the physical line they start on, even after a quoted multi-line cell."""
    # newline="" hands the csv module every line ending untouched, as its documentation asks.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[SourceRow] = []
    next_line = 1
    try:
        for cells in reader:
            rows.append((next_line, [cell.strip() for cell in cells]))
            next_line = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: {error}") from error
    return rows
