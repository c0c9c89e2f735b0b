"""The acceptance walk-through in a real browser (Debian's Chromium, headless):

1. a collector signs in with a password and a TOTP code (enrolling the authenticator on the
   way), opens the most urgent task and records a promise to pay; the page then shows the
   workflow's own status — paused until that date — and Temporal agrees;
2. the debtor opens the portal link of a message in the outbox on a phone-sized screen and
   opens a dispute; that invoice's dunning pauses and the collector sees the case;
3. the operations dashboard shows the ledger's numbers (counted here row by row);
4. axe-core finds no serious or critical violation on any of these pages (the policy view
   too), and each page is photographed (`make screenshots` keeps them in docs/screenshots).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.users import create_user
from dunning_policies.messages import format_money
from dunning_policies.money import from_minor
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.models import DisputeCase, Invoice, OutboxMessage, Promise, Task
from tests.browser.support import (
    axe_violations,
    chromium,
    describe,
    free_port,
    require_browser,
    screenshot,
    served,
)
from tests.workflows.harness import Harness, running_worker, until
from tests.workflows.test_case_actions import at_negotiation
from workflows.invoice import InvoiceDunningWorkflow

PASSWORD = "correcto-caballo-bateria"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCALE = "es-CL"  # the browser of a collector (and a debtor) in Chile


async def assert_accessible(page: Page, where: str) -> None:
    violations = await axe_violations(page)
    assert not violations, f"{where}: {describe(violations)}"


async def sign_in(
    page: Page, base: str, email: str, secret: str, *, enrol: bool, shots: Path | None = None
) -> None:
    await page.goto(f"{base}/app/inbox")
    await expect(page).to_have_url(re.compile(r"/app/sign-in"))
    if shots is not None:
        await assert_accessible(page, "sign-in")
        await screenshot(page, "sign-in", shots)
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    if enrol:
        await expect(page).to_have_url(re.compile(r"/app/sign-in/enrol"))
        await expect(page.locator("img[alt]").first).to_be_visible()  # the QR code
        if shots is not None:
            await screenshot(page, "enrol", shots)
    else:
        await expect(page).to_have_url(re.compile(r"/app/sign-in/code"))
    await page.fill("#code", pyotp.TOTP(secret).now())
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/app/inbox"))


def _cases(harness: Harness, number: str) -> int:
    with unit_of_work(harness.sessions) as session:
        return session.query(DisputeCase).filter_by(invoice_number=number).count()


def ledger_numbers(harness: Harness) -> dict[str, str]:
    """What the ledger says, counted here row by row (not by the dashboard's SQL), formatted
    as the page writes it."""
    with unit_of_work(harness.sessions) as session:
        open_invoices = [
            invoice
            for invoice in session.scalars(select(Invoice).where(Invoice.currency == "CLP"))
            if invoice.stage not in {stage.value for stage in CLOSED_STAGES}
        ]
        open_tasks = session.scalars(select(Task).where(Task.status == "open")).all()
        promises = session.scalars(select(Promise)).all()
    total = sum(invoice.amount_due_minor for invoice in open_invoices)
    return {
        "total_ar": format_money(from_minor(total, "CLP"), "CLP", "es_CL"),
        "tasks_open": str(len(open_tasks)),
        "promises_kept": str(sum(1 for p in promises if p.status == "kept")),
        "promises_broken": str(sum(1 for p in promises if p.status == "broken")),
    }


async def open_dispute_in_portal(page: Page, invoice: str) -> None:
    dispute = page.locator("details.action", has=page.locator("#dispute-code"))
    await dispute.locator("summary").click()
    await page.select_option("#dispute-invoice", invoice)
    await page.select_option("#dispute-code", "wrong_amount")
    await page.fill("#dispute-reason", "Nos cobraron 10 unidades y recibimos 8.")
    await dispute.locator("button[type=submit]").click()
    await expect(page.locator("[role=status], .notice.ok").first).to_be_visible()


@pytest.mark.slow
async def test_collector_debtor_and_operations_in_a_real_browser(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_browser()
    env = time_skipping_env
    port = free_port()
    monkeypatch.setenv("DUNNING_PORTAL_BASE_URL", f"http://127.0.0.1:{port}/portal")
    async with running_worker(env.client, tmp_path) as harness:
        collector = create_user(
            harness.sessions,
            email="ana@andes.cl",
            name="Ana Rojas",
            role="collector",
            password=PASSWORD,
        )
        ops = create_user(
            harness.sessions,
            email="olga@andes.cl",
            name="Olga Paz",
            role="ops",
            password=PASSWORD,
        )
        due = await at_negotiation(env, harness, "F-9001")
        # A second, smaller invoice of the same customer, overdue as long: its task ranks second.
        await harness.issue("F-9002", due, issued_on=due - timedelta(days=30), amount="300000")
        app = create_app(harness.settings, harness.sessions, env.client)
        async with served(app, port) as base, chromium() as browser:
            desk = await browser.new_page(viewport=DESKTOP, locale=LOCALE)

            # 1. The collector: password + TOTP, the top task, a promise.
            await sign_in(
                desk, base, collector.email, collector.totp_secret, enrol=True, shots=tmp_path
            )
            await expect(desk.locator("tr[data-task]")).to_have_count(2)
            await assert_accessible(desk, "inbox")
            await screenshot(desk, "inbox", tmp_path)
            await desk.click("text=Abrir la más urgente")
            await expect(desk).to_have_url(re.compile(r"/app/customers/.+task=T-F-9001"))
            promised = due + timedelta(days=22)
            await desk.fill("#promise-date", promised.isoformat())
            await desk.fill("#promise-note", "Paga con el cierre de mes")
            await desk.click("#action-promise button[type=submit]")
            await expect(desk.locator("[data-paused-until]")).to_have_attribute(
                "data-paused-until", promised.isoformat()
            )
            await expect(desk.locator("#workflow-status [data-stage]")).to_have_attribute(
                "data-stage", "promise"
            )
            status = await harness.handle("invoice-F-9001").query(InvoiceDunningWorkflow.status)
            assert status.stage == "promise"
            assert status.promise is not None and status.promise.promised_date == promised
            await assert_accessible(desk, "customer page")
            await screenshot(desk, "customer", tmp_path)

            # A refusal stays in the form: a promise in the past.
            if not await desk.locator("#action-promise[open]").count():
                await desk.click("#action-promise summary")
            await desk.fill("#promise-date", (due - timedelta(days=60)).isoformat())
            await desk.click("#action-promise button[type=submit]")
            await expect(desk.locator("#result-promise [role=alert]")).to_be_visible()

            # 2. The debtor, on a phone, from the link in a message: the link opens the
            # customer's statement, where the other invoice is disputed.
            with unit_of_work(harness.sessions) as session:
                bodies = session.scalars(
                    select(OutboxMessage.body).where(OutboxMessage.invoice_number == "F-9001")
                ).all()
            links = [
                found.group(0)
                for found in (re.search(rf"{base}/portal/\S+", body) for body in bodies)
                if found
            ]
            assert links, bodies
            phone = await browser.new_page(viewport=PHONE, locale=LOCALE, is_mobile=True)
            await phone.goto(links[0].rstrip(".,)"))
            await expect(phone.locator("body")).to_contain_text("F-9002")
            await assert_accessible(phone, "portal")
            await screenshot(phone, "portal-phone", tmp_path)
            await open_dispute_in_portal(phone, "F-9002")
            status = await harness.handle("invoice-F-9002").query(InvoiceDunningWorkflow.status)
            assert status.stage == "disputed", status.stage
            await until(env, lambda: _cases(harness, "F-9002") == 1, "the case in the ledger")
            await desk.goto(f"{base}/app/customers/{harness.customer_id}?invoice=F-9002")
            await expect(desk.locator("#workflow-status [data-stage]")).to_have_attribute(
                "data-stage", "disputed"
            )
            await expect(desk.locator(".case").first).to_contain_text("F-9002")

            await screenshot(desk, "customer-dispute", tmp_path)

            # 3. Operations: the dashboard's numbers are the ledger's.
            ops_page = await (await browser.new_context(viewport=DESKTOP, locale=LOCALE)).new_page()
            await sign_in(ops_page, base, ops.email, ops.totp_secret, enrol=True)
            # As of the test server's day: its clock has run ahead of the wall clock's.
            as_of = (await env.get_current_time()).date()
            await ops_page.goto(f"{base}/app/dashboard?currency=CLP&as_of={as_of}")
            ledger = ledger_numbers(harness)
            for figure, expected in ledger.items():
                await expect(ops_page.locator(f'[data-figure="{figure}"]').first).to_have_text(
                    expected
                )
            await assert_accessible(ops_page, "dashboard")
            await screenshot(ops_page, "dashboard", tmp_path)
            await ops_page.goto(f"{base}/app/policies/standard")
            await assert_accessible(ops_page, "policy view")
            await screenshot(ops_page, "policy", tmp_path)
