"""What a parse tells the person who uploaded the file, besides the rows it accepted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One reason a row was rejected.

    ``column`` is the header as written in the file (``"Fecha Emisión"``) and ``field`` its
    canonical name (``"issued_on"``); a row may be rejected for several reasons at once.
    """

    line: int
    column: str
    value: str
    reason: str
    field: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column!r}, value {self.value!r}: {self.reason}"


@dataclass(frozen=True)
class FileNote:
    """Something skipped or assumed, not an error: blank lines, a totals row, extra columns."""

    line: int
    message: str
