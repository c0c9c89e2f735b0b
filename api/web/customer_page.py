"""Customer 360: every invoice and the balance, the bitácora across channels and invoices,
and — for the invoice in focus — the workflow's live status and the collector's actions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from api.context import AppContext
from api.web.i18n import request_language, translate
from api.web.session import WebUser, signed_in
from api.web.templating import render
from dunning_policies.state import DisputeCode
from ledger.repositories.customer_view import CustomerView, load_customer_view
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceStatus

log = structlog.get_logger()
router = APIRouter(include_in_schema=False)
STATUS_TIMEOUT = timedelta(seconds=3)
CALL_OUTCOMES = ("reached", "no_answer", "wrong_number", "left_message", "refused")
# The bitácora shows what a collector reads; ids and provider bookkeeping stay in the ledger.
SHOWN_DETAILS = (
    "outcome",
    "note",
    "promised_date",
    "amount",
    "reference",
    "reason",
    "code",
    "dispute_reason",
    "collector",
    "queue",
    "tone",
    "moved_by",
    "consolidated_with",
    "until",
    "agency",
    "credit_amount",
    "upheld",
)
NEXT_ACTIONS = (
    ("send ", "customer.next.send"),
    ("give up ", "customer.next.give_up"),
    ("open task ", "customer.next.open_task"),
    ("escalate", "customer.next.escalate"),
    ("check promise", "customer.next.check_promise"),
    ("hand off", "customer.next.hand_off"),
    ("close", "customer.next.close"),
    ("wait", "customer.next.wait"),
    ("withdraw", "customer.next.withdraw"),
    ("record instalments", "customer.next.instalments"),
    ("check instalment", "customer.next.check_instalment"),
    ("dispute deadline", "customer.next.dispute_deadline"),
)


def next_action_key(action: str) -> str | None:
    for prefix, key in NEXT_ACTIONS:
        if action.startswith(prefix):
            return key
    return None


async def live_status(client: Client | None, workflow_id: str) -> InvoiceStatus | None:
    """The workflow's own answer, or None when it is closed or Temporal is slow: the page
    then shows the ledger's projection alone."""
    if client is None:
        return None
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(workflow_id).query(
                InvoiceDunningWorkflow.status, rpc_timeout=STATUS_TIMEOUT
            ),
            STATUS_TIMEOUT.total_seconds(),
        )
    except (RPCError, WorkflowQueryFailedError, TimeoutError) as error:
        log.info("workflow status unavailable", workflow_id=workflow_id, error=str(error))
        return None


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def customer_page(
    request: Request,
    user: WebUser,
    customer_id: str,
    *,
    task: str | None = None,
    invoice: str | None = None,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _context(request)

    def load() -> CustomerView | None:
        with context.sessions() as session:
            return load_customer_view(session, customer_id)

    view = await run_in_threadpool(load)
    lang = request_language(request)
    if view is None:
        return render(
            request,
            "error.html",
            {"title": translate(lang, "error.not_found.title"), "message": customer_id},
            status_code=404,
        )
    focus_task = next((t for t in view.tasks if t.id == task), None)
    numbers = {i.number for i in view.invoices}
    focus_number = (
        invoice
        if invoice in numbers
        else focus_task.invoice_number
        if focus_task
        else view.tasks[0].invoice_number
        if view.tasks
        else view.open_invoices[0].number
        if view.open_invoices
        else None
    )
    focus = next((i for i in view.invoices if i.number == focus_number), None)
    if focus_task is None and focus is not None:
        focus_task = next((t for t in view.tasks if t.invoice_number == focus.number), None)
    status = await live_status(context.client, focus.workflow_id) if focus else None
    values: dict[str, Any] = {
        "section": "inbox",
        "view": view,
        "focus": focus,
        "focus_task": focus_task,
        "status": status,
        "next_action_key": next_action_key,
        "shown_details": SHOWN_DETAILS,
        "dispute_codes": [code.value for code in DisputeCode],
        "call_outcomes": CALL_OUTCOMES,
        "done": done,
        "errors": errors or {},
        "now": datetime.now(UTC),
        "zone": view.customer.timezone,
    }
    return render(request, "customer/customer.html", values, status_code=status_code)


@router.get("/app/customers/{customer_id}")
async def customer(
    request: Request,
    customer_id: str,
    user: Annotated[WebUser, Depends(signed_in())],
    task: str | None = None,
    invoice: str | None = None,
    done: str | None = None,
) -> Response:
    return await customer_page(request, user, customer_id, task=task, invoice=invoice, done=done)
