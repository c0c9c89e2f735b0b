"""What a parsed bank statement is, whatever file it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Direction = Literal["credit", "debit"]
StatementFormat = Literal["csv", "camt.053"]


class StatementFormatError(ValueError):
    """The whole file cannot be read as a statement (no header row, not camt.053, unsafe XML).

    Problems with single rows are not raised: they become ``StatementError`` entries.
    """


@dataclass(frozen=True)
class StatementLine:
    """One movement on the account.

    ``line`` is the physical line of a CSV file, or the 1-based entry (``Ntry``) index of a
    camt.053 document: an entry split into several transactions gives several lines with the
    same number. ``amount`` is always positive; ``direction`` says whether money came in.
    """

    line: int
    booked_on: date
    amount: Decimal
    currency: str
    direction: Direction
    description: str
    bank_reference: str | None
    counterparty_name: str | None
    counterparty_tax_id: str | None


@dataclass(frozen=True)
class StatementError:
    """A row that could not be read; ``column`` is the file's own column or XML element name."""

    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column} {self.value!r}: {self.reason}"


@dataclass
class ParsedStatement:
    """The readable lines, the rejected ones, and notes about what was skipped on purpose.

    ``currency`` is the statement's single currency, or None when the lines mix currencies.
    """

    lines: list[StatementLine]
    rejected: list[StatementError]
    notes: list[str]
    account: str | None
    currency: str | None
    format: StatementFormat
