"""Payment plans and their instalments.

The service that agrees a plan writes it, ``proposed``, with its instalments before it asks
the invoice's workflow; the workflow's timeline then moves it: agreed (``active``), each
instalment paid, ``completed`` or ``broken`` (``superseded`` when the invoice closed otherwise).
A refused plan is withdrawn (deleted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from dunning_policies.money import validate_currency
from ledger.models import Interaction, PaymentPlan, PlanInstalment
from ledger.repositories.base import Repository


@dataclass(frozen=True)
class InstalmentTerms:
    number: int
    due_on: date
    amount_minor: int


class PlanConflict(ValueError):
    """Another plan for the invoice is being agreed right now under the same id."""


def plan_row_id(invoice_number: str, plan_id: str) -> str:
    """``F-1/plan1``: the workflow numbers plans per invoice, the ledger keys them globally."""
    return f"{invoice_number}/{plan_id}"


class PlanRepository(Repository[PaymentPlan]):
    model = PaymentPlan

    def get(self, row_id: str) -> PaymentPlan | None:
        return self._get(row_id)

    def instalments(self, row_id: str) -> Sequence[PlanInstalment]:
        return self.session.scalars(
            select(PlanInstalment)
            .where(PlanInstalment.plan_id == row_id)
            .order_by(PlanInstalment.number)
        ).all()

    def list_for_invoice(self, number: str) -> Sequence[PaymentPlan]:
        return self.session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.invoice_number == number)
            .order_by(PaymentPlan.proposed_at, PaymentPlan.id)
        ).all()

    def next_plan_id(self, invoice_number: str) -> str:
        """The id the invoice's workflow will give its next plan: ``plan<n + 1>`` after ``n``
        agreed ones. Counted from the bitácora, which holds every ``plan_agreed`` event; one
        agreed a moment ago and not recorded yet is still running, so the workflow refuses a
        new plan anyway (and its proposed row makes this one a ``PlanConflict`` first)."""
        agreed = self.session.scalar(
            select(func.count())
            .select_from(Interaction)
            .where(Interaction.invoice_number == invoice_number, Interaction.kind == "plan_agreed")
        )
        return f"plan{int(agreed or 0) + 1}"

    def propose(
        self,
        *,
        invoice_number: str,
        customer_id: str,
        plan_id: str,
        source: str,
        currency: str,
        instalments: Sequence[InstalmentTerms],
        at: datetime,
        task_id: str | None = None,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> PaymentPlan:
        """Write the plan and its instalments before the workflow is asked. A proposal left
        behind by a caller that died before asking (older than ``stale_after``) is replaced;
        a fresh one is another caller's: ``PlanConflict``."""
        row_id = plan_row_id(invoice_number, plan_id)
        existing = self._get(row_id)
        if existing is not None:
            if existing.status != "proposed" or existing.proposed_at > at - stale_after:
                raise PlanConflict(
                    f"{row_id} is already {existing.status}: another plan is being agreed"
                )
            self._delete(row_id)
        plan = PaymentPlan(
            id=row_id,
            invoice_number=invoice_number,
            customer_id=customer_id,
            plan_id=plan_id,
            source=source,
            task_id=task_id,
            currency=validate_currency(currency),
            total_minor=sum(i.amount_minor for i in instalments),
            status="proposed",
            proposed_at=at,
        )
        self.session.add(plan)
        self.session.add_all(
            PlanInstalment(
                plan_id=row_id, number=i.number, due_on=i.due_on, amount_minor=i.amount_minor
            )
            for i in instalments
        )
        self.session.flush()
        return plan

    def withdraw(self, row_id: str) -> bool:
        """Delete a proposal the workflow refused; an agreed plan is never deleted."""
        plan = self._get(row_id)
        if plan is None or plan.status != "proposed":
            return False
        self._delete(row_id)
        return True

    def _delete(self, row_id: str) -> None:
        # Through the ORM, so the session forgets the rows too; instalments first (foreign key).
        for instalment in self.instalments(row_id):
            self.session.delete(instalment)
        self.session.flush()
        plan = self._get(row_id)
        if plan is not None:
            self.session.delete(plan)
            self.session.flush()

    def agree(
        self,
        row_id: str,
        *,
        invoice_number: str,
        customer_id: str,
        plan_id: str,
        source: str,
        currency: str,
        total_minor: int,
        at: datetime,
        task_id: str | None = None,
    ) -> PaymentPlan:
        """The workflow agreed the plan. Without a proposal (a plan agreed by a path that did
        not write one) the plan is recorded without instalments; their payments add them."""
        plan = self._get(row_id)
        if plan is None:
            plan = PaymentPlan(
                id=row_id,
                invoice_number=invoice_number,
                customer_id=customer_id,
                plan_id=plan_id,
                source=source,
                task_id=task_id,
                currency=validate_currency(currency),
                total_minor=total_minor,
                status="active",
                proposed_at=at,
                agreed_at=at,
            )
            self.session.add(plan)
        elif plan.status == "proposed":
            plan.status = "active"
            plan.agreed_at = at
            plan.task_id = plan.task_id or task_id
        self.session.flush()
        return plan

    def instalment_paid(
        self, row_id: str, *, number: int, due_on: date, amount_minor: int, at: datetime
    ) -> None:
        instalment = self.session.get(PlanInstalment, (row_id, number))
        if instalment is None:
            if self._get(row_id) is None:
                return
            instalment = PlanInstalment(
                plan_id=row_id, number=number, due_on=due_on, amount_minor=amount_minor
            )
            self.session.add(instalment)
        instalment.status = "paid"
        instalment.paid_at = at
        self.session.flush()

    def supersede_active(self, invoice_number: str, *, at: datetime) -> None:
        """The invoice closed (cancelled, credited, written off) with its plan still running."""
        running = self.session.scalars(
            select(PaymentPlan).where(
                PaymentPlan.invoice_number == invoice_number, PaymentPlan.status == "active"
            )
        ).all()
        for plan in running:
            plan.status = "superseded"
            plan.settled_at = at
        self.session.flush()

    def settle(
        self, row_id: str, *, completed: bool, at: datetime, missed: int | None = None
    ) -> PaymentPlan | None:
        """Completed, or broken by the instalment ``missed``."""
        plan = self._get(row_id)
        if plan is None or plan.status in ("completed", "broken"):
            return plan
        plan.status = "completed" if completed else "broken"
        plan.settled_at = at
        if missed is not None:
            instalment = self.session.get(PlanInstalment, (row_id, missed))
            if instalment is not None and instalment.status == "due":
                instalment.status = "missed"
        self.session.flush()
        return plan
