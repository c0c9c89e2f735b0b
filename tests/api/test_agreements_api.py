"""Promises, payment plans and disputes through the HTTP API, on the real workflow: the real
app, the real worker, the time-skipping server."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.collector_tasks import complete_task
from api.errors import InvalidRequest
from api.webhooks.testing import twilio_signature
from config.settings import Settings
from dunning_policies.state import Instalment, TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import Task
from ledger.repositories.plans import PlanRepository
from ledger.repositories.promises import PromiseRepository
from tests.api.support import ApiHarness, invoice_body, running_api
from tests.api.test_erp_api import dates, eventually
from tests.api.test_webhooks_api import PHONE, PUBLIC, TOKEN, sent, webhook_settings
from tests.ledger_support import make_invoice, sqlite_url
from tests.workflows.harness import (
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)


async def issue(api: ApiHarness, env: WorkflowEnvironment, number: str) -> None:
    today, due = await dates(env)
    answer = await api.post(
        "/v1/invoices", invoice_body(number, today.isoformat(), due.isoformat())
    )
    assert answer.status_code == 201, answer.text
    await reported(api, number)


async def reported(api: ApiHarness, number: str) -> None:
    """The workflow's first report: until then nothing could answer a promise (409)."""
    await eventually(
        api, lambda: api.get(f"/v1/invoices/{number}"), lambda b: b["stage"] != "issued", number
    )


def timeline_has(kind: str):
    return lambda body: any(e["kind"] == kind for e in body["timeline"])


async def test_a_promise_is_made_by_the_portal_and_a_bad_one_names_its_field(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path) as api:
        await issue(api, env, "AG-100")
        today, _ = await dates(env)
        promised = today + timedelta(days=5)

        too_late = await api.post(
            "/v1/invoices/AG-100/promise",
            {"promised_date": (today + timedelta(days=200)).isoformat()},
        )
        assert too_late.status_code == 422, too_late.text
        assert too_late.json()["detail"]["field"] == "promised_date"
        assert "must be between" in too_late.json()["detail"]["message"]
        too_much = await api.post(
            "/v1/invoices/AG-100/promise",
            {"promised_date": promised.isoformat(), "amount": "9999999"},
            role="collector",
        )
        assert too_much.status_code == 422 and too_much.json()["detail"]["field"] == "amount"
        unknown = await api.post("/v1/invoices/AG-404/promise", {"promised_date": "2030-01-01"})
        assert unknown.status_code == 404 and unknown.json()["detail"]["field"] == "number"
        forbidden = await api.post(
            "/v1/invoices/AG-100/promise", {"promised_date": promised.isoformat()}, role="ops"
        )
        assert forbidden.status_code == 403

        made = await api.post(
            "/v1/invoices/AG-100/promise",
            {"promised_date": promised.isoformat(), "source": "portal", "note": "aguinaldo"},
        )
        assert made.status_code == 200, made.text
        assert made.json()["next_action"]["action"] == "check promise"
        detail = await eventually(
            api,
            lambda: api.get("/v1/invoices/AG-100"),
            lambda b: b["stage"] == "promise" and timeline_has("promise_made")(b),
            "the promise in the ledger",
        )
        [line] = [e for e in detail["timeline"] if e["kind"] == "promise_made"]
        assert line["detail"]["source"] == "portal"
        with unit_of_work(api.harness.sessions) as session:
            [row] = PromiseRepository.from_session(session).list_for_invoice("AG-100")
            assert (row.kind, row.source, row.status, row.promised_date) == (
                "promise",
                "portal",
                "open",
                promised,
            )


async def test_a_payment_plan_is_written_then_agreed_and_a_refused_one_leaves_nothing(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path) as api:
        await issue(api, env, "AG-200")
        today, _ = await dates(env)
        first, second = today + timedelta(days=15), today + timedelta(days=45)

        short = await api.post(
            "/v1/invoices/AG-200/payment-plan",
            {
                "instalments": [
                    {"due_on": first.isoformat(), "amount": "600000"},
                    {"due_on": second.isoformat(), "amount": "600000"},
                ]
            },
        )
        assert short.status_code == 422, short.text
        assert short.json()["detail"]["field"] == "instalments"
        assert "add up to 1200000" in short.json()["detail"]["message"]
        with unit_of_work(api.harness.sessions) as session:
            assert PlanRepository.from_session(session).list_for_invoice("AG-200") == []

        agreed = await api.post(
            "/v1/invoices/AG-200/payment-plan",
            {
                "instalments": [
                    {"due_on": first.isoformat(), "amount": "625000"},
                    {"due_on": second.isoformat(), "amount": "625000"},
                ],
                "source": "collector",
            },
            role="collector",
        )
        assert agreed.status_code == 201, agreed.text
        assert agreed.json()["plan_id"] == "plan1"
        assert [i["number"] for i in agreed.json()["instalments"]] == [1, 2]

        await eventually(
            api,
            lambda: api.get("/v1/invoices/AG-200"),
            lambda b: b["stage"] == "payment_plan" and timeline_has("plan_agreed")(b),
            "the plan in the ledger",
        )
        with unit_of_work(api.harness.sessions) as session:
            plans = PlanRepository.from_session(session)
            [plan] = plans.list_for_invoice("AG-200")
            assert (plan.id, plan.status, plan.source) == ("AG-200/plan1", "active", "collector")
            assert [
                (i.number, i.due_on, i.amount_minor, i.status) for i in plans.instalments(plan.id)
            ] == [
                (1, first, 625_000, "due"),
                (2, second, 625_000, "due"),
            ]
        again = await api.post(
            "/v1/invoices/AG-200/payment-plan",
            {"instalments": [{"due_on": first.isoformat(), "amount": "1250000"}]},
        )
        assert again.status_code == 422 and "plan1 is still running" in again.text
        with unit_of_work(api.harness.sessions) as session:
            assert len(PlanRepository.from_session(session).list_for_invoice("AG-200")) == 1


async def test_a_dispute_opens_a_case_the_desk_upholds_it_with_a_credit(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path) as api:
        await issue(api, env, "AG-300")
        opened = await api.post(
            "/v1/invoices/AG-300/disputes",
            {"code": "not_received", "reason": "la mercadería no llegó"},
            role="collector",
        )
        assert opened.status_code == 202 and opened.json()["delivered_to_workflow"] is True
        cases = await eventually(
            api,
            lambda: api.get("/v1/disputes", role="ops"),
            lambda b: len(b["items"]) == 1,
            "the open case",
        )
        [case] = cases["items"]
        assert (case["case_id"], case["code"], case["owner"], case["status"]) == (
            "D-AG-300-1",
            "not_received",
            "disputes",
            "open",
        )
        assert (await api.get("/v1/disputes", role="ops", owner="ana")).json()["items"] == []
        assert (await api.get("/v1/disputes", role="erp")).status_code == 403

        collector_resolves = await api.post(
            "/v1/invoices/AG-300/disputes/resolve", {"upheld": True}, role="collector"
        )
        assert collector_resolves.status_code == 403
        rejected_credit = await api.post(
            "/v1/invoices/AG-300/disputes/resolve",
            {"upheld": False, "credit_amount": "1000"},
            role="ops",
        )
        assert rejected_credit.status_code == 422
        assert rejected_credit.json()["detail"]["field"] == "credit_amount"
        resolved = await api.post(
            "/v1/invoices/AG-300/disputes/resolve",
            {"upheld": True, "note": "guía sin firma", "credit_amount": "250000"},
            role="ops",
        )
        assert resolved.status_code == 202
        await eventually(
            api,
            lambda: api.get("/v1/invoices/AG-300"),
            lambda b: b["amount_due"] == "1000000",
            "the credit applied",
        )
        upheld = (await api.get("/v1/disputes", role="ops", status="upheld")).json()["items"]
        assert [(c["case_id"], c["credit_amount"]) for c in upheld] == [("D-AG-300-1", "250000")]
        assert (await api.get("/v1/disputes", role="ops")).json()["items"] == []


async def test_a_debtor_s_reply_with_a_date_becomes_a_promise_on_the_oldest_open_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_api(env, tmp_path, **webhook_settings()) as api:
        today, due = await dates(env)
        for number, due_on in (("AG-401", due + timedelta(days=7)), ("AG-400", due)):
            body = invoice_body(number, today.isoformat(), due_on.isoformat())
            assert (await api.post("/v1/invoices", body)).status_code == 201
            await reported(api, number)
        sent(api, "AG-401", "whatsapp", "SM0400", PHONE)
        promised = today + timedelta(days=6)
        url = f"{PUBLIC}/webhooks/twilio/inbound"
        form = {
            "MessageSid": "SM0401",
            "From": f"whatsapp:{PHONE}",
            "To": "whatsapp:+15550001111",
            "Body": f"PAGO EL {promised:%d-%m-%Y}",
        }
        answer = await api.http.post(
            "/webhooks/twilio/inbound",
            data=form,
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, form)},
        )
        assert answer.status_code == 200

        detail = await eventually(
            api,
            lambda: api.get("/v1/invoices/AG-400"),
            timeline_has("promise_made"),
            "the promise on the oldest invoice",
        )
        [line] = [e for e in detail["timeline"] if e["kind"] == "promise_made"]
        assert line["detail"]["source"] == "debtor_reply"
        assert line["detail"]["promised_date"] == promised.isoformat()
        later = (await api.get("/v1/invoices/AG-401")).json()
        assert not timeline_has("promise_made")(later)
        with unit_of_work(api.harness.sessions) as session:
            assert session.scalars(select(Task).where(Task.kind == "reply")).all() == []

        report = await api.get("/v1/reports/promises", role="collector", customer_id="C-42")
        assert report.status_code == 200
        assert report.json() == {
            "customer_id": "C-42",
            "since": None,
            "kept": 0,
            "broken": 0,
            "rate": None,
        }


async def test_a_collector_s_payment_plan_writes_its_instalments_and_a_refused_one_does_not(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env, number = time_skipping_env, "AG-500"
    async with running_worker(env.client, tmp_path) as harness:
        today = await today_in_santiago(env)
        due = next_tuesday_after(today, 10)
        await harness.issue(number, due, issued_on=today)
        await sleep_until(env, at_local(due + timedelta(days=15), 11))
        task_id = f"T-{number}-collector_call-1"

        def plan(second: str) -> TaskCompletion:
            return TaskCompletion(
                task_id=task_id,
                outcome=TaskOutcome.PAYMENT_PLAN,
                collector="ana",
                instalments=(
                    Instalment(number=1, due_on=due + timedelta(days=30), amount=Decimal(625_000)),
                    Instalment(number=2, due_on=due + timedelta(days=60), amount=Decimal(second)),
                ),
            )

        with pytest.raises(InvalidRequest, match="add up to"):
            await complete_task(harness.client, harness.sessions, plan("1"))
        with unit_of_work(harness.sessions) as session:
            assert PlanRepository.from_session(session).list_for_invoice(number) == []

        await complete_task(harness.client, harness.sessions, plan("625000"))

        def agreed() -> bool:
            with unit_of_work(harness.sessions) as session:
                found = PlanRepository.from_session(session).get(f"{number}/plan1")
                return found is not None and found.status == "active"

        await until(env, agreed, "the collector's plan agreed in the ledger")
        with unit_of_work(harness.sessions) as session:
            plans = PlanRepository.from_session(session)
            stored = plans.get(f"{number}/plan1")
            assert stored is not None and (stored.source, stored.task_id) == ("collector", task_id)
            assert [i.amount_minor for i in plans.instalments(f"{number}/plan1")] == [
                625_000,
                625_000,
            ]


async def test_before_its_workflow_first_reports_an_invoice_cannot_take_a_promise(
    tmp_path: Path,
) -> None:
    # No Temporal here: the answer comes from the ledger alone (stage "issued").
    sessions = make_session_factory(create_ledger_engine(sqlite_url(tmp_path)))
    with unit_of_work(sessions) as session:
        make_invoice(session, "AG-0")
    key = create_key(sessions, role="erp", name="erp").key
    app = create_app(Settings(data_dir=tmp_path), sessions, client=cast(Client, object()))
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as http:
        promise = await http.post(
            "/v1/invoices/AG-0/promise", json={"promised_date": "2030-01-01"}, headers=headers
        )
        plan = await http.post(
            "/v1/invoices/AG-0/payment-plan",
            json={"instalments": [{"due_on": "2030-01-01", "amount": "1250000"}]},
            headers=headers,
        )
    for answer in (promise, plan):
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"]["field"] == "invoice"
        assert "has not started running yet" in answer.json()["detail"]["message"]
    with unit_of_work(sessions) as session:
        assert PlanRepository.from_session(session).list_for_invoice("AG-0") == []
