"""A synthetic book written into the ledger as if the product had run it: customers, invoices
at their stage on the book's day, payments, the reminders the standard policy sent (the
bitácora's ``message_sent`` lines) and the promises customers broke. Bulk inserts in chunks:
a few seconds for 100,000 invoices on either database."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from analytics.synthetic_book import CONTACT_OFFSETS, Book, SyntheticInvoice
from dunning_policies.money import to_minor
from ledger.audit import GENESIS, content_hash
from ledger.models import Customer, Interaction, Invoice, Payment, Promise

CHUNK = 5_000
# The standard policy's steps at CONTACT_OFFSETS, with the channel each went by.
STEPS = (
    ("preventive", "email"),
    ("due_day", "email"),
    ("overdue_3", "whatsapp"),
    ("overdue_10", "sms"),
    ("final_notice", "email"),
)
NEGOTIATION_AFTER_DAYS = 15


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _at(day: date, zone: str, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _chain(lines: list[dict[str, Any]]) -> None:
    """Link the bitácora lines per customer, in the order they are inserted (their ids), as
    ``InteractionRepository.append`` does: ``dunning audit verify`` holds for a loaded book."""
    last: dict[str, str] = {}
    for line in lines:
        previous = last.get(line["customer_id"], GENESIS)
        line["prev_hash"] = previous
        line["row_hash"] = last[line["customer_id"]] = content_hash(line, previous)


def stage_on(invoice: SyntheticInvoice, paid_on: date | None, as_of: date) -> str:
    if paid_on is not None:
        return "paid"
    late = (as_of - invoice.due_on).days
    if late > NEGOTIATION_AFTER_DAYS:
        return "negotiation"
    if late > 0:
        return "overdue"
    return "due" if late == 0 else "current"


def load_book(connection: Connection, book: Book) -> None:
    """Write ``book`` through ``connection`` (the caller commits). The rows' ids carry the
    book's prefixes (``SC-``, ``SF-``), so a book never collides with real invoices."""
    now = _at(book.as_of, "UTC", 23)
    paid = {payment.invoice_number: payment for payment in book.payments}
    customers = [
        {
            "id": c.id,
            "name": c.name,
            "email": f"pagos@{c.id.lower()}.example",
            "phone": None,
            "whatsapp": "+56900000000" if c.country == "CL" else "+5215500000000",
            "country": c.country,
            "timezone": c.timezone,
            "locale": c.locale,
            "segment": c.segment,
            "policy_override": None,
            "tax_id": None,
            "debt_type": "business",
            "subdivision": None,
            "created_at": now,
            "updated_at": now,
        }
        for c in book.customers
    ]
    invoices, payments, contacts, promises = [], [], [], []
    rng = random.Random(book.seed)
    for invoice in book.invoices:
        customer = book.customer_by_id[invoice.customer_id]
        payment = paid.get(invoice.number)
        minor = to_minor(invoice.amount, invoice.currency)
        stage = stage_on(invoice, payment.paid_on if payment else None, book.as_of)
        invoices.append(
            {
                "number": invoice.number,
                "customer_id": invoice.customer_id,
                "currency": invoice.currency,
                "amount_minor": minor,
                "amount_due_minor": 0 if payment else minor,
                "issued_on": invoice.issued_on,
                "due_on": invoice.due_on,
                "stage": stage,
                "segment": customer.segment,
                "policy_name": customer.segment,
                "policy_version": 1,
                "workflow_id": f"invoice-{invoice.number}",
                "next_action": None,
                "next_action_at": None,
                "closed_reason": "paid" if payment else None,
                "created_at": _at(invoice.issued_on, customer.timezone, 9),
                "updated_at": now,
            }
        )
        if payment:
            payments.append(
                {
                    "id": f"SP-{invoice.number}",
                    "invoice_number": invoice.number,
                    "customer_id": invoice.customer_id,
                    "amount_minor": minor,
                    "currency": invoice.currency,
                    "paid_at": _at(payment.paid_on, customer.timezone, 15),
                    "reference": None,
                    "recorded_at": _at(payment.paid_on, customer.timezone, 16),
                    "status": "applied",
                    "source": "synthetic",
                }
            )
        last_day = payment.paid_on if payment else book.as_of + timedelta(days=1)
        for (step, channel), offset in zip(STEPS, CONTACT_OFFSETS, strict=True):
            sent_on = invoice.due_on + timedelta(days=offset)
            if sent_on >= last_day or sent_on < invoice.issued_on:
                continue
            contacts.append(
                {
                    "event_key": f"{invoice.number}:{step}",
                    "occurred_at": _at(sent_on, customer.timezone),
                    "invoice_number": invoice.number,
                    "customer_id": invoice.customer_id,
                    "workflow_id": f"invoice-{invoice.number}",
                    "kind": "message_sent",
                    "step_id": step,
                    "channel": channel,
                    "template": step,
                    "status": "sent",
                    "detail": {},
                    "recorded_at": _at(sent_on, customer.timezone),
                }
            )
        broken = customer.habit.promises_broken
        if broken and payment and rng.random() < broken / 10:
            promised = invoice.due_on + timedelta(
                days=max(1, (payment.paid_on - invoice.due_on).days // 2)
            )
            promises.append(
                {
                    "id": f"SPR-{invoice.number}",
                    "invoice_number": invoice.number,
                    "customer_id": invoice.customer_id,
                    "kind": "promise",
                    "source": "collector",
                    "promised_date": promised,
                    "first_due": None,
                    "plan_id": None,
                    "amount_minor": minor,
                    "currency": invoice.currency,
                    "made_at": _at(invoice.due_on + timedelta(days=1), customer.timezone),
                    "status": "broken" if promised < payment.paid_on else "kept",
                    "settled_at": _at(min(promised, payment.paid_on), customer.timezone, 23),
                }
            )
    _chain(contacts)
    for model, rows in (
        (Customer, customers),
        (Invoice, invoices),
        (Payment, payments),
        (Interaction, contacts),
        (Promise, promises),
    ):
        for chunk in _chunks(rows):
            connection.execute(insert(model), chunk)
