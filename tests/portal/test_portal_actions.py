"""The portal's actions on a real invoice workflow: the real app, the real worker, the
time-skipping server. A promise and a dispute reach the workflow (and so its timeline, the
bitácora); a refusal of the workflow's validator is told on the page, in place."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.portal.tokens import PortalAccess, portal_token, read_portal_token
from dunning_policies.language import Channel
from tests.api.support import ApiHarness, running_api
from tests.api.test_agreements_api import issue
from tests.api.test_erp_api import dates
from tests.portal.support import WEB_SECRET, csrf_token_in, santiago_today
from tests.workflows.harness import RecordingSender, at_local, running_worker, sleep_until
from tests.workflows.test_payments import issue as issue_invoice
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceStatus

CUSTOMER = "C-42"  # tests.api.support.invoice_body's customer


def token_for(api: ApiHarness, number: str) -> str:
    settings = api.harness.settings.model_copy(update={"web_secret": SecretStr(WEB_SECRET)})
    return portal_token(settings, CUSTOMER, number)


async def status(api: ApiHarness, number: str) -> InvoiceStatus:
    handle = api.harness.client.get_workflow_handle(f"invoice-{number}")
    answer: InvoiceStatus = await handle.query(InvoiceDunningWorkflow.status)
    return answer


async def open_portal(api: ApiHarness, number: str) -> tuple[str, str]:
    token = token_for(api, number)
    page = await api.http.get(f"/portal/{token}")
    assert page.status_code == 200, page.text
    assert number in page.text
    return token, csrf_token_in(page.text)


async def test_a_promise_reaches_the_workflow_and_a_refused_one_is_told_in_place(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path, web_secret=SecretStr(WEB_SECRET)) as api:
        await issue(api, env, "PT-100")
        token, csrf = await open_portal(api, "PT-100")
        today, _ = await dates(env)

        too_late = await api.http.post(
            f"/portal/{token}/promise",
            data={
                "csrf_token": csrf,
                "invoice": "PT-100",
                "promised_date": (today + timedelta(days=200)).isoformat(),
            },
        )
        assert too_late.status_code == 422, too_late.text
        assert re.search(
            r'role="alert" id="promise-problem">Elige una fecha entre el ', too_late.text
        )
        assert (await status(api, "PT-100")).promise is None

        promised = today + timedelta(days=5)
        made = await api.http.post(
            f"/portal/{token}/promise",
            data={
                "csrf_token": csrf,
                "invoice": "PT-100",
                "promised_date": promised.isoformat(),
                "amount": "600000",
            },
        )
        assert made.status_code == 200, made.text
        assert re.search(
            r'role="status">Gracias. No te enviaremos recordatorios de la factura PT-100 hasta el',
            made.text,
        )
        after = await status(api, "PT-100")
        assert after.stage == "promise"
        assert after.promise is not None
        assert (after.promise.promised_date, after.promise.source) == (promised, "portal")
        assert str(after.promise.amount) == "600000"
        [event] = [e for e in after.timeline if e.kind == "promise_made"]
        assert event.detail["source"] == "portal"


async def test_a_dispute_reaches_the_workflow_and_then_a_promise_is_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path, web_secret=SecretStr(WEB_SECRET)) as api:
        await issue(api, env, "PT-200")
        token, csrf = await open_portal(api, "PT-200")
        opened = await api.http.post(
            f"/portal/{token}/dispute",
            data={
                "csrf_token": csrf,
                "invoice": "PT-200",
                "code": "wrong_amount",
                "reason": "Cobraron dos veces el flete",
            },
        )
        assert opened.status_code == 200, opened.text
        assert "Recibimos tu reclamo sobre la factura PT-200" in opened.text
        disputed = await status(api, "PT-200")
        assert disputed.stage == "disputed"
        [event] = [e for e in disputed.timeline if e.kind == "dispute_opened"]
        assert event.detail["reason"] == "Cobraron dos veces el flete"
        assert event.detail["source"] == "portal"
        assert disputed.dispute is not None and disputed.dispute.code == "wrong_amount"

        today, _ = await dates(env)
        refused = await api.http.post(
            f"/portal/{token}/promise",
            data={
                "csrf_token": csrf,
                "invoice": "PT-200",
                "promised_date": (today + timedelta(days=3)).isoformat(),
            },
        )
        assert refused.status_code == 422
        assert re.search(
            r'role="alert" id="promise-problem">Esta factura tiene un reclamo', refused.text
        )
        assert (await status(api, "PT-200")).promise is None

        twice = await api.http.post(
            f"/portal/{token}/dispute",
            data={"csrf_token": csrf, "invoice": "PT-200", "code": "other", "reason": ""},
        )
        assert twice.status_code == 422
        assert re.search(r'role="alert" id="dispute-problem">Ya recibimos un reclamo', twice.text)


async def test_i_already_paid_reaches_the_workflow_as_a_payment_claim(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path, web_secret=SecretStr(WEB_SECRET)) as api:
        await issue(api, env, "PT-300")
        token, csrf = await open_portal(api, "PT-300")
        claim = {
            "csrf_token": csrf,
            "invoice": "PT-300",
            "reference": "TRX-99812",
            "paid_on": santiago_today().isoformat(),
            "amount": "1250000",
        }
        answer = await api.http.post(f"/portal/{token}/paid", data=claim)
        assert answer.status_code == 200, answer.text
        assert re.search(
            r'role="status">Gracias. Buscaremos tu pago \(referencia TRX-99812\)', answer.text
        )
        claimed = await status(api, "PT-300")
        assert claimed.promise is not None and claimed.promise.kind == "payment_claim"
        [event] = [e for e in claimed.timeline if e.kind == "payment_claimed"]
        assert (event.detail["reference"], event.detail["source"]) == ("TRX-99812", "portal")

        again = await api.http.post(f"/portal/{token}/paid", data=claim)
        assert again.status_code == 422
        assert re.search(r'role="alert" id="paid-problem">Ya nos avisaste de un pago', again.text)


async def test_i_already_paid_closes_an_open_collector_task(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path, web_secret=SecretStr(WEB_SECRET)) as api:
        await issue(api, env, "PT-400")
        _, due = await dates(env)
        await sleep_until(env, at_local(due + timedelta(days=15), 11))
        opened = await status(api, "PT-400")
        assert opened.open_task is not None, opened.stage
        token, csrf = await open_portal(api, "PT-400")
        answer = await api.http.post(
            f"/portal/{token}/paid",
            data={
                "csrf_token": csrf,
                "invoice": "PT-400",
                "reference": "TRX-4711",
                "paid_on": santiago_today().isoformat(),
            },
        )
        assert answer.status_code == 200, answer.text
        assert "Buscaremos tu pago (referencia TRX-4711)" in answer.text
        claimed = await status(api, "PT-400")
        assert claimed.open_task is None
        assert claimed.promise is not None and claimed.promise.kind == "payment_claim"
        assert any(e.kind == "payment_claimed" for e in claimed.timeline)


async def test_the_link_in_a_sent_message_opens_the_statement_of_that_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env, number = time_skipping_env, "PT-500"
    async with running_worker(env.client, tmp_path) as harness:
        due = await issue_invoice(env, harness, number)
        await sleep_until(env, at_local(due, 12))
        emails = cast(RecordingSender, harness.senders[Channel.EMAIL]).sent
        assert emails, "no reminder sent by the due day"
        base = re.escape(harness.settings.portal_base_url)
        links = {m.group(0) for m in (re.search(rf"{base}/\S+", e.body) for e in emails) if m}
        assert links, [e.body for e in emails]
        token = next(iter(links)).rsplit("/", 1)[1].rstrip(".,)")
        access = read_portal_token(harness.settings, token)
        assert access == PortalAccess(harness.customer_id, number)

        app = create_app(harness.settings, harness.sessions, env.client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            page = await http.get(f"/portal/{token}")
        assert page.status_code == 200, page.text
        assert f"Nuestro mensaje era sobre la factura {number}" in page.text
