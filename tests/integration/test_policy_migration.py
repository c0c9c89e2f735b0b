"""``dunning policies migrate`` on a real dev server with a worker: the dry run changes nothing,
the real run moves every running invoice of the policy to the new version, skips closed ones,
and reports a workflow that is gone as not running; the ledger follows the workflows."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from cli.policy_migration import migrate_running
from config.settings import Settings
from dunning_policies.language import Channel, Remind, Tone
from dunning_policies.policies.standard import POLICY as STANDARD
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from tests.integration.processes import cli, environment, eventually
from tests.ledger_support import sqlite_url
from worker import build_worker
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import Reason

pytestmark = pytest.mark.slow

V2 = STANDARD.model_copy(
    update={
        "version": 2,
        "steps": (
            *STANDARD.steps[:3],
            Remind(id="overdue_7", offset_days=7, channels=(Channel.SMS,), template="overdue",
                   tone=Tone.FIRM),
            *STANDARD.steps[3:],
        ),
    }
)  # fmt: skip


async def test_running_invoices_move_to_the_installed_version(dev_server, tmp_path):
    client, url = dev_server.client, sqlite_url(tmp_path)
    settings = Settings(task_queue=f"mig-{uuid.uuid4().hex[:8]}", database_url=url)
    sessions = make_session_factory(create_ledger_engine(url))
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    run = uuid.uuid4().hex[:6]  # the dev server outlives the test: fresh invoice numbers
    running, cancelled, gone = (f"MIG-{run}-{n}" for n in ("running", "cancelled", "gone"))
    customer = CustomerDetails(
        id=f"C-{run}", name="Ferretería Los Andes SpA", country="CL",
        timezone="America/Santiago", locale="es_CL", email="pagos@losandes.cl",
        segment="standard",
    )  # fmt: skip

    def ledger() -> dict[str, tuple[str, int]]:
        with unit_of_work(sessions) as session:
            rows = InvoiceRepository.from_session(session).list_invoices(customer_id=customer.id)
            return {i.number: (i.stage, i.policy_version) for i in rows}

    with ThreadPoolExecutor(4) as pool:
        async with build_worker(client, settings, sessions, executor=pool):
            for number in (running, cancelled, gone):
                await issue_invoice(
                    client,
                    sessions,
                    settings.task_queue,
                    NewInvoice(number, customer.id, Decimal(500_000), "CLP", today,
                               today + timedelta(days=20)),
                    customer,
                )  # fmt: skip
            await client.get_workflow_handle(f"invoice-{cancelled}").signal(
                InvoiceDunningWorkflow.cancel, Reason(reason="voided in the ERP")
            )
            await client.get_workflow_handle(f"invoice-{gone}").terminate("lost in a reset")
            await eventually(
                lambda: ledger().get(cancelled, ("", 0))[0] == "cancelled",
                timeout=30,
                what="the cancellation in the ledger",
            )

            dry = await migrate_running(client, sessions, V2, dry_run=True, requested_by="it")
            outcomes = {line.invoice: (line.from_version, line.to_version, line.outcome)
                        for line in dry}  # fmt: skip
            assert outcomes == {running: (1, 2, "would migrate"), gone: (1, 2, "not running")}
            handle = client.get_workflow_handle_for(
                InvoiceDunningWorkflow.run, f"invoice-{running}"
            )
            assert (await handle.query(InvoiceDunningWorkflow.status)).policy_version == 1

            done = await migrate_running(client, sessions, V2, dry_run=False, requested_by="it")
            assert {line.invoice: line.outcome for line in done} == {
                running: "migrated",
                gone: "not running",
            }
            await eventually(
                lambda: ledger()[running] == ("current", 2), timeout=30, what="ledger on v2"
            )
            status = await handle.query(InvoiceDunningWorkflow.status)
            assert (status.policy, status.policy_version) == ("standard", 2)
            assert status.timeline[-1].kind == "policy_migrated"
            assert status.timeline[-1].detail["requested_by"] == "it"
            assert ledger()[cancelled] == ("cancelled", 1), "a closed invoice stays as it was"
            again = await migrate_running(client, sessions, V2, dry_run=True, requested_by="it")
            assert [line.invoice for line in again] == [gone]

            # The command itself: the installed file is v1, so nothing is older than it.
            env = environment(
                temporal_address=client.service_client.config.target_host,
                database_url=url,
                task_queue=settings.task_queue,
            )
            args = ["policies", "migrate", "--policy", "standard", "--to-version", "1"]
            result = await asyncio.to_thread(cli, [*args, "--dry-run", "--json"], env, tmp_path)
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout) == {
                "policy": "standard",
                "to_version": 1,
                "dry_run": True,
                "invoices": [],
                "summary": {},
            }
            await handle.terminate("test over")
