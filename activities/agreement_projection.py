"""What promises, payment plans and disputes in an invoice's timeline mean for the ledger: the
promises table (kept rate, the customer's risk), the plans' statuses, the dispute desk's cases.

Applied once per event, when its bitácora row is new (``activities.dunning._write_progress``);
every write here is also safe to repeat.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from activities.contracts import ProgressReport
from dunning_policies.money import to_minor
from dunning_policies.state import TimelineEvent
from ledger.repositories.credit_notes import CreditNoteRepository
from ledger.repositories.disputes import DisputeRepository
from ledger.repositories.plans import PlanRepository, plan_row_id
from ledger.repositories.promises import PromiseRepository

AGREEMENT_EVENTS = frozenset(
    {
        "payment_claimed",
        "promise_made",
        "promise_kept",
        "promise_broken",
        "plan_agreed",
        "instalment_paid",
        "plan_completed",
        "plan_broken",
        "dispute_opened",
        "dispute_overdue",
        "dispute_resolved",
        "credit_note_applied",
        "closed",
    }
)
DISPUTE_CREDIT_SUFFIX = "-credit"
"""An upheld dispute's credit note is ``<case id>-credit`` (``transitions.resolve_dispute``)."""


def apply_agreement_event(session: Session, report: ProgressReport, event: TimelineEvent) -> None:
    if event.kind.startswith(("promise_", "plan_", "instalment_", "closed", "payment_claimed")):
        _promise_or_plan(session, report, event)
    else:
        _dispute(session, report, event)


def _promise_or_plan(session: Session, report: ProgressReport, event: TimelineEvent) -> None:
    detail, number, at = event.detail, report.invoice_number, event.at
    promises, plans = PromiseRepository.from_session(session), PlanRepository.from_session(session)
    match event.kind:
        case "payment_claimed":
            # "Already paid" replaces a promise still running, neither kept nor broken; the
            # claim's own row follows with its promise_made.
            promises.supersede_open(number, at=at, plans=False)
        case "promise_made":
            promises.record_if_absent(
                id=f"{report.workflow_id}#{event.seq}",
                invoice_number=number,
                customer_id=report.customer_id,
                kind=event.status or "promise",
                source=detail.get("source", "collector"),
                promised_date=date.fromisoformat(detail["promised_date"]),
                amount_minor=_minor(detail["amount"], report),
                currency=report.currency,
                made_at=at,
            )
        case "promise_kept" | "promise_broken":
            promises.settle_latest_promise(number, kept=event.kind == "promise_kept", at=at)
        case "plan_agreed":
            # The workflow drops a promise the plan replaces, with no event of its own.
            promises.supersede_open(number, at=at, plans=False)
            row_id = plan_row_id(number, detail["plan_id"])
            total = _minor(detail["total"], report)
            source = event.status or "collector"
            plans.agree(
                row_id,
                invoice_number=number,
                customer_id=report.customer_id,
                plan_id=detail["plan_id"],
                source=source,
                currency=report.currency,
                total_minor=total,
                at=at,
                task_id=detail.get("task_id"),
            )
            promises.record_if_absent(
                id=f"{report.workflow_id}#{event.seq}",
                invoice_number=number,
                customer_id=report.customer_id,
                kind="plan",
                source=source,
                promised_date=date.fromisoformat(detail["last_due"]),
                first_due=date.fromisoformat(detail["first_due"]),
                plan_id=row_id,
                amount_minor=total,
                currency=report.currency,
                made_at=at,
            )
        case "instalment_paid":
            plans.instalment_paid(
                plan_row_id(number, detail["plan_id"]),
                number=int(detail["number"]),
                due_on=date.fromisoformat(detail["due_on"]),
                amount_minor=_minor(detail["amount"], report),
                at=at,
            )
        case "plan_completed" | "plan_broken":
            row_id = plan_row_id(number, detail["plan_id"])
            completed = event.kind == "plan_completed"
            missed = detail.get("missed_instalment")
            plans.settle(row_id, completed=completed, at=at, missed=int(missed) if missed else None)
            promises.settle_plan(row_id, kept=completed, at=at)
        case "closed":
            # Paid in full settles a promise or plan as kept first; any other close ends them.
            promises.supersede_open(number, at=at, plans=True)
            plans.supersede_active(number, at=at)


def _dispute(session: Session, report: ProgressReport, event: TimelineEvent) -> None:
    detail, at = event.detail, event.at
    disputes = DisputeRepository.from_session(session)
    match event.kind:
        case "dispute_opened" if "case_id" in detail:
            disputes.open_if_absent(
                case_id=detail["case_id"],
                invoice_number=report.invoice_number,
                customer_id=report.customer_id,
                code=detail.get("code", event.status or "other"),
                reason=detail.get("reason", ""),
                owner=detail["owner"],
                opened_at=at,
                deadline=date.fromisoformat(detail["deadline"]),
                currency=report.currency,
            )
        case "dispute_overdue":
            disputes.mark_overdue(detail["case_id"])
        case "dispute_resolved" if "case_id" in detail:
            credit = detail.get("credit_amount")
            disputes.resolve(
                detail["case_id"],
                upheld=event.status == "upheld",
                at=at,
                note=detail.get("note"),
                credit_amount_minor=_minor(credit, report) if credit else None,
            )
        case "credit_note_applied":
            _dispute_credit(session, report, event.detail, at)


def _dispute_credit(
    session: Session, report: ProgressReport, detail: dict[str, str], at: datetime
) -> None:
    """An upheld dispute's credit note: the case records what it gave, and the invoice's
    credit notes hold it, so balances computed from the ledger agree with the workflow's.
    (The ERP's own credit notes are in that table already: the API writes them first.)"""
    note_id = detail.get("credit_note", "")
    if not note_id.endswith(DISPUTE_CREDIT_SUFFIX):
        return
    amount_minor = _minor(detail["amount"], report)
    case = DisputeRepository.from_session(session).record_credit(
        note_id.removesuffix(DISPUTE_CREDIT_SUFFIX), amount_minor
    )
    if case is None:
        return
    CreditNoteRepository.from_session(session).add_if_absent(
        id=note_id,
        invoice_number=report.invoice_number,
        amount_minor=amount_minor,
        currency=report.currency,
        issued_on=at.date(),
        reason=detail.get("reason"),
    )


def _minor(amount: str, report: ProgressReport) -> int:
    return to_minor(Decimal(amount), report.currency)
