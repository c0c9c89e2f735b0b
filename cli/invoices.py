"""Commands the ERP or an operator runs on invoices: issue, import, pay, status, outbox."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import Progress
from rich.table import Table
from temporalio.service import RPCError

from api.bank import StatementFormatError
from api.bank_import import import_statement
from api.errors import InvalidRequest
from api.flatfiles.defaults import defaults_for_country
from api.flatfiles.errors import FlatFileError
from api.flatfiles.headers import load_mapping
from api.imports import import_invoice_file, import_payment_file
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from api.payments import record_payment
from cli.runtime import console, fail, print_json, run, runtime
from dunning_policies.money import from_minor
from ledger.db import unit_of_work
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.outbox import OutboxRepository
from workflows.invoice import InvoiceDunningWorkflow

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def issue(
    invoice: Annotated[str, typer.Option(help="Invoice number (folio).")],
    customer: Annotated[str, typer.Option(help="Customer id.")],
    amount: Annotated[str, typer.Option(help="Amount, in the currency's units: 1250000.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code: CLP, MXN, USD…")],
    issued: Annotated[str, typer.Option(help="Issue date, YYYY-MM-DD.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    name: Annotated[str | None, typer.Option(help="Customer name (new customers).")] = None,
    email: str | None = None,
    phone: Annotated[str | None, typer.Option(help="E.164 mobile for SMS.")] = None,
    whatsapp: Annotated[str | None, typer.Option(help="E.164 WhatsApp number.")] = None,
    country: str = "CL",
    timezone: str = "America/Santiago",
    locale: str = "es_CL",
    segment: Annotated[str | None, typer.Option(help="preferred, standard, high_risk.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an invoice: start its dunning workflow (re-sending it is harmless)."""
    rt = runtime()
    new = NewInvoice(
        invoice,
        customer,
        _decimal(amount, "amount"),
        currency,
        _date(issued, "issued"),
        _date(due, "due"),
    )
    details = None
    if name is not None:
        details = CustomerDetails(
            id=customer,
            name=name,
            country=country,
            timezone=timezone,
            locale=locale,
            email=email,
            phone=phone,
            whatsapp=whatsapp,
            segment=segment,
        )

    async def go() -> None:
        client = await rt.client()
        try:
            result = await issue_invoice(
                client,
                rt.sessions,
                rt.settings.task_queue,
                new,
                details,
                respect_contact_window=not rt.settings.relax_contact_windows,
            )
        except InvalidRequest as error:
            fail(str(error))
        if as_json:
            print_json(result.__dict__)
            return
        verb = "issued" if result.created else "already issued (nothing changed)"
        console.print(
            f"Invoice [bold]{result.number}[/] {verb}: workflow {result.workflow_id}, "
            f"segment {result.segment}, policy {result.policy} v{result.policy_version}"
        )

    run(go)


imports = typer.Typer(help="Import invoices, payments or bank statements from files.")
Country = Annotated[str, typer.Option(help="Country of rows that do not say: CL, MX, CO, PE.")]
Mapping = Annotated[
    Path | None,
    typer.Option(help="JSON or TOML {file header: column} for headers we do not recognise."),
]


def _show(report: dict[str, Any], as_json: bool, dry_run: bool) -> None:
    if as_json:
        print_json(report)
    else:
        counts = ", ".join(f"{name} {count}" for name, count in report["counts"].items())
        console.print(("dry run: " if dry_run else "") + counts)
        for rejected in report.get("rejected", []):
            console.print(
                f"  line {rejected['line']}, {rejected['column']} = {rejected['value']!r}: "
                f"{rejected['reason']}",
                highlight=False,
            )
        for note in report.get("notes", []):
            console.print(f"  [dim]{note}[/]", highlight=False)
    if report.get("rejected"):
        raise typer.Exit(2)


@imports.command("invoices")
def import_invoice_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; change nothing.")
    ] = False,
    country: Country = "CL",
    mapping: Mapping = None,
    as_json: JsonFlag = False,
) -> None:
    """Invoices from a CSV (comma or semicolon, UTF-8 or Latin-1) or XLSX, as the ERP exports."""
    rt = runtime()
    data = file.read_bytes()

    async def go() -> None:
        client = await rt.client()
        with Progress(transient=True, disable=as_json) as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            try:
                report = await import_invoice_file(
                    client,
                    rt.sessions,
                    rt.settings.task_queue,
                    data,
                    filename=file.name,
                    mapping=load_mapping(mapping) if mapping else None,
                    defaults=defaults_for_country(country),
                    dry_run=dry_run,
                    respect_contact_window=not rt.settings.relax_contact_windows,
                    progress=lambda n: progress.advance(task, n),
                )
            except (FlatFileError, ValueError) as error:
                fail(f"{file}: {error}")
        _show(report.as_dict(), as_json, dry_run)

    run(go)


@imports.command("payments")
def import_payment_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    bank: Annotated[
        bool, typer.Option("--bank", help="The file is a bank statement (CSV or camt.053).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; change nothing.")
    ] = False,
    country: Country = "CL",
    currency: Annotated[
        str, typer.Option(help="Currency of a statement that does not say.")
    ] = "CLP",
    mapping: Mapping = None,
    as_json: JsonFlag = False,
) -> None:
    """Payments from a file, or a bank statement matched to open invoices."""
    rt = runtime()
    data = file.read_bytes()

    async def go() -> None:
        client = await rt.client()
        try:
            if bank or data.lstrip().startswith(b"<"):
                statement = await import_statement(
                    client,
                    rt.sessions,
                    data,
                    filename=file.name,
                    currency=currency,
                    dry_run=dry_run,
                )
                _show(statement.as_dict(), as_json, dry_run)
                return
            with Progress(transient=True, disable=as_json) as progress:
                task = progress.add_task(f"importing {file.name}", total=None)
                report = await import_payment_file(
                    client,
                    rt.sessions,
                    data,
                    filename=file.name,
                    mapping=load_mapping(mapping) if mapping else None,
                    defaults=defaults_for_country(country),
                    dry_run=dry_run,
                    progress=lambda n: progress.advance(task, n),
                )
        except (FlatFileError, StatementFormatError, ValueError) as error:
            fail(f"{file}: {error}")
        _show(report.as_dict(), as_json, dry_run)

    run(go)


def pay(
    invoice: Annotated[str, typer.Option(help="Invoice number.")],
    amount: Annotated[str, typer.Option(help="Amount paid.")],
    paid_at: Annotated[str | None, typer.Option(help="ISO 8601 with offset; default now.")] = None,
    reference: Annotated[
        str | None, typer.Option(help="Bank reference (makes it idempotent).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a payment (partial, full or over) and tell the invoice's workflow at once."""
    rt = runtime()
    when = None
    if paid_at:
        try:
            when = datetime.fromisoformat(paid_at)
        except ValueError:
            fail(f"paid-at: {paid_at!r} is not an ISO 8601 date-time")

    async def go() -> None:
        client = await rt.client()
        try:
            result = await record_payment(
                client, rt.sessions, invoice, amount, paid_at=when, reference=reference
            )
        except InvalidRequest as error:
            fail(str(error))
        if as_json:
            print_json(result.__dict__)
            return
        note = "" if result.new else " (already recorded; nothing changed)"
        console.print(f"Payment {result.payment_id}: {result.amount} {result.currency}{note}")
        if not result.delivered_to_workflow:
            console.print("[yellow]The invoice is closed: the payment is kept as customer cash.[/]")

    run(go)


def status(invoice: str, as_json: JsonFlag = False) -> None:
    """Stage, amount due, next action and when, and the timeline so far."""
    rt = runtime()
    with unit_of_work(rt.sessions) as session:
        stored = InvoiceRepository.from_session(session).get(invoice)
        if stored is None:
            fail(f"invoice {invoice} is not known")
        workflow_id = stored.workflow_id
        customer = CustomerRepository.from_session(session).get(stored.customer_id)
        zone = ZoneInfo(customer.timezone if customer else "UTC")

    async def go() -> None:
        client = await rt.client()
        try:
            answer = await client.get_workflow_handle(workflow_id).query(
                InvoiceDunningWorkflow.status
            )
        except RPCError as error:
            fail(f"cannot query {workflow_id}: {error.message}")
        if as_json:
            print_json(answer.model_dump(mode="json"))
            return
        nxt = answer.next_action
        when = nxt.at.astimezone(zone).isoformat(timespec="minutes") if nxt.at else "-"
        console.print(
            f"[bold]{answer.invoice_number}[/] customer {answer.customer_id} · "
            f"{answer.policy} v{answer.policy_version} · stage [bold]{answer.stage}[/]"
        )
        console.print(
            f"amount due {answer.amount_due} of {answer.original_amount} {answer.currency}"
        )
        console.print(f"next: {nxt.action} at {when} ({nxt.detail or ''})")
        table = Table("#", "when (customer time)", "event", "step", "channel", "detail")
        for event in answer.timeline:
            detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
            table.add_row(
                str(event.seq),
                event.at.astimezone(zone).isoformat(timespec="minutes"),
                event.kind,
                event.step_id or "",
                event.channel or "",
                detail,
            )
        console.print(table)

    run(go)


def outbox(
    invoice: Annotated[str | None, typer.Option(help="Only this invoice.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The messages sent: channel, template, local send time, provider and its message id."""
    rt = runtime()
    with unit_of_work(rt.sessions) as session:
        rows = [
            {
                "invoice": m.invoice_number,
                "customer": m.customer_id,
                "step": m.step_id,
                "channel": m.channel,
                "template": m.template,
                "recipient": m.recipient,
                "local_time": m.scheduled_local,
                "status": m.status,
                "provider": m.provider,
                "provider_message_id": m.provider_message_id,
                "error": m.error,
                "idempotency_key": m.idempotency_key,
            }
            for m in OutboxRepository.from_session(session).list_messages(invoice_number=invoice)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("invoice", "step", "channel", "template", "local time", "status", "provider id")
    for row in rows:
        table.add_row(
            *(
                str(row[k] or "")
                for k in (
                    "invoice",
                    "step",
                    "channel",
                    "template",
                    "local_time",
                    "status",
                    "provider_message_id",
                )
            )
        )
    console.print(table)


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{field}: {raw!r} is not a date (YYYY-MM-DD)")


def _decimal(raw: str, field: str) -> Decimal:
    try:
        return Decimal(raw)
    except ArithmeticError:
        fail(f"{field}: {raw!r} is not a number")


def amount_text(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency)} {currency}"
