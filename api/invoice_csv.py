"""The invoice CSV: one row per invoice with its customer, UTF-8, comma-separated.

Every bad row is reported with its line, column and reason; the good rows are still imported,
and importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import InvalidRequest, parse_amount
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from dunning_policies.money import validate_currency

COLUMNS = (
    "invoice_number",
    "customer_id",
    "customer_name",
    "email",
    "phone",
    "whatsapp",
    "country",
    "timezone",
    "locale",
    "segment",
    "amount",
    "currency",
    "issued_on",
    "due_on",
)
REQUIRED = frozenset(
    {
        "invoice_number",
        "customer_id",
        "customer_name",
        "country",
        "timezone",
        "locale",
        "amount",
        "currency",
        "issued_on",
        "due_on",
    }
)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class ParsedRow:
    line: int
    invoice: NewInvoice
    customer: CustomerDetails


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": [e.__dict__ for e in self.rejected],
        }


class BadHeader(ValueError):
    pass


def _date(value: str, column: str, line: int) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise _RowProblem(RowError(line, column, value, "not a date (YYYY-MM-DD)")) from error


class _RowProblem(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(error.reason)
        self.error = error


def _parse_row(line: int, row: dict[str, str]) -> ParsedRow:
    values = {k: (v or "").strip() for k, v in row.items() if k}
    for column in COLUMNS:
        if column in REQUIRED and not values.get(column):
            raise _RowProblem(RowError(line, column, "", "required"))
    try:
        currency = validate_currency(values["currency"])
    except ValueError as error:
        raise _RowProblem(RowError(line, "currency", values["currency"], str(error))) from error
    try:
        amount = parse_amount(values["amount"], currency)
    except InvalidRequest as error:
        raise _RowProblem(RowError(line, "amount", values["amount"], str(error))) from error
    issued_on = _date(values["issued_on"], "issued_on", line)
    due_on = _date(values["due_on"], "due_on", line)
    if due_on < issued_on:
        raise _RowProblem(
            RowError(line, "due_on", values["due_on"], f"before the issue date {issued_on}")
        )
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise _RowProblem(
            RowError(line, "timezone", values["timezone"], "not an IANA time zone")
        ) from error
    if len(values["country"]) != 2 or not values["country"].isalpha():
        raise _RowProblem(
            RowError(line, "country", values["country"], "not a 2-letter ISO country code")
        )
    if not any(values.get(c) for c in ("email", "phone", "whatsapp")):
        raise _RowProblem(
            RowError(line, "email", "", "a customer needs an email, phone or whatsapp")
        )
    customer = CustomerDetails(
        id=values["customer_id"],
        name=values["customer_name"],
        country=values["country"],
        timezone=values["timezone"],
        locale=values["locale"],
        email=values.get("email") or None,
        phone=values.get("phone") or None,
        whatsapp=values.get("whatsapp") or None,
        segment=values.get("segment") or None,
    )
    invoice = NewInvoice(
        values["invoice_number"], customer.id, Decimal(amount), currency, issued_on, due_on
    )
    return ParsedRow(line, invoice, customer)


def parse_invoice_csv(text: str) -> tuple[list[ParsedRow], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = sorted(REQUIRED - set(header))
    if missing:
        raise BadHeader(
            f"line 1: missing columns {', '.join(missing)}; expected {','.join(COLUMNS)}"
        )
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    problems: list[RowError] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        try:
            parsed = _parse_row(line, row)
        except _RowProblem as problem:
            problems.append(problem.error)
            continue
        number = parsed.invoice.number
        if number in seen:
            problems.append(
                RowError(line, "invoice_number", number, f"repeats line {seen[number]}")
            )
            continue
        seen[number] = line
        rows.append(parsed)
    return rows, problems


async def import_invoices(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    text: str,
    *,
    dry_run: bool = False,
    respect_contact_window: bool = True,
) -> ImportReport:
    rows, problems = parse_invoice_csv(text)
    report = ImportReport(rejected=problems, dry_run=dry_run)
    for row in rows:
        if dry_run:
            report.imported.append(row.invoice.number)
            continue
        try:
            issued = await issue_invoice(
                client,
                sessions,
                task_queue,
                row.invoice,
                row.customer,
                respect_contact_window=respect_contact_window,
            )
        except InvalidRequest as error:
            report.rejected.append(RowError(row.line, error.field, row.invoice.number, str(error)))
            continue
        (report.imported if issued.created else report.unchanged).append(row.invoice.number)
    report.rejected.sort(key=lambda e: e.line)
    return report
