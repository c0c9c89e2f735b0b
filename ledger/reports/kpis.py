"""The collection KPIs by name, for ``dunning report NAME`` and ``GET /v1/reports/NAME``.

Every KPI is computed with SQL aggregates that run the same on SQLite and PostgreSQL, for one
currency over the days ``start`` to ``end``. The formulas, each with a worked example, are in
docs/KPIS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.reports import channel_costs, effort, receivables
from ledger.reports.channel_costs import DEFAULT_CHANNEL_PRICES
from ledger.reports.period import KpiPeriod, KpiReport
from ledger.reports.receivables import AGING_GROUPS

ChannelPrices = Mapping[str, Decimal]
"""Unit price of one message sent, by channel (``email``, ``sms``, ``whatsapp``, ``voice``),
in the report's currency."""

REPORT_NAMES = (
    "dso",
    "cei",
    "aging",
    "promise-kept",
    "recovery",
    "time-to-pay",
    "at-risk",
    "channel-cost",
)


POSTGRES_SETTINGS = (
    # Each query runs in well under a second; the JIT would first spend 100–300 ms compiling
    # it (on a large book the cost estimates cross jit_above_cost).
    "jit = off",
    # The per-invoice totals of payments (hundreds of thousands of groups) and the sorts of
    # recovery's attribution fit in memory instead of spilling to disk.
    "work_mem = '64MB'",
)
"""Set for the report's transaction only (``SET LOCAL``); measured with ``bench.reports``."""


class UnknownReport(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no report {name!r}; the reports are {', '.join(REPORT_NAMES)}")
        self.name = name


def build_report(
    session: Session,
    name: str,
    *,
    start: date,
    end: date,
    currency: str,
    by: str | None = None,
    contact_days: int = 7,
    channel_prices: ChannelPrices | None = None,
) -> KpiReport:
    """The KPI ``name`` for ``currency`` over ``start``–``end`` (inclusive, UTC days).

    ``by``: the aging's grouping (``segment`` or ``customer``); ``contact_days``: recovery's
    attribution window; ``channel_prices``: channel cost's unit prices (default: the
    currency's in ``DEFAULT_CHANNEL_PRICES``). Raises ``UnknownReport`` or ``ValueError``.
    """
    if contact_days < 0:
        raise ValueError(f"contact_days must not be negative, got {contact_days}")
    if by is not None and by not in AGING_GROUPS:
        raise ValueError(f"by must be one of {', '.join(AGING_GROUPS)}, not {by!r}")
    period = KpiPeriod(start, end, currency, contact_days)
    if session.get_bind().dialect.name == "postgresql":
        for setting in POSTGRES_SETTINGS:
            session.execute(text(f"SET LOCAL {setting}"))
    reports: dict[str, Callable[[], KpiReport]] = {
        "dso": lambda: receivables.dso(session, period),
        "cei": lambda: receivables.cei(session, period),
        "aging": lambda: receivables.aging(session, period, by),
        "promise-kept": lambda: effort.promise_kept(session, period),
        "recovery": lambda: effort.recovery(session, period),
        "time-to-pay": lambda: effort.time_to_pay(session, period),
        "at-risk": lambda: effort.at_risk(session, period),
        "channel-cost": lambda: channel_costs.channel_cost(session, period, channel_prices),
    }
    if name not in reports:
        raise UnknownReport(name)
    return reports[name]()


__all__ = [
    "AGING_GROUPS",
    "DEFAULT_CHANNEL_PRICES",
    "REPORT_NAMES",
    "ChannelPrices",
    "KpiPeriod",
    "KpiReport",
    "UnknownReport",
    "build_report",
]
