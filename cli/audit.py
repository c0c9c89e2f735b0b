"""``dunning audit verify``, ``dunning dossier`` and ``dunning purge``: the ledger as evidence.

``audit verify`` walks every customer's bitácora hash chain and names the first broken line
(exit 1 when one is). ``dossier`` prints an invoice's evidence (JSON, or an A4 PDF with
``--pdf``). ``purge`` removes closed invoices' records older than the retention period, and
refuses a younger cut-off date (``ledger.retention`` says what goes and what stays).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.runtime import console, fail, print_json, runtime
from ledger.audit import verify_chains
from ledger.db import unit_of_work
from ledger.dossier import InvoiceNotFound, build_dossier
from ledger.retention import PurgeRefused, purge

app = typer.Typer(help="The bitácora's tamper-evident chain.", no_args_is_help=True)


@app.command()
def verify(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Check only this customer's chain.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the bitácora's hash chains; name the first broken line of each customer."""
    with unit_of_work(runtime().sessions) as session:
        report = verify_chains(session, customer)
    if as_json:
        print_json(report.as_dict())
    elif report.intact:
        console.print(
            f"[green]intact[/]: {report.lines} lines of {report.customers} customers verified"
        )
    else:
        table = Table("customer", "line id", "event key", "problem")
        for broken in report.broken:
            table.add_row(
                broken.customer_id, str(broken.interaction_id), broken.event_key, broken.problem
            )
        console.print(table)
        console.print(f"[bold red]{len(report.broken)} broken chain(s)[/]")
    if not report.intact:
        raise typer.Exit(1)


def dossier(
    number: Annotated[str, typer.Argument(help="The invoice number, e.g. F-1001.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="An A4 PDF instead of JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: F-1001.pdf).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = False,
    language: Annotated[str, typer.Option("--language", help="es or en.")] = "es",
    with_bodies: Annotated[
        bool, typer.Option("--with-bodies", help="Include the messages' text (personal data).")
    ] = False,
) -> None:
    """An invoice's evidence dossier: contacts, bitácora, promises, disputes, payments."""
    if language not in ("es", "en"):
        fail(f"--language {language!r}: say es or en")
    try:
        with unit_of_work(runtime().sessions) as session:
            evidence = build_dossier(session, number, with_bodies=with_bodies)
    except InvoiceNotFound as error:
        fail(str(error))
    if pdf and not as_json:
        from cli.dossier_pdf import render_pdf

        target = out or Path(f"{number}.pdf")
        target.write_bytes(render_pdf(evidence, language=language))
        console.print(f"wrote {target}")
        return
    if out is not None:
        out.write_text(json.dumps(evidence.as_dict(), indent=2, ensure_ascii=False) + "\n")
        console.print(f"wrote {out}")
        return
    print_json(evidence.as_dict())


def purge_records(
    before: Annotated[
        str, typer.Option("--before", help="Cut-off date, YYYY-MM-DD (invoices closed before).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remove closed invoices' records older than the retention period (refuses younger)."""
    try:
        cutoff = date.fromisoformat(before)
    except ValueError:
        fail(f"--before {before!r}: say a date as YYYY-MM-DD")
    now = datetime.now(UTC)
    try:
        with unit_of_work(runtime().sessions) as session:
            result = purge(session, cutoff, today=now.date(), dry_run=dry_run, now=now)
    except PurgeRefused as refusal:
        fail(f"purge refused: {refusal}")
    if as_json:
        print_json(result.as_dict())
        return
    verb = "would remove" if dry_run else "removed"
    console.print(f"{len(result.invoices)} closed invoice(s) before {cutoff.isoformat()}")
    for table, count in result.removed.items():
        console.print(f"  {table}: {verb} {count}")
