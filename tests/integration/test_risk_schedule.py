"""The risk review on its Temporal Schedule, on a real dev server with a worker: the schedule is
created (then updated, not duplicated), a trigger starts a review, the review moves a customer
who pays late to high-risk, and the customer's running invoice switches to that policy."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
)

from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from cli.risk import ensure_schedule
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import Customer, Invoice, Payment, Promise
from ledger.repositories.risk import RiskRepository
from tests.integration.processes import cli, environment
from tests.ledger_support import sqlite_url
from worker import build_worker
from workflows.invoice import InvoiceDunningWorkflow
from workflows.risk_review import RISK_REVIEW_SCHEDULE, RiskReviewOutcome

pytestmark = pytest.mark.slow
T = TypeVar("T")


def _late_history(customer_id: str, today: date) -> dict[type, list[dict[str, object]]]:
    """Four invoices paid 45 days late in the last months, and two promises broken."""
    invoices, payments, promises = [], [], []
    for n in range(4):
        paid_on = today - timedelta(days=20 + 40 * n)
        due_on = paid_on - timedelta(days=45)
        number = f"{customer_id}-old-{n}"
        invoices.append(
            {"number": number, "customer_id": customer_id, "currency": "CLP",
             "amount_minor": 300_000, "amount_due_minor": 0,
             "issued_on": due_on - timedelta(days=30), "due_on": due_on, "stage": "paid",
             "segment": "standard", "policy_name": "standard", "policy_version": 1,
             "workflow_id": f"invoice-{number}", "closed_reason": "paid"}
        )  # fmt: skip
        paid_at = datetime.combine(paid_on, datetime.min.time(), UTC) + timedelta(hours=15)
        payments.append(
            {"id": f"P-{number}", "invoice_number": number, "customer_id": customer_id,
             "amount_minor": 300_000, "currency": "CLP", "paid_at": paid_at}
        )  # fmt: skip
        if n < 2:
            promises.append(
                {"id": f"{number}#1", "invoice_number": number, "customer_id": customer_id,
                 "kind": "promise", "source": "collector", "promised_date": paid_on,
                 "amount_minor": 300_000, "currency": "CLP",
                 "made_at": paid_at - timedelta(days=10), "status": "broken",
                 "settled_at": paid_at - timedelta(days=1)}
            )  # fmt: skip
    return {Invoice: invoices, Payment: payments, Promise: promises}


async def _poll(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 15) -> T:
    """``probe``'s first truthy answer; fails naming ``what`` after ``timeout`` seconds."""
    for _ in range(int(timeout / 0.25)):
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not after {timeout} s")


def _started(described: ScheduleDescription) -> list[str]:
    """The workflow ids the schedule's recent actions started."""
    return [
        action.action.workflow_id
        for action in described.info.recent_actions
        if isinstance(action.action, ScheduleActionExecutionStartWorkflow)
    ]


async def test_the_scheduled_review_moves_a_late_payer_and_its_running_invoice(
    dev_server, tmp_path
):
    client, url = dev_server.client, sqlite_url(tmp_path)
    settings = Settings(task_queue=f"risk-{uuid.uuid4().hex[:8]}", database_url=url)
    engine = create_ledger_engine(url)
    sessions = make_session_factory(engine)
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    run = uuid.uuid4().hex[:6]
    customer = CustomerDetails(
        id=f"C-risk-{run}", name="Comercial Atacama", country="CL",
        timezone="America/Santiago", locale="es_CL", email="pagos@atacama.cl",
        segment="standard",
    )  # fmt: skip
    number = f"RISK-{run}"

    with ThreadPoolExecutor(4) as pool:
        async with build_worker(client, settings, sessions, executor=pool):
            await issue_invoice(
                client,
                sessions,
                settings.task_queue,
                NewInvoice(number, customer.id, Decimal(500_000), "CLP", today,
                           today + timedelta(days=20)),
                customer,
            )  # fmt: skip
            with engine.begin() as connection:
                for model, rows in _late_history(customer.id, today).items():
                    connection.execute(insert(model), rows)

            assert await ensure_schedule(client, timedelta(days=1), settings.task_queue) in (
                "created",
                "updated",  # a schedule left by an earlier run on this dev server
            )
            assert await ensure_schedule(client, timedelta(hours=12), settings.task_queue) == (
                "updated"
            )
            schedule = client.get_schedule_handle(RISK_REVIEW_SCHEDULE)
            described = await schedule.describe()
            assert [i.every for i in described.schedule.spec.intervals] == [timedelta(hours=12)]
            before = _started(described)

            await schedule.trigger()

            async def started() -> str | None:
                ids = _started(await schedule.describe())
                return next((i for i in ids if i not in before), None)

            review_id = await _poll(started, "the review started")
            outcome = await client.get_workflow_handle(
                review_id, result_type=RiskReviewOutcome
            ).result()
            assert (outcome.scored, outcome.moved, outcome.signalled) == (1, 1, 1)

            handle = client.get_workflow_handle_for(InvoiceDunningWorkflow.run, f"invoice-{number}")

            async def switched() -> bool:
                status = await handle.query(InvoiceDunningWorkflow.status)
                return status.policy == "high_risk"

            await _poll(switched, "the invoice on the high-risk policy")
            status = await handle.query(InvoiceDunningWorkflow.status)
            assert status.segment == "high_risk"
            change = next(e for e in status.timeline if e.kind == "segment_changed")
            assert (change.detail["from_policy"], change.detail["to_policy"]) == (
                "standard",
                "high_risk",
            )
            with unit_of_work(sessions) as session:
                scores = RiskRepository.from_session(session).list_scores()
                segment = session.get(Customer, customer.id)
                assert [(s.customer_id, s.segment) for s in scores] == [(customer.id, "high_risk")]
                assert segment is not None and segment.segment == "high_risk"

            env = environment(
                temporal_address=client.service_client.config.target_host,
                database_url=url,
                task_queue=settings.task_queue,
            )
            listed = await asyncio.to_thread(cli, ["risk", "scores", "--json"], env, tmp_path)
            assert listed.returncode == 0, listed.stderr
            assert [(r["customer_id"], r["segment"]) for r in json.loads(listed.stdout)] == [
                (customer.id, "high_risk")
            ]
            reviewed = await asyncio.to_thread(cli, ["risk", "review", "--json"], env, tmp_path)
            assert reviewed.returncode == 0, reviewed.stderr
            again = json.loads(reviewed.stdout)
            assert (again["scored"], again["moved"]) == (1, 0), "a second review moves no one"
            args = ["risk", "schedule", "--every", "6h"]
            scheduled = await asyncio.to_thread(cli, args, env, tmp_path)
            assert scheduled.returncode == 0, scheduled.stderr
            assert "updated" in scheduled.stdout
            described = await schedule.describe()
            assert [i.every for i in described.schedule.spec.intervals] == [timedelta(hours=6)]
            assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
            await schedule.delete()
            await handle.terminate("test over")
    engine.dispose()
