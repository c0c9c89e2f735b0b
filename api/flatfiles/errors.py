"""What can go wrong with a whole file (an exception) versus one cell (a reason to reject a row)."""

from __future__ import annotations

from collections.abc import Sequence


class FlatFileError(ValueError):
    """The file as a whole cannot be read; no row is imported. The message is for a person."""


class UnreadableFile(FlatFileError):
    """Not a spreadsheet or text file we can read (empty, corrupt, old binary .xls...)."""


class MappingError(FlatFileError):
    """A column mapping names a column we do not know, or cannot be read."""


class MissingColumns(FlatFileError):
    """The header lacks required columns.

    ``missing`` holds one description per missing requirement (``"amount"``, or
    ``"tax_id or customer_id"`` when either would do), ``header`` the cells of the line that was
    taken as the header, and ``line`` its physical line number.
    """

    def __init__(self, missing: Sequence[str], header: Sequence[str], line: int) -> None:
        self.missing = list(missing)
        self.header = list(header)
        self.line = line
        shown = " | ".join(cell for cell in header if cell) or "(empty)"
        super().__init__(
            f"line {line}: missing required columns {', '.join(self.missing)}; "
            f"the header read was: {shown}"
        )


class ValueProblem(ValueError):
    """One cell's value is wrong; ``str(problem)`` is the reason, in plain words."""
