"""The collector's actions on an invoice, from the customer page. Each is a Temporal Update on
the invoice's workflow (api.case_actions, api.collector_tasks); a validator's refusal comes
back into the form that asked, in place, and nothing is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import case_actions
from api.agreements import WorkflowUnavailable
from api.collector_tasks import complete_task
from api.context import AppContext
from api.errors import InvalidRequest, parse_amount
from api.web.csrf import verify_csrf
from api.web.customer_page import customer_page
from api.web.instalments import split_instalments
from api.web.session import WebUser, signed_in
from api.web.templating import render
from dunning_policies.money import from_minor
from dunning_policies.state import CallResult, DisputeCode, TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.models import Customer, Invoice, Task

log = structlog.get_logger()
router = APIRouter(include_in_schema=False)
ACTIONS = ("call", "promise", "plan", "dispute", "escalate", "snooze", "no_contact")

Form_ = Annotated[str, Form()]
OptionalForm = Form_


class _Case:
    """The invoice an action is about, its open task (if any) and who acts."""

    def __init__(self, invoice: Invoice, task: Task | None, zone: str, user: WebUser) -> None:
        self.invoice = invoice
        self.task = task
        self.zone = zone
        self.user = user

    @property
    def collector(self) -> str:
        return f"{self.user.name} <{self.user.email}>"


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def _load(request: Request, number: str, user: WebUser) -> _Case | None:
    def load() -> _Case | None:
        with _context(request).sessions() as session:
            invoice = session.get(Invoice, number)
            if invoice is None:
                return None
            task = (
                session.query(Task)
                .filter(Task.invoice_number == number, Task.status == "open")
                .order_by(Task.created_at.desc())
                .first()
            )
            customer = session.get(Customer, invoice.customer_id)
            session.expunge_all()
            return _Case(invoice, task, customer.timezone if customer else "UTC", user)

    return await run_in_threadpool(load)


async def _act(
    request: Request,
    number: str,
    action: str,
    user: WebUser,
    perform: Callable[[_Case], Awaitable[object]],
) -> Response:
    case = await _load(request, number, user)
    if case is None:
        return HTMLResponse("", status_code=404)
    bound = log.bind(
        invoice=number, customer=case.invoice.customer_id, workflow=case.invoice.workflow_id
    )
    try:
        await perform(case)
    except InvalidRequest as error:
        bound.info("collector action refused", action=action, user=user.id, reason=str(error))
        return await _refused(request, case, action, str(error))
    except ValueError as error:  # a form value our own parsing refused
        return await _refused(request, case, action, str(error))
    except WorkflowUnavailable as error:
        bound.warning("collector action unanswered", action=action, user=user.id)
        return await _refused(request, case, action, str(error))
    bound.info("collector action done", action=action, user=user.id)
    target = f"/app/customers/{case.invoice.customer_id}?invoice={number}&done={action}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _refused(request: Request, case: _Case, action: str, message: str) -> Response:
    if request.headers.get("hx-request"):
        # 200, not 4xx: htmx swaps only successful responses into the form's result slot.
        return render(request, "customer/refused.html", {"message": message})
    return await customer_page(
        request,
        case.user,
        case.invoice.customer_id,
        invoice=case.invoice.number,
        errors={action: message},
        status_code=422,
    )


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as error:
        raise InvalidRequest(field, f"{raw!r} is not a date (YYYY-MM-DD)") from error


def _amount(raw: str, currency: str) -> Decimal | None:
    return parse_amount(raw, currency) if raw.strip() else None


def _local_moment(raw: str, zone: str, field: str) -> datetime:
    """A datetime-local input (the collector's wall clock in the customer's zone) → UTC."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError as error:
        raise InvalidRequest(field, f"{raw!r} is not a date and time") from error
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def _completion(case: _Case, outcome: TaskOutcome, **fields: object) -> TaskCompletion:
    assert case.task is not None
    return TaskCompletion(
        task_id=case.task.id,
        outcome=outcome,
        collector=case.collector,
        **fields,
    )


@router.post("/app/invoices/{number}/actions/promise", dependencies=[Depends(verify_csrf)])
async def promise(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    promised_date: Form_,
    amount: OptionalForm = "",
    note: OptionalForm = "",
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        day = _date(promised_date, "promised_date")
        value = _amount(amount, case.invoice.currency)
        if case.task is not None:
            completion = _completion(
                case, TaskOutcome.PROMISE_TO_PAY, promised_date=day, amount=value, note=note or None
            )
            return await complete_task(context.temporal, context.sessions, completion)
        return await case_actions.promise_to_pay(
            context.temporal,
            context.sessions,
            number,
            promised_date=day,
            amount=value,
            source="collector",
            note=note or None,
        )

    return await _act(request, number, "promise", user, perform)


@router.post("/app/invoices/{number}/actions/plan", dependencies=[Depends(verify_csrf)])
async def plan(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    instalment_count: Form_,
    first_due: Form_,
    frequency: Form_ = "monthly",
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        try:
            count = int(instalment_count)
        except ValueError as error:
            raise InvalidRequest(
                "instalment_count", f"{instalment_count!r} is not a number"
            ) from error
        total = from_minor(case.invoice.amount_due_minor, case.invoice.currency)
        instalments = split_instalments(
            total, case.invoice.currency, count, _date(first_due, "first_due"), frequency
        )
        if case.task is not None:
            completion = _completion(case, TaskOutcome.PAYMENT_PLAN, instalments=instalments)
            return await complete_task(context.temporal, context.sessions, completion)
        return await case_actions.agree_payment_plan(
            context.temporal,
            context.sessions,
            number,
            instalments=[(i.due_on, i.amount) for i in instalments],
            source="collector",
        )

    return await _act(request, number, "plan", user, perform)


@router.post("/app/invoices/{number}/actions/dispute", dependencies=[Depends(verify_csrf)])
async def dispute(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    code: Form_,
    reason: Form_,
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        try:
            dispute_code = DisputeCode(code)
        except ValueError as error:
            raise InvalidRequest("code", f"unknown dispute reason {code!r}") from error
        if not reason.strip():
            raise InvalidRequest("reason", "say what the customer disputes")
        if case.task is not None:
            completion = _completion(
                case, TaskOutcome.DISPUTE, dispute_code=dispute_code, note=reason.strip()
            )
            return await complete_task(context.temporal, context.sessions, completion)
        return await case_actions.open_dispute(
            context.temporal,
            context.sessions,
            number,
            code=dispute_code,
            reason=reason.strip(),
            source="collector",
        )

    return await _act(request, number, "dispute", user, perform)


@router.post("/app/invoices/{number}/actions/call", dependencies=[Depends(verify_csrf)])
async def call(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    outcome: Form_,
    note: OptionalForm = "",
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        try:
            result = CallResult(outcome)
        except ValueError as error:
            raise InvalidRequest("outcome", f"unknown call outcome {outcome!r}") from error
        return await case_actions.record_call(
            context.temporal,
            context.sessions,
            number,
            outcome=result,
            note=note.strip(),
            collector=case.collector,
        )

    return await _act(request, number, "call", user, perform)


@router.post("/app/invoices/{number}/actions/escalate", dependencies=[Depends(verify_csrf)])
async def escalate(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    reason: Form_,
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        if not reason.strip():
            raise InvalidRequest("reason", "say why it goes to the agency now")
        return await case_actions.escalate_to_handoff(
            context.temporal,
            context.sessions,
            number,
            reason=reason.strip(),
            collector=case.collector,
        )

    return await _act(request, number, "escalate", user, perform)


@router.post("/app/invoices/{number}/actions/snooze", dependencies=[Depends(verify_csrf)])
async def snooze(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    until: Form_,
    note: OptionalForm = "",
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        if case.task is None:
            raise InvalidRequest("task", "this invoice has no open task to snooze")
        return await case_actions.snooze_task(
            context.temporal,
            context.sessions,
            case.task.id,
            until=_local_moment(until, case.zone, "until"),
            collector=case.collector,
            note=note.strip() or None,
        )

    return await _act(request, number, "snooze", user, perform)


@router.post("/app/invoices/{number}/actions/no_contact", dependencies=[Depends(verify_csrf)])
async def no_contact(
    request: Request,
    number: str,
    user: Annotated[WebUser, Depends(signed_in())],
    note: OptionalForm = "",
) -> Response:
    context = _context(request)

    async def perform(case: _Case) -> object:
        if case.task is None:
            raise InvalidRequest("task", "this invoice has no open task")
        completion = _completion(case, TaskOutcome.NO_CONTACT, note=note.strip() or None)
        return await complete_task(context.temporal, context.sessions, completion)

    return await _act(request, number, "no_contact", user, perform)
