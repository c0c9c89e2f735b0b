"""The collectors' inbox: open tasks, most urgent first (amount due × days past due × risk),
filtered by queue, segment and owner, with claim/assign and each task's SLA countdown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from babel.dates import format_timedelta
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api import case_actions
from api.context import AppContext
from api.errors import InvalidRequest
from api.web.csrf import verify_csrf
from api.web.i18n import request_language, translate
from api.web.session import WebUser, signed_in
from api.web.templating import LOCALES, render
from ledger.models import Task, User
from ledger.repositories.inbox import InboxFilter, InboxPage, InboxQuery

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
ASSIGNERS = ("ops", "admin")


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _now() -> datetime:
    return datetime.now(UTC)


def sla_text(lang: str, sla_due_at: datetime, now: datetime) -> str:
    """``en 3 horas`` / ``hace 2 días``: how long is left, or how long it has been late."""
    return format_timedelta(
        sla_due_at - now, granularity="minute", add_direction=True, locale=LOCALES[lang]
    )


def _load(
    context: AppContext, filters: InboxFilter, page: int, now: datetime
) -> tuple[InboxPage, list[tuple[str, str]]]:
    with context.sessions() as session:
        found = InboxQuery(session).page(
            filters, today=now.date(), now=now, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        people = [
            (row.id, row.name)
            for row in session.execute(
                select(User.id, User.name).where(User.disabled_at.is_(None)).order_by(User.name)
            )
        ]
    return found, people


@router.get("/app/inbox")
async def inbox(
    request: Request,
    user: Annotated[WebUser, Depends(signed_in())],
    queue: str | None = None,
    segment: str | None = None,
    owner: str | None = None,
    snoozed: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    done: str | None = None,
) -> Response:
    now = _now()
    filters = InboxFilter(
        queue=queue or None,
        segment=segment or None,
        owner=owner or None,
        me=user.id,
        include_snoozed=snoozed,
    )
    found, people = await run_in_threadpool(_load, _context(request), filters, page, now)
    lang = request_language(request)
    pages = max(1, -(-found.total // PAGE_SIZE))
    values: dict[str, Any] = {
        "section": "inbox",
        "found": found,
        "filters": filters,
        "people": people,
        "page": page,
        "pages": pages,
        "first_rank": (page - 1) * PAGE_SIZE + 1,
        "now": now,
        "sla": lambda due: sla_text(lang, due, now),
        "can_assign": user.role in ASSIGNERS,
        "done": done,
        "query": _query_string(queue, segment, owner, snoozed),
    }
    return render(request, "inbox/inbox.html", values)


def _query_string(queue: str | None, segment: str | None, owner: str | None, snoozed: bool) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (("queue", queue), ("segment", segment), ("owner", owner))
        if value
    ]
    if snoozed:
        parts.append("snoozed=true")
    return "&".join(parts)


@router.get("/app/inbox/top")
async def top_task(
    request: Request, user: Annotated[WebUser, Depends(signed_in())]
) -> RedirectResponse:
    """The first task of the collector's inbox (theirs and the unassigned), opened."""
    now = _now()

    def find() -> str | None:
        with _context(request).sessions() as session:
            query = InboxQuery(session)
            mine = query.top_task_id(InboxFilter(owner="me", me=user.id), today=now.date(), now=now)
            return mine or query.top_task_id(InboxFilter(), today=now.date(), now=now)

    task_id = await run_in_threadpool(find)
    return RedirectResponse(f"/app/tasks/{task_id}" if task_id else "/app/inbox", status_code=303)


@router.get("/app/tasks/{task_id}")
async def open_task(
    request: Request, task_id: str, user: Annotated[WebUser, Depends(signed_in())]
) -> Response:
    def find() -> Task | None:
        with _context(request).sessions() as session:
            return session.get(Task, task_id)

    task = await run_in_threadpool(find)
    if task is None:
        lang = request_language(request)
        return render(
            request,
            "error.html",
            {"title": translate(lang, "error.not_found.title"), "message": task_id},
            status_code=404,
        )
    return RedirectResponse(
        f"/app/customers/{task.customer_id}?task={task.id}&invoice={task.invoice_number}",
        status_code=303,
    )


@router.post("/app/tasks/{task_id}/claim", dependencies=[Depends(verify_csrf)])
async def claim(
    request: Request,
    task_id: str,
    user: Annotated[WebUser, Depends(signed_in())],
    back: Annotated[str, Form()] = "/app/inbox",
) -> Response:
    try:
        await case_actions.claim_task(_context(request).sessions, task_id, user.id)
    except InvalidRequest as error:
        return _refused(request, error)
    return RedirectResponse(_local(back), status_code=303)


@router.post("/app/tasks/{task_id}/assign", dependencies=[Depends(verify_csrf)])
async def assign(
    request: Request,
    task_id: str,
    user: Annotated[WebUser, Depends(signed_in(*ASSIGNERS))],
    assignee: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/app/inbox",
) -> Response:
    try:
        await case_actions.assign_task(_context(request).sessions, task_id, assignee)
    except InvalidRequest as error:
        return _refused(request, error)
    return RedirectResponse(_local(back), status_code=303)


def _local(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else "/app/inbox"


def _refused(request: Request, error: InvalidRequest) -> Response:
    lang = request_language(request)
    return render(
        request,
        "error.html",
        {"title": translate(lang, "inbox.refused"), "message": str(error)},
        status_code=409,
    )
