"""``dunning dev``: the whole product on one machine — Temporal dev server, worker, SQLite
ledger, console channel — until Ctrl-C. ``--demo`` loads the sample book."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import uvicorn
from rich.panel import Panel
from sqlalchemy import select

from analytics.ledger_loader import load_book
from analytics.synthetic_book import synthetic_book
from api.app import create_app
from api.imports import import_invoice_file
from cli.embedded_temporal import EmbeddedTemporal
from cli.risk import ensure_schedule
from cli.runtime import Runtime, console
from cli.sample_book import sample_book
from ledger.db import unit_of_work
from ledger.models import Customer
from worker import build_worker

RISK_REVIEW_EVERY = timedelta(days=1)


DEMO_HISTORY_INVOICES = 3_000


def load_demo_history(rt: Runtime, today: date) -> str | None:
    """Eighteen months of a synthetic book's history, once, so the dashboard, the reports, the
    forecast and the risk review have something to show. Its ids (``SC-``, ``SF-``) never meet
    the sample book's, and its invoices have no workflows (they are history)."""
    with unit_of_work(rt.sessions) as session:
        if session.scalar(select(Customer.id).where(Customer.id.like("SC-%")).limit(1)):
            return None
        book = synthetic_book(DEMO_HISTORY_INVOICES, seed=7, as_of=today - timedelta(days=1))
        load_book(session.connection(), book)
    return (
        f"History: {len(book.invoices):,} invoices of {len(book.customers):,} customers over "
        "18 months (synthetic), for the dashboard, dunning report and dunning forecast."
    )


class QuietSignalsServer(uvicorn.Server):
    """uvicorn inside ``dunning dev``: the dev loop owns Ctrl-C and stops the API itself."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(rt: Runtime, demo: bool) -> None:
    settings = rt.settings
    server = EmbeddedTemporal(settings)
    server.start()
    try:
        client = await server.wait_until_ready()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        api = QuietSignalsServer(
            uvicorn.Config(
                create_app(settings, rt.sessions, client),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
            )
        )
        async with build_worker(client, settings, rt.sessions):
            # Customers' risk is reviewed daily by a Temporal Schedule, not cron.
            await ensure_schedule(client, RISK_REVIEW_EVERY, settings.task_queue)
            api_task = asyncio.create_task(api.serve())
            if demo:
                today = datetime.now(ZoneInfo("America/Santiago")).date()
                # The demo shows messages at any hour; real invoices respect contact windows.
                report = await import_invoice_file(
                    client,
                    rt.sessions,
                    settings.task_queue,
                    sample_book(settings.data_dir, today).encode("utf-8"),
                    filename="sample_book.csv",
                    respect_contact_window=False,
                )
                console.print(
                    f"Sample book: {len(report.imported)} invoices issued, "
                    f"{len(report.unchanged)} already running, {len(report.rejected)} rejected."
                )
                history = load_demo_history(rt, today)
                if history:
                    console.print(history)
            console.print(
                Panel.fit(
                    f"Temporal UI   {server.ui_url}\n"
                    f"Temporal      {settings.temporal_address} "
                    f"(history in {settings.data_dir}/temporal.db)\n"
                    f"Ledger        {settings.ledger_url}\n"
                    f"HTTP API      http://{settings.api_host}:{settings.api_port}/docs "
                    "(keys: dunning keys create --role erp)\n"
                    f"Workspace     http://{settings.api_host}:{settings.api_port}/app "
                    "(first a user: dunning users create --email you@example.com "
                    "--name 'Your Name' --role admin)\n"
                    "Portal        the link in each message of dunning outbox\n"
                    "Try           dunning outbox · dunning tasks --open · "
                    "dunning status F-20010\n"
                    "              dunning pay --invoice F-20010 --amount 1000\n"
                    "              dunning policies preview standard --due 2026-12-01\n"
                    "Stop          Ctrl-C (run it again to resume where it stopped)",
                    title="dunning dev is running",
                )
            )
            sys.stdout.flush()
            await stop.wait()
            console.print("Stopping…")
            api.should_exit = True
            await api_task
    finally:
        server.stop()
