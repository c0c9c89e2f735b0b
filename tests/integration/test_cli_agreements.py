"""Promises, payment plans and disputes from the command line, against a real dev server and
a worker: what an operator types and what they read back."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.repositories.plans import PlanRepository
from tests.integration.processes import cli, environment, eventually
from tests.ledger_support import sqlite_url
from worker import build_worker

pytestmark = pytest.mark.slow


async def test_a_promise_a_plan_and_a_dispute_from_the_command_line(dev_server, tmp_path):
    url = sqlite_url(tmp_path)
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    env = environment(
        temporal_address=dev_server.client.service_client.config.target_host,
        database_url=url,
        task_queue=queue,
        relax_contact_windows="true",
    )
    suffix = uuid.uuid4().hex[:6]
    promised_invoice, planned_invoice = f"P-{suffix}", f"Q-{suffix}"
    today = datetime.now(ZoneInfo("America/Santiago")).date()

    async def run(*args: str, ok: bool = True):
        # In a thread: the worker shares this event loop and must keep answering.
        result = await asyncio.to_thread(cli, list(args), env, tmp_path)
        assert (result.returncode == 0) is ok, result.stdout + result.stderr
        return result

    async def reported(number: str):
        status = json.loads((await run("status", number, "--json")).stdout)
        return status["stage"] != "issued" and status

    settings = Settings(task_queue=queue, database_url=url, activity_threads=4)
    sessions = make_session_factory(create_ledger_engine(url))
    with ThreadPoolExecutor(4) as pool:
        async with build_worker(dev_server.client, settings, sessions, executor=pool):
            for number, name in ((promised_invoice, "--name"), (planned_invoice, None)):
                details = [name, "Panadería La Espiga", "--phone", "+56922223333"] if name else []
                await run(
                    "issue",
                    "--invoice",
                    number,
                    "--customer",
                    f"C-{suffix}",
                    "--currency",
                    "CLP",
                    "--amount",
                    "1250000",
                    "--issued",
                    str(today),
                    "--due",
                    str(today + timedelta(days=20)),
                    "--segment",
                    "standard",
                    *details,
                )
                await eventually(lambda n=number: reported(n), timeout=30, what=number)

            far = str(today + timedelta(days=200))
            refused = await run("promise", promised_invoice, "--date", far, ok=False)
            assert "promised_date" in refused.stderr and "must be between" in refused.stderr
            made = await run("promise", promised_invoice, "--date", str(today + timedelta(days=5)))
            assert f"{promised_invoice}: promise to pay by" in made.stdout
            assert "next: check promise" in made.stdout

            bad = await run("plan", planned_invoice, "--instalment", "mañana=5", ok=False)
            assert "is not DUE=AMOUNT" in bad.stderr
            first, second = today + timedelta(days=30), today + timedelta(days=60)
            agreed = await run(
                "plan",
                planned_invoice,
                "--instalment",
                f"{first}=625000",
                "--instalment",
                f"{second}=625000",
            )
            assert "plan1 agreed, 2 instalments" in agreed.stdout
            with unit_of_work(sessions) as session:
                plans = PlanRepository.from_session(session)
                assert [i.amount_minor for i in plans.instalments(f"{planned_invoice}/plan1")] == [
                    625_000,
                    625_000,
                ]

            opened = await run(
                "dispute", promised_invoice, "--reason", "no llegó", "--code", "not_received"
            )
            assert "dispute opened" in opened.stdout
            resolved = await run("resolve", promised_invoice, "--rejected", "--note", "sí llegó")
            assert "dispute rejected" in resolved.stdout
