"""The debtors' portal: the link in every message opens the customer's statement, with pay,
"I already paid", "promise to pay" and "dispute". No sign-in: the signed token in the path is
the credential, and everything shown or done is scoped to the one customer it names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.errors import InvalidRequest, parse_amount
from api.portal import actions
from api.portal.actions import WorkflowUnavailable
from api.portal.payment_links import PaymentLinkFailed, payment_link_provider
from api.portal.payment_links.service import open_payment_link
from api.portal.statement import Statement, StatementLine, load_statement, owned_invoice
from api.portal.tokens import PortalAccess, PortalLinkExpired, PortalLinkInvalid, read_portal_token
from api.web.csrf import verify_csrf
from api.web.i18n import LANGUAGE_COOKIE, request_language, supported, translate
from api.web.templating import render
from dunning_policies.money import currency_exponent
from dunning_policies.state import DisputeCode
from ledger.db import unit_of_work

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()

SOURCE = "portal"
NOT_CONNECTED = WorkflowUnavailable("Temporal is not connected")
CSRF = [Depends(verify_csrf)]
MAX_TEXT = 1000


@dataclass
class Visit:
    """A request with a good token: who it is for, their statement, their language."""

    token: str
    access: PortalAccess
    statement: Statement
    lang: str

    @property
    def path(self) -> str:
        return f"/portal/{self.token}"


@dataclass
class Problem:
    """A form the page shows again, open, with what was wrong (or what the workflow said)."""

    form: str
    message: str
    values: dict[str, str] = field(default_factory=dict)


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _customer_language(request: Request, locale: str) -> str:
    """The switch's cookie, else the customer's own language (es_CL → es), else Spanish."""
    return supported(request.cookies.get(LANGUAGE_COOKIE)) or supported(locale) or "es"


def _closed_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    lang = request_language(request)
    return render(
        request,
        "portal/closed.html",
        {
            "title": translate(lang, title),
            "message": message,
            "company": _context(request).settings.company_name,
        },
        status_code=status_code,
        language=lang,
    )


def _link_closed(request: Request, error: Exception) -> HTMLResponse:
    settings = _context(request).settings
    lang = request_language(request)
    email = settings.bank_transfer_email
    if isinstance(error, PortalLinkExpired):
        body = translate(lang, "portal.expired.body", days=settings.portal_link_days, email=email)
        return _closed_page(request, 410, "portal.expired.title", body)
    body = translate(lang, "portal.invalid_link.body", email=email)
    return _closed_page(request, 404, "portal.invalid_link.title", body)


def _not_yours(request: Request, visit: Visit) -> HTMLResponse:
    log.warning("portal: invoice of another customer asked for", customer=visit.access.customer_id)
    return render(
        request,
        "portal/closed.html",
        {
            "title": translate(visit.lang, "error.not_found.title"),
            "message": translate(visit.lang, "portal.not_found.body"),
            "company": _context(request).settings.company_name,
            "back": visit.path,
        },
        status_code=404,
        language=visit.lang,
    )


async def _visit(request: Request, token: str) -> Visit | HTMLResponse:
    context = _context(request)
    try:
        access = read_portal_token(context.settings, token)
    except (PortalLinkExpired, PortalLinkInvalid) as error:
        return _link_closed(request, error)

    def read() -> Statement | None:
        with unit_of_work(context.sessions) as session:
            return load_statement(session, access.customer_id, highlight=access.invoice_number)

    statement = await run_in_threadpool(read)
    if statement is None:
        return _link_closed(request, PortalLinkInvalid("the customer is not in the ledger"))
    return Visit(token, access, statement, _customer_language(request, statement.customer.locale))


async def _invoice_for_action(request: Request, visit: Visit, number: str) -> str | None:
    """``number`` when it is the visitor's own invoice (open or not); None otherwise."""
    if visit.statement.line(number) is not None:
        return number

    def read() -> bool:
        with unit_of_work(_context(request).sessions) as session:
            return owned_invoice(session, visit.access.customer_id, number) is not None

    if not number or not await run_in_threadpool(read):
        return None
    return number


def _statement_page(
    request: Request,
    visit: Visit,
    *,
    status_code: int = 200,
    done: str | None = None,
    problem: Problem | None = None,
) -> HTMLResponse:
    settings = _context(request).settings
    statement = visit.statement
    return render(
        request,
        "portal/statement.html",
        {
            "company": settings.company_name,
            "contact_email": settings.bank_transfer_email,
            "portal_path": visit.path,
            "statement": statement,
            "highlighted": statement.highlighted,
            "highlight_closed": statement.settled_highlight,
            "dispute_codes": list(DisputeCode),
            "default_invoice": (statement.highlighted or _first(statement.lines)),
            "today": statement.today.isoformat(),
            "done": done,
            "problem": problem,
        },
        status_code=status_code,
        language=visit.lang,
    )


def _first(lines: tuple[StatementLine, ...]) -> StatementLine | None:
    return lines[0] if lines else None


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def parse_typed_amount(raw: str, currency: str) -> tuple[bool, Decimal | None]:
    """(valid, amount) from what a person types: "$1.250.000" for pesos, "12,500.50" for
    Mexican pesos. An empty field is valid and means "all that is due"."""
    text = raw.strip().replace(" ", "").replace("$", "")
    if not text:
        return True, None
    # Pesos have no cents, so a dot or comma in them groups thousands; in a currency with
    # cents the comma groups thousands (as Mexico writes them) and the dot marks cents.
    grouping = ".," if currency_exponent(currency) == 0 else ","
    for mark in grouping:
        text = text.replace(mark, "")
    try:
        return True, parse_amount(text, currency)
    except (InvalidRequest, ValueError):
        return False, None


def _claim_problem(
    reference: str, paid_on: date | None, today: date, valid_amount: bool
) -> str | None:
    """The message key for what is wrong with an "I already paid" form, if anything."""
    if not reference.strip():
        return "portal.invalid.reference"
    if paid_on is None or paid_on > today:
        return "portal.invalid.date"
    if not valid_amount:
        return "portal.invalid.amount"
    return None


def _currency_of(visit: Visit, number: str) -> str:
    line = visit.statement.line(number)
    if line is not None:
        return line.currency
    return visit.statement.totals[0][0] if visit.statement.totals else "CLP"


@router.get("/portal/{token}")
async def statement_page(request: Request, token: str) -> Response:
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    return _statement_page(request, visit)


@router.post("/portal/{token}/pay", dependencies=CSRF)
async def pay(
    request: Request,
    token: str,
    invoice: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    currency: Annotated[str, Form()] = "",
) -> Response:
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    statement, lang = visit.statement, visit.lang
    if "all" in invoice:
        wanted = currency or (statement.totals[0][0] if statement.totals else "")
        lines = [line for line in statement.lines if line.currency == wanted]
    else:
        lines = []
        for number in dict.fromkeys(invoice):
            line = statement.line(number)
            if line is None:
                if await _invoice_for_action(request, visit, number) is None:
                    return _not_yours(request, visit)
                closed = translate(lang, "portal.refused.closed", number=number)
                return _statement_page(
                    request, visit, status_code=422, problem=Problem("pay", closed)
                )
            lines.append(line)
    if not lines:
        choose = Problem("pay", translate(lang, "portal.invalid.choose"))
        return _statement_page(request, visit, status_code=422, problem=choose)
    if len({line.currency for line in lines}) > 1:
        one_currency = Problem("pay", translate(lang, "portal.invalid.currency"))
        return _statement_page(request, visit, status_code=422, problem=one_currency)
    context = _context(request)
    try:
        provider = payment_link_provider(context.settings)
    except ValueError as error:  # a provider chosen but not configured
        log.error("portal: payment link provider not configured", error=str(error))
        failed = translate(lang, "portal.pay.failed", email=context.settings.bank_transfer_email)
        return _statement_page(request, visit, status_code=502, problem=Problem("pay", failed))
    try:
        _, created = await run_in_threadpool(
            open_payment_link,
            context.sessions,
            provider,
            statement.customer,
            lines,
            return_url=f"{context.settings.portal_base_url}/{token}",
            language=lang,
        )
    except PaymentLinkFailed as error:
        log.error(
            "portal: payment link failed",
            customer=statement.customer.id,
            invoices=[line.number for line in lines],
            error=str(error),
        )
        failed = translate(lang, "portal.pay.failed", email=context.settings.bank_transfer_email)
        return _statement_page(request, visit, status_code=502, problem=Problem("pay", failed))
    if created.url is not None:
        return RedirectResponse(created.url, status_code=303)
    return render(
        request,
        "portal/bank_transfer.html",
        {
            "company": context.settings.company_name,
            "portal_path": visit.path,
            "instructions": created.instructions,
            "lines": lines,
        },
        language=lang,
    )


@router.post("/portal/{token}/promise", dependencies=CSRF)
async def promise(
    request: Request,
    token: str,
    invoice: Annotated[str, Form()] = "",
    promised_date: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
) -> Response:
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    if await _invoice_for_action(request, visit, invoice) is None:
        return _not_yours(request, visit)
    values = {"invoice": invoice, "promised_date": promised_date, "amount": amount}
    day = _parse_date(promised_date)
    valid_amount, parsed_amount = parse_typed_amount(amount, _currency_of(visit, invoice))
    if day is None or not valid_amount:
        key = "portal.invalid.date" if day is None else "portal.invalid.amount"
        bad = Problem("promise", translate(visit.lang, key), values)
        return _statement_page(request, visit, status_code=422, problem=bad)
    context = _context(request)
    if context.client is None:
        return _refused(request, visit, "promise", NOT_CONNECTED, values)
    try:
        await actions.promise_to_pay(
            context.client,
            context.sessions,
            invoice,
            promised_date=day,
            amount=parsed_amount,
            source=SOURCE,
            note=None,
        )
    except (InvalidRequest, WorkflowUnavailable) as error:
        return _refused(request, visit, "promise", error, values)
    done = translate(
        visit.lang, "portal.done.promise", number=invoice, day=actions.long_date(visit.lang, day)
    )
    return _statement_page(request, visit, done=done)


@router.post("/portal/{token}/dispute", dependencies=CSRF)
async def dispute(
    request: Request,
    token: str,
    invoice: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    if await _invoice_for_action(request, visit, invoice) is None:
        return _not_yours(request, visit)
    values = {"invoice": invoice, "code": code, "reason": reason}
    if code not in {c.value for c in DisputeCode}:
        bad = Problem("dispute", translate(visit.lang, "portal.invalid.reason"), values)
        return _statement_page(request, visit, status_code=422, problem=bad)
    text = reason.strip()[:MAX_TEXT] or translate(visit.lang, f"portal.dispute_code.{code}")
    context = _context(request)
    if context.client is None:
        return _refused(request, visit, "dispute", NOT_CONNECTED, values)
    try:
        await actions.open_dispute(
            context.client,
            context.sessions,
            invoice,
            code=DisputeCode(code),
            reason=text,
            source=SOURCE,
        )
    except (InvalidRequest, WorkflowUnavailable) as error:
        return _refused(request, visit, "dispute", error, values)
    return _statement_page(
        request, visit, done=translate(visit.lang, "portal.done.dispute", number=invoice)
    )


@router.post("/portal/{token}/paid", dependencies=CSRF)
async def already_paid(
    request: Request,
    token: str,
    invoice: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    paid_on: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
) -> Response:
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    if await _invoice_for_action(request, visit, invoice) is None:
        return _not_yours(request, visit)
    values = {"invoice": invoice, "reference": reference, "paid_on": paid_on, "amount": amount}
    day = _parse_date(paid_on)
    valid_amount, parsed_amount = parse_typed_amount(amount, _currency_of(visit, invoice))
    wrong = _claim_problem(reference, day, visit.statement.today, valid_amount)
    if wrong is not None or day is None:
        bad = Problem("paid", translate(visit.lang, wrong or "portal.invalid.date"), values)
        return _statement_page(request, visit, status_code=422, problem=bad)
    reference = reference.strip()[:MAX_TEXT]
    context = _context(request)
    if context.client is None:
        return _refused(request, visit, "paid", NOT_CONNECTED, values)
    try:
        await actions.report_payment_claim(
            context.client,
            context.sessions,
            invoice,
            reference=reference,
            paid_on=day,
            amount=parsed_amount,
            source=SOURCE,
        )
    except (InvalidRequest, WorkflowUnavailable) as error:
        return _refused(request, visit, "paid", error, values)
    done = translate(visit.lang, "portal.done.paid", reference=reference)
    return _statement_page(request, visit, done=done)


def _refused(
    request: Request, visit: Visit, form: str, error: Exception, values: dict[str, Any]
) -> HTMLResponse:
    invoice = str(values.get("invoice", ""))
    log.info(
        "portal: request refused",
        customer=visit.access.customer_id,
        invoice=invoice,
        form=form,
        reason=str(error),
    )
    status_code, message = actions.refusal(visit.lang, error, invoice)
    problem = Problem(form, message, {k: str(v) for k, v in values.items()})
    return _statement_page(request, visit, status_code=status_code, problem=problem)
