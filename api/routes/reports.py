"""The collection KPIs over HTTP: ``GET /v1/reports/{name}``, the same figures as
``dunning report NAME``, for operations (and admin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import status as http

from api.context import Context, problem, require
from api.routes.invoices import ERRORS
from api.schemas import Problem
from dunning_policies.money import validate_currency
from ledger.reports.dashboard import currencies_in_use
from ledger.reports.kpis import REPORT_NAMES, UnknownReport, build_report

router = APIRouter(prefix="/v1", tags=["reports"])

# The figures are the operations team's: who collects how well, and at what cost.
REPORT_READERS = Depends(require("ops"))
DEFAULT_PERIOD_DAYS = 90

REPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": Problem, "description": "No report by that name; the answer lists them."},
}


@router.get("/reports/{name}", dependencies=[REPORT_READERS], responses=REPORT_ERRORS)
def kpi_report(
    name: str,
    context: Context,
    start: Annotated[
        date | None, Query(alias="from", description="First day (default: `to` − 89 days).")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last day (default: today, UTC).")
    ] = None,
    currency: Annotated[
        str | None, Query(description="ISO 4217 (default: the ledger's most common).")
    ] = None,
    by: Annotated[
        Literal["segment", "customer"] | None, Query(description="aging: group the buckets.")
    ] = None,
    contact_days: Annotated[
        int, Query(ge=0, le=365, description="recovery: credit the last message this close.")
    ] = 7,
) -> dict[str, Any]:
    """A collection KPI (`dso`, `cei`, `aging`, `promise-kept`, `recovery`, `time-to-pay`,
    `at-risk`, `channel-cost`) for one currency over the days `from`–`to` (UTC, inclusive):
    the figure, its formula, its inputs and its breakdown. Money and ratios are decimal
    strings. The formulas, with worked examples, are in docs/KPIS.md."""
    if name not in REPORT_NAMES:
        raise problem(
            http.HTTP_404_NOT_FOUND,
            "name",
            f"no report {name!r}; the reports are {', '.join(REPORT_NAMES)}",
        )
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        raise problem(http.HTTP_422_UNPROCESSABLE_CONTENT, "from", f"{first} is after to {last}")
    if currency is not None:
        try:
            currency = validate_currency(currency)
        except ValueError as error:
            raise problem(http.HTTP_422_UNPROCESSABLE_CONTENT, "currency", str(error)) from error
    with context.sessions() as session:
        if currency is None:
            in_use = currencies_in_use(session)
            if not in_use:
                raise problem(http.HTTP_422_UNPROCESSABLE_CONTENT, "currency", "no invoices yet")
            currency = in_use[0]
        try:
            report = build_report(
                session,
                name,
                start=first,
                end=last,
                currency=currency,
                by=by,
                contact_days=contact_days,
                channel_prices=context.settings.channel_prices.get(currency),
            )
        except UnknownReport as error:
            raise problem(http.HTTP_404_NOT_FOUND, "name", str(error)) from error
    return report.as_dict()
