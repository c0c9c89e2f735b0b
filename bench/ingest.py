"""Benchmark: invoices per second into the product, against raw ``client.start_workflow``.

Run from the repository root::

    .venv/bin/python -m bench.ingest [--invoices N] [--concurrency C]

One real Temporal dev server (the ``temporal`` binary of the virtualenv), no worker (starting is
what is measured), one Python process. Three batches of N fresh invoices, each timed from the
first call to the last answer:

1. baseline: ``client.start_workflow(InvoiceDunningWorkflow.run, …)`` with the same input,
   search attributes and id policies the product uses, C at a time;
2. API: ``POST /v1/invoices`` through the real FastAPI app (in process, over ASGI), C at a
   time — key check, validation, customer upsert, ledger row, workflow start;
3. CSV: one ``POST /v1/imports/invoices`` of an N-row Chilean file (semicolons, cp1252, RUT).

Each product figure is printed as a ratio to the baseline (goal ≥ 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from config.logging import configure_logging
from config.settings import Settings
from dunning_policies.registry import get_policy
from dunning_policies.state import Customer, InvoiceState
from ledger.db import create_ledger_engine, make_session_factory, upgrade_to_head
from tests.flatfiles.chilean_file import build_chilean_invoice_file
from tests.temporal_support import SEARCH_ATTRIBUTE_KEYS, binary
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceDunningInput

GOAL = 0.8


async def bounded(count: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


async def baseline(client: Client, count: int, concurrency: int, queue: str) -> float:
    policy = get_policy("standard")
    today = date.today()

    async def start(i: int) -> None:
        state = InvoiceState(
            invoice_number=f"RAW-{i}",
            currency="CLP",
            original_amount=1_250_000,
            issued_on=today,
            due_on=today + timedelta(days=30),
            customer=Customer(
                id=f"C-{i}",
                country="CL",
                timezone="America/Santiago",
                locale="es_CL",
                channels=frozenset(),
            ),
        )
        await client.start_workflow(
            InvoiceDunningWorkflow.run,
            InvoiceDunningInput(policy=policy, segment="standard", state=state),
            id=f"raw-{queue}-{i}",
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )

    return await bounded(count, concurrency, start)


def invoice(i: int, prefix: str) -> dict[str, object]:
    today = date.today()
    return {
        "number": f"{prefix}-{i}",
        "customer": {
            "id": f"C-{i % 500}",
            "name": f"Ferretería {i % 500} SpA",
            "email": f"pagos{i % 500}@example.cl",
            "phone": "+56912345678",
            "country": "CL",
            "segment": "standard",
        },
        "amount": "1250000",
        "currency": "CLP",
        "issued_on": today.isoformat(),
        "due_on": (today + timedelta(days=30)).isoformat(),
    }


async def run(count: int, concurrency: int) -> None:
    configure_logging("WARNING", "console")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTE_KEYS,
        dev_server_log_level="error",
    )
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'ledger.db'}"
            upgrade_to_head(url)
            sessions = make_session_factory(create_ledger_engine(url))
            settings = Settings(
                data_dir=Path(directory), task_queue=f"ingest-{uuid.uuid4().hex[:6]}"
            )
            key = create_key(sessions, role="erp", name="bench").key
            app = create_app(settings, sessions, env.client)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench",
                headers={"Authorization": f"Bearer {key}"},
                timeout=600,
            ) as http:

                async def post(i: int) -> None:
                    answer = await http.post("/v1/invoices", json=invoice(i, "API"))
                    assert answer.status_code == 201, answer.text

                raw_s = await baseline(env.client, count, concurrency, settings.task_queue)
                api_s = await bounded(count, concurrency, post)
                data = build_chilean_invoice_file(rows=count, bad_per_kind=0).data
                started = time.perf_counter()
                report = await http.post(
                    "/v1/imports/invoices", files={"file": ("ventas.csv", data, "text/csv")}
                )
                csv_s = time.perf_counter() - started
                assert report.json()["counts"]["imported"] == count, report.text[:500]
    finally:
        await env.shutdown()
    raw, api, csv = count / raw_s, count / api_s, count / csv_s
    print(f"N = {count} invoices, {concurrency} at a time, one dev server, no worker")
    rows = [
        ("baseline start_workflow", raw_s, raw, ""),
        ("POST /v1/invoices", api_s, api, f"ratio {api / raw:.2f}"),
        ("POST /v1/imports/invoices", csv_s, csv, f"ratio {csv / raw:.2f}"),
    ]
    for name, seconds, rate, ratio in rows:
        print(f"{name:28} {seconds:8.2f} s {rate:8.1f} invoices/s  {ratio}")
    verdict = "OK" if min(api, csv) / raw >= GOAL else "under goal"
    print(f"goal: each ratio >= {GOAL}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.invoices, args.concurrency))


if __name__ == "__main__":
    main()
