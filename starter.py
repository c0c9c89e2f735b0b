"""The command line: ``python starter.py …`` or the installed ``dunning`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import agreements, api_server, invoices, operations, policies, reports, tasks, users
from cli.runtime import leave, runtime

app = typer.Typer(
    help="Collections (cobranza) on durable workflows.", no_args_is_help=True, add_completion=False
)
app.command()(invoices.issue)
app.add_typer(invoices.imports, name="import")
app.command()(invoices.pay)
app.command()(invoices.status)
app.command()(invoices.outbox)
app.command("tasks")(tasks.list_tasks)
app.add_typer(tasks.app, name="task")
app.add_typer(policies.app, name="policies")
for command in (
    operations.dispute,
    operations.resolve,
    operations.pause,
    operations.resume,
    operations.cancel,
):
    app.command()(command)
app.command("write-off")(operations.write_off)
app.command()(agreements.promise)
app.command()(agreements.plan)
app.command("report")(reports.report)
app.command("api")(api_server.serve_api)
app.add_typer(api_server.keys, name="keys")
app.add_typer(users.app, name="users")
from cli import simulate as simulate_cli  # noqa: E402

app.command()(simulate_cli.simulate)
from cli import forecast as forecast_cli  # noqa: E402

app.command()(forecast_cli.forecast)
from cli import risk as risk_cli  # noqa: E402

app.add_typer(risk_cli.app, name="risk")
from cli import audit as audit_cli  # noqa: E402

app.add_typer(audit_cli.app, name="audit")
app.command()(audit_cli.dossier)
app.command("purge")(audit_cli.purge_records)


@app.command()
def dev(
    demo: Annotated[bool, typer.Option("--demo", help="Load the sample book of invoices.")] = False,
) -> None:
    """Run everything here: Temporal dev server, worker, SQLite ledger, console channel."""
    import asyncio

    from cli.dev import serve

    asyncio.run(serve(runtime(), demo))
    leave(0)


@app.command()
def worker() -> None:
    """Run a worker against the Temporal address in settings (same as `python worker.py`)."""
    import worker as worker_module

    worker_module.main()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
