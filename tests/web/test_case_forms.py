"""The collector's actions from the customer page, each an Update on the invoice's workflow
(time-skipping server, real worker, the pages in process): done → the page reloads on the
new state; refused by the workflow's validator → the reason in the form, nothing written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from ledger.db import unit_of_work
from ledger.models import DisputeCase, Handoff, Interaction, Promise
from tests.web.sessions import csrf_for, sign_in_as, test_user
from tests.workflows.harness import Harness, running_worker, until
from tests.workflows.test_case_actions import at_negotiation
from workflows.invoice import InvoiceDunningWorkflow

HTMX = {"HX-Request": "true"}


async def _stage(harness: Harness, number: str) -> str:
    status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
    return status.stage


def _cases(harness: Harness, number: str) -> int:
    with unit_of_work(harness.sessions) as session:
        return session.query(DisputeCase).filter_by(invoice_number=number).count()


def _client(harness: Harness, env: WorkflowEnvironment) -> httpx.AsyncClient:
    app = create_app(harness.settings, harness.sessions, env.client)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages")
    sign_in_as(http, harness.settings, test_user("collector"), harness.sessions)
    return http


async def test_a_refused_promise_is_shown_in_the_form_and_nothing_is_written(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, "F-7101")
        async with _client(harness, env) as http:
            page = f"/app/customers/{harness.customer_id}?invoice=F-7101"
            token = await csrf_for(http, page)
            refused = await http.post(
                "/app/invoices/F-7101/actions/promise",
                data={"csrf_token": token, "promised_date": (due - timedelta(days=30)).isoformat()},
                headers=HTMX,
            )
            assert refused.status_code == 200
            assert 'role="alert"' in refused.text and "promised_date" in refused.text
            assert await _stage(harness, "F-7101") == "negotiation"
            with unit_of_work(harness.sessions) as session:
                assert session.query(Promise).count() == 0

            # Without htmx the whole page comes back, the reason inside the form, 422.
            whole = await http.post(
                "/app/invoices/F-7101/actions/promise",
                data={"csrf_token": token, "promised_date": "not a date"},
            )
            assert whole.status_code == 422
            assert "is not a date" in whole.text and 'id="action-promise" open' in whole.text

            # And no token, no action.
            forged = await http.post(
                "/app/invoices/F-7101/actions/promise",
                data={"promised_date": (due + timedelta(days=20)).isoformat()},
            )
            assert forged.status_code == 403
            assert await _stage(harness, "F-7101") == "negotiation"


async def test_call_dispute_and_escalation_from_the_customer_page(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, "F-7201")
        async with _client(harness, env) as http:
            page = f"/app/customers/{harness.customer_id}?invoice=F-7201"
            token = await csrf_for(http, page)
            called = await http.post(
                "/app/invoices/F-7201/actions/call",
                data={"csrf_token": token, "outcome": "no_answer", "note": "buzón de voz"},
                headers=HTMX,
            )
            assert called.status_code == 204
            assert called.headers["HX-Redirect"] == f"{page}&done=call"

            escalated = await http.post(
                "/app/invoices/F-7201/actions/escalate",
                data={"csrf_token": token, "reason": "no responde hace 30 días"},
            )
            assert escalated.status_code == 303
            assert await _stage(harness, "F-7201") == "handoff"

            # Handed off: a dispute now is the validator's to refuse, in place.
            late = await http.post(
                "/app/invoices/F-7201/actions/escalate",
                data={"csrf_token": token, "reason": "otra vez"},
                headers=HTMX,
            )
            assert late.status_code == 200 and 'role="alert"' in late.text

        with unit_of_work(harness.sessions) as session:
            kinds = [
                row.kind for row in session.query(Interaction).filter_by(invoice_number="F-7201")
            ]
            assert "call_logged" in kinds and "handed_off" in kinds
            assert (
                session.get(Handoff, "F-7201")
                or session.query(Handoff).filter_by(invoice_number="F-7201").count() == 1
            )


async def test_a_dispute_pauses_the_invoice_and_the_page_shows_the_case(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, "F-7301")
        async with _client(harness, env) as http:
            page = f"/app/customers/{harness.customer_id}?invoice=F-7301"
            token = await csrf_for(http, page)
            disputed = await http.post(
                "/app/invoices/F-7301/actions/dispute",
                data={"csrf_token": token, "code": "quality", "reason": "llegó dañado"},
            )
            assert disputed.status_code == 303
            assert await _stage(harness, "F-7301") == "disputed"
            # The case reaches the ledger by an activity, just after the Update answered.
            await until(env, lambda: _cases(harness, "F-7301") == 1, "the case in the ledger")
            shown = await http.get(disputed.headers["location"])
            assert 'data-stage="disputed"' in shown.text
            assert "Disputa abierta: la cobranza de esta factura queda en pausa." in shown.text
            assert "llegó dañado" in shown.text
