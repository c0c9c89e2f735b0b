"""The invoices behind a dashboard figure: GET /app/invoices?<figure's filter>, any role.

Each filter names one query of ``ledger.reports.contributions``, the same one the figure is
summed from, so the list's total row is the figure. ``currency``, ``as_of`` and ``period``
say which dashboard the figure came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.web.i18n import catalogue, request_language, translate
from api.web.session import WebUser, signed_in
from api.web.templating import render
from dunning_policies.money import validate_currency
from ledger.reports import contributions as c
from ledger.reports.contributions import Contribution
from ledger.reports.drilldown import InvoicePage, invoices_behind
from ledger.reports.window import ReportWindow

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 200
DEFAULT_CURRENCY = "CLP"
DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3660


class BadFilter(ValueError):
    """A query parameter that names no figure (shown on the page, not a crash)."""


def today() -> date:
    return datetime.now(UTC).date()


def parse_day(text: str | None, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise BadFilter(text) from error


@dataclass(frozen=True)
class Scope:
    """Which dashboard a figure belongs to: its currency, day and period."""

    currency: str
    as_of: date
    period_days: int

    @property
    def window(self) -> ReportWindow:
        return ReportWindow(self.as_of, self.currency, self.period_days)

    def query(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "period": str(self.period_days),
        }

    def invoices_href(self, **figure: str) -> str:
        """The drill-down page of one figure, e.g. ``invoices_href(aging="31-60")``."""
        return "/app/invoices?" + urlencode({**self.query(), **figure})

    def dashboard_href(self) -> str:
        return "/app/dashboard?" + urlencode(self.query())


@dataclass(frozen=True)
class Figure:
    """A parsed filter: the query behind a figure, what to call it and what its items are."""

    contribution: Contribution
    title: str
    items: str | None
    """``payments``, ``promises`` or ``tasks``: what the count column counts; None: invoices."""
    money: bool = True


FIGURE_PARAMS = (
    "open",
    "current",
    "aging",
    "opening",
    "sales",
    "paid_from",
    "paid_to",
    "forecast",
    "recovered_channel",
    "recovered_policy",
    "recovered_step",
    "promise",
    "task",
)


def _say(lang: str, key: str, **values: object) -> str:
    return translate(lang, f"dashboard.{key}", **values)


def channel_name(lang: str, channel: str) -> str:
    if channel == c.NO_CONTACT:
        return _say(lang, "recovery.no_contact")
    key = f"channel.{channel}"
    return translate(lang, key) if key in catalogue() else channel


def stage_name(lang: str, stage: str | None) -> str:
    if stage is None:
        return ""
    key = f"stage.{stage}"
    return translate(lang, key) if key in catalogue() else stage


def figure_for(scope: Scope, params: dict[str, str], lang: str) -> Figure:
    """The figure a drill-down link names; ``BadFilter`` when it names none."""
    window = scope.window
    if params.get("aging"):
        bucket = c.BUCKETS_BY_KEY.get(params["aging"])
        if bucket is None:
            raise BadFilter(params["aging"])
        name = _say(lang, f"bucket.{bucket.key}")
        return Figure(
            c.closing_balances(window, bucket), _say(lang, "filter.aging", bucket=name), None
        )
    if params.get("current"):
        current = c.BUCKETS_BY_KEY["current"]
        return Figure(c.closing_balances(window, current), _say(lang, "filter.current"), None)
    if params.get("opening"):
        return Figure(c.opening_balances(window), _say(lang, "filter.opening"), None)
    if params.get("sales"):
        return Figure(c.credit_sales(window), _say(lang, "filter.sales"), None)
    if params.get("paid_from") or params.get("paid_to"):
        first = parse_day(params.get("paid_from"), window.start_day)
        last = parse_day(params.get("paid_to"), window.as_of)
        title = _say(lang, "filter.collected", first=first.isoformat(), last=last.isoformat())
        return Figure(c.collected(scope.currency, first, last), title, "payments")
    if params.get("forecast") == "promised":
        return Figure(
            c.promised_this_week(window), _say(lang, "filter.forecast_promised"), "promises"
        )
    if params.get("forecast") == "due":
        return Figure(c.due_this_week(window), _say(lang, "filter.forecast_due"), None)
    if params.get("recovered_channel"):
        channel = params["recovered_channel"]
        title = _say(lang, "filter.recovered_channel", channel=channel_name(lang, channel))
        return Figure(c.recovered(window, channel=channel), title, "payments")
    if params.get("recovered_step"):
        policy, step = params.get("recovered_policy", c.NO_CONTACT), params["recovered_step"]
        title = (
            _say(lang, "filter.recovered_no_contact")
            if step == c.NO_CONTACT
            else _say(lang, "filter.recovered_step", step=step, policy=policy)
        )
        return Figure(c.recovered(window, policy=policy, step=step), title, "payments")
    if params.get("promise") in c.PROMISE_OUTCOMES:
        status = params["promise"]
        contribution = c.settled_promises(window, status)
        return Figure(contribution, _say(lang, f"filter.promise_{status}"), "promises")
    if params.get("task") in ("open", "past_sla"):
        status = params["task"]
        contribution = c.open_tasks(window, past_sla=status == "past_sla")
        return Figure(contribution, _say(lang, f"filter.task_{status}"), "tasks", money=False)
    if params.get("open") or not any(params.get(name) for name in FIGURE_PARAMS):
        return Figure(c.closing_balances(window), _say(lang, "filter.open"), None)
    raise BadFilter(", ".join(f"{k}={v}" for k, v in params.items() if k in FIGURE_PARAMS))


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _load(context: AppContext, figure: Figure, page: int) -> InvoicePage:
    with context.sessions() as session:
        return invoices_behind(
            session, figure.contribution, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )


def scope_from(
    currency: str | None, as_of: str | None, period: int | None, default_currency: str
) -> Scope:
    try:
        code = validate_currency(currency or default_currency)
    except ValueError as error:
        raise BadFilter(str(currency)) from error
    return Scope(code, parse_day(as_of, today()), period or DEFAULT_PERIOD_DAYS)


@router.get("/app/invoices")
async def invoice_list(
    request: Request,
    user: Annotated[WebUser, Depends(signed_in())],
    currency: str | None = None,
    as_of: str | None = None,
    period: Annotated[int | None, Query(ge=1, le=MAX_PERIOD_DAYS)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    lang = request_language(request)
    params = {name: value for name in FIGURE_PARAMS if (value := request.query_params.get(name))}
    try:
        scope = scope_from(currency, as_of, period, DEFAULT_CURRENCY)
        figure = figure_for(scope, params, lang)
    except BadFilter as error:
        return render(
            request,
            "error.html",
            {
                "title": _say(lang, "invoices.bad_filter.title"),
                "message": _say(lang, "invoices.bad_filter", detail=str(error)),
                "back": "/app/dashboard",
            },
            status_code=400,
        )
    found = await run_in_threadpool(_load, _context(request), figure, page)
    first = (page - 1) * PAGE_SIZE + 1
    last = min(page * PAGE_SIZE, found.invoices)
    here: dict[str, Any] = {**scope.query(), **params}
    return render(
        request,
        "dashboard/invoices.html",
        {
            "section": "dashboard",
            "scope": scope,
            "figure": figure,
            "found": found,
            "page": page,
            "first": first,
            "last": last,
            "previous_href": (
                "/app/invoices?" + urlencode({**here, "page": page - 1}) if page > 1 else None
            ),
            "next_href": (
                "/app/invoices?" + urlencode({**here, "page": page + 1})
                if last < found.invoices
                else None
            ),
            "stage_name": lambda stage: stage_name(lang, stage),
            "back_href": scope.dashboard_href() if user.role in ("ops", "admin") else None,
        },
    )
