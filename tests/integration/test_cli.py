"""The command line against a real dev server and a worker: every command an operator or a
collector uses, including the errors they see."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.invoicing import AMOUNT_DUE_MINOR, DUE_DATE, SEGMENT
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory
from tests.integration.processes import cli, environment, eventually
from tests.ledger_support import sqlite_url
from worker import build_worker

pytestmark = pytest.mark.slow


async def test_an_operator_and_a_collector_work_an_invoice_from_the_command_line(
    dev_server, tmp_path
):
    url = sqlite_url(tmp_path)
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    env = environment(
        temporal_address=dev_server.client.service_client.config.target_host,
        database_url=url,
        task_queue=queue,
        relax_contact_windows="true",
    )
    number = f"F-{uuid.uuid4().hex[:6]}"
    today = datetime.now(ZoneInfo("America/Santiago")).date()  # the customer's calendar

    async def run(*args: str, ok: bool = True):
        # In a thread: the worker shares this event loop and must keep answering.
        result = await asyncio.to_thread(cli, list(args), env, tmp_path)
        assert (result.returncode == 0) is ok, result.stdout + result.stderr
        return result

    async def as_json(*args: str):
        return json.loads((await run(*args, "--json")).stdout)

    settings = Settings(task_queue=queue, database_url=url, activity_threads=4)
    sessions = make_session_factory(create_ledger_engine(url))
    issue = [
        "issue",
        "--invoice",
        number,
        "--customer",
        "C-77",
        "--currency",
        "CLP",
        "--issued",
        str(today - timedelta(days=46)),
        "--due",
        str(today - timedelta(days=16)),
    ]
    with ThreadPoolExecutor(4) as pool:
        async with build_worker(dev_server.client, settings, sessions, executor=pool):
            first = await run(
                *issue,
                "--amount",
                "1250000",
                "--name",
                "Panadería La Espiga",
                "--phone",
                "+56922223333",
                "--segment",
                "standard",
            )
            assert f"Invoice {number} issued" in first.stdout
            assert "already issued" in (await run(*issue, "--amount", "1250000")).stdout
            conflict = await run(*issue, "--amount", "999", ok=False)
            assert (
                "already issued with a different amount (1250000 then, 999 now)" in conflict.stderr
            )

            task_id = f"T-{number}-collector_call-1"

            async def task_is_open():
                return any(t["id"] == task_id for t in await as_json("tasks", "--open"))

            await eventually(task_is_open, timeout=30, what="the negotiation task")

            async def listed_in_negotiation():
                query = 'DunningCustomerId = "C-77" AND DunningStage = "negotiation"'
                found = [w async for w in dev_server.client.list_workflows(query)]
                return [w.id for w in found] == [f"invoice-{number}"] and found

            # "All invoices of customer X in negotiation" is one visibility call.
            [listed] = await eventually(listed_in_negotiation, timeout=30, what="visibility")
            attributes = listed.typed_search_attributes
            assert attributes.get(SEGMENT) == "standard"
            assert attributes.get(AMOUNT_DUE_MINOR) == 1_250_000
            due_midnight = datetime.combine(
                today - timedelta(days=16), datetime.min.time(), ZoneInfo("America/Santiago")
            )
            assert attributes.get(DUE_DATE) == due_midnight

            unknown = await run("task", "complete", "T-nope", "--outcome", "refused", ok=False)
            assert "unknown task 'T-nope'" in unknown.stderr
            no_date = await run(
                "task", "complete", task_id, "--outcome", "promise_to_pay", ok=False
            )
            assert "promise_to_pay needs promised_date" in no_date.stderr
            bad_outcome = await run("task", "complete", task_id, "--outcome", "maybe", ok=False)
            assert "maybe" in bad_outcome.stderr

            promised = await run(
                "task",
                "complete",
                task_id,
                "--outcome",
                "promise_to_pay",
                "--promised-date",
                str(today + timedelta(days=5)),
                "--amount",
                "300000",
            )
            assert "Next: check promise" in promised.stdout

            assert (
                "300000 CLP"
                in (
                    await run(
                        "pay", "--invoice", number, "--amount", "300000", "--reference", "TRX-1"
                    )
                ).stdout
            )
            again = await run(
                "pay", "--invoice", number, "--amount", "300000", "--reference", "TRX-1"
            )
            assert "already recorded" in again.stdout
            bad_amount = await run("pay", "--invoice", number, "--amount", "-5", ok=False)
            assert "amount: must be a positive amount" in bad_amount.stderr

            async def promise_kept():
                status = await as_json("status", number)
                kinds = [e["kind"] for e in status["timeline"]]
                return "promise_kept" in kinds and status

            status = await eventually(promise_kept, timeout=30, what="the kept promise")
            assert status["amount_due"] == "950000"
            kinds = [e["kind"] for e in status["timeline"]]
            assert kinds[:6] == [
                "issued",
                "step_skipped",
                "step_skipped",
                "step_skipped",
                "step_skipped",
                "task_opened",
            ]
            assert kinds.count("payment_received") == 1
            assert status["stage"] == "negotiation", "a balance left after a promise reopens it"
            assert status["open_task"]["id"] == f"T-{number}-collector_call-2"

            cancelled = await run("cancel", number, "--reason", "voided in the ERP")
            assert "cancelled" in cancelled.stdout

            async def closed():
                return (await as_json("status", number))["stage"] == "cancelled"

            await eventually(closed, timeout=30, what="the cancellation")
            tasks = {t["id"]: t for t in await as_json("tasks")}
            assert tasks[f"T-{number}-collector_call-2"]["status"] == "completed"
            assert tasks[f"T-{number}-collector_call-2"]["outcome"] == "invoice_cancelled"
            assert await as_json("outbox", "--invoice", number) == []
