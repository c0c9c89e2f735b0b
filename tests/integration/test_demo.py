"""`make demo`'s command from a fresh directory: it starts the embedded stack, sends what is due
and opens negotiation tasks within 60 s, stops on Ctrl-C, and resumes with no message sent twice."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.integration.processes import REPO, environment, eventually, free_port, spawn

pytestmark = pytest.mark.slow


def ledger_counts(path: Path) -> tuple[int, int, int] | None:
    if not path.exists():
        return None
    try:
        with sqlite3.connect(path) as db:
            _, attempts = db.execute(
                "select count(*), coalesce(sum(attempts), 0) from outbox where status = 'sent'"
            ).fetchone()
            # Invoices told, not messages: a customer's invoices due together share a message.
            sent = db.execute(
                "select count(distinct invoice_number) from interactions"
                " where kind = 'message_sent'"
            ).fetchone()[0]
            open_tasks = db.execute("select count(*) from tasks where status = 'open'").fetchone()[
                0
            ]
    except sqlite3.OperationalError:
        return None  # not migrated yet
    return sent, attempts, open_tasks


def outbox_keys(path: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "select idempotency_key, attempts, status from outbox order by idempotency_key"
        ).fetchall()


async def test_the_demo_sends_what_is_due_and_resumes_without_sending_twice(tmp_path):
    api_port = free_port()
    env = environment(
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=str(free_port()),
        api_port=str(api_port),
    )
    ledger = tmp_path / ".dunning" / "ledger.db"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    demo = spawn([str(REPO / "starter.py"), "dev", "--demo"], env, tmp_path, first_log)
    try:
        await eventually(
            lambda: (c := ledger_counts(ledger)) and c[0] >= 20 and c[2] >= 3 and c,
            timeout=120,
            what="messages and negotiation tasks of the sample book",
        )
        output = await eventually(
            lambda: "Temporal UI" in (text := first_log.read_text()) and text,
            timeout=30,
            what="the banner",
        )
        assert "Sample book: 34 invoices issued, 0 already running, 0 rejected." in output
        assert "Temporal UI   http://localhost:" in output
        health = await asyncio.to_thread(
            httpx.get, f"http://127.0.0.1:{api_port}/healthz", timeout=10
        )
        assert health.json() == {"status": "ok"}
        unauthenticated = await asyncio.to_thread(
            httpx.get, f"http://127.0.0.1:{api_port}/v1/invoices", timeout=10
        )
        assert unauthenticated.status_code == 401
        await eventually(
            lambda: _quiet(ledger),
            timeout=30,
            what="the first burst of messages to settle",
            every=1,
        )
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, first_log.read_text()[-2000:]
    before = outbox_keys(ledger)
    with sqlite3.connect(ledger) as db:
        consolidated = db.execute(
            "select count(*) from outbox where template = 'consolidated'"
        ).fetchone()[0]
    assert consolidated > 0, "customers with several invoices hear once"
    assert all(status == "sent" and tries == 1 for _, tries, status in before)

    again = spawn([str(REPO / "starter.py"), "dev", "--demo"], env, tmp_path, second_log)
    try:
        await eventually(
            lambda: "34 already running" in second_log.read_text(),
            timeout=60,
            what="the second start to find every invoice running",
        )
        # Let the worker replay and catch up on anything that fell due while it was down.
        await eventually(lambda: _quiet(ledger), timeout=30, what="the worker to settle", every=1)
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=60) == 0, second_log.read_text()[-2000:]
    after = outbox_keys(ledger)
    assert set(before) <= set(after), "rows sent before the restart are untouched"
    resent = [key for key, tries, _ in after if tries > 1]
    assert resent == [], f"sent twice: {resent}"
    assert len({key for key, _, _ in after}) == len(after)


_last: dict[Path, object] = {}


def _quiet(ledger: Path) -> bool:
    """True once the outbox has not changed since the previous poll."""
    counts = ledger_counts(ledger)
    previous, _last[ledger] = _last.get(ledger), counts
    return counts is not None and counts == previous
