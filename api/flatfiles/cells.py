"""The common shape of a row, whether it came from a CSV text or an .xlsx worksheet.

A CSV cell is always text. An .xlsx cell keeps its type when the type says something the text
would hide: a date is a date, a whole number an ``int`` (so folio 1042 stays "1042"), and a
fractional number a ``Decimal`` (never a float, and never re-read as "1.234" text).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

Cell = str | int | Decimal | date
SourceRow = tuple[int, list[Cell]]  # (physical line or Excel row number, cells)


def cell_text(cell: Cell) -> str:
    """The cell as a person would read it; ``""`` for an empty cell."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)
