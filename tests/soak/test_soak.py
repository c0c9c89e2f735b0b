"""Soak: many invoices through the whole pipeline on the real dev server and PostgreSQL, while
the worker is killed with SIGKILL (and restarted) three times and PostgreSQL restarts once.

Time is compressed by the soak policy (offsets of seconds, see ``soak_policy.py``). At the end
every invoice is in its expected stage (paid if the test paid it, else handed to the agency), no
idempotency key is in the outbox twice, no outbox row is left unsent, every event each workflow
recorded is in the bitácora, and no workflow failed. ``DUNNING_SOAK_INVOICES`` sets the size
(``make soak``: 2,000; the default keeps CI near two minutes).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import dunning_policies.registry as registry
from api.invoicing import NewInvoice, issue_invoice
from api.payments import record_payment
from api.temporal import connect
from config.payload_keys import new_key_entry
from config.settings import Settings
from dunning_policies.language import Policy
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import Interaction, Invoice, OutboxMessage
from tests.integration.processes import REPO, environment, eventually, spawn, stop
from tests.ledger_support import postgres_schema_url
from tests.soak.customers import ZONE, add_customers
from tests.soak.soak_policy import (
    LAST_STEP_SECONDS,
    PAYMENT_AFTER_SECONDS,
    SOAK_POLICY_NAME,
    soak_policy,
)
from workflows.invoice import InvoiceDunningWorkflow

# `make test` runs it at the default size; `make soak` at 2,000 invoices.
pytestmark = [pytest.mark.slow, pytest.mark.soak]

INVOICES = int(os.environ.get("DUNNING_SOAK_INVOICES", "150"))
PAID_EVERY = 3
"""Every third invoice is paid mid-way; the rest run to the agency."""
ISSUE_CONCURRENCY = 16
ISSUE_SECONDS_PER_INVOICE = 0.03
"""A generous estimate of issuance speed: the due moment is set after issuance ends, so no
reminder is already past when its invoice starts."""
KILL_AT_SECONDS = (5, PAYMENT_AFTER_SECONDS + 8, LAST_STEP_SECONDS - 5)
PG_RESTART_AT_SECONDS = PAYMENT_AFTER_SECONDS + 18
"""Seconds after the due moment: kills spread over the run, PostgreSQL in the middle of it."""
SETTLE_SECONDS = 240 + INVOICES * 0.1
"""After the last step: a send cut by a kill is retried only once its 30 s timeout lapses."""


@pytest.fixture
def soak_database() -> Iterator[str]:
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def soak_policy_registered(monkeypatch: pytest.MonkeyPatch) -> Callable[[Policy], None]:
    """Make the issuing process (this one) know the soak policy by name; the worker gets it in
    each workflow's input."""

    def register(policy: Policy) -> None:
        known = {**registry.all_policies(), policy.name: policy}
        monkeypatch.setattr(registry, "all_policies", lambda: known)

    return register


@dataclass
class Chaos:
    """The worker process and what the test did to it and to PostgreSQL."""

    env: dict[str, str]
    logs: Path
    worker: subprocess.Popen[bytes] | None = None
    kills: int = 0
    pg_restarts: int = 0
    notes: list[str] = field(default_factory=list)

    def start_worker(self) -> None:
        log = self.logs / f"worker-{self.kills}.log"
        self.worker = spawn([str(REPO / "worker.py")], self.env, REPO, log)

    def kill_worker(self) -> None:
        assert self.worker is not None and self.worker.poll() is None, "the worker died alone"
        self.worker.send_signal(signal.SIGKILL)
        assert self.worker.wait(timeout=10) == -signal.SIGKILL
        self.kills += 1
        self.start_worker()

    def restart_postgres(self) -> None:
        restarted = subprocess.run(
            _pg_restart_command(), capture_output=True, text=True, timeout=120, check=False
        )
        assert restarted.returncode == 0, restarted.stderr
        self.pg_restarts += 1


def _pg_restart_command() -> list[str]:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.skip("the soak restarts PostgreSQL with pg_ctlcluster; it is not here")
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]


async def _chaos_schedule(chaos: Chaos, due_moment: datetime) -> None:
    events: list[tuple[float, Callable[[], None]]] = [
        *((at, chaos.kill_worker) for at in KILL_AT_SECONDS),
        (PG_RESTART_AT_SECONDS, chaos.restart_postgres),
    ]
    for at, action in sorted(events, key=lambda event: event[0]):
        await _sleep_until(due_moment + timedelta(seconds=at))
        await asyncio.to_thread(action)


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def _ledger_probe(sessions: sessionmaker[Session], query: Callable[[Session], Any]) -> Any:
    """Run a read; a connection cut by the PostgreSQL restart reads as "not yet"."""
    try:
        with unit_of_work(sessions) as session:
            return query(session)
    except OperationalError:
        return None


async def _issue_all(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    numbers: list[str],
    due_moment_local: datetime,
) -> dict[str, str]:
    add_customers(sessions, numbers, SOAK_POLICY_NAME, run=uuid.uuid4().hex[:6])
    gate = asyncio.Semaphore(ISSUE_CONCURRENCY)
    due_on = due_moment_local.date()

    async def issue(number: str) -> tuple[str, str]:
        async with gate:
            issued = await issue_invoice(
                client,
                sessions,
                task_queue,
                NewInvoice(
                    number, f"C-{number}", Decimal("450000"), "CLP", due_on - timedelta(30), due_on
                ),
                # As the HTTP API and the CLI do under DUNNING_RELAX_CONTACT_WINDOWS.
                respect_contact_window=False,
            )
            return number, issued.workflow_id

    return dict(await asyncio.gather(*(issue(number) for number in numbers)))


async def _pay(sessions: sessionmaker[Session], client: Client, numbers: list[str]) -> None:
    gate = asyncio.Semaphore(ISSUE_CONCURRENCY)

    async def pay(number: str) -> None:
        async with gate:
            await record_payment(
                client, sessions, number, Decimal("450000"), reference=f"soak-{number}"
            )

    await asyncio.gather(*(pay(number) for number in numbers))


async def test_the_pipeline_survives_worker_kills_and_a_database_restart(
    dev_server: WorkflowEnvironment,
    soak_database: str,
    soak_policy_registered: Callable[[Policy], None],
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    address = dev_server.client.service_client.config.target_host
    task_queue = f"soak-{uuid.uuid4().hex[:8]}"
    payload_keys = new_key_entry("soak")
    # The product's own client: its payloads are encrypted with the worker's key.
    client = await connect(Settings(temporal_address=address, payload_keys=SecretStr(payload_keys)))
    chaos = Chaos(
        environment(
            temporal_address=address,
            database_url=soak_database,
            task_queue=task_queue,
            relax_contact_windows="true",
            payload_keys=payload_keys,
        ),
        tmp_path,
    )
    _pg_restart_command()  # skip before anything starts if PostgreSQL cannot be restarted
    sessions = make_session_factory(create_ledger_engine(soak_database))

    # The due moment comes once every invoice is issued, so each one runs every step.
    lead = timedelta(seconds=15 + INVOICES * ISSUE_SECONDS_PER_INVOICE)
    due_local = (datetime.now(ZoneInfo(ZONE)) + lead).replace(microsecond=0)
    due_moment = due_local.astimezone(UTC)
    policy = soak_policy(due_local.time())
    soak_policy_registered(policy)
    numbers = [f"S-{n:05d}" for n in range(1, INVOICES + 1)]
    paid = numbers[::PAID_EVERY]
    chaos.start_worker()
    try:
        workflows = await _issue_all(client, sessions, task_queue, numbers, due_local)
        issued_by = datetime.now(UTC)
        assert issued_by < due_moment, f"issuance ran {issued_by - due_moment} past the due moment"

        chaos_run = asyncio.create_task(_chaos_schedule(chaos, due_moment))
        await _sleep_until(due_moment + timedelta(seconds=PAYMENT_AFTER_SECONDS))
        await _pay(sessions, client, paid)
        await chaos_run

        expected = {number: "handoff" for number in numbers} | {n: "paid" for n in paid}

        def stages() -> dict[str, str] | None:
            rows = _ledger_probe(
                sessions, lambda s: dict(s.execute(select(Invoice.number, Invoice.stage)).all())
            )
            return rows if rows == expected else None

        await _sleep_until(due_moment + timedelta(seconds=LAST_STEP_SECONDS))
        try:
            await eventually(stages, timeout=SETTLE_SECONDS, what="every expected stage", every=2)
        except AssertionError:
            found = _ledger_probe(
                sessions, lambda s: dict(s.execute(select(Invoice.number, Invoice.stage)).all())
            )
            wrong = {n: found.get(n) for n in numbers if found.get(n) != expected[n]}
            raise AssertionError(
                f"{len(wrong)} invoices off their stage, e.g. {list(wrong.items())[:5]}"
            ) from None

        def unsent() -> int | None:
            return _ledger_probe(
                sessions,
                lambda s: s.scalar(select(func.count()).where(OutboxMessage.status != "sent")),
            )

        await eventually(lambda: unsent() == 0, timeout=60, what="no outbox row left unsent")

        # Every event each workflow recorded is in the bitácora, under its event key.
        gate = asyncio.Semaphore(32)

        async def timeline_events(workflow_id: str) -> dict[str, str]:
            async with gate:
                handle = client.get_workflow_handle_for(InvoiceDunningWorkflow.run, workflow_id)
                status = await handle.query(InvoiceDunningWorkflow.status)
                return {f"{workflow_id}#{event.seq}": event.kind for event in status.timeline}

        recorded: dict[str, str] = {}
        for events in await asyncio.gather(*(timeline_events(w) for w in workflows.values())):
            recorded |= events

        def missing() -> set[str] | None:
            keys = _ledger_probe(sessions, lambda s: set(s.scalars(select(Interaction.event_key))))
            return None if keys is None else recorded.keys() - keys

        try:
            await eventually(lambda: missing() == set(), timeout=30, what="the bitácora")
        except AssertionError:
            lost = sorted((key, recorded[key]) for key in missing() or ())
            raise AssertionError(f"{len(lost)} events not in the bitácora: {lost[:10]}") from None

        with unit_of_work(sessions) as session:
            duplicated = session.execute(
                text("SELECT idempotency_key, count(*) FROM outbox GROUP BY 1 HAVING count(*) > 1")
            ).all()
            outbox_rows = session.scalar(select(func.count()).select_from(OutboxMessage))
            sent_by_invoice = dict(
                session.execute(
                    select(OutboxMessage.invoice_number, func.count())
                    .where(OutboxMessage.status == "sent")
                    .group_by(OutboxMessage.invoice_number)
                ).all()
            )
            sent_outbox = session.execute(
                select(OutboxMessage.invoice_number, OutboxMessage.step_id).where(
                    OutboxMessage.status == "sent"
                )
            ).all()
            interactions = session.scalar(select(func.count()).select_from(Interaction))
            # Sent as the invoice closed (paid): recorded by the customer's contact workflow.
            sent_after_close = session.scalar(
                select(func.count()).where(Interaction.event_key.like("%#sent-after-close:%"))
            )
            reminders = {step.id for step in policy.steps if step.kind == "remind"}
            outcomes = session.execute(
                select(
                    Interaction.invoice_number, Interaction.step_id, Interaction.kind, func.count()
                )
                .where(
                    Interaction.kind.in_(("message_sent", "step_skipped")),
                    Interaction.step_id.in_(reminders),
                )
                .group_by(Interaction.invoice_number, Interaction.step_id, Interaction.kind)
            ).all()
            skipped = session.scalar(select(func.count()).where(Interaction.kind == "step_skipped"))
        assert duplicated == []
        handed_off = [n for n in numbers if expected[n] == "handoff"]
        # A reminder whose moment passed while the worker was down is skipped, on the record,
        # once a later step is due. No reminder goes out twice, and each handed-off invoice has
        # an outcome for every reminder.
        sent_twice = [
            (n, step, count)
            for n, step, kind, count in outcomes
            if kind == "message_sent" and count > 1
        ]
        assert sent_twice == []
        decided = {(n, step) for n, step, _, _ in outcomes}
        undecided = [
            (n, step) for n in handed_off for step in reminders if (n, step) not in decided
        ]
        assert undecided == []
        sent = {(n, step) for n, step, kind, _ in outcomes if kind == "message_sent"}
        # A reminder replaced while it was on its way out is recorded as sent, never as both.
        skipped_yet_sent = [
            (n, step)
            for n, step, kind, _ in outcomes
            if kind == "step_skipped" and (n, step) in sent
        ]
        assert skipped_yet_sent == []
        # Every message that went out is in the bitácora, even one whose result reached its
        # invoice as the invoice closed.
        unrecorded_sends = {(n, step) for n, step in sent_outbox} - sent
        assert unrecorded_sends == set()
        ended_badly = "ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')"
        unhealthy = [
            execution.id
            async for execution in client.list_workflows(
                f"TaskQueue='{task_queue}' AND {ended_badly}"
            )
        ]
        assert unhealthy == []
        assert (chaos.kills, chaos.pg_restarts) == (len(KILL_AT_SECONDS), 1)
    finally:
        if chaos.worker is not None:
            stop(chaos.worker)

    print(
        f"\nsoak: {INVOICES} invoices ({len(paid)} paid, {len(handed_off)} handed off), "
        f"{sum(sent_by_invoice.values())} messages sent ({skipped} reminders skipped as late), "
        f"{outbox_rows} outbox rows, "
        f"{interactions} interactions ({len(recorded)} timeline events checked, "
        f"{sent_after_close} messages recorded after their invoice closed), "
        f"{chaos.kills} worker kills, {chaos.pg_restarts} PostgreSQL restarts, "
        f"{time.monotonic() - started:.0f} s wall time"
    )
