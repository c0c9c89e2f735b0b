"""The operations dashboard: GET /app/dashboard?currency=CLP&as_of=YYYY-MM-DD&period=90.

KPI cards, the aging of the book, this week's cash against a baseline forecast and recovery by
channel and step; every number links to the invoices behind it (api/web/invoice_list.py,
whose router this module's ``router`` includes).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.web import invoice_list
from api.web.charts import PALETTE, Bar, bar_chart, column_chart
from api.web.i18n import request_language, translate
from api.web.invoice_list import (
    DEFAULT_CURRENCY,
    MAX_PERIOD_DAYS,
    BadFilter,
    Scope,
    channel_name,
    scope_from,
)
from api.web.session import WebUser, signed_in
from api.web.templating import LOCALES, render
from dunning_policies.messages import format_money
from ledger.reports.contributions import NO_CONTACT
from ledger.reports.dashboard import (
    DashboardFigures,
    Total,
    currencies_in_use,
    dashboard_figures,
)

router = APIRouter(include_in_schema=False)
router.include_router(invoice_list.router)
PERIOD_CHOICES = (30, 60, 90, 180, 365)
BUCKET_COLOURS = ("#1e6b34", "#00657a", "#0b5cad", "#8a4b00", "#b00020", "#7a1020")


@dataclass(frozen=True)
class Link:
    """A number on the page and the drill-down list that adds up to it."""

    key: str
    text: str
    href: str


@dataclass(frozen=True)
class Card:
    title: str
    value: Link
    explanation: str
    details: tuple[tuple[str, Link], ...] = ()


class Numbers:
    """The page's number formats in one language: money, days, percentages, counts."""

    def __init__(self, lang: str, currency: str) -> None:
        self.lang = lang
        self.locale = LOCALES[lang]
        self.currency = currency

    def money(self, total: Total) -> str:
        return format_money(total.amount, total.currency, self.locale)

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def _one_decimal(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.0", locale=self.locale)

    def days(self, value: Decimal | None) -> str:
        if value is None:
            return translate(self.lang, "dashboard.no_data")
        return translate(self.lang, "dashboard.unit.days", value=self._one_decimal(value))

    def percent(self, value: Decimal | None) -> str:
        if value is None:
            return translate(self.lang, "dashboard.no_data")
        return translate(self.lang, "dashboard.unit.percent", value=self._one_decimal(value))


def _cards(figures: DashboardFigures, scope: Scope, n: Numbers) -> list[Card]:
    def say(key: str, **values: object) -> str:
        return translate(n.lang, f"dashboard.{key}", **values)

    def link(key: str, text: str, **figure: str) -> Link:
        return Link(key, text, scope.invoices_href(**figure))

    total_ar = link("total_ar", n.money(figures.total_ar), open="1")
    current_ar = link("current_ar", n.money(figures.current_ar), current="1")
    sales = link("credit_sales", n.money(figures.credit_sales), sales="1")
    opening = link("opening_ar", n.money(figures.opening_ar), opening="1")
    promises = figures.promises
    days = figures.period_days
    return [
        Card(
            say("kpi.total_ar"),
            total_ar,
            say("kpi.total_ar.formula", count=n.count(figures.total_ar.count)),
            ((say("kpi.current_ar"), current_ar),),
        ),
        Card(
            say("kpi.dso"),
            link("dso", n.days(figures.dso), open="1"),
            say("kpi.dso.formula", days=days),
            ((say("kpi.credit_sales", days=days), sales),),
        ),
        Card(
            say("kpi.bpdso"),
            link("bpdso", n.days(figures.best_possible_dso), current="1"),
            say("kpi.bpdso.formula", days=days),
        ),
        Card(
            say("kpi.add"),
            link("add", n.days(figures.average_days_delinquent), open="1"),
            say("kpi.add.formula"),
        ),
        Card(
            say("kpi.cei"),
            link("cei", n.percent(figures.cei), open="1"),
            say("kpi.cei.formula"),
            ((say("kpi.opening_ar"), opening), (say("kpi.credit_sales", days=days), sales)),
        ),
        Card(
            say("kpi.promises"),
            link("promise_rate", n.percent(promises.rate), promise="kept"),
            say("kpi.promises.formula"),
            (
                (
                    say("kpi.promises.kept"),
                    link("promises_kept", n.count(promises.kept.count), promise="kept"),
                ),
                (
                    say("kpi.promises.broken"),
                    link("promises_broken", n.count(promises.broken.count), promise="broken"),
                ),
            ),
        ),
        Card(
            say("kpi.tasks"),
            link("tasks_past_sla", n.count(figures.tasks.past_sla), task="past_sla"),
            say("kpi.tasks.formula"),
            (
                (
                    say("kpi.tasks.open"),
                    link("tasks_open", n.count(figures.tasks.open), task="open"),
                ),
            ),
        ),
    ]


@dataclass(frozen=True)
class Row:
    """One line of a chart's table: its name, its count and its amount, both links."""

    label: str
    count: Link
    amount: Link


def _aging(figures: DashboardFigures, scope: Scope, n: Numbers) -> tuple[Markup, list[Row]]:
    rows, bars = [], []
    for line, colour in zip(figures.aging, BUCKET_COLOURS, strict=True):
        label = translate(n.lang, f"dashboard.bucket.{line.bucket}")
        href = scope.invoices_href(aging=line.bucket)
        key = f"aging_{line.bucket}"
        shown = n.money(line.invoices)
        rows.append(
            Row(
                label,
                Link(key + "_count", n.count(line.invoices.count), href),
                Link(key, shown, href),
            )
        )
        bars.append(Bar(label, line.invoices.minor, shown, colour))
    title = translate(n.lang, "dashboard.aging.chart", currency=figures.currency)
    return column_chart("aging-chart", title, bars), rows


def _recovery(
    figures: DashboardFigures, scope: Scope, n: Numbers
) -> tuple[Markup, list[Row], Markup, list[Row]]:
    channel_rows, channel_bars = [], []
    for index, line in enumerate(figures.by_channel):
        label = channel_name(n.lang, line.channel)
        href = scope.invoices_href(recovered_channel=line.channel)
        key = f"channel_{line.channel}"
        shown = n.money(line.payments)
        channel_rows.append(
            Row(
                label,
                Link(key + "_count", n.count(line.payments.count), href),
                Link(key, shown, href),
            )
        )
        channel_bars.append(Bar(label, line.payments.minor, shown, PALETTE[index % len(PALETTE)]))
    step_rows, step_bars = [], []
    for index, step in enumerate(figures.by_step):
        no_contact = step.step == NO_CONTACT
        label = (
            translate(n.lang, "dashboard.recovery.no_contact")
            if no_contact
            else translate(n.lang, "dashboard.recovery.step", step=step.step, policy=step.policy)
        )
        href = scope.invoices_href(recovered_policy=step.policy, recovered_step=step.step)
        key = f"step_{step.policy}_{step.step}"
        shown = n.money(step.payments)
        step_rows.append(
            Row(
                label,
                Link(key + "_count", n.count(step.payments.count), href),
                Link(key, shown, href),
            )
        )
        step_bars.append(Bar(label, step.payments.minor, shown, PALETTE[index % len(PALETTE)]))
    by_channel = bar_chart(
        "channel-chart", translate(n.lang, "dashboard.recovery.by_channel"), channel_bars
    )
    by_step = bar_chart("step-chart", translate(n.lang, "dashboard.recovery.by_step"), step_bars)
    return by_channel, channel_rows, by_step, step_rows


def _week(figures: DashboardFigures, scope: Scope, n: Numbers) -> dict[str, object]:
    week = figures.week
    collected = Link(
        "week_collected",
        n.money(week.collected),
        scope.invoices_href(
            paid_from=week.week_start.isoformat(), paid_to=week.week_end.isoformat()
        ),
    )
    promised = Link(
        "week_promised", n.money(week.promised), scope.invoices_href(forecast="promised")
    )
    due = Link("week_due", n.money(week.due), scope.invoices_href(forecast="due"))
    share = None if week.on_time_share is None else week.on_time_share * 100
    say = translate
    bars = [
        Bar(
            say(n.lang, "dashboard.week.collected"),
            week.collected.minor,
            collected.text,
            PALETTE[1],
        ),
        Bar(
            say(n.lang, "dashboard.week.forecast"),
            week.forecast.minor,
            n.money(week.forecast),
            PALETTE[0],
        ),
    ]
    chart = column_chart(
        "week-chart",
        say(
            n.lang,
            "dashboard.week.chart",
            start=week.week_start.isoformat(),
            end=week.week_end.isoformat(),
        ),
        bars,
    )
    return {
        "chart": chart,
        "collected": collected,
        "promised": promised,
        "due": due,
        "share": n.percent(share),
        "expected": n.money(week.expected_from_due),
        "forecast": n.money(week.forecast),
    }


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _load(
    context: AppContext,
    currency: str | None,
    as_of: str | None,
    period: int,
) -> tuple[list[str], Scope, DashboardFigures]:
    """``BadFilter`` for an unreadable ``as_of``; a currency not in use falls back to the
    most common one."""
    with context.sessions() as session:
        currencies = currencies_in_use(session)
        asked = (currency or "").strip().upper()
        chosen = asked if asked in currencies else (currencies[0] if currencies else None)
        scope = scope_from(chosen, as_of, period, DEFAULT_CURRENCY)
        figures = dashboard_figures(
            session, as_of=scope.as_of, currency=scope.currency, period_days=scope.period_days
        )
    return currencies, scope, figures


@router.get("/app/dashboard")
async def dashboard(
    request: Request,
    user: Annotated[WebUser, Depends(signed_in("ops"))],
    currency: str | None = None,
    as_of: str | None = None,
    period: Annotated[int, Query(ge=1, le=MAX_PERIOD_DAYS)] = invoice_list.DEFAULT_PERIOD_DAYS,
) -> Response:
    lang = request_language(request)
    bad_day = None
    try:
        loaded = await run_in_threadpool(_load, _context(request), currency, as_of, period)
    except BadFilter:
        bad_day = as_of
        loaded = await run_in_threadpool(_load, _context(request), currency, None, period)
    currencies, scope, figures = loaded
    n = Numbers(lang, scope.currency)
    aging_chart, aging_rows = _aging(figures, scope, n)
    channel_chart, channel_rows, step_chart, step_rows = _recovery(figures, scope, n)
    periods = sorted({*PERIOD_CHOICES, scope.period_days})
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "section": "dashboard",
            "figures": figures,
            "scope": scope,
            "currencies": currencies or [scope.currency],
            "periods": periods,
            "bad_day": bad_day,
            "cards": _cards(figures, scope, n),
            "aging_chart": aging_chart,
            "aging_rows": aging_rows,
            "aging_total": Link(
                "aging_total", n.money(figures.total_ar), scope.invoices_href(open="1")
            ),
            "aging_total_count": n.count(figures.total_ar.count),
            "week": _week(figures, scope, n),
            "channel_chart": channel_chart,
            "channel_rows": channel_rows,
            "step_chart": step_chart,
            "step_rows": step_rows,
            "recovered": Link(
                "recovered",
                n.money(figures.recovered),
                scope.invoices_href(
                    paid_from=figures.period_start.isoformat(), paid_to=figures.as_of.isoformat()
                ),
            ),
            "recovered_count": n.count(figures.recovered.count),
        },
    )
