"""``dunning policies check`` and ``dunning policies preview``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from api.countries import defaults_for_country
from cli.policy_migration import migrate
from cli.runtime import console, errors, fail, print_json
from dunning_policies.checks import check_policy
from dunning_policies.holiday_calendar import subdivision_code
from dunning_policies.jurisdictions import DebtType, looser_than_law
from dunning_policies.preview import plan, preview_state
from dunning_policies.registry import UnknownPolicy, all_policies, get_policy

app = typer.Typer(help="Dunning policies: validate and preview.", no_args_is_help=True)
app.command("migrate")(migrate)


@app.command()
def check(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Validate every policy: step order, offsets, templates for every channel and language.
    Where a policy asks for more than a country's law allows, a warning: the law wins there."""
    policies = all_policies()
    results = {name: check_policy(policy) for name, policy in policies.items()}
    warnings = {name: looser_than_law(policy) for name, policy in policies.items()}
    if as_json:
        print_json(results)
        # Warnings go to stderr, so the JSON on stdout keeps its shape.
        for name, notes in warnings.items():
            for note in notes:
                errors.print(f"warning: {name}: {note}", highlight=False)
    else:
        for name, problems in results.items():
            mark = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
            console.print(f"{name}: {mark}")
            for problem in problems:
                console.print(f"  - {problem}")
            for note in warnings[name]:
                console.print(f"  [yellow]warning:[/] {note}")
    if any(results.values()):
        raise typer.Exit(1)


@app.command()
def preview(
    name: str,
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    country: str = "CL",
    timezone: Annotated[str | None, typer.Option(help="IANA; defaults by country.")] = None,
    locale: Annotated[str | None, typer.Option(help="e.g. es_CL; defaults by country.")] = None,
    consumer: Annotated[
        bool,
        typer.Option(
            "--consumer/--business",
            help="A consumer's debt (the law's stricter rules) or a business's.",
        ),
    ] = True,
    subdivision: Annotated[
        str | None, typer.Option(help="Region for its holidays, e.g. RM (ISO 3166-2).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The planned timeline of one invoice under a policy, if nobody pays, with the rule that
    moved each message that did not go out at its own moment."""
    country = country.strip().upper()
    try:
        policy = get_policy(name)
        due_on = date.fromisoformat(due)
        if timezone is None or locale is None:
            defaults = defaults_for_country(country)
            timezone, locale = timezone or defaults.timezone, locale or defaults.locale
        if subdivision is not None:
            subdivision = subdivision_code(country, subdivision)
        state = preview_state(
            due_on,
            timezone=timezone,
            country=country,
            locale=locale,
            debt_type=DebtType.CONSUMER if consumer else DebtType.BUSINESS,
            subdivision=subdivision,
        )
        steps = plan(policy, state)
    except UnknownPolicy as error:
        fail(str(error))
    except ValueError as error:
        fail(f"due/timezone/country: {error}")
    if as_json:
        print_json([s.as_dict() for s in steps])
        return
    columns = ("at", "kind", "step", "channel", "template", "tone", "detail", "moved_by")
    table = Table(
        "when (customer time)", "kind", "step", "channel", "template", "tone", "detail", "moved by"
    )
    for s in steps:
        row = {**s.as_dict(), "detail": None if s.moved_by else s.detail}
        table.add_row(*(str(row[k] or "") for k in columns))
    console.print(f"[bold]{policy.name}[/] v{policy.version}: {policy.description}")
    console.print(table)
