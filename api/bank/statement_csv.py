"""Bank statements exported as CSV by Chilean, Mexican and other Latin American banks.

Every row that is not a movement is accounted for: summary rows ("Saldo final", "Total") become
notes, unreadable rows become ``StatementError`` entries with their line, column and value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from decimal import Decimal

from api.bank.csv_header import (
    ColumnKind,
    Header,
    account_in_preamble,
    find_header,
    plain_words,
)
from api.bank.csv_values import parse_bank_amount, parse_bank_date
from api.bank.statement import (
    Direction,
    ParsedStatement,
    StatementError,
    StatementFormatError,
    StatementLine,
)
from dunning_policies.money import currency_exponent, to_minor, validate_currency

_SUMMARY = re.compile(
    r"(saldo (final|inicial|anterior|disponible|contable)|total(es)?|subtotal"
    r"|(closing|opening) balance)( |$)"
)
# None: the statement's own currency ("$" is pesos in Chile and in Mexico alike).
_CURRENCY_WORDS: dict[str, str | None] = {
    "$": None,
    "peso": None,
    "pesos": None,
    "us$": "USD",
    "dolar": "USD",
    "dolares": "USD",
}


class _RowProblem(Exception):
    def __init__(self, error: StatementError) -> None:
        super().__init__(error.reason)
        self.error = error


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without BOM), else cp1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"  # every byte is a character: never fails


def parse_statement_csv(data: bytes, *, currency: str = "CLP") -> ParsedStatement:
    """Read a bank's CSV export; ``currency`` applies unless the file has a "moneda" column.

    Raises ``StatementFormatError`` when no header row can be recognised.
    """
    try:
        default_currency = validate_currency(currency)
    except ValueError as error:
        raise StatementFormatError(f"currency: {error}") from error
    text, encoding = decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = find_header(lines)
    parsed = ParsedStatement(
        lines=[],
        rejected=[],
        notes=[],
        account=account_in_preamble(lines[: header.line_index]),
        currency=default_currency,
        format="csv",
    )
    if encoding != "utf-8-sig":
        parsed.notes.append(f"the file is not UTF-8; read it as {encoding}")
    for line, cells in _rows(lines, header):
        if not any(cell.strip() for cell in cells):
            continue
        row = _Row(line, cells, header)
        if row.is_summary():
            parsed.notes.append(f"line {line}: summary row skipped ({row.text()})")
            continue
        try:
            parsed.lines.append(row.statement_line(default_currency))
        except _RowProblem as problem:
            parsed.rejected.append(problem.error)
    currencies = {line.currency for line in parsed.lines}
    if currencies:
        parsed.currency = currencies.pop() if len(currencies) == 1 else None
    return parsed


def _rows(lines: list[str], header: Header) -> Iterator[tuple[int, list[str]]]:
    """Rows after the header with the physical line each starts on (quoted values may span)."""
    header_line = header.line_index + 1
    reader = csv.reader((line + "\n" for line in lines[header_line:]), delimiter=header.delimiter)
    ended_on = header_line
    for cells in reader:
        yield ended_on + 1, cells
        ended_on = header_line + reader.line_num


class _Row:
    def __init__(self, line: int, cells: list[str], header: Header) -> None:
        self.line = line
        self.cells = [cell.strip() for cell in cells]
        self.header = header

    def value(self, kind: ColumnKind) -> str:
        column = self.header.columns.get(kind)
        if column is None or column.index >= len(self.cells):
            return ""
        return self.cells[column.index]

    def text(self) -> str:
        return " ".join(cell for cell in self.cells if cell)

    def problem(self, kind: ColumnKind, reason: str) -> _RowProblem:
        column = self.header.columns.get(kind)
        label = column.label if column else kind
        return _RowProblem(StatementError(self.line, label, self.value(kind), reason))

    def is_summary(self) -> bool:
        first = next(cell for cell in self.cells if cell)
        if _SUMMARY.match(" ".join(plain_words(first))):
            return True
        description = " ".join(plain_words(self.value("description")))
        return bool(_SUMMARY.match(description)) and not self.value("reference")

    def statement_line(self, default_currency: str) -> StatementLine:
        extra = [cell for cell in self.cells[self.header.width :] if cell]
        if extra:
            raise _RowProblem(
                StatementError(
                    self.line,
                    f"column {self.header.width + 1}",
                    extra[0],
                    f"the row has more values than the header's {self.header.width} columns "
                    f"(a {self.header.delimiter!r} inside a value?)",
                )
            )
        try:
            booked_on = parse_bank_date(self.value("date"))
        except ValueError as error:
            raise self.problem("date", str(error)) from error
        currency = self._currency(default_currency)
        amount, direction, kind = self._movement()
        try:
            to_minor(amount, currency)
        except ValueError as error:
            decimals = currency_exponent(currency)
            reason = f"{currency} amounts have {decimals or 'no'} decimals"
            raise self.problem(kind, reason) from error
        return StatementLine(
            line=self.line,
            booked_on=booked_on,
            amount=amount,
            currency=currency,
            direction=direction,
            description=self.value("description"),
            bank_reference=self.value("reference") or None,
            counterparty_name=self.value("name") or None,
            counterparty_tax_id=self.value("tax_id") or None,
        )

    def _currency(self, default_currency: str) -> str:
        raw = self.value("currency")
        if not raw:
            return default_currency
        word = raw.lower() if raw.startswith(("$", "us$")) else " ".join(plain_words(raw))
        if word in _CURRENCY_WORDS:
            return _CURRENCY_WORDS[word] or default_currency
        try:
            return validate_currency(raw)
        except ValueError as error:
            raise self.problem("currency", str(error)) from error

    def _amount(self, kind: ColumnKind) -> Decimal | None:
        raw = self.value(kind)
        if not raw:
            return None
        try:
            return parse_bank_amount(raw)
        except ValueError as error:
            raise self.problem(kind, str(error)) from error

    def _movement(self) -> tuple[Decimal, Direction, ColumnKind]:
        """The positive amount, its direction and the column it was read from."""
        columns = self.header.columns
        if "debit" in columns or "credit" in columns:
            debit, credit = self._amount("debit"), self._amount("credit")
            if credit is not None and credit < 0:
                raise self.problem("credit", "a negative amount in the credit column")
            # Some banks print cargos as negative numbers and fill the other column with 0.
            debit = abs(debit) if debit else None
            credit = credit or None
            if debit and credit:
                raise self.problem("credit", f"both {self._labels(' and ')} have an amount")
            if credit:
                return credit, "credit", "credit"
            if debit:
                return debit, "debit", "debit"
            raise self.problem("credit", f"no amount in {self._labels(' or ')}")
        amount = self._amount("amount")
        if not amount:
            raise self.problem("amount", "no amount" if amount is None else "the amount is zero")
        return abs(amount), ("credit" if amount > 0 else "debit"), "amount"

    def _labels(self, joiner: str) -> str:
        names = [c.label for k, c in self.header.columns.items() if k in ("debit", "credit")]
        return joiner.join(names)
