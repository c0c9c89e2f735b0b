"""``dunning report NAME``: a collection KPI over a period, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from cli.runtime import console, fail, print_json, runtime
from dunning_policies.money import validate_currency
from ledger.reports.dashboard import currencies_in_use
from ledger.reports.kpis import AGING_GROUPS, REPORT_NAMES, KpiReport, UnknownReport, build_report

DEFAULT_PERIOD_DAYS = 90


def _day(raw: str | None, option: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{option}: {raw!r} is not a date (YYYY-MM-DD)")


def _prices(raw: list[str]) -> dict[str, Decimal] | None:
    """``sms=75`` → {"sms": Decimal("75")}; None when none given (the defaults apply)."""
    if not raw:
        return None
    prices: dict[str, Decimal] = {}
    for item in raw:
        channel, separator, amount = item.partition("=")
        try:
            price = Decimal(amount.strip())
        except InvalidOperation:
            price = Decimal(-1)
        if not separator or not channel.strip() or not price.is_finite() or price < 0:
            fail(f"--price: {item!r} is not CHANNEL=PRICE, e.g. sms=75")
        prices[channel.strip().lower()] = price
    return prices


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _print_table(report: KpiReport) -> None:
    period = report.period
    table = Table(
        *report.columns,
        title=f"{report.title} · {period.currency} · {period.start} – {period.end}",
    )
    for row in report.rows:
        table.add_row(*(_cell(cell) for cell in row))
    console.print(table)
    console.print(f"[bold]{report.name}[/] = {_cell(report.figure)} {report.unit}")
    console.print(f"formula: {report.formula}", highlight=False)
    for key, value in report.inputs.items():
        console.print(f"  {key}: {_cell(value)}", highlight=False)
    for note in report.notes:
        console.print(f"  {note}", highlight=False)


def _print_csv(report: KpiReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows([_cell(cell) if cell is None else cell for cell in row] for row in report.rows)


def report(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(REPORT_NAMES)}.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: --to − 89).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO 4217 (default: the most common one).")
    ] = None,
    by: Annotated[str | None, typer.Option(help="aging only: segment or customer.")] = None,
    contact_days: Annotated[
        int, typer.Option("--contact-days", help="recovery: credit the last message this close.")
    ] = 7,
    price: Annotated[
        list[str] | None,
        typer.Option(help="channel-cost: CHANNEL=PRICE per message, once per channel."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="The table as CSV.")] = False,
) -> None:
    """A collection KPI (DSO, CEI, aging, promises, recovery…) over a period; see docs/KPIS.md."""
    if name not in REPORT_NAMES:
        fail(f"NAME: no report {name!r}; the reports are {', '.join(REPORT_NAMES)}")
    if as_json and as_csv:
        fail("--json and --csv: choose one")
    if contact_days < 0:
        fail(f"--contact-days: must not be negative, got {contact_days}")
    last = _day(end, "--to") or datetime.now(UTC).date()
    first = _day(start, "--from") or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        fail(f"--from: {first} is after --to {last}")
    if by is not None and by not in AGING_GROUPS:
        fail(f"--by: {by!r} is not one of {', '.join(AGING_GROUPS)}")
    if currency is not None:
        try:
            currency = validate_currency(currency)
        except ValueError as error:
            fail(f"--currency: {error}")
    prices = _prices(price or [])
    rt = runtime()
    with rt.sessions() as session:
        code = currency
        if code is None:
            in_use = currencies_in_use(session)
            if not in_use:
                fail("--currency: the ledger has no invoices yet")
            code = in_use[0]
        try:
            result = build_report(
                session,
                name,
                start=first,
                end=last,
                currency=code,
                by=by,
                contact_days=contact_days,
                channel_prices=prices or rt.settings.channel_prices.get(code),
            )
        except (UnknownReport, ValueError) as error:
            fail(str(error))
    if as_json:
        print_json(result.as_dict())
    elif as_csv:
        _print_csv(result)
    else:
        _print_table(result)
