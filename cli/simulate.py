"""``dunning simulate``: two policies over the same book and the same payers, side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.runtime import console, fail, print_json

if TYPE_CHECKING:
    from analytics.simulation_result import SimulationResult

LEARNING_DAYS = 365


def simulate(
    policy: Annotated[
        list[str],
        typer.Option("--policy", help="A policy to simulate; give two to compare (A, then B)."),
    ],
    book: Annotated[
        Path | None,
        typer.Option(
            help="A CSV of invoices: number, customer, segment, country, currency, amount, "
            "issued_on, due_on."
        ),
    ] = None,
    synthetic: Annotated[
        int | None, typer.Option(help="Simulate a synthetic book of this many invoices.")
    ] = None,
    days: Annotated[int, typer.Option(help="Days each invoice is followed from issuance.")] = 120,
    seed: Annotated[
        int, typer.Option(help="Seeds the payers (and a synthetic book): same seed, same figures.")
    ] = 7,
    payer_model: Annotated[
        Path | None, typer.Option(help="A payer-model JSON file (default: the bundled one).")
    ] = None,
    learn_from_ledger: Annotated[
        bool,
        typer.Option(
            "--learn-from-ledger",
            help=f"Learn the payer model from the ledger's last {LEARNING_DAYS} days.",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(help="Processes to share the book.")] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run policies over a book of invoices with a payer-behaviour model: amount collected by
    day 30/60/90, DSO, contacts and their cost, tasks and handoffs. Deterministic for a seed."""
    from analytics.book_file import BookFileError, from_synthetic, read_book
    from analytics.payer_model import PayerModel, PayerModelError
    from analytics.simulation_result import ChannelPrices, compare
    from analytics.simulator import simulate as run_simulation
    from analytics.synthetic_book import synthetic_book
    from config.settings import get_settings
    from dunning_policies.registry import UnknownPolicy, get_policy

    if not 1 <= len(policy) <= 2:
        fail("--policy: give one policy, or two to compare")
    if (book is None) == (synthetic is None):
        fail("give either --book FILE or --synthetic N")
    if payer_model is not None and learn_from_ledger:
        fail("--payer-model and --learn-from-ledger: choose one")
    if days < 1 or days > 3650:
        fail("--days: between 1 and 3650")
    if synthetic is not None and synthetic < 1:
        fail("--synthetic: at least one invoice")
    if workers < 1:
        fail("--workers: at least 1")
    try:
        for name in policy:
            get_policy(name)
        invoices = (
            read_book(book)
            if book is not None
            else from_synthetic(synthetic_book(synthetic or 0, seed=seed))
        )
        if learn_from_ledger:
            from cli.runtime import runtime
            from ledger.db import unit_of_work

            today = datetime.now(UTC).date()
            with unit_of_work(runtime().sessions) as session:
                model = PayerModel.learned_from_ledger(
                    session, today - timedelta(days=LEARNING_DAYS), today + timedelta(days=1)
                )
        else:
            model = PayerModel.from_file(payer_model) if payer_model else PayerModel.default()
        results = run_simulation(
            invoices,
            policy,
            model=model,
            seed=seed,
            days=days,
            workers=workers,
            prices=ChannelPrices(get_settings().channel_prices),
        )
    except (UnknownPolicy, BookFileError, PayerModelError, OSError, ValueError) as error:
        fail(str(error))
    if as_json:
        payload: dict[str, object] = {"results": [result.as_dict() for result in results]}
        if len(results) == 2:
            payload["comparison"] = [row.as_dict() for row in compare(*results)]
        print_json(payload)
        return
    _print_table(results, days, seed, len(invoices))


def _print_table(results: list[SimulationResult], days: int, seed: int, invoices: int) -> None:
    from analytics.simulation_result import compare

    first, second = results[0], results[-1]
    table = Table(
        title=f"{invoices} invoices, {days} days from issuance, seed {seed}",
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column(f"A: {first.policy}", justify="right")
    if len(results) == 2:
        table.add_column(f"B: {second.policy}", justify="right")
        table.add_column("B − A", justify="right")
    for row in compare(first, second):
        cells = [_number(row.a)]
        if len(results) == 2:
            cells += [_number(row.b), _number(row.difference, signed=True)]
        table.add_row(row.figure, *cells)
    console.print(table)


def _number(value: Decimal, *, signed: bool = False) -> str:
    text = f"{value:+,}" if signed else f"{value:,}"
    return text
