"""What the ERP changes on an issued invoice: due date, amount, a credit note, a cancellation.

The ledger is written first (it is the record), then the invoice's workflow is told and
replans at once: a credit note lowers the next message's amount, a full one closes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import InvalidRequest, parse_amount
from api.signals import signal_invoice
from dunning_policies.money import from_minor, to_minor
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.models import Invoice
from ledger.repositories.credit_notes import CreditNoteRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import CreditNoteNotice, InvoiceAmendment, Reason

log = structlog.get_logger()


@dataclass(frozen=True)
class Amended:
    invoice_number: str
    due_on: date
    amount: Decimal
    delivered_to_workflow: bool


@dataclass(frozen=True)
class AppliedCreditNote:
    id: str
    invoice_number: str
    amount: Decimal
    currency: str
    new: bool
    delivered_to_workflow: bool


def _open_invoice(session: Session, number: str) -> Invoice:
    invoice = InvoiceRepository.from_session(session).get(number)
    if invoice is None:
        raise LookupError(f"invoice {number} is not known")
    return invoice


def _require_open(invoice: Invoice, action: str) -> None:
    if invoice.stage in CLOSED_STAGES:
        raise InvalidRequest("invoice", f"{invoice.number} is {invoice.stage}: cannot {action}")


async def amend_invoice(
    client: Client,
    sessions: sessionmaker[Session],
    number: str,
    *,
    due_on: date | None = None,
    raw_amount: str | Decimal | None = None,
    reason: str | None = None,
) -> Amended:
    if due_on is None and raw_amount is None:
        raise InvalidRequest("due_on", "give a new due date, a corrected amount, or both")
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number)
        _require_open(invoice, "change it")
        amount = None if raw_amount is None else parse_amount(raw_amount, invoice.currency)
        if due_on is not None and due_on < invoice.issued_on:
            raise InvalidRequest("due_on", f"{due_on} is before the issue date {invoice.issued_on}")
        if amount is not None:
            paid = PaymentRepository.from_session(session).total_minor_for_invoice(number)
            if to_minor(amount, invoice.currency) < paid:
                raise InvalidRequest(
                    "amount",
                    f"{amount} is less than the {from_minor(paid, invoice.currency)} already paid",
                )
            invoice.amount_minor = to_minor(amount, invoice.currency)
        if due_on is not None:
            invoice.due_on = due_on
        final_due, final_amount = invoice.due_on, from_minor(invoice.amount_minor, invoice.currency)
    delivered = await signal_invoice(
        client,
        invoice.workflow_id,
        InvoiceDunningWorkflow.amend,
        InvoiceAmendment(due_on=due_on, amount=amount, reason=reason),
    )
    log.info(
        "invoice amended",
        invoice=number,
        workflow=invoice.workflow_id,
        due_on=str(final_due),
        amount=str(final_amount),
    )
    return Amended(number, final_due, final_amount, delivered)


async def cancel_invoice(
    client: Client, sessions: sessionmaker[Session], number: str, reason: str
) -> bool:
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number)
        workflow_id = invoice.workflow_id
    delivered = await signal_invoice(
        client, workflow_id, InvoiceDunningWorkflow.cancel, Reason(reason=reason)
    )
    log.info("invoice cancelled", invoice=number, workflow=workflow_id, delivered=delivered)
    return delivered


async def apply_credit_note(
    client: Client,
    sessions: sessionmaker[Session],
    *,
    note_id: str,
    invoice_number: str,
    raw_amount: str | Decimal,
    issued_on: date | None = None,
    reason: str | None = None,
) -> AppliedCreditNote:
    """Idempotent by credit-note id; the same id with other content is refused."""
    issued_on = issued_on or datetime.now(UTC).date()
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, invoice_number)
        amount = parse_amount(raw_amount, invoice.currency, field="amount")
        notes = CreditNoteRepository.from_session(session)
        note, new = notes.add_if_absent(
            id=note_id,
            invoice_number=invoice_number,
            amount_minor=to_minor(amount, invoice.currency),
            currency=invoice.currency,
            issued_on=issued_on,
            reason=reason,
        )
        if not new and (
            note.invoice_number != invoice_number
            or note.amount_minor != to_minor(amount, invoice.currency)
        ):
            raise InvalidRequest(
                "id",
                f"credit note {note_id} was already applied to {note.invoice_number} for "
                f"{from_minor(note.amount_minor, note.currency)} {note.currency}",
            )
        if new:
            _require_open(invoice, "credit it")
        currency, workflow_id = invoice.currency, invoice.workflow_id
        recorded_at = note.recorded_at
    delivered = await signal_invoice(
        client,
        workflow_id,
        InvoiceDunningWorkflow.credit_note_applied,
        CreditNoteNotice(id=note_id, amount=amount, issued_at=recorded_at, reason=reason),
    )
    log.info("credit note applied", invoice=invoice_number, credit_note=note_id, amount=str(amount))
    return AppliedCreditNote(note_id, invoice_number, amount, currency, new, delivered)
