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

The three batches run ``--rounds`` times (default 3) on the same server, in turn, and each
figure is the median of its rounds, printed as a ratio to the baseline's (goal ≥ 0.8): one
round on two shared cores varies by ±10%.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.invoicing import issuance_search_attributes
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


async def baseline(client: Client, count: int, concurrency: int, queue: str, prefix: str) -> float:
    policy = get_policy("standard")
    today = date.today()

    async def start(i: int) -> None:
        state = InvoiceState(
            invoice_number=f"{prefix}-{i}",
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
            id=f"raw-{queue}-{prefix}-{i}",
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=issuance_search_attributes(state, "standard"),
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


@dataclass
class Seconds:
    raw: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    csv: list[float] = field(default_factory=list)


async def run(count: int, concurrency: int, rounds: int) -> None:
    configure_logging("WARNING", "console")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTE_KEYS,
        dev_server_log_level="error",
    )
    seconds = Seconds()
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
                for number in range(1, rounds + 1):

                    async def post(i: int, prefix: str = f"API{number}") -> None:
                        answer = await http.post("/v1/invoices", json=invoice(i, prefix))
                        assert answer.status_code == 201, answer.text

                    seconds.raw.append(
                        await baseline(
                            env.client, count, concurrency, settings.task_queue, f"RAW{number}"
                        )
                    )
                    seconds.api.append(await bounded(count, concurrency, post))
                    data = build_chilean_invoice_file(
                        rows=count, bad_per_kind=0, first_folio=number * 1_000_000
                    ).data
                    started = time.perf_counter()
                    report = await http.post(
                        "/v1/imports/invoices", files={"file": ("ventas.csv", data, "text/csv")}
                    )
                    seconds.csv.append(time.perf_counter() - started)
                    assert report.json()["counts"]["imported"] == count, report.text[:500]
    finally:
        await env.shutdown()
    print(
        f"N = {count} invoices, {concurrency} at a time, one dev server, no worker;"
        f" {rounds} round(s), medians"
    )
    raw = count / statistics.median(seconds.raw)
    rows = [
        ("baseline start_workflow", seconds.raw),
        ("POST /v1/invoices", seconds.api),
        ("POST /v1/imports/invoices", seconds.csv),
    ]
    worst = None
    for name, times in rows:
        rate = count / statistics.median(times)
        each = ", ".join(f"{count / t:.0f}" for t in times)
        ratio = "" if times is seconds.raw else f"ratio {rate / raw:.2f}"
        if times is not seconds.raw:
            worst = rate / raw if worst is None else min(worst, rate / raw)
        print(f"{name:28} {rate:8.1f} invoices/s (rounds: {each})  {ratio}")
    verdict = "OK" if worst is not None and worst >= GOAL else "under goal"
    print(f"goal: each ratio >= {GOAL}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.invoices, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
