"""``dunning policies check`` and ``dunning policies preview``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cli.runtime import console, fail, print_json
from dunning_policies.checks import check_policy
from dunning_policies.preview import plan, preview_state
from dunning_policies.registry import UnknownPolicy, all_policies, get_policy

app = typer.Typer(help="Dunning policies: validate and preview.", no_args_is_help=True)


@app.command()
def check(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Validate every policy: step order, offsets, templates for every channel and language."""
    results = {name: check_policy(policy) for name, policy in all_policies().items()}
    if as_json:
        print_json(results)
    else:
        for name, problems in results.items():
            mark = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
            console.print(f"{name}: {mark}")
            for problem in problems:
                console.print(f"  - {problem}")
    if any(results.values()):
        raise typer.Exit(1)


@app.command()
def preview(
    name: str,
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    country: str = "CL",
    timezone: str = "America/Santiago",
    locale: str = "es_CL",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The planned timeline of one invoice under a policy, if nobody pays."""
    try:
        policy = get_policy(name)
        due_on = date.fromisoformat(due)
        state = preview_state(due_on, timezone=timezone, country=country, locale=locale)
        steps = plan(policy, state)
    except UnknownPolicy as error:
        fail(str(error))
    except ValueError as error:
        fail(f"due/timezone: {error}")
    if as_json:
        print_json([s.as_dict() for s in steps])
        return
    table = Table("when (customer time)", "kind", "step", "channel", "template", "tone", "detail")
    for s in steps:
        row = s.as_dict()
        table.add_row(
            *(
                str(row[k] or "")
                for k in ("at", "kind", "step", "channel", "template", "tone", "detail")
            )
        )
    console.print(f"[bold]{policy.name}[/] v{policy.version}: {policy.description}")
    console.print(table)
