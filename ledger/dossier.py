"""An invoice's evidence dossier: everything the ledger knows of how it was collected.

For a write-off before the tax authority or a handoff to an agency: the invoice and its
customer, every contact attempt (outbox: when, channel, provider, delivery status, attempts,
the template and the SHA-256 of what was sent), the bitácora's lines with their chain hashes,
promises, disputes, payments, credit notes, the agency handoff, and whether the customer's
hash chain checks out. Message bodies are personal data: left out unless asked for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import first_break
from ledger.models import (
    CreditNote,
    Customer,
    DisputeCase,
    Handoff,
    Interaction,
    Invoice,
    OutboxMessage,
    Payment,
    Promise,
)


class InvoiceNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Entry:
    """One dated fact of the dossier's timeline."""

    at: datetime
    source: str
    """outbox, bitacora, promise, dispute, payment, credit_note or handoff."""
    summary: str
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "source": self.source,
            "summary": self.summary,
            **self.fields,
        }


@dataclass
class Dossier:
    invoice: dict[str, Any]
    customer: dict[str, Any]
    timeline: list[Entry] = field(default_factory=list)
    chain: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "invoice": self.invoice,
            "customer": self.customer,
            "timeline": [entry.as_dict() for entry in self.timeline],
            "chain": self.chain,
        }


def sha256_text(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def build_dossier(session: Session, number: str, *, with_bodies: bool = False) -> Dossier:
    invoice = session.get(Invoice, number)
    if invoice is None:
        raise InvoiceNotFound(f"no invoice {number}")
    customer = session.get(Customer, invoice.customer_id)
    dossier = Dossier(
        invoice={
            "number": invoice.number,
            "currency": invoice.currency,
            "amount_minor": invoice.amount_minor,
            "amount_due_minor": invoice.amount_due_minor,
            "issued_on": invoice.issued_on.isoformat(),
            "due_on": invoice.due_on.isoformat(),
            "stage": invoice.stage,
            "closed_reason": invoice.closed_reason,
            "policy": f"{invoice.policy_name} v{invoice.policy_version}",
        },
        customer={
            "id": invoice.customer_id,
            "name": customer.name if customer else None,
            "tax_id": customer.tax_id if customer else None,
            "country": customer.country if customer else None,
        },
    )
    timeline = dossier.timeline
    timeline.extend(_contact_attempts(session, number, with_bodies))
    timeline.extend(_bitacora(session, number))
    timeline.extend(_agreements_and_money(session, number))
    timeline.sort(key=lambda entry: (entry.at, entry.source))
    lines = session.scalars(
        select(Interaction)
        .where(Interaction.customer_id == invoice.customer_id)
        .order_by(Interaction.id)
    ).all()
    broken = first_break(lines)
    dossier.chain = {
        "customer_lines": len(lines),
        "intact": broken is None,
        "first_broken": broken.as_dict() if broken else None,
    }
    return dossier


def _contact_attempts(session: Session, number: str, with_bodies: bool) -> list[Entry]:
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.invoice_number == number)
        .order_by(OutboxMessage.id)
    )
    entries = []
    for message in messages:
        fields: dict[str, Any] = {
            "channel": message.channel,
            "provider": message.provider,
            "template": message.template,
            "status": message.status,
            "attempts": message.attempts,
            "provider_message_id": message.provider_message_id,
            "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            "content_sha256": sha256_text((message.subject or "") + "\n" + message.body),
        }
        if message.error_code:
            fields["error_code"] = message.error_code
        if with_bodies:
            fields["subject"] = message.subject
            fields["body"] = message.body
        entries.append(
            Entry(
                message.created_at,
                "outbox",
                f"{message.channel} {message.template}: {message.status}",
                fields,
            )
        )
    return entries


def _bitacora(session: Session, number: str) -> list[Entry]:
    lines = session.scalars(
        select(Interaction)
        .where(Interaction.invoice_number == number)
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    return [
        Entry(
            line.occurred_at,
            "bitacora",
            " ".join(part for part in (line.kind, line.channel, line.status) if part),
            {
                "id": line.id,
                "event_key": line.event_key,
                "kind": line.kind,
                "channel": line.channel,
                "template": line.template,
                "status": line.status,
                "row_hash": line.row_hash,
            },
        )
        for line in lines
    ]


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _agreements_and_money(session: Session, number: str) -> list[Entry]:
    entries: list[Entry] = []
    for promise in session.scalars(select(Promise).where(Promise.invoice_number == number)):
        entries.append(
            Entry(
                promise.made_at,
                "promise",
                f"{promise.kind} {promise.amount_minor} {promise.currency}"
                f" by {promise.promised_date.isoformat()}: {promise.status}",
                {"id": promise.id, "status": promise.status, "source": promise.source},
            )
        )
    for case in session.scalars(select(DisputeCase).where(DisputeCase.invoice_number == number)):
        entries.append(
            Entry(
                case.opened_at,
                "dispute",
                f"{case.code}: {case.status}",
                {"case_id": case.case_id, "reason": case.reason, "status": case.status},
            )
        )
    for payment in session.scalars(select(Payment).where(Payment.invoice_number == number)):
        entries.append(
            Entry(
                payment.paid_at,
                "payment",
                f"{payment.amount_minor} {payment.currency} ({payment.status})",
                {"id": payment.id, "reference": payment.reference, "source": payment.source},
            )
        )
    for note in session.scalars(select(CreditNote).where(CreditNote.invoice_number == number)):
        entries.append(
            Entry(
                _midnight(note.issued_on),
                "credit_note",
                f"{note.amount_minor} {note.currency}",
                {"id": note.id},
            )
        )
    for handoff in session.scalars(select(Handoff).where(Handoff.invoice_number == number)):
        entries.append(
            Entry(
                handoff.created_at,
                "handoff",
                f"{handoff.agency}: {handoff.amount_due_minor} {handoff.currency}",
                {"id": handoff.id},
            )
        )
    return entries
