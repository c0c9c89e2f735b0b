"""Bank statements into the ledger: every line ends matched (paid), suggested (a collector
confirms) or unmatched — each kept in ``bank_lines``, none silently ignored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.bank import LineMatch, OpenInvoice, match_statement, parse_statement
from api.errors import InvalidRequest
from api.payments import record_payment
from dunning_policies.money import from_minor, to_minor
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.models import Customer, Invoice
from ledger.repositories.bank_lines import BankLineRepository


@dataclass
class StatementReport:
    dry_run: bool
    format: str
    account: str | None
    matched: list[dict[str, Any]] = field(default_factory=list)
    suggested: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    already_imported: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "bank_statement",
            "dry_run": self.dry_run,
            "format": self.format,
            "account": self.account,
            "counts": {
                "matched": len(self.matched),
                "suggested": len(self.suggested),
                "unmatched": len(self.unmatched),
                "rejected": len(self.rejected),
                "already_imported": self.already_imported,
            },
            "matched": self.matched,
            "suggested": self.suggested,
            "unmatched": self.unmatched,
            "rejected": self.rejected,
            "notes": self.notes,
        }


def line_id(account: str | None, match: LineMatch) -> str:
    """Stable across re-imports of the same statement: the bank's own reference when it gives
    one, else the line's content and position."""
    line = match.line
    parts = [account or "", line.booked_on.isoformat(), str(line.amount), line.direction]
    parts += [line.bank_reference] if line.bank_reference else [line.description, str(line.line)]
    return "BL-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _open_invoices(session: Session) -> list[OpenInvoice]:
    rows = session.execute(
        select(Invoice, Customer.tax_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.stage.not_in(sorted(CLOSED_STAGES)))
    ).all()
    return [
        OpenInvoice(
            number=invoice.number,
            customer_id=invoice.customer_id,
            customer_tax_id=tax_id,
            amount_due=from_minor(invoice.amount_due_minor, invoice.currency),
            currency=invoice.currency,
            due_on=invoice.due_on,
        )
        for invoice, tax_id in rows
    ]


def _describe(match: LineMatch, identifier: str) -> dict[str, Any]:
    line = match.line
    return {
        "id": identifier,
        "line": line.line,
        "booked_on": line.booked_on.isoformat(),
        "amount": str(line.amount),
        "currency": line.currency,
        "description": line.description,
        "invoice_number": match.invoice_number,
        "candidates": list(match.candidates),
        "rule": match.rule,
        "reason": match.reason,
    }


async def import_statement(
    client: Client,
    sessions: sessionmaker[Session],
    data: bytes,
    *,
    filename: str | None = None,
    currency: str = "CLP",
    dry_run: bool = False,
) -> StatementReport:
    """Raises ``api.bank.StatementFormatError`` when the file as a whole cannot be read."""
    parsed = parse_statement(data, filename=filename, currency=currency)
    with unit_of_work(sessions) as session:
        matches = match_statement(parsed.lines, _open_invoices(session))
    report = StatementReport(dry_run, parsed.format, parsed.account, notes=list(parsed.notes))
    report.rejected = [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in parsed.rejected
    ]
    for match in matches:
        identifier = line_id(parsed.account, match)
        described = _describe(match, identifier)
        {"matched": report.matched, "suggested": report.suggested}.get(
            match.status, report.unmatched
        ).append(described)
        if dry_run:
            continue
        line = match.line
        with unit_of_work(sessions) as session:
            new = BankLineRepository.from_session(session).add_if_absent(
                {
                    "id": identifier,
                    "source": filename or parsed.format,
                    "line": line.line,
                    "booked_on": line.booked_on,
                    "amount_minor": to_minor(line.amount, line.currency),
                    "currency": line.currency,
                    "direction": line.direction,
                    "description": line.description,
                    "bank_reference": line.bank_reference,
                    "counterparty_name": line.counterparty_name,
                    "counterparty_tax_id": line.counterparty_tax_id,
                    "status": match.status,
                    "invoice_number": match.invoice_number,
                    "rule": match.rule,
                    "reason": match.reason,
                    "candidates": list(match.candidates),
                }
            )
        if not new:
            report.already_imported += 1
            continue
        if match.status == "matched" and match.invoice_number:
            await apply_line(client, sessions, identifier, match.invoice_number, "matched")
    return report


async def apply_line(
    client: Client,
    sessions: sessionmaker[Session],
    identifier: str,
    invoice_number: str,
    status: str,
) -> str:
    """Record the line's money as a payment of ``invoice_number``; returns the payment id."""
    with unit_of_work(sessions) as session:
        stored = BankLineRepository.from_session(session).get(identifier)
        if stored is None:
            raise LookupError(f"bank line {identifier} is not known")
        if stored.direction != "credit":
            raise InvalidRequest("id", "a debit (money out) is not a customer payment")
        amount = from_minor(stored.amount_minor, stored.currency)
        paid_at = datetime.combine(stored.booked_on, time(12), tzinfo=UTC)
        currency = stored.currency
    recorded = await record_payment(
        client,
        sessions,
        invoice_number,
        amount,
        paid_at=paid_at,
        reference=f"bank:{identifier}",
        currency=currency,
        source="bank",
    )
    with unit_of_work(sessions) as session:
        BankLineRepository.from_session(session).resolve(
            identifier,
            status=status,
            at=datetime.now(UTC),
            invoice_number=invoice_number,
            payment_id=recorded.payment_id,
        )
    return recorded.payment_id
