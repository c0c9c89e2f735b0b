"""Where the header is, which rows hold data, and which are blank lines or a totals row."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.flatfiles.cells import Cell, SourceRow, cell_text
from api.flatfiles.errors import MissingColumns
from api.flatfiles.headers import ColumnMap, map_columns, normalize_header
from api.flatfiles.reports import FileNote

_HEADER_SEARCH_ROWS = 10
_TOTAL = re.compile(
    r"(?:sub ?|gran )?total(?:es)?(?: general)?(?: clp| uf| clf| usd| mxn| cop| pen| ars)?"
    r"|suma(?: total)?"
)
_TOTAL_INITIALS = frozenset("tsg")
# How a missing column is named to the person: canonical name and a header that would do.
EXAMPLE_TITLES = {
    "invoice_number": "Folio",
    "tax_id": "RUT",
    "customer_id": "Código Cliente",
    "customer_name": "Razón Social",
    "amount": "Monto",
    "issued_on": "Fecha Emisión",
    "due_on": "Fecha Vencimiento",
    "email": "Correo",
    "phone": "Teléfono",
    "whatsapp": "WhatsApp",
    "paid_on": "Fecha Pago",
}


@dataclass(frozen=True)
class Layout:
    header_line: int
    header: list[str]
    columns: ColumnMap
    records: list[SourceRow]  # the data rows, in file order
    notes: list[FileNote]


def lay_out(
    rows: Sequence[SourceRow],
    aliases: Mapping[str, str],
    mapping: Mapping[str, str] | None,
    required: Sequence[Sequence[str]],
) -> Layout:
    """Finds the header and sorts the rows after it; raises MissingColumns.

    ``required`` lists alternatives: ``[("amount",), ("tax_id", "customer_id")]`` needs an
    amount column and at least one of the two customer columns.
    """
    notes: list[FileNote] = []
    position, header, columns = _find_header(rows, aliases, mapping)
    header_line = rows[position][0] if rows else 1
    missing = [
        " or ".join(_described(name) for name in choice)
        for choice in required
        if not any(columns.has(name) for name in choice)
    ]
    if missing:
        raise MissingColumns(missing, header, header_line)
    if position > 0:
        notes.append(FileNote(rows[0][0], f"lines before the header (line {header_line}) skipped"))
    if columns.ignored:
        notes.append(FileNote(header_line, "columns ignored: " + ", ".join(columns.ignored)))
    for title, canonical in columns.duplicates:
        notes.append(
            FileNote(
                header_line,
                f"column {title!r} ignored: {columns.title[canonical]!r} already gives {canonical}",
            )
        )
    records = _data_rows(rows[position + 1 :], columns, notes)
    return Layout(header_line, header, columns, records, notes)


def _described(canonical: str) -> str:
    example = EXAMPLE_TITLES.get(canonical)
    return f"{canonical} (e.g. {example!r})" if example else canonical


def _find_header(
    rows: Sequence[SourceRow], aliases: Mapping[str, str], mapping: Mapping[str, str] | None
) -> tuple[int, list[str], ColumnMap]:
    """The first of the first non-blank rows that names at least two known columns."""
    candidates = [i for i, (_, cells) in enumerate(rows) if any(cell_text(c) for c in cells)]
    first: tuple[int, list[str], ColumnMap] | None = None
    for position in candidates[:_HEADER_SEARCH_ROWS]:
        header = [cell_text(cell) for cell in rows[position][1]]
        columns = map_columns(header, aliases, mapping)
        if len(columns.index) >= 2:
            return position, header, columns
        first = first or (position, header, columns)
    return first or (0, [], map_columns([], aliases, mapping))


def _data_rows(
    rows: Sequence[SourceRow], columns: ColumnMap, notes: list[FileNote]
) -> list[SourceRow]:
    records: list[SourceRow] = []
    blank_run: list[int] = []
    number_at = columns.index.get("invoice_number")
    for line, cells in rows:
        # Cells arrive stripped, so an empty one is "" whatever the source.
        first = next((cell for cell in cells if cell != ""), None)
        if first is None:
            blank_run.append(line)
            continue
        _note_blank_run(blank_run, notes)
        blank_run = []
        number = cells[number_at] if number_at is not None and number_at < len(cells) else ""
        if records and (_is_total(first) or _is_total(number)):
            shown = " | ".join(text for text in map(cell_text, cells) if text)
            notes.append(FileNote(line, f"totals row skipped: {shown}"))
            continue
        records.append((line, cells))
    _note_blank_run(blank_run, notes)
    return records


def _is_total(cell: Cell) -> bool:
    if not isinstance(cell, str) or cell[:1].casefold() not in _TOTAL_INITIALS:
        return False
    return _TOTAL.fullmatch(normalize_header(cell)) is not None


def _note_blank_run(lines: list[int], notes: list[FileNote]) -> None:
    if len(lines) == 1:
        notes.append(FileNote(lines[0], "blank line skipped"))
    elif lines:
        notes.append(FileNote(lines[0], f"blank lines {lines[0]}–{lines[-1]} skipped"))
