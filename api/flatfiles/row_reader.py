"""One data row: its cells by canonical column, and every reason it is rejected."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from api.flatfiles.cells import Cell, cell_text
from api.flatfiles.contacts import first_of_several
from api.flatfiles.errors import ValueProblem
from api.flatfiles.headers import ColumnMap
from api.flatfiles.reports import FileNote, RowError

T = TypeVar("T")


class RowReader:
    """Reads cells of one row; a bad value is recorded in ``errors`` and never raised, so every
    problem of the row is reported at once."""

    def __init__(
        self,
        line: int,
        cells: list[Cell],
        columns: ColumnMap,
        header_width: int | None,
        notes: list[FileNote],
    ) -> None:
        """``header_width`` is given for delimited text, where cells beyond the header mean a
        value held the delimiter unquoted; a workbook has no such mistake to catch."""
        self.line = line
        self._cells = cells
        self._columns = columns
        self._notes = notes
        self.errors: list[RowError] = []
        overflow = [] if header_width is None else [cell_text(c) for c in cells[header_width:]]
        if header_width is not None and any(overflow):
            self.errors.append(
                RowError(
                    line,
                    f"column {header_width + 1}",
                    " | ".join(text for text in overflow if text),
                    f"the row has {header_width + len(overflow)} values but the header only "
                    f"{header_width}: a value probably holds the column separator without quotes",
                    "row",
                )
            )

    def has_column(self, field: str) -> bool:
        return self._columns.has(field)

    def title(self, field: str) -> str:
        return self._columns.title.get(field, field)

    def raw(self, field: str) -> Cell:
        position = self._columns.index.get(field)
        if position is None or position >= len(self._cells):
            return ""
        cell = self._cells[position]
        return cell.strip() if isinstance(cell, str) else cell

    def text(self, field: str) -> str:
        return cell_text(self.raw(field))

    def fail(self, field: str, reason: str, value: str | None = None) -> None:
        shown = self.text(field) if value is None else value
        self.errors.append(RowError(self.line, self.title(field), shown, reason, field))

    def required_text(self, field: str) -> str | None:
        text = self.text(field)
        if not text:
            self.fail(field, "required: the cell is empty")
            return None
        return text

    def value(
        self,
        field: str,
        parse: Callable[[Cell], T],
        *,
        default: T | None = None,
        required: bool = False,
    ) -> T | None:
        """The parsed cell; ``default`` when empty (an error if ``required``); None when bad."""
        raw = self.raw(field)
        if raw == "":
            if required:
                self.fail(field, "required: the cell is empty")
            return default
        try:
            return parse(raw)
        except ValueProblem as problem:
            self.fail(field, str(problem))
            return None

    def first_value(self, field: str, parse: Callable[[str], T]) -> T | None:
        """Like ``value`` for contact cells holding several values ("a@x.cl; b@x.cl"): the first
        is used, and a note says so."""
        text = self.text(field)
        if not text:
            return None
        first, count = first_of_several(text)
        try:
            parsed = parse(first)
        except ValueProblem as problem:
            self.fail(field, str(problem))
            return None
        if count > 1:
            self._notes.append(
                FileNote(
                    self.line, f"{self.title(field)} has {count} values; only {parsed} is used"
                )
            )
        return parsed
