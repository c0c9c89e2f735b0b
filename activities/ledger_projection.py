"""What a timeline event means for the ledger beyond its bitácora row: a task appears in the
collectors' inbox (or hides there until a snooze ends), a handoff record is made, a customer
credit is booked, the invoice's policy version moves; promises, payment plans and disputes in
``agreement_projection``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from activities.agreement_projection import AGREEMENT_EVENTS, apply_agreement_event
from activities.contracts import ProgressReport
from dunning_policies.money import to_minor
from dunning_policies.state import TimelineEvent
from ledger.repositories.credits import CreditRepository
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.tasks import TaskRepository


def apply_event_side_effects(
    session: Session, report: ProgressReport, event: TimelineEvent
) -> None:
    detail = event.detail
    if event.kind in AGREEMENT_EVENTS:
        apply_agreement_event(session, report, event)
    match event.kind:
        case "task_opened":
            TaskRepository.from_session(session).open_if_absent(
                id=detail["task_id"],
                invoice_number=report.invoice_number,
                customer_id=report.customer_id,
                workflow_id=report.workflow_id,
                queue=detail["queue"],
                kind="negotiation",
                created_at=event.at,
                sla_due_at=datetime.fromisoformat(detail["sla_due_at"]),
                detail={"attempt": detail["attempt"], "step_id": event.step_id or ""},
            )
        case "task_completed":
            TaskRepository.from_session(session).complete(
                detail["task_id"], outcome=detail["outcome"], completed_at=event.at, detail=detail
            )
        case "task_closed":
            TaskRepository.from_session(session).complete(
                detail["task_id"],
                outcome=event.status or "closed",
                completed_at=event.at,
                detail=detail,
            )
        case "task_snoozed":
            TaskRepository.from_session(session).snooze(
                detail["task_id"], until=datetime.fromisoformat(detail["until"])
            )
        case "task_expired":
            TaskRepository.from_session(session).expire(detail["task_id"], at=event.at)
        case "handed_off":
            HandoffRepository.from_session(session).add_if_absent(
                id=f"H-{report.invoice_number}",
                invoice_number=report.invoice_number,
                customer_id=report.customer_id,
                agency=detail["agency"],
                amount_due_minor=to_minor(event.amount_due, report.currency),
                currency=report.currency,
                created_at=event.at,
            )
        case "policy_migrated":
            # From the workflow's own event, not from the command that asked: the ledger says v2
            # only once the workflow really runs v2.
            InvoiceRepository.from_session(session).record_policy_migration(
                report.invoice_number,
                policy_name=detail["policy"],
                version=int(detail["to_version"]),
            )
        case "segment_changed":
            InvoiceRepository.from_session(session).record_segment_change(
                report.invoice_number,
                segment=detail["to_segment"],
                policy_name=detail["to_policy"],
                version=int(detail["to_version"]),
            )
        case "credit_recorded":
            CreditRepository.from_session(session).add_if_absent(
                id=f"CR-{report.invoice_number}",
                customer_id=report.customer_id,
                invoice_number=report.invoice_number,
                amount_minor=to_minor(Decimal(detail["amount"]), report.currency),
                currency=report.currency,
                created_at=event.at,
            )
