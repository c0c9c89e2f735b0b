"""The ERP's HTTP API end to end: the real app, the real worker, the time-skipping server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.api.support import ApiHarness, invoice_body, running_api
from tests.workflows.harness import next_tuesday_after, today_in_santiago


async def eventually(
    api: ApiHarness, fetch: Callable[[], Awaitable[httpx.Response]], check, what: str
) -> dict:
    """Poll until the ledger shows it (the workflow reports through an activity)."""
    body: dict = {}
    for _ in range(40):
        response = await fetch()
        body = response.json()
        if response.status_code == 200 and check(body):
            return body
        await api.env.sleep(timedelta(seconds=1))
    raise AssertionError(f"{what}: last answer {body}")


async def dates(env: WorkflowEnvironment) -> tuple[date, date]:
    today = await today_in_santiago(env)
    return today, next_tuesday_after(today, 10)


def stage_is(stage: str):
    return lambda body: body["stage"] == stage


async def test_issuing_is_idempotent_and_a_conflict_names_the_fields(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        body = invoice_body("A-100", today.isoformat(), due.isoformat())
        created = await api.post("/v1/invoices", body)
        assert created.status_code == 201, created.text
        assert created.json() == {
            "number": "A-100",
            "workflow_id": "invoice-A-100",
            "segment": "standard",
            "policy": "standard",
            "policy_version": created.json()["policy_version"],
            "created": True,
        }
        again = await api.post("/v1/invoices", body)
        assert again.status_code == 200 and again.json()["created"] is False

        changed = {**body, "amount": "1300000", "due_on": (due + timedelta(days=1)).isoformat()}
        conflict = await api.post("/v1/invoices", changed)
        assert conflict.status_code == 409
        message = conflict.json()["detail"]["message"]
        assert "amount (1250000 then, 1300000 now)" in message
        assert "due date" in message and "currency" not in message

        detail = await eventually(
            api,
            lambda: api.get("/v1/invoices/A-100"),
            lambda b: b["next_action"] == "send preventive",
            "the workflow's first report",
        )
        assert detail["stage"] == "current" and detail["amount_due"] == "1250000"
        assert [e["kind"] for e in detail["timeline"]] == ["issued"]


async def test_bad_fields_are_named(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        as_float = await api.post(
            "/v1/invoices", invoice_body("A-1", today.isoformat(), due.isoformat(), amount=12.5)
        )
        assert as_float.status_code == 422
        assert as_float.json()["detail"]["field"] == "amount"
        assert "not a float" in as_float.json()["detail"]["message"]

        backwards = await api.post(
            "/v1/invoices", invoice_body("A-2", due.isoformat(), today.isoformat())
        )
        assert backwards.status_code == 422
        assert backwards.json()["detail"]["field"] == "due"

        unknown = await api.post(
            "/v1/invoices",
            invoice_body("A-3", today.isoformat(), due.isoformat(), currency="XYZ"),
        )
        assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "currency"
        assert (await api.get("/v1/invoices/A-404")).status_code == 404


async def test_a_due_date_change_replans_and_a_credit_note_lowers_then_closes(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        await api.post("/v1/invoices", invoice_body("A-200", today.isoformat(), due.isoformat()))
        first = await eventually(
            api,
            lambda: api.get("/v1/invoices/A-200"),
            lambda b: b["next_action_at"] is not None,
            "first plan",
        )
        later = due + timedelta(days=14)
        moved = await api.http.patch(
            "/v1/invoices/A-200",
            json={"due_on": later.isoformat(), "reason": "plazo extendido"},
            headers=api.as_role("erp"),
        )
        assert moved.status_code == 200 and moved.json()["due_on"] == later.isoformat()
        replanned = await eventually(
            api,
            lambda: api.get("/v1/invoices/A-200"),
            lambda b: (
                b["due_on"] == later.isoformat() and b["next_action_at"] != first["next_action_at"]
            ),
            "replanned after the new due date",
        )
        assert replanned["timeline"][-1]["kind"] == "invoice_amended"

        note = {"id": "NC-1", "invoice_number": "A-200", "amount": "250000", "reason": "dev."}
        credited = await api.post("/v1/credit-notes", note)
        assert credited.status_code == 201 and credited.json()["delivered_to_workflow"]
        assert (await api.post("/v1/credit-notes", note)).status_code == 200
        clash = await api.post("/v1/credit-notes", {**note, "amount": "300000"})
        assert clash.status_code == 409 and clash.json()["detail"]["field"] == "id"
        await eventually(
            api,
            lambda: api.get("/v1/invoices/A-200"),
            lambda b: b["amount_due"] == "1000000",
            "amount due after the credit note",
        )

        rest = {"id": "NC-2", "invoice_number": "A-200", "amount": "1000000"}
        assert (await api.post("/v1/credit-notes", rest)).status_code == 201
        closed = await eventually(
            api,
            lambda: api.get("/v1/invoices/A-200"),
            stage_is("credited"),
            "closed by credit notes",
        )
        assert closed["amount_due"] == "0" and closed["closed_reason"] == "credited"


async def test_cancel_stops_the_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        await api.post("/v1/invoices", invoice_body("A-300", today.isoformat(), due.isoformat()))
        cancelled = await api.post("/v1/invoices/A-300/cancel", {"reason": "anulada en el ERP"})
        assert cancelled.status_code == 200
        await eventually(
            api, lambda: api.get("/v1/invoices/A-300"), stage_is("cancelled"), "cancelled"
        )
        assert (await api.post("/v1/invoices/A-999/cancel", {"reason": "x"})).status_code == 404


async def test_cash_for_an_unknown_invoice_waits_and_is_applied_when_it_arrives(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        early = {
            "invoice_number": "A-400",
            "amount": "1250000",
            "currency": "CLP",
            "reference": "TRX-1",
        }
        kept = await api.post("/v1/payments", early)
        assert kept.status_code == 202, kept.text
        assert kept.json()["status"] == "unapplied"
        assert (await api.post("/v1/payments", early)).json()["created"] is False

        await api.post("/v1/invoices", invoice_body("A-400", today.isoformat(), due.isoformat()))
        paid = await eventually(
            api, lambda: api.get("/v1/invoices/A-400"), stage_is("paid"), "paid by early cash"
        )
        kinds = [e["kind"] for e in paid["timeline"]]
        assert kinds[:2] == ["issued", "payment_received"] and "message_sent" not in kinds


async def test_a_payment_by_customer_goes_to_the_oldest_invoices_first(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        await api.post(
            "/v1/invoices",
            invoice_body(
                "A-502", today.isoformat(), (due + timedelta(days=7)).isoformat(), amount="500000"
            ),
        )
        await api.post(
            "/v1/invoices",
            invoice_body("A-501", today.isoformat(), due.isoformat(), amount="300000"),
        )
        paid = await api.post(
            "/v1/payments",
            {"customer_id": "C-42", "amount": "400000", "currency": "CLP", "reference": "T-9"},
        )
        assert paid.status_code == 200, paid.text
        assert [(a["invoice_number"], a["amount"]) for a in paid.json()["allocations"]] == [
            ("A-501", "300000"),
            ("A-502", "100000"),
        ]
        await eventually(api, lambda: api.get("/v1/invoices/A-501"), stage_is("paid"), "A-501")
        await eventually(
            api,
            lambda: api.get("/v1/invoices/A-502"),
            lambda b: b["amount_due"] == "400000",
            "A-502 partly paid",
        )
        statement = (await api.get("/v1/customers/C-42", role="collector")).json()
        assert statement["balances"] == {"CLP": "400000"}
        assert [i["number"] for i in statement["open_items"]] == ["A-502"]

        overpaid = await api.post(
            "/v1/payments",
            {"customer_id": "C-42", "amount": "450000", "currency": "CLP", "reference": "T-10"},
        )
        assert [(a["invoice_number"], a["amount"]) for a in overpaid.json()["allocations"]] == [
            ("A-502", "450000")
        ]
        await eventually(
            api,
            lambda: api.get("/v1/customers/C-42"),
            lambda b: b["credits"] == {"CLP": "50000"} and b["open_items"] == [],
            "overpayment as credit",
        )


async def test_invoices_are_listed_with_filters_and_pages(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        for i in range(5):
            await api.post(
                "/v1/invoices",
                invoice_body(f"A-6{i}", today.isoformat(), (due + timedelta(days=i)).isoformat()),
            )
        first = (await api.get("/v1/invoices", customer="C-42", page=1, page_size=2)).json()
        assert first["total"] == 5 and [i["number"] for i in first["items"]] == ["A-60", "A-61"]
        last = (await api.get("/v1/invoices", customer="C-42", page=3, page_size=2)).json()
        assert [i["number"] for i in last["items"]] == ["A-64"]
        assert (await api.get("/v1/invoices", segment="high_risk")).json()["total"] == 0
        assert (await api.get("/v1/invoices", overdue="true")).json()["total"] == 0
        await eventually(
            api,
            lambda: api.get("/v1/invoices", stage="current"),
            lambda b: b["total"] == 5,
            "every projection written by its workflow",
        )
