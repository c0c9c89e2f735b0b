"""The policy simulator and the real workflows tell the same story: for one invoice and one
payer behaviour ("pays two days after the third message"), the simulator's contact timeline is
the one the invoice and contact workflows produce on Temporal's time-skipping server, with the
real activities writing a SQLite ledger and the payment arriving through the ERP's way in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from analytics.book_file import BookInvoice
from analytics.simulator import run_customer
from dunning_policies.language import Channel
from dunning_policies.registry import get_policy
from tests.workflows.harness import (
    SANTIAGO,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)

AMOUNT = "1250000"


@dataclass
class PaysAfterContact:
    """A payer who pays ``delay`` after the invoice's ``contact``-th message, and never before."""

    contact: int
    delay: timedelta

    def on_issue(self, invoice: BookInvoice) -> datetime | None:
        return None

    def on_contact(
        self, invoice: BookInvoice, channel: Channel, at: datetime, contacts: int
    ) -> datetime | None:
        return at + self.delay if contacts == self.contact else None


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(SANTIAGO).replace(second=0, microsecond=0)


def _invoice(number: str, customer_id: str, issued_on: date, due_on: date) -> BookInvoice:
    return BookInvoice(
        number=number,
        customer_id=customer_id,
        segment="standard",
        country="CL",
        currency="CLP",
        amount=Decimal(AMOUNT),
        issued_on=issued_on,
        due_on=due_on,
    )


async def test_the_simulated_timeline_is_the_workflows(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "SIM-EQ-1"
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    payer = PaysAfterContact(contact=3, delay=timedelta(days=2))
    async with running_worker(env.client, tmp_path) as harness:
        invoice = _invoice(number, harness.customer_id, today, due)
        simulated = run_customer(get_policy("standard"), [invoice], payer, days=120)
        expected = [
            (sent.steps[0], sent.channel.value, _minute(sent.at)) for sent in simulated.sent
        ]
        paid_at = simulated.paid[number]
        # The simulator's story: three messages, then the payment ends the dunning.
        assert [step for step, _, _ in expected] == ["preventive", "due_day", "overdue_3"]
        assert paid_at == simulated.sent[2].at + timedelta(days=2)
        assert simulated.invoices[number].closed_reason == "paid"

        await harness.issue(number, due, issued_on=today, amount=AMOUNT)
        await sleep_until(env, paid_at)
        await harness.pay(number, AMOUNT, paid_at, reference="TRX-SIM")
        outcome = await harness.handle(f"invoice-{number}").result()
        await env.sleep(timedelta(days=30))
        lines = harness.bitacora(number)

    assert outcome.stage == "paid"
    actual = [
        (line.step_id, line.channel, _minute(line.at))
        for line in lines
        if line.kind == "message_sent"
    ]
    assert actual == expected
    simulated_kinds = [e.kind for e in simulated.invoices[number].timeline]
    assert simulated_kinds[-2:] == ["payment_received", "closed"]
    assert [line.kind for line in lines if line.at >= paid_at] == ["payment_received", "closed"]
