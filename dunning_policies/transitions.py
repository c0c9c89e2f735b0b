"""How each thing that happens to an invoice changes its state and adds to its timeline.

The workflow, the preview and the tests apply the same functions, so the timeline a user sees in
a preview is built exactly as the live one is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dunning_policies.calendar import local_date, local_moment, offset_moment, zone
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind
from dunning_policies.state import (
    CONVERSATION_CALLS,
    CallResult,
    ClosedReason,
    ContactInFlight,
    CreditNote,
    DisputeCase,
    DisputeCode,
    Instalment,
    InvoiceState,
    Negotiation,
    OpenTask,
    Payment,
    PaymentPlan,
    Promise,
    StepStatus,
    TaskOutcome,
    TimelineEvent,
)


class TaskCompletion(BaseModel):
    """A collector's answer to a negotiation task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    outcome: TaskOutcome
    promised_date: date | None = None
    amount: Decimal | None = Field(default=None, gt=0)
    note: str | None = None
    collector: str | None = None
    dispute_code: DisputeCode | None = None
    instalments: tuple[Instalment, ...] | None = None
    """For the outcome ``payment_plan``: the agreed instalments."""


def _event(state: InvoiceState, at: datetime, kind: str, **fields: Any) -> InvoiceState:
    detail = {k: str(v) for k, v in fields.pop("detail", {}).items() if v is not None}
    event = TimelineEvent(
        seq=state.next_seq, at=at, kind=kind, amount_due=state.amount_due, detail=detail, **fields
    )
    return state.model_copy(update={"timeline": (*state.timeline, event)})


def _with_step(state: InvoiceState, step_id: str, status: StepStatus) -> InvoiceState:
    return state.model_copy(update={"steps": {**state.steps, step_id: status}})


def record_issued(state: InvoiceState, at: datetime, policy: Policy) -> InvoiceState:
    return _event(state, at, "issued", detail={"policy": policy.name, "version": policy.version})


def apply_payment(state: InvoiceState, payment: Payment, at: datetime) -> InvoiceState:
    """Idempotent by payment id: an ERP re-sending a payment changes nothing."""
    if any(p.id == payment.id for p in state.payments):
        return state
    state = state.model_copy(update={"payments": (*state.payments, payment)})
    return _event(
        state,
        at,
        "payment_received",
        detail={"payment_id": payment.id, "amount": payment.amount, "reference": payment.reference},
    )


def _landed(state: InvoiceState, step_id: str) -> InvoiceState:
    """The step's message left the customer's contact queue (sent, undeliverable, skipped)."""
    in_flight = state.contact_in_flight
    if in_flight is None or in_flight.step_id != step_id:
        return state
    return state.model_copy(update={"contact_in_flight": None})


def contact_requested(state: InvoiceState, step: Remind, at: datetime) -> InvoiceState:
    """The step's message is handed to the customer's contact workflow, which decides when
    (and together with which other invoices) it goes out."""
    in_flight = ContactInFlight(
        step_id=step.id,
        requested_at=at,
        amount_due=state.amount_due,
        conversation_at=last_conversation_at(state),
    )
    return state.model_copy(update={"contact_in_flight": in_flight})


def withdraw_contact(
    state: InvoiceState, at: datetime, reason: str, *, to_ask_again: bool = False
) -> InvoiceState:
    """The queued message is taken back: for good (paid, disputed…) with a timeline event, or
    ``to_ask_again`` at once with what changed (a partial payment, a conversation)."""
    in_flight = state.contact_in_flight
    if in_flight is None:
        return state
    state = state.model_copy(update={"contact_in_flight": None})
    if to_ask_again:
        return state
    return _event(
        state,
        at,
        "contact_withdrawn",
        step_id=in_flight.step_id,
        status="withdrawn",
        detail={"reason": reason},
    )


def last_conversation_at(state: InvoiceState) -> datetime | None:
    """When a collector last talked with the debtor about this invoice (a task answered with
    anything but "no contact", or a call logged as a conversation): Regulation F pauses calls
    about the debt after it."""
    for event in reversed(state.timeline):
        if event.kind == "task_completed" and event.status != TaskOutcome.NO_CONTACT.value:
            return event.at
        if event.kind == "call_logged" and event.status in CONVERSATION_CALLS:
            return event.at
    return None


def mark_sent(
    state: InvoiceState,
    step: Remind,
    channel: Channel,
    at: datetime,
    detail: dict[str, str],
    *,
    moved_by: str | None = None,
) -> InvoiceState:
    """``moved_by``: the rule that kept the message from its own moment, for the timeline."""
    if moved_by is not None:
        detail = {**detail, "moved_by": moved_by}
    state = _landed(state, step.id)
    state = _with_step(state, step.id, StepStatus.SENT)
    if state.pending_notice == step.id:
        state = state.model_copy(update={"pending_notice": None})
    return _event(
        state,
        at,
        "message_sent",
        step_id=step.id,
        channel=channel,
        template=step.template,
        tone=step.tone,
        status="sent",
        detail=detail,
    )


def mark_channel_failed(
    state: InvoiceState,
    step: Remind,
    channel: Channel,
    at: datetime,
    *,
    code: str,
    reason: str,
    address_invalid: bool,
) -> InvoiceState:
    failed = {**state.failed_channels, step.id: (*state.failed_channels.get(step.id, ()), channel)}
    update: dict[str, Any] = {"failed_channels": failed}
    if address_invalid:
        update["unusable_channels"] = {**state.unusable_channels, channel: reason}
    state = state.model_copy(update=update)
    return _event(
        state,
        at,
        "message_failed",
        step_id=step.id,
        channel=channel,
        template=step.template,
        tone=step.tone,
        status="failed",
        detail={"code": code, "reason": reason},
    )


def mark_undeliverable(
    state: InvoiceState, step: Remind, at: datetime, reason: str
) -> InvoiceState:
    state = _landed(state, step.id)
    state = _with_step(state, step.id, StepStatus.UNDELIVERABLE)
    if state.pending_notice == step.id:
        state = state.model_copy(update={"pending_notice": None})
    return _event(
        state,
        at,
        "step_undeliverable",
        step_id=step.id,
        template=step.template,
        status="undeliverable",
        detail={"reason": reason},
    )


REPLACED_WHILE_QUEUED = (
    "a later step replaced it while it waited for the customer's next allowed contact"
)


def mark_skipped(state: InvoiceState, step_ids: tuple[str, ...], at: datetime) -> InvoiceState:
    for step_id in step_ids:
        in_flight = state.contact_in_flight
        replaced = in_flight is not None and in_flight.step_id == step_id
        state = _landed(state, step_id)
        if replaced and state.replacements_confirmed:
            # It may be on its way out right now: the contact workflow says which
            # (``confirm_replaced`` or ``mark_sent``).
            state = _with_step(state, step_id, StepStatus.REPLACED)
            continue
        reason = (
            REPLACED_WHILE_QUEUED
            if replaced
            else "its moment passed before it could run; a later step fits now"
        )
        state = _with_step(state, step_id, StepStatus.SKIPPED)
        state = _event(
            state, at, "step_skipped", step_id=step_id, status="skipped", detail={"reason": reason}
        )
    return state


def confirm_replaced(
    state: InvoiceState, step_id: str, at: datetime, *, last_attempt: str | None = None
) -> InvoiceState:
    """The customer's contact workflow dropped the replaced step's message unsent (or its last
    attempt failed and nobody tries again): now it is skipped, on the record."""
    if state.steps.get(step_id) is not StepStatus.REPLACED:
        return state
    detail = {"reason": REPLACED_WHILE_QUEUED}
    if last_attempt is not None:
        detail["last_attempt"] = last_attempt
    state = _with_step(state, step_id, StepStatus.SKIPPED)
    return _event(state, at, "step_skipped", step_id=step_id, status="skipped", detail=detail)


def task_id_for(state: InvoiceState, step: Negotiate, attempt: int) -> str:
    return f"T-{state.invoice_number}-{step.id}-{attempt}"


def open_task(state: InvoiceState, step: Negotiate, at: datetime) -> InvoiceState:
    attempt = state.negotiation.attempts + 1
    task = OpenTask(
        id=task_id_for(state, step, attempt),
        step_id=step.id,
        attempt=attempt,
        queue=step.queue,
        created_at=at,
        sla_due_at=at + timedelta(days=step.sla_days),
    )
    state = _with_step(state, step.id, StepStatus.TASK_OPENED)
    state = state.model_copy(update={"negotiation": Negotiation(attempts=attempt, task=task)})
    return _event(
        state,
        at,
        "task_opened",
        step_id=step.id,
        status="open",
        detail={
            "task_id": task.id,
            "queue": task.queue,
            "attempt": attempt,
            "sla_due_at": task.sla_due_at.isoformat(),
        },
    )


def _retry_or_exhaust(
    state: InvoiceState, policy: Policy, retry_at: datetime, reason: str
) -> InvoiceState:
    negotiation = policy.negotiation
    attempts = state.negotiation.attempts
    if negotiation is not None and attempts < negotiation.max_attempts:
        return state.model_copy(
            update={"negotiation": Negotiation(attempts=attempts, retry_at=retry_at)}
        )
    return state.model_copy(
        update={"negotiation": Negotiation(attempts=attempts, exhausted_reason=reason)}
    )


def complete_task(
    state: InvoiceState, policy: Policy, completion: TaskCompletion, at: datetime
) -> InvoiceState:
    task = state.negotiation.task
    assert task is not None and task.id == completion.task_id, "validated by the caller"
    state = state.model_copy(
        update={"negotiation": state.negotiation.model_copy(update={"task": None})}
    )
    state = _event(
        state,
        at,
        "task_completed",
        step_id=task.step_id,
        status=completion.outcome.value,
        detail={
            "task_id": task.id,
            "outcome": completion.outcome.value,
            "note": completion.note,
            "collector": completion.collector,
            "promised_date": completion.promised_date,
            "amount": completion.amount,
        },
    )
    timezone = state.customer.timezone
    match completion.outcome:
        case TaskOutcome.PROMISE_TO_PAY:
            assert completion.promised_date is not None
            promise = Promise(
                kind="promise",
                promised_date=completion.promised_date,
                amount=completion.amount or state.amount_due,
                made_at=at,
                paid_before=state.amount_paid,
                task_id=task.id,
            )
            return _promise_made(state, promise, at)
        case TaskOutcome.PAID:
            promise = Promise(
                kind="payment_claim",
                promised_date=payment_claim_until(state, policy, at),
                amount=state.amount_due,
                made_at=at,
                paid_before=state.amount_paid,
                task_id=task.id,
            )
            return _promise_made(state, promise, at)
        case TaskOutcome.DISPUTE:
            return open_dispute(
                state,
                completion.note or "disputed with the collector",
                at,
                policy=policy,
                code=completion.dispute_code or DisputeCode.OTHER,
                owner=completion.collector,
            )
        case TaskOutcome.PAYMENT_PLAN:
            assert completion.instalments is not None
            return agree_plan(
                state, policy, completion.instalments, at, source="collector", task_id=task.id
            )
        case TaskOutcome.NO_CONTACT:
            retry_day = local_date(at, timezone) + timedelta(days=policy.no_contact_retry_days)
            retry_at = local_moment(retry_day, policy.send_at, timezone)
            return _retry_or_exhaust(state, policy, retry_at, "no contact after every attempt")
        case TaskOutcome.REFUSED:
            return state.model_copy(
                update={
                    "negotiation": Negotiation(
                        attempts=state.negotiation.attempts, exhausted_reason="refused to pay"
                    )
                }
            )


def payment_claim_until(state: InvoiceState, policy: Policy, at: datetime) -> date:
    """The last day an "I already paid" waits for the money before it counts as broken."""
    return local_date(at, state.customer.timezone) + timedelta(days=policy.payment_claim_days)


def _promise_made(state: InvoiceState, promise: Promise, at: datetime) -> InvoiceState:
    state = state.model_copy(update={"promise": promise})
    return _event(
        state,
        at,
        "promise_made",
        status=promise.kind,
        detail={
            "promised_date": promise.promised_date.isoformat(),
            "amount": promise.amount,
            "source": promise.source,
        },
    )


def make_promise(
    state: InvoiceState,
    promised_date: date,
    amount: Decimal | None,
    at: datetime,
    *,
    source: str,
    note: str | None = None,
    closes_open_task: bool = False,
) -> InvoiceState:
    """A promise made outside a collector's task: the debtor's reply, the portal. Validated
    first with ``check_promise``. With ``closes_open_task`` (every invoice since the workspace
    came; older histories replay without it) an open collector task ends: the debtor answered
    it themselves, and it must not wait in the inbox."""
    if closes_open_task:
        state = _close_open_task(state, at, "promise_made", f"promise to pay from {source}")
    promise = Promise(
        kind="promise",
        promised_date=promised_date,
        amount=amount or state.amount_due,
        made_at=at,
        paid_before=state.amount_paid,
        source=source,
    )
    return _promise_made(state, promise, at)


def agree_plan(
    state: InvoiceState,
    policy: Policy,
    instalments: tuple[Instalment, ...],
    at: datetime,
    *,
    source: str,
    task_id: str | None = None,
) -> InvoiceState:
    """Contact pauses for the policy's steps; each instalment gets its own reminder and
    due-day notice. Validated first with ``check_plan``."""
    number = state.plans_agreed + 1
    plan = PaymentPlan(
        plan_id=f"plan{number}",
        instalments=instalments,
        agreed_at=at,
        paid_before=state.amount_paid,
        source=source,
    )
    state = state.model_copy(
        update={"plan": plan, "plans_agreed": number, "promise": None, "pending_notice": None}
    )
    return _event(
        state,
        at,
        "plan_agreed",
        status=source,
        detail={
            "plan_id": plan.plan_id,
            "instalments": len(instalments),
            "first_due": instalments[0].due_on.isoformat(),
            "last_due": instalments[-1].due_on.isoformat(),
            "total": sum((i.amount for i in instalments), Decimal(0)),
            "task_id": task_id,
        },
    )


def instalment_deadline(state: InvoiceState, policy: Policy, instalment: Instalment) -> datetime:
    day = instalment.due_on + timedelta(days=policy.promise_grace_days)
    return local_moment(day, policy.send_at, state.customer.timezone)


def record_instalments_paid(state: InvoiceState, covered: int, at: datetime) -> InvoiceState:
    plan = state.plan
    assert plan is not None
    for instalment in plan.instalments[plan.instalments_recorded : covered]:
        state = _event(
            state,
            at,
            "instalment_paid",
            status="paid",
            detail={
                "plan_id": plan.plan_id,
                "number": instalment.number,
                "amount": instalment.amount,
                "due_on": instalment.due_on.isoformat(),
            },
        )
    plan = plan.model_copy(update={"instalments_recorded": covered})
    state = state.model_copy(update={"plan": plan})
    if covered == len(plan.instalments):
        state = state.model_copy(update={"plan": None, "promises_kept": state.promises_kept + 1})
        state = _event(
            state, at, "plan_completed", status="completed", detail={"plan_id": plan.plan_id}
        )
    return state


def break_plan(
    state: InvoiceState, policy: Policy, instalment: Instalment, at: datetime
) -> InvoiceState:
    """A missed instalment breaks the plan: escalation resumes on the whole remaining balance,
    firmer, and the broken plan counts against the customer like a broken promise."""
    plan = state.plan
    assert plan is not None
    broken = state.broken_promises + 1
    notice = policy.broken_promise_notice
    state = state.model_copy(
        update={
            "plan": None,
            "broken_promises": broken,
            "pending_notice": f"{notice.id}-{broken}" if notice else None,
        }
    )
    state = _event(
        state,
        at,
        "plan_broken",
        status="broken",
        detail={
            "plan_id": plan.plan_id,
            "missed_instalment": instalment.number,
            "due_on": instalment.due_on.isoformat(),
        },
    )
    return _retry_or_exhaust(state, policy, at, "payment plan broken after every attempt")


def promise_deadline(state: InvoiceState, policy: Policy) -> datetime:
    assert state.promise is not None
    day = state.promise.promised_date + timedelta(days=policy.promise_grace_days)
    return local_moment(day, policy.send_at, state.customer.timezone)


def expire_task(state: InvoiceState, at: datetime) -> InvoiceState:
    task = state.negotiation.task
    assert task is not None
    state = state.model_copy(
        update={
            "negotiation": Negotiation(
                attempts=state.negotiation.attempts, exhausted_reason="task SLA lapsed"
            )
        }
    )
    return _event(
        state,
        at,
        "task_expired",
        step_id=task.step_id,
        status="expired",
        detail={"task_id": task.id},
    )


def settle_promise(state: InvoiceState, policy: Policy, kept: bool, at: datetime) -> InvoiceState:
    promise = state.promise
    assert promise is not None
    state = state.model_copy(update={"promise": None})
    if kept:
        state = state.model_copy(update={"promises_kept": state.promises_kept + 1})
        state = _event(state, at, "promise_kept", status="kept", detail={"source": promise.source})
        return _retry_or_exhaust(state, policy, at, "balance left after the promise")
    broken = state.broken_promises + 1
    notice = policy.broken_promise_notice
    state = state.model_copy(
        update={
            "broken_promises": broken,
            "pending_notice": f"{notice.id}-{broken}" if notice else None,
        }
    )
    state = _event(
        state,
        at,
        "promise_broken",
        status="broken",
        detail={"promised_date": promise.promised_date.isoformat(), "amount": promise.amount},
    )
    return _retry_or_exhaust(state, policy, at, "promise broken after every attempt")


def hand_off(
    state: InvoiceState,
    step: Handoff,
    at: datetime,
    reason: str,
    *,
    escalated_by: str | None = None,
    skipped: tuple[str, ...] = (),
) -> InvoiceState:
    """``escalated_by``: the collector who handed it off before the policy's time, leaving
    the ``skipped`` steps untaken."""
    state = _with_step(state, step.id, StepStatus.HANDED_OFF)
    state = state.model_copy(update={"handed_off": True})
    return _event(
        state,
        at,
        "handed_off",
        step_id=step.id,
        status="handed_off",
        detail={
            "agency": step.agency,
            "reason": reason,
            "escalated_by": escalated_by,
            "skipped_steps": ", ".join(skipped) if skipped else None,
        },
    )


def close(state: InvoiceState, reason: ClosedReason, at: datetime) -> InvoiceState:
    task = state.negotiation.task
    if task is not None:
        # A paid or cancelled invoice must not linger in the collectors' inbox.
        state = state.model_copy(
            update={"negotiation": state.negotiation.model_copy(update={"task": None})}
        )
        state = _event(
            state,
            at,
            "task_closed",
            step_id=task.step_id,
            status=f"invoice_{reason}",
            detail={"task_id": task.id, "reason": f"invoice {reason}"},
        )
    state = state.model_copy(update={"closed_reason": reason})
    state = _event(state, at, "closed", status=reason)
    if state.amount_due < 0:
        state = _event(
            state, at, "credit_recorded", status="credit", detail={"amount": -state.amount_due}
        )
    return state


def pause(state: InvoiceState, at: datetime, reason: str) -> InvoiceState:
    if state.paused:
        return state
    state = state.model_copy(update={"paused": True})
    return _event(state, at, "paused", detail={"reason": reason})


def resume(state: InvoiceState, at: datetime) -> InvoiceState:
    if not state.paused:
        return state
    return _event(state.model_copy(update={"paused": False}), at, "resumed")


def open_dispute(
    state: InvoiceState,
    reason: str,
    at: datetime,
    *,
    policy: Policy,
    code: DisputeCode = DisputeCode.OTHER,
    owner: str | None = None,
    source: str | None = None,
) -> InvoiceState:
    """Only this invoice pauses; a case opens with an owner and a deadline."""
    if state.dispute_reason is not None:
        return state
    if not state.dispute_cases:
        state = state.model_copy(update={"dispute_reason": reason})
        return _event(state, at, "dispute_opened", detail={"reason": reason, "source": source})
    number = state.disputes_opened + 1
    case = DisputeCase(
        case_id=f"D-{state.invoice_number}-{number}",
        code=code,
        reason=reason,
        owner=owner or policy.dispute_owner,
        opened_at=at,
        deadline=local_date(at, state.customer.timezone)
        + timedelta(days=policy.dispute_resolution_days),
    )
    state = state.model_copy(
        update={"dispute_reason": reason, "dispute": case, "disputes_opened": number}
    )
    return _event(
        state,
        at,
        "dispute_opened",
        status=code.value,
        detail={
            "reason": reason,
            "code": code.value,
            "case_id": case.case_id,
            "owner": case.owner,
            "deadline": case.deadline.isoformat(),
            "source": source,
        },
    )


def dispute_deadline(state: InvoiceState, policy: Policy) -> datetime:
    assert state.dispute is not None
    return local_moment(state.dispute.deadline, policy.send_at, state.customer.timezone)


def flag_dispute_overdue(state: InvoiceState, at: datetime) -> InvoiceState:
    """The case's owner let the deadline pass: it is said once, for the dispute desk."""
    case = state.dispute
    if case is None or case.overdue:
        return state
    state = state.model_copy(update={"dispute": case.model_copy(update={"overdue": True})})
    return _event(
        state,
        at,
        "dispute_overdue",
        status="overdue",
        detail={"case_id": case.case_id, "owner": case.owner, "deadline": case.deadline},
    )


def apply_credit(state: InvoiceState, note: CreditNote, at: datetime) -> InvoiceState:
    if any(existing.id == note.id for existing in state.credit_notes):
        return state
    state = state.model_copy(update={"credit_notes": (*state.credit_notes, note)})
    return _event(
        state,
        at,
        "credit_note_applied",
        detail={"credit_note": note.id, "amount": note.amount, "reason": note.reason},
    )


def resolve_dispute(
    state: InvoiceState,
    policy: Policy,
    upheld: bool,
    at: datetime,
    note: str,
    credit_amount: Decimal | None = None,
) -> InvoiceState:
    """Upheld (the customer is right): a credit note for what was disputed (everything due
    unless an amount is given), which closes the invoice as credited when it covers the
    balance. Rejected: dunning resumes where it was, its schedule moved on by the days the
    dispute held it."""
    if state.dispute_reason is None:
        return state
    case = state.dispute
    timezone = state.customer.timezone
    paused_days = (
        (local_date(at, timezone) - local_date(case.opened_at, timezone)).days if case else 0
    )
    state = state.model_copy(
        update={
            "dispute_reason": None,
            "dispute": None,
            "schedule_shift_days": state.schedule_shift_days + max(paused_days, 0),
        }
    )
    state = _event(
        state,
        at,
        "dispute_resolved",
        status="upheld" if upheld else "rejected",
        detail={
            "note": note,
            "case_id": case.case_id if case else None,
            "paused_days": paused_days,
            "credit_amount": credit_amount,
        },
    )
    if upheld and case is None:
        return close(state, "cancelled", at)
    if upheld:
        amount = min(credit_amount or state.amount_due, state.amount_due)
        if amount <= 0:
            return state
        credit = CreditNote(
            id=f"{case.case_id if case else 'dispute'}-credit",
            amount=amount,
            issued_at=at,
            reason=f"dispute upheld: {note}" if note else "dispute upheld",
        )
        return apply_credit(state, credit, at)
    negotiation = state.negotiation
    if negotiation.attempts and not (
        negotiation.task or negotiation.retry_at or negotiation.exhausted_reason
    ):
        # The collector's task ended in this dispute: negotiation picks up where it stopped.
        return _retry_or_exhaust(state, policy, at, "dispute rejected after every attempt")
    return state


class InvalidCompletion(ValueError):
    """A collector's answer that cannot be applied; the message says why, for the collector."""


def check_completion(
    policy: Policy, state: InvoiceState, completion: TaskCompletion, now: datetime
) -> None:
    task = state.negotiation.task
    if task is None:
        raise InvalidCompletion(
            f"invoice {state.invoice_number} has no open task; {completion.task_id} is unknown"
        )
    if completion.task_id != task.id:
        raise InvalidCompletion(
            f"unknown task {completion.task_id!r}: the open task of invoice "
            f"{state.invoice_number} is {task.id!r}"
        )
    if completion.outcome is not TaskOutcome.PAYMENT_PLAN and completion.instalments:
        raise InvalidCompletion("instalments are only for the outcome payment_plan")
    if completion.outcome is TaskOutcome.PAYMENT_PLAN:
        if not completion.instalments:
            raise InvalidCompletion("payment_plan needs instalments")
        try:
            check_plan(policy, state, completion.instalments, now)
        except InvalidAgreement as error:
            raise InvalidCompletion(str(error)) from error
    if completion.outcome is not TaskOutcome.PROMISE_TO_PAY:
        if completion.promised_date is not None:
            raise InvalidCompletion("promised_date is only for the outcome promise_to_pay")
        return
    if completion.promised_date is None:
        raise InvalidCompletion("promise_to_pay needs promised_date")
    today = local_date(now, state.customer.timezone)
    latest = today + timedelta(days=policy.max_promise_days)
    if not today <= completion.promised_date <= latest:
        raise InvalidCompletion(
            f"promised_date {completion.promised_date} must be between {today} and {latest}"
        )
    if completion.amount is not None and completion.amount > state.amount_due:
        raise InvalidCompletion(
            f"amount {completion.amount} is more than the {state.amount_due} {state.currency} due"
        )


class MigrationRefused(ValueError):
    """A policy migration that must not be applied; the message says why."""


def check_migration(state: InvoiceState, current: Policy, new: Policy) -> None:
    """Only forward, within the same policy, on an invoice still open."""
    if new.name != current.name:
        raise MigrationRefused(
            f"invoice {state.invoice_number} follows policy {current.name!r}, not {new.name!r}"
        )
    if new.version <= current.version:
        raise MigrationRefused(
            f"invoice {state.invoice_number} is on {current.name} v{current.version}; "
            f"v{new.version} is not newer"
        )
    if state.closed_reason is not None:
        raise MigrationRefused(f"invoice {state.invoice_number} is {state.closed_reason}")


def migrate_policy(
    state: InvoiceState, current: Policy, new: Policy, at: datetime, requested_by: str
) -> InvoiceState:
    """Record the move to ``new`` (the caller swaps the policy). Steps already taken keep their
    status, by step id; the new version's other steps are planned by the engine as usual."""
    check_migration(state, current, new)
    return _event(
        state,
        at,
        "policy_migrated",
        detail={
            "policy": new.name,
            "from_version": current.version,
            "to_version": new.version,
            "requested_by": requested_by,
        },
    )


class InvalidAgreement(ValueError):
    """A promise or payment plan that cannot be accepted; the message names the field."""


def check_promise(
    policy: Policy, state: InvoiceState, promised_date: date, amount: Decimal | None, now: datetime
) -> None:
    if state.closed_reason is not None or state.amount_due <= 0:
        raise InvalidAgreement(f"invoice {state.invoice_number} has nothing left to pay")
    if state.dispute_reason is not None:
        raise InvalidAgreement("promised_date: the invoice is disputed; resolve the dispute first")
    today = local_date(now, state.customer.timezone)
    latest = today + timedelta(days=policy.max_promise_days)
    if not today <= promised_date <= latest:
        raise InvalidAgreement(
            f"promised_date {promised_date} must be between {today} and {latest}"
        )
    if amount is not None and not 0 < amount <= state.amount_due:
        raise InvalidAgreement(
            f"amount {amount} must be more than 0 and at most the {state.amount_due} due"
        )


def check_plan(
    policy: Policy, state: InvoiceState, instalments: tuple[Instalment, ...], now: datetime
) -> None:
    if state.closed_reason is not None or state.amount_due <= 0:
        raise InvalidAgreement(f"invoice {state.invoice_number} has nothing left to pay")
    if state.plan is not None:
        raise InvalidAgreement(f"instalments: {state.plan.plan_id} is still running")
    if state.dispute_reason is not None:
        raise InvalidAgreement("instalments: the invoice is disputed; resolve the dispute first")
    if not 2 <= len(instalments) <= policy.max_instalments:
        raise InvalidAgreement(
            f"instalments: between 2 and {policy.max_instalments}, not {len(instalments)}"
        )
    if [i.number for i in instalments] != list(range(1, len(instalments) + 1)):
        raise InvalidAgreement("instalments: numbered 1, 2, 3… in order")
    today = local_date(now, state.customer.timezone)
    latest = today + timedelta(days=policy.max_plan_days)
    dates = [i.due_on for i in instalments]
    if dates[0] < today or dates[-1] > latest:
        raise InvalidAgreement(f"instalments: due dates must be between {today} and {latest}")
    if any(later <= earlier for earlier, later in pairwise(dates)):
        raise InvalidAgreement("instalments: each due date must come after the one before")
    total = sum((i.amount for i in instalments), Decimal(0))
    if total != state.amount_due:
        raise InvalidAgreement(
            f"instalments: they add up to {total}, but {state.amount_due} {state.currency} is due"
        )


# --- a collector's (or the debtor portal's) actions on a case, outside a task's answer ---

MAX_SNOOZE = timedelta(days=14)
"""How far ahead a collector may hide a task from the inbox."""


class InvalidCaseAction(ValueError):
    """An action on a case that cannot be applied; the message starts with the field at fault
    (``invoice``, ``task_id``, ``until``, ``paid_on``, ``amount``) and says why."""


def _refuse_closed(state: InvoiceState, action: str) -> None:
    if state.closed_reason is not None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is {state.closed_reason}: cannot {action}"
        )


def check_call(state: InvoiceState) -> None:
    _refuse_closed(state, "log a call")


def log_call(
    state: InvoiceState,
    result: CallResult,
    at: datetime,
    *,
    collector: str,
    note: str | None = None,
) -> InvoiceState:
    """The call's line in the bitácora. A conversation (``CONVERSATION_CALLS``) reaches the
    contact rules through ``last_conversation_at``; a wrong number makes the phone's channels
    unusable for this invoice, as a bounced address does."""
    state = _event(
        state,
        at,
        "call_logged",
        status=result.value,
        detail={"outcome": result.value, "collector": collector, "note": note or None},
    )
    if result is not CallResult.WRONG_NUMBER:
        return state
    reason = f"wrong number (call by {collector})"
    for channel in (Channel.VOICE, Channel.SMS):
        if channel in state.customer.channels and channel not in state.unusable_channels:
            unusable = {**state.unusable_channels, channel: reason}
            state = state.model_copy(update={"unusable_channels": unusable})
            state = _event(
                state,
                at,
                "address_invalid",
                channel=channel,
                status="invalid",
                detail={"reason": reason},
            )
    return state


def _close_open_task(state: InvoiceState, at: datetime, status: str, reason: str) -> InvoiceState:
    """The open task ends without a collector's answer: the case moved on without it."""
    task = state.negotiation.task
    if task is None:
        return state
    state = state.model_copy(
        update={"negotiation": state.negotiation.model_copy(update={"task": None})}
    )
    return _event(
        state,
        at,
        "task_closed",
        step_id=task.step_id,
        status=status,
        detail={"task_id": task.id, "reason": reason},
    )


def check_escalation(policy: Policy, state: InvoiceState) -> None:
    _refuse_closed(state, "hand it off")
    if state.handed_off:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is already with the collection agency"
        )
    if state.dispute_reason is not None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is disputed ({state.dispute_reason}): a disputed "
            "invoice may not be handed off; resolve the dispute first"
        )
    if policy.handoff is None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} follows policy {policy.name} v{policy.version}, "
            "which has no handoff step: there is no agency to hand it to"
        )
    if state.plan is not None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is on payment plan {state.plan.plan_id}: it is "
            "handed off only once the plan is broken"
        )
    if state.promise is not None:
        waiting = "a payment claim" if state.promise.kind == "payment_claim" else "a promise"
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} waits for {waiting} until "
            f"{state.promise.promised_date}: it is handed off only if that is broken"
        )


def escalate(
    state: InvoiceState, policy: Policy, reason: str, at: datetime, *, collector: str
) -> InvoiceState:
    """Hand off now, as the policy's handoff step would once negotiation runs out: the open
    task closes and the steps not yet taken never run. Validated first with
    ``check_escalation``."""
    step = policy.handoff
    assert step is not None, "validated by the caller"
    state = _close_open_task(state, at, "escalated", f"escalated to {step.agency}")
    state = state.model_copy(
        update={
            "negotiation": Negotiation(
                attempts=state.negotiation.attempts, exhausted_reason=f"escalated: {reason}"
            )
        }
    )
    untaken = tuple(
        s.id for s in policy.steps if s.id not in state.steps and not isinstance(s, Handoff)
    )
    return hand_off(state, step, at, reason, escalated_by=collector, skipped=untaken)


def _as_local(state: InvoiceState, moment: datetime) -> str:
    """A moment as the collector reads it: the customer's local time, to the minute."""
    timezone = state.customer.timezone
    return f"{moment.astimezone(zone(timezone)):%Y-%m-%d %H:%M} ({timezone})"


def check_snooze(state: InvoiceState, task_id: str, until: datetime, now: datetime) -> None:
    task = state.negotiation.task
    if task is None or task.id != task_id:
        open_one = f"its open task is {task.id!r}" if task else "it has no open task"
        raise InvalidCaseAction(
            f"task_id: {task_id!r} is not an open task of invoice {state.invoice_number}; "
            + open_one
        )
    if until.tzinfo is None:
        raise InvalidCaseAction("until: give a time with its time zone")
    if until <= now:
        raise InvalidCaseAction(f"until: {_as_local(state, until)} is in the past")
    if until > now + MAX_SNOOZE:
        raise InvalidCaseAction(
            f"until: at most {MAX_SNOOZE.days} days ahead "
            f"(no later than {_as_local(state, now + MAX_SNOOZE)})"
        )
    if until > task.sla_due_at:
        # A task hidden past its SLA would lapse (and escalate) without anyone seeing it.
        raise InvalidCaseAction(
            f"until: the task's SLA ends at {_as_local(state, task.sla_due_at)}; "
            "snooze it no later than that"
        )


def snooze_task(
    state: InvoiceState,
    task_id: str,
    until: datetime,
    at: datetime,
    *,
    collector: str,
    note: str | None = None,
) -> InvoiceState:
    """The task stays open and its SLA runs; only the inbox hides it until ``until``.
    Validated first with ``check_snooze``."""
    task = state.negotiation.task
    assert task is not None and task.id == task_id, "validated by the caller"
    return _event(
        state,
        at,
        "task_snoozed",
        step_id=task.step_id,
        status="snoozed",
        detail={
            "task_id": task.id,
            "until": until.isoformat(),
            "collector": collector,
            "note": note,
        },
    )


def check_dispute(state: InvoiceState) -> None:
    _refuse_closed(state, "dispute it")
    if state.dispute_reason is not None:
        case = f" (case {state.dispute.case_id})" if state.dispute else ""
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is already disputed{case}: {state.dispute_reason}"
        )


def check_payment_claim(
    state: InvoiceState, paid_on: date, amount: Decimal | None, now: datetime
) -> None:
    _refuse_closed(state, "report a payment")
    if state.amount_due <= 0:
        raise InvalidCaseAction(f"invoice {state.invoice_number} has nothing left to pay")
    today = local_date(now, state.customer.timezone)
    if paid_on > today:
        raise InvalidCaseAction(f"paid_on: {paid_on} is in the future (today is {today})")
    if amount is not None and not 0 < amount <= state.amount_due:
        raise InvalidCaseAction(
            f"amount: {amount} must be more than 0 and at most the {state.amount_due} "
            f"{state.currency} due"
        )
    if state.dispute_reason is not None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is disputed; a payment already made is a dispute "
            "of kind already_paid, or resolve the dispute first"
        )
    if state.plan is not None:
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} is on payment plan {state.plan.plan_id}: its "
            "instalments are matched to the payments as they arrive"
        )
    promise = state.promise
    if promise is not None and promise.kind == "payment_claim":
        raise InvalidCaseAction(
            f"invoice {state.invoice_number} already waits for a payment reported on "
            f"{local_date(promise.made_at, state.customer.timezone)}, until "
            f"{promise.promised_date}"
        )


def report_payment_claim(
    state: InvoiceState,
    policy: Policy,
    at: datetime,
    *,
    reference: str,
    paid_on: date,
    amount: Decimal | None,
    source: str,
    note: str | None = None,
) -> InvoiceState:
    """ "I already paid": like a task answered ``paid``, the invoice waits the policy's
    ``payment_claim_days`` for the money, then counts the claim as broken. An open task
    closes: what is left to do is wait for the bank. Validated first with
    ``check_payment_claim``."""
    state = _close_open_task(state, at, "payment_claimed", "the debtor reports having paid")
    state = _event(
        state,
        at,
        "payment_claimed",
        status=source,
        detail={
            "reference": reference,
            "paid_on": paid_on.isoformat(),
            "amount": amount,
            "source": source,
            "note": note,
        },
    )
    promise = Promise(
        kind="payment_claim",
        promised_date=payment_claim_until(state, policy, at),
        amount=amount or state.amount_due,
        made_at=at,
        paid_before=state.amount_paid,
        source=source,
    )
    return _promise_made(state, promise, at)


class SegmentChangeRefused(ValueError):
    """A segment change that must not be applied; the message says why."""


def check_segment_change(state: InvoiceState) -> None:
    if state.closed_reason is not None:
        raise SegmentChangeRefused(f"invoice {state.invoice_number} is {state.closed_reason}")


def change_segment(
    state: InvoiceState,
    current: Policy,
    new: Policy,
    at: datetime,
    *,
    from_segment: str,
    to_segment: str,
    reason: str,
) -> InvoiceState:
    """Record the move to ``to_segment`` and its policy ``new`` (the caller swaps the policy).

    Steps already taken keep their status by step id and are never repeated. The new policy's
    reminders whose moment has already passed are skipped: they belong to a cadence the invoice
    did not follow, and sending one the moment a review runs would be a message out of the
    blue. A collector's task already due is not skipped (the engine opens it at once, as for
    an invoice that enters late); every other step follows on its own day."""
    check_segment_change(state)
    state = _event(
        state,
        at,
        "segment_changed",
        detail={
            "from_segment": from_segment,
            "to_segment": to_segment,
            "from_policy": current.name,
            "to_policy": new.name,
            "from_version": current.version,
            "to_version": new.version,
            "reason": reason,
        },
    )
    return mark_skipped(state, _reminders_past(state, new, at), at)


def _reminders_past(state: InvoiceState, policy: Policy, at: datetime) -> tuple[str, ...]:
    # The step's moment as the engine's step_moment reckons it.
    shift = state.schedule_shift_days
    return tuple(
        step.id
        for step in policy.steps
        if isinstance(step, Remind)
        and step.id not in state.steps
        and offset_moment(
            state.due_on, step.offset_days + shift, policy.send_at, state.customer.timezone
        )
        <= at
    )
