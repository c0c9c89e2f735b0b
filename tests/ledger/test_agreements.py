"""Promises, payment plans and dispute cases: the repositories, and the projection of the
invoice's timeline into them (built by the real transitions, written by ``record_progress``'s
unit of work, twice to show a retry adds nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from activities.contracts import ProgressReport, SendRequest, SendResult
from activities.dunning import DunningActivityImpl, _write_progress
from api.invoicing import CustomerDetails, NewInvoice, record_issuance
from config.settings import Settings
from dunning_policies import transitions as t
from dunning_policies.language import Channel, Tone
from dunning_policies.registry import get_policy
from dunning_policies.state import DisputeCode, Instalment, InvoiceState, Payment
from ledger.models import PaymentPlan
from ledger.repositories import (
    DisputeRepository,
    PlanConflict,
    PlanRepository,
    PromiseRepository,
)
from ledger.repositories.credit_notes import CreditNoteRepository
from ledger.repositories.plans import InstalmentTerms
from tests.factories import make_state
from tests.ledger_support import at, make_invoice
from tests.workflows.harness import RecordingSender

POLICY = get_policy("standard")
NOW = at("2026-12-10 14:00")


def _state(number: str = "F-1001") -> InvoiceState:
    return make_state(date(2026, 12, 1), number=number)


def _record(session: Session, state: InvoiceState, since: int = 0) -> int:
    """Write the timeline after seq ``since`` as the workflow's activity does, twice."""
    events = tuple(e for e in state.timeline if e.seq > since)
    report = ProgressReport(
        workflow_id=f"invoice-{state.invoice_number}",
        invoice_number=state.invoice_number,
        customer_id=state.customer.id,
        currency=state.currency,
        stage="overdue",
        amount_due=state.amount_due,
        next_action=None,
        next_action_at=None,
        closed_reason=None,
        events=events,
    )
    _write_progress(session, report)
    _write_progress(session, report)  # an activity retry
    return state.timeline[-1].seq if state.timeline else since


@pytest.fixture
def invoice(session: Session) -> str:
    make_invoice(session, "F-1001", customer_id="C-7")
    return "F-1001"


# --- promises --------------------------------------------------------------------------------


def test_a_promise_is_recorded_once_and_settled_as_broken(session: Session, invoice: str) -> None:
    state = t.make_promise(_state(), date(2026, 12, 15), None, NOW, source="debtor_reply")
    seen = _record(session, state)
    promises = PromiseRepository.from_session(session)

    [promise] = promises.list_for_invoice(invoice)
    assert promise.id == "invoice-F-1001#1"
    assert (promise.kind, promise.source, promise.status) == ("promise", "debtor_reply", "open")
    assert (promise.promised_date, promise.amount_minor) == (date(2026, 12, 15), 1_250_000)

    broken_at = NOW + timedelta(days=8)
    _record(session, t.settle_promise(state, POLICY, False, broken_at), since=seen)

    [promise] = promises.list_for_invoice(invoice)
    assert (promise.status, promise.settled_at) == ("broken", broken_at)
    assert promises.broken_in_last_year("C-7", broken_at + timedelta(days=364)) == 1
    assert promises.broken_in_last_year("C-7", broken_at + timedelta(days=366)) == 0
    assert promises.broken_in_last_year("C-other", broken_at) == 0


def test_a_kept_promise_and_a_payment_claim(session: Session, invoice: str) -> None:
    state = t.make_promise(_state(), date(2026, 12, 15), Decimal(500_000), NOW, source="portal")
    state = t.settle_promise(state, POLICY, True, NOW + timedelta(days=2))
    _record(session, state)

    [promise] = PromiseRepository.from_session(session).list_for_invoice(invoice)
    assert (promise.status, promise.amount_minor) == ("kept", 500_000)


def test_the_kept_rate_counts_settled_promises_by_customer_and_since(session: Session) -> None:
    promises = PromiseRepository.from_session(session)
    for number, (customer, made, status) in enumerate(
        [
            ("C-1", "2026-01-10 12:00", "kept"),
            ("C-1", "2026-06-10 12:00", "kept"),
            ("C-1", "2026-06-11 12:00", "broken"),
            ("C-1", "2026-06-12 12:00", "open"),
            ("C-2", "2026-06-10 12:00", "broken"),
        ]
    ):
        promise, _ = promises.record_if_absent(
            id=f"invoice-F-{number}#1",
            invoice_number=f"F-{number}",
            customer_id=customer,
            kind="promise",
            source="collector",
            promised_date=date(2026, 7, 1),
            amount_minor=1000,
            currency="CLP",
            made_at=at(made),
        )
        if status != "open":
            promises.settle_latest_promise(promise.invoice_number, kept=status == "kept", at=NOW)

    assert promises.kept_rate() == (2, 2, 0.5)
    assert promises.kept_rate(customer_id="C-1") == (2, 1, pytest.approx(2 / 3))
    assert promises.kept_rate(customer_id="C-1", since=at("2026-06-01 00:00")) == (1, 1, 0.5)
    assert promises.kept_rate(customer_id="C-3") == (0, 0, None)


def test_a_promise_a_plan_replaces_or_a_cancellation_ends_is_superseded(
    session: Session, invoice: str
) -> None:
    state = t.make_promise(_state(), date(2026, 12, 15), None, NOW, source="portal")
    seen = _record(session, state)
    state = t.agree_plan(state, POLICY, INSTALMENTS, NOW + timedelta(days=1), source="portal")
    seen = _record(session, state, since=seen)
    promises = PromiseRepository.from_session(session)

    assert [(p.kind, p.status) for p in promises.list_for_invoice(invoice)] == [
        ("promise", "superseded"),
        ("plan", "open"),
    ]
    cancelled_at = NOW + timedelta(days=3)
    _record(session, t.close(state, "cancelled", cancelled_at), since=seen)

    assert [(p.kind, p.status) for p in promises.list_for_invoice(invoice)] == [
        ("promise", "superseded"),
        ("plan", "superseded"),
    ]
    plan = PlanRepository.from_session(session).get("F-1001/plan1")
    assert plan is not None and (plan.status, plan.settled_at) == ("superseded", cancelled_at)
    assert promises.kept_rate("C-7") == (0, 0, None)


# --- payment plans ---------------------------------------------------------------------------

TERMS = (
    InstalmentTerms(1, date(2026, 12, 20), 625_000),
    InstalmentTerms(2, date(2027, 1, 20), 625_000),
)
INSTALMENTS = tuple(
    Instalment(number=i.number, due_on=i.due_on, amount=Decimal(i.amount_minor)) for i in TERMS
)


def _propose(session: Session, invoice: str, when: datetime = NOW) -> PaymentPlan:
    plans = PlanRepository.from_session(session)
    return plans.propose(
        invoice_number=invoice,
        customer_id="C-7",
        plan_id=plans.next_plan_id(invoice),
        source="portal",
        currency="CLP",
        instalments=TERMS,
        at=when,
    )


def test_a_proposed_plan_becomes_active_pays_an_instalment_and_breaks(
    session: Session, invoice: str
) -> None:
    plan = _propose(session, invoice)
    assert (plan.id, plan.plan_id, plan.status, plan.total_minor) == (
        "F-1001/plan1",
        "plan1",
        "proposed",
        1_250_000,
    )
    state = t.agree_plan(_state(), POLICY, INSTALMENTS, NOW, source="portal")
    seen = _record(session, state)
    plans, promises = PlanRepository.from_session(session), PromiseRepository.from_session(session)

    assert plans.next_plan_id(invoice) == "plan2"
    stored = plans.get("F-1001/plan1")
    assert stored is not None and (stored.status, stored.agreed_at) == ("active", NOW)
    [promise] = promises.list_for_invoice(invoice)
    assert (promise.kind, promise.plan_id, promise.first_due, promise.promised_date) == (
        "plan",
        "F-1001/plan1",
        date(2026, 12, 20),
        date(2027, 1, 20),
    )

    paid_at = at("2026-12-19 15:00")
    payment = Payment(id="P-1", amount=Decimal(625_000), paid_at=paid_at)
    state = t.record_instalments_paid(t.apply_payment(state, payment, paid_at), 1, paid_at)
    seen = _record(session, state, since=seen)
    broken_at = at("2027-01-25 12:00")
    _record(session, t.break_plan(state, POLICY, INSTALMENTS[1], broken_at), since=seen)

    assert [(i.number, i.status, i.paid_at) for i in plans.instalments("F-1001/plan1")] == [
        (1, "paid", paid_at),
        (2, "missed", None),
    ]
    stored = plans.get("F-1001/plan1")
    assert stored is not None and (stored.status, stored.settled_at) == ("broken", broken_at)
    [promise] = promises.list_for_invoice(invoice)
    assert promise.status == "broken"
    assert promises.broken_in_last_year("C-7", broken_at) == 1


def test_a_plan_paid_in_full_completes_and_counts_as_kept(session: Session, invoice: str) -> None:
    _propose(session, invoice)
    state = t.agree_plan(_state(), POLICY, INSTALMENTS, NOW, source="collector")
    paid_at = at("2026-12-19 15:00")
    payment = Payment(id="P-1", amount=Decimal(1_250_000), paid_at=paid_at)
    state = t.apply_payment(state, payment, paid_at)
    _record(session, t.record_instalments_paid(state, 2, paid_at))

    plans = PlanRepository.from_session(session)
    stored = plans.get("F-1001/plan1")
    assert stored is not None and stored.status == "completed"
    assert [i.status for i in plans.instalments("F-1001/plan1")] == ["paid", "paid"]
    assert PromiseRepository.from_session(session).kept_rate("C-7") == (1, 0, 1.0)


def test_a_plan_agreed_without_a_proposal_is_still_recorded(session: Session, invoice: str) -> None:
    state = t.agree_plan(_state(), POLICY, INSTALMENTS, NOW, source="collector")
    _record(session, state)

    stored = PlanRepository.from_session(session).get("F-1001/plan1")
    assert stored is not None and (stored.status, stored.total_minor) == ("active", 1_250_000)
    assert PlanRepository.from_session(session).instalments("F-1001/plan1") == []


def test_a_refused_proposal_is_withdrawn_and_an_agreed_plan_never_is(
    session: Session, invoice: str
) -> None:
    plans = PlanRepository.from_session(session)
    _propose(session, invoice)
    assert plans.withdraw("F-1001/plan1") is True
    assert plans.get("F-1001/plan1") is None and plans.instalments("F-1001/plan1") == []

    _propose(session, invoice)
    _record(session, t.agree_plan(_state(), POLICY, INSTALMENTS, NOW, source="portal"))
    assert plans.withdraw("F-1001/plan1") is False
    assert len(plans.instalments("F-1001/plan1")) == 2


def test_a_fresh_proposal_conflicts_and_a_stale_one_is_replaced(
    session: Session, invoice: str
) -> None:
    _propose(session, invoice, NOW)
    with pytest.raises(PlanConflict):
        _propose(session, invoice, NOW + timedelta(minutes=1))

    replaced = _propose(session, invoice, NOW + timedelta(hours=1))
    assert replaced.proposed_at == NOW + timedelta(hours=1)
    assert len(PlanRepository.from_session(session).instalments("F-1001/plan1")) == 2


# --- dispute cases ---------------------------------------------------------------------------


def test_a_dispute_case_opens_goes_overdue_and_is_upheld_with_its_credit(
    session: Session, invoice: str
) -> None:
    state = t.open_dispute(
        _state(), "no llegó", NOW, policy=POLICY, code=DisputeCode.NOT_RECEIVED, owner="ana"
    )
    seen = _record(session, state)
    disputes = DisputeRepository.from_session(session)
    [case] = disputes.list_open()
    assert (case.case_id, case.code, case.owner, case.status) == (
        "D-F-1001-1",
        "not_received",
        "ana",
        "open",
    )
    assert case.deadline == date(2026, 12, 20) and case.reason == "no llegó"

    state = t.flag_dispute_overdue(state, NOW + timedelta(days=11))
    seen = _record(session, state, since=seen)
    assert [c.status for c in disputes.list_open(owner="ana")] == ["overdue"]
    assert disputes.list_open(owner="luis") == []

    resolved_at = NOW + timedelta(days=12)
    state = t.resolve_dispute(state, POLICY, True, resolved_at, "sin guía", Decimal(200_000))
    _record(session, state, since=seen)

    case = disputes.get("D-F-1001-1")
    assert case is not None
    assert (case.status, case.resolved_at, case.resolution_note) == (
        "upheld",
        resolved_at,
        "sin guía",
    )
    assert case.credit_amount_minor == 200_000
    assert disputes.list_open() == []
    assert [c.case_id for c in disputes.list_cases(status="upheld")] == ["D-F-1001-1"]
    note = CreditNoteRepository.from_session(session).get("D-F-1001-1-credit")
    assert note is not None and (note.invoice_number, note.amount_minor) == (invoice, 200_000)


def test_a_rejected_dispute_gives_no_credit(session: Session, invoice: str) -> None:
    state = t.open_dispute(_state(), "caro", NOW, policy=POLICY)
    state = t.resolve_dispute(state, POLICY, False, NOW + timedelta(days=2), "precio pactado")
    _record(session, state)

    case = DisputeRepository.from_session(session).get("D-F-1001-1")
    assert case is not None
    assert (case.status, case.owner, case.credit_amount_minor) == ("rejected", "disputes", None)
    assert CreditNoteRepository.from_session(session).list_for_invoice(invoice) == []


def test_open_cases_are_listed_by_deadline(session: Session) -> None:
    disputes = DisputeRepository.from_session(session)
    for case_id, deadline, owner in (
        ("D-2", date(2026, 12, 30), "ana"),
        ("D-1", date(2026, 12, 20), "luis"),
        ("D-3", date(2026, 12, 25), "ana"),
    ):
        disputes.open_if_absent(
            case_id=case_id,
            invoice_number=f"F-{case_id}",
            customer_id="C-1",
            code="quality",
            reason="",
            owner=owner,
            opened_at=NOW,
            deadline=deadline,
            currency="CLP",
        )
    disputes.resolve("D-3", upheld=False, at=NOW, note=None)

    assert [c.case_id for c in disputes.list_open()] == ["D-1", "D-2"]
    assert [c.case_id for c in disputes.list_open(owner="ana")] == ["D-2"]
    assert [c.case_id for c in disputes.list_cases(status=None)] == ["D-1", "D-3", "D-2"]


# --- the customer's risk ---------------------------------------------------------------------


def test_a_customer_who_broke_a_promise_gets_the_high_risk_policy_for_new_invoices(
    session: Session,
) -> None:
    details = CustomerDetails(
        id="C-9", name="Ferretería Sur", country="CL", timezone="America/Santiago", locale="es_CL"
    )

    def issue(number: str) -> str:
        new = NewInvoice(number, "C-9", Decimal(100_000), "CLP", date(2026, 1, 1), date(2026, 2, 1))
        return record_issuance(session, new, details).policy_name

    assert issue("F-R1") == "standard"
    promises = PromiseRepository.from_session(session)
    promises.record_if_absent(
        id="invoice-F-R1#4",
        invoice_number="F-R1",
        customer_id="C-9",
        kind="plan",
        source="collector",
        promised_date=date(2026, 3, 1),
        amount_minor=100_000,
        currency="CLP",
        made_at=datetime.now(UTC) - timedelta(days=40),
        plan_id="F-R1/plan1",
    )
    promises.settle_plan("F-R1/plan1", kept=False, at=datetime.now(UTC) - timedelta(days=2))

    assert issue("F-R2") == "high_risk"
    assert issue("F-R1") == "standard"  # an invoice already issued keeps its policy
    # Twelve months later the broken plan no longer weighs.
    assert promises.broken_in_last_year("C-9", datetime.now(UTC) + timedelta(days=364)) == 0


# --- an instalment's message -----------------------------------------------------------------


def test_an_instalment_message_names_its_instalment(session: Session, tmp_path: Path) -> None:
    make_invoice(session, "F-1001", customer_id="C-7")
    activities = DunningActivityImpl(
        ledger=cast(Any, None),
        senders={Channel.SMS: RecordingSender()},
        settings=Settings(data_dir=tmp_path),
        provider_calls=cast(Any, None),
    )
    request = SendRequest(
        idempotency_key="invoice-F-1001:plan1-2-due:sms",
        workflow_id="invoice-F-1001",
        invoice_number="F-1001",
        customer_id="C-7",
        step_id="plan1-2-due",
        channel=Channel.SMS,
        template="instalment_due",
        tone=Tone.NEUTRAL,
        amount_due=Decimal(625_000),
        original_amount=Decimal(1_250_000),
        currency="CLP",
        due_on=date(2027, 1, 20),
        scheduled_at=at("2027-01-20 13:00"),
    )

    claimed = activities._claim(session, request)

    assert not isinstance(claimed, SendResult)
    body = claimed.outbound.body
    assert "cuota 2 de su plan de pagos de la factura F-1001" in body and "$625.000" in body
