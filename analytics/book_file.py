"""The book the policy simulator runs: invoices with their customer, segment and country.

A book file is a UTF-8 CSV with a header row and these columns (any order, more are ignored):

    number, customer, segment, country, currency, amount, issued_on, due_on

``segment`` is preferred, standard or high_risk; ``country`` CL or MX (it gives the customer's
time zone, language and the law's contact rules); ``amount`` a plain decimal ("1250000" or
"1250000.50"); dates ISO 8601 (2026-03-10). A bad cell stops the read with its line and column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from analytics.payer_model import SEGMENTS
from analytics.synthetic_book import Book

COLUMNS = ("number", "customer", "segment", "country", "currency", "amount", "issued_on", "due_on")
PLACES = {"CL": ("America/Santiago", "es_CL"), "MX": ("America/Mexico_City", "es_MX")}


class BookFileError(ValueError):
    """A book file that cannot be read; the message names the line and the column."""


@dataclass(frozen=True)
class BookInvoice:
    number: str
    customer_id: str
    segment: str
    country: str
    currency: str
    amount: Decimal
    issued_on: date
    due_on: date

    @property
    def timezone(self) -> str:
        return PLACES[self.country][0]

    @property
    def locale(self) -> str:
        return PLACES[self.country][1]


def from_synthetic(book: Book) -> list[BookInvoice]:
    """The synthetic book's invoices (its payments are ignored: the payer model decides)."""
    customers = book.customer_by_id
    return [
        BookInvoice(
            number=invoice.number,
            customer_id=invoice.customer_id,
            segment=customers[invoice.customer_id].segment,
            country=customers[invoice.customer_id].country,
            currency=invoice.currency,
            amount=invoice.amount,
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
        )
        for invoice in book.invoices
    ]


def read_book(path: Path | str) -> list[BookInvoice]:
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return parse_book(handle, source=str(path))


def parse_book(lines: Iterable[str], *, source: str = "book") -> list[BookInvoice]:
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise BookFileError(f"{source}, line 1: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    invoices: list[BookInvoice] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        cells = {column: (row.get(column) or "").strip() for column in COLUMNS}

        def bad(column: str, why: str, *, line: int = line, cells: dict[str, str] = cells) -> str:
            return f"{source}, line {line}, column {column} ({cells[column]!r}): {why}"

        for column in COLUMNS:
            if not cells[column]:
                raise BookFileError(bad(column, "empty"))
        if cells["number"] in seen:
            raise BookFileError(bad("number", "the invoice appears twice"))
        seen.add(cells["number"])
        if cells["segment"] not in SEGMENTS:
            raise BookFileError(bad("segment", f"expected one of {', '.join(SEGMENTS)}"))
        country = cells["country"].upper()
        if country not in PLACES:
            raise BookFileError(bad("country", f"expected one of {', '.join(PLACES)}"))
        try:
            amount = Decimal(cells["amount"])
        except InvalidOperation:
            raise BookFileError(bad("amount", "not a decimal number")) from None
        if not amount.is_finite() or amount <= 0:
            raise BookFileError(bad("amount", "must be positive"))
        dates = {}
        for column in ("issued_on", "due_on"):
            try:
                dates[column] = date.fromisoformat(cells[column])
            except ValueError:
                raise BookFileError(bad(column, "not a date like 2026-03-10")) from None
        if dates["due_on"] < dates["issued_on"]:
            raise BookFileError(bad("due_on", "before issued_on"))
        invoices.append(
            BookInvoice(
                number=cells["number"],
                customer_id=cells["customer"],
                segment=cells["segment"],
                country=country,
                currency=cells["currency"].upper(),
                amount=amount,
                issued_on=dates["issued_on"],
                due_on=dates["due_on"],
            )
        )
    if not invoices:
        raise BookFileError(f"{source}: no invoices")
    return invoices
