"""Importing flat files: invoices, payments and bank statements, as the ERP and banks export them.

Every row ends imported, unchanged (already there with the same content) or rejected with its
line, column, value and reason; a dry run reports the same without changing anything.
Importing a file again changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import InvalidRequest, InvoiceConflict
from api.flatfiles.defaults import FileDefaults
from api.flatfiles.invoice_rows import InvoiceRow, ParsedInvoiceFile, parse_invoice_file
from api.flatfiles.payment_rows import ParsedPaymentFile, PaymentRow, parse_payment_file
from api.flatfiles.reports import RowError
from api.invoicing import issue_invoice
from api.payments import record_customer_payment, record_payment
from dunning_policies.money import to_minor
from ledger.db import unit_of_work
from ledger.group_commit import GroupCommit
from ledger.repositories.contact_lookup import ContactLookup
from ledger.repositories.invoices import InvoiceRepository

# Invoices issued at once: enough to keep Temporal busy, few enough for SQLite's writer.
CONCURRENCY = 16
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None

    @classmethod
    def starting(
        cls, kind: str, dry_run: bool, parsed: ParsedInvoiceFile | ParsedPaymentFile
    ) -> ImportReport:
        """What the parse already decided: the rejected rows and the notes."""
        return cls(
            kind,
            dry_run,
            rejected=list(parsed.rejected),
            notes=[asdict(note) for note in parsed.notes],
            encoding=parsed.encoding,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "encoding": self.encoding,
            "counts": {
                "imported": len(self.imported),
                "unchanged": len(self.unchanged),
                # Rows, not reasons: one row may be rejected for several.
                "rejected": len({error.line for error in self.rejected}),
            },
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": [asdict(e) for e in sorted(self.rejected, key=lambda e: e.line)],
            "notes": self.notes,
        }


def _existing_state(sessions: sessionmaker[Session], row: InvoiceRow) -> str:
    """'new', 'same' or 'different' — what issuing the row would find in the ledger."""
    with unit_of_work(sessions) as session:
        stored = InvoiceRepository.from_session(session).get(row.invoice.number)
        if stored is None:
            return "new"
        same = (
            stored.customer_id == row.customer.id
            and stored.currency == row.invoice.currency
            and stored.amount_minor == to_minor(row.invoice.amount, row.invoice.currency)
            and stored.issued_on == row.invoice.issued_on
            and stored.due_on == row.invoice.due_on
        )
        return "same" if same else "different"


async def import_invoice_file(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    data: bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    defaults: FileDefaults | None = None,
    dry_run: bool = False,
    respect_contact_window: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Raises ``api.flatfiles.errors.FlatFileError`` when the file as a whole is unreadable."""
    parsed = parse_invoice_file(
        data, filename=filename, mapping=mapping, defaults=defaults or FileDefaults()
    )
    report = ImportReport.starting("invoices", dry_run, parsed)
    gate = asyncio.Semaphore(CONCURRENCY)
    ledger = GroupCommit(sessions)

    async def one(row: InvoiceRow) -> None:
        async with gate:
            if dry_run:
                found = _existing_state(sessions, row)
                if found == "different":
                    report.rejected.append(_conflict(row, "already issued with other content"))
                else:
                    (report.imported if found == "new" else report.unchanged).append(
                        row.invoice.number
                    )
            else:
                try:
                    issued = await issue_invoice(
                        client,
                        sessions,
                        task_queue,
                        row.invoice,
                        row.customer,
                        respect_contact_window=respect_contact_window,
                        ledger=ledger,
                    )
                except InvoiceConflict as error:
                    report.rejected.append(_conflict(row, str(error)))
                except InvalidRequest as error:
                    report.rejected.append(
                        RowError(row.line, error.field, row.invoice.number, str(error), error.field)
                    )
                else:
                    (report.imported if issued.created else report.unchanged).append(
                        row.invoice.number
                    )
            if progress is not None:
                progress(1)

    await asyncio.gather(*(one(row) for row in parsed.rows))
    return report


def _conflict(row: InvoiceRow, reason: str) -> RowError:
    return RowError(row.line, "invoice_number", row.invoice.number, reason, "invoice_number")


def _payment_reference(row: PaymentRow) -> str:
    """The bank's reference, or one derived from the row so a re-import is recognised."""
    if row.reference:
        return row.reference
    seed = f"{row.paid_on}|{row.amount}|{row.currency}|{row.invoice_number or row.customer_id}"
    return "sin-ref-" + hashlib.sha256(seed.encode()).hexdigest()[:12]


async def import_payment_file(
    client: Client,
    sessions: sessionmaker[Session],
    data: bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    defaults: FileDefaults | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    parsed = parse_payment_file(
        data, filename=filename, mapping=mapping, defaults=defaults or FileDefaults()
    )
    report = ImportReport.starting("payments", dry_run, parsed)
    for row in parsed.rows:
        reference = _payment_reference(row)
        # Noon UTC of the day paid: a bank file gives the day, not the moment.
        paid_at = datetime.combine(row.paid_on, time(12), tzinfo=UTC)
        label = f"line {row.line}: {row.invoice_number or row.customer_id or row.customer_tax_id}"
        try:
            if dry_run:
                report.imported.append(label)
            elif row.invoice_number:
                recorded = await record_payment(
                    client,
                    sessions,
                    row.invoice_number,
                    row.amount,
                    paid_at=paid_at,
                    reference=reference,
                    currency=row.currency,
                    source="file",
                )
                (report.imported if recorded.new else report.unchanged).append(label)
            else:
                customer_id = row.customer_id or _customer_by_tax_id(
                    sessions, row.customer_tax_id or ""
                )
                allocated = await record_customer_payment(
                    client,
                    sessions,
                    customer_id,
                    row.amount,
                    row.currency,
                    reference=reference,
                    paid_at=paid_at,
                    source="file",
                )
                (report.imported if allocated.new else report.unchanged).append(label)
        except InvalidRequest as error:
            report.rejected.append(RowError(row.line, error.field, label, str(error), error.field))
        if progress is not None:
            progress(1)
    return report


def _customer_by_tax_id(sessions: sessionmaker[Session], tax_id: str) -> str:
    with unit_of_work(sessions) as session:
        customer = ContactLookup.from_session(session).customer_by_tax_id(tax_id)
        if customer is None:
            raise InvalidRequest("tax_id", f"no customer has tax id {tax_id}")
        return customer.id
