"""Any supported file (CSV-like text or .xlsx) as one list of numbered rows of cells."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from api.flatfiles.cells import SourceRow
from api.flatfiles.decoding import decode_bytes, detect_delimiter
from api.flatfiles.errors import UnreadableFile
from api.flatfiles.xlsx import OLD_XLS_MAGIC, XLSX_MAGIC, read_xlsx_rows

_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_HTML = re.compile(r"<(?:html|table)\b", re.IGNORECASE)
XLSX_ENCODING = "xlsx"


@dataclass(frozen=True)
class Table:
    rows: list[SourceRow]
    encoding: str  # the text encoding, or "xlsx" for a workbook
    delimiter: str | None  # None for a workbook


def read_table(data: bytes, filename: str | None = None) -> Table:
    """A workbook when the bytes are a zip (an .xlsx always is), else delimited text.

    The content decides, not the name: ERPs often save tab-separated text as ".xls", and a
    CSV renamed ".xlsx" still reads. An .xlsx name on bytes that are not text is refused.
    """
    if not data.strip():
        raise UnreadableFile("the file is empty")
    if data.startswith(OLD_XLS_MAGIC):
        raise UnreadableFile(
            "this is an old Excel 97–2003 .xls file; save it as .xlsx or as CSV and upload again"
        )
    if data.startswith(XLSX_MAGIC):
        return Table(read_xlsx_rows(data), XLSX_ENCODING, None)
    decoded = decode_bytes(data)
    if "\x00" in decoded.text:
        if (filename or "").lower().endswith(_XLSX_SUFFIXES):
            raise UnreadableFile("the file is named .xlsx but is not an Excel workbook")
        raise UnreadableFile("this looks like a binary file, not CSV text")
    if _HTML.search(decoded.text, 0, 2000):
        raise UnreadableFile(
            "this is a web page (HTML) saved with a spreadsheet name; open it in Excel and "
            "save it as .xlsx or CSV"
        )
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
        if "field larger than field limit" in str(error):
            raise UnreadableFile(
                f'line {next_line}: a quote (") opens a value that never closes'
            ) from error
        raise UnreadableFile(f"line {next_line}: {error}") from error
    return rows
