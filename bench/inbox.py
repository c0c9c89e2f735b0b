"""Benchmark: the collectors' inbox with 5,000 open tasks, server time per request.

Run from the repository root::

    .venv/bin/python -m bench.inbox [--tasks 5000] [--requests 40] [--postgres]

A ledger (a SQLite file, and with ``--postgres`` a fresh PostgreSQL schema too) holds N open
collector tasks on N overdue invoices of N/2 customers, a tenth of them high-risk and a tenth
with a broken promise. Each request is ``GET /app/inbox`` through the real FastAPI app in
process (straight over ASGI, a signed-in collector): the time from the request to the last byte
of the page is the server's time — ranking all N tasks, rendering the first page of 50.

Beside it, in the same run, the baseline: the one query any inbox needs, every open task
joined with its invoice and customer, fetched with SQLAlchemy Core and nothing else. The
ratio says what ranking, the session check and the template add to that floor.
Goal: the page under 300 ms (median and p95 printed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from api.app import create_app
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory
from ledger.models import Customer, Invoice, Promise, Task
from tests.ledger_support import postgres_schema_url, sqlite_url
from tests.web.sessions import sign_in_as, test_user

GOAL_MS = 300.0


def seed(url: str, tasks: int, now: datetime) -> None:
    engine = create_ledger_engine(url)
    customers = max(1, tasks // 2)
    with engine.begin() as connection:
        connection.execute(
            insert(Customer),
            [
                {
                    "id": f"C-{c:05d}",
                    "name": f"Cliente {c:05d} SpA",
                    "email": f"pagos{c}@example.cl",
                    "phone": None,
                    "whatsapp": None,
                    "country": "CL",
                    "timezone": "America/Santiago",
                    "locale": "es_CL",
                    "segment": "high_risk" if c % 10 == 0 else "standard",
                    "policy_override": None,
                    "tax_id": None,
                    "debt_type": "business",
                    "subdivision": None,
                    "created_at": now,
                    "updated_at": now,
                }
                for c in range(customers)
            ],
        )
        invoices, open_tasks, promises = [], [], []
        for n in range(tasks):
            number = f"F-{n:06d}"
            customer = f"C-{n % customers:05d}"
            due = (now - timedelta(days=15 + n % 90)).date()
            amount = 100_000 + (n * 7919) % 5_000_000
            invoices.append(
                {
                    "number": number,
                    "customer_id": customer,
                    "currency": "CLP",
                    "amount_minor": amount,
                    "amount_due_minor": amount,
                    "issued_on": due - timedelta(days=30),
                    "due_on": due,
                    "stage": "negotiation",
                    "segment": "standard",
                    "policy_name": "standard",
                    "policy_version": 1,
                    "workflow_id": f"invoice-{number}",
                    "next_action": None,
                    "next_action_at": None,
                    "closed_reason": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            open_tasks.append(
                {
                    "id": f"T-{number}-collector_call-1",
                    "invoice_number": number,
                    "customer_id": customer,
                    "workflow_id": f"invoice-{number}",
                    "queue": "standard" if n % 3 else "high_value",
                    "kind": "negotiation",
                    "status": "open",
                    "created_at": now - timedelta(hours=n % 72),
                    "sla_due_at": now + timedelta(hours=72 - n % 144),
                    "completed_at": None,
                    "outcome": None,
                    "detail": {},
                }
            )
            if n % 10 == 5:
                promises.append(
                    {
                        "id": f"P-{number}",
                        "invoice_number": number,
                        "customer_id": customer,
                        "kind": "promise",
                        "source": "collector",
                        "promised_date": due,
                        "amount_minor": amount,
                        "currency": "CLP",
                        "made_at": now - timedelta(days=30),
                        "status": "broken",
                    }
                )
        connection.execute(insert(Invoice), invoices)
        connection.execute(insert(Task), open_tasks)
        connection.execute(insert(Promise), promises)
    engine.dispose()


def baseline_query_ms(url: str, repeats: int) -> list[float]:
    engine = create_ledger_engine(url)
    query = (
        select(Task.id, Task.sla_due_at, Invoice.amount_due_minor, Invoice.due_on, Customer.name)
        .join(Invoice, Invoice.number == Task.invoice_number)
        .join(Customer, Customer.id == Task.customer_id)
        .where(Task.status == "open")
    )
    timings = []
    with engine.connect() as connection:
        for _ in range(repeats):
            started = time.perf_counter()
            rows = connection.execute(query).all()
            timings.append((time.perf_counter() - started) * 1000)
            assert rows
    engine.dispose()
    return timings


async def page_ms(url: str, data_dir: Path, repeats: int) -> tuple[list[float], int]:
    settings = Settings(data_dir=data_dir, database_url=url)
    engine = create_ledger_engine(url)
    sessions = make_session_factory(engine)
    app = create_app(settings, sessions, client=None)
    timings = []
    size = 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        sign_in_as(http, settings, test_user("collector"), sessions)
        for _ in range(repeats):
            started = time.perf_counter()
            response = await http.get("/app/inbox")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text[:500]
            size = len(response.content)
    engine.dispose()
    return timings, size


def summary(name: str, timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"  {name:<28} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    return median, p95


@contextmanager
def ledgers(postgres: bool, folder: Path) -> Iterator[list[tuple[str, str]]]:
    found = [("SQLite", sqlite_url(folder))]
    if not postgres:
        yield found
        return
    with postgres_schema_url() as url:
        yield [*found, ("PostgreSQL", url)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, ledgers(args.postgres, Path(tmp)) as found:
        for name, url in found:
            seed(url, args.tasks, now)
            # Warm-up: imports, template compilation, the first connection.
            asyncio.run(page_ms(url, Path(tmp), 3))
            base = baseline_query_ms(url, args.requests)
            pages, size = asyncio.run(page_ms(url, Path(tmp), args.requests))
            print(f"{name}: {args.tasks} open tasks, {args.requests} requests, page {size:,} bytes")
            base_median, _ = summary("baseline (the join alone)", base)
            page_median, page_p95 = summary("GET /app/inbox", pages)
            verdict = "meets" if page_p95 < GOAL_MS else "MISSES"
            print(
                f"  ratio page / baseline: {page_median / base_median:.2f}×;"
                f" {verdict} the {GOAL_MS:.0f} ms goal at p95"
            )


if __name__ == "__main__":
    main()
