"""``dunning forecast``: when the open invoices will be paid, week by week, and how well the
prediction did on the past (model beside the plain baseline)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from sqlalchemy import Engine

from analytics.features import invoice_frame
from analytics.forecast import (
    Backtest,
    CashInForecast,
    DaysLatePredictor,
    InvoicePrediction,
    backtest,
    cash_in,
    paid,
    predict_open,
)
from cli.runtime import console, fail, print_json, runtime
from ledger.db import create_ledger_engine, upgrade_to_head


def forecast(
    currency: Annotated[
        str | None, typer.Option(help="Only this currency (CLP, MXN…); default: each.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day to forecast from (default: today).")
    ] = None,
    synthetic: Annotated[
        int | None,
        typer.Option(help="Forecast a synthetic book of N invoices in a temporary ledger."),
    ] = None,
    seed: Annotated[int, typer.Option(help="The synthetic book's seed.")] = 7,
    invoices: Annotated[
        bool, typer.Option("--invoices", help="Also each open invoice's predicted payment day.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Predict payment days and the 13-week cash-in; print the backtest error beside them."""
    day = _parse_day(as_of)
    if synthetic is not None:
        with tempfile.TemporaryDirectory() as folder:
            engine, book_day = _synthetic_ledger(Path(folder), synthetic, seed)
            _run(engine, day or book_day, currency, invoices, as_json)
            engine.dispose()
        return
    url = runtime().settings.ledger_url
    upgrade_to_head(url)
    _run(create_ledger_engine(url), day or datetime.now(UTC).date(), currency, invoices, as_json)


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a date (YYYY-MM-DD)")


def _synthetic_ledger(folder: Path, invoices: int, seed: int) -> tuple[Engine, date]:
    from analytics.ledger_loader import load_book
    from analytics.synthetic_book import synthetic_book

    url = f"sqlite:///{(folder / 'ledger.db').as_posix()}"
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    book = synthetic_book(invoices, seed=seed)
    with engine.begin() as connection:
        load_book(connection, book)
    return engine, book.as_of


def _run(
    engine: Engine, as_of: date, currency: str | None, per_invoice: bool, as_json: bool
) -> None:
    with engine.connect() as connection:
        frame = invoice_frame(connection)
    history = paid(frame)
    if history[history["paid_on"] <= pd.Timestamp(as_of)].empty:
        fail("no paid invoices in the ledger to learn from")
    try:
        tested: Backtest | None = backtest(frame, as_of)
    except ValueError:
        tested = None  # too little history before the cut for a backtest
    # Only what was known on the day forecast from: an --as-of in the past must not peek.
    predictor = DaysLatePredictor(history[history["paid_on"] <= pd.Timestamp(as_of)])
    code = currency.upper() if currency else None
    cash = cash_in(frame, predictor, as_of, code)
    predictions = predict_open(frame, predictor, as_of, code) if per_invoice else None
    if as_json:
        document = to_json(tested, cash)
        if predictions is not None:
            document["invoices"] = [asdict(p) for p in predictions]
        print_json(document)
        return
    if predictions is not None:
        show_invoices(predictions)
    show(tested, cash)


def show_invoices(predictions: list[InvoicePrediction]) -> None:
    table = Table("invoice", "customer", "due", "amount due", "model", "baseline")
    for p in predictions:
        table.add_row(
            p.number,
            p.customer_id,
            str(p.due_on),
            f"{p.currency} {p.amount_due:,}",
            str(p.model_pays_on or "doubtful"),
            str(p.baseline_pays_on or "doubtful"),
        )
    console.print(table)


def to_json(tested: Backtest | None, cash: CashInForecast) -> dict[str, Any]:
    return {
        "as_of": cash.as_of.isoformat(),
        "backtest": None
        if tested is None
        else {
            "cut": tested.cut.isoformat(),
            "train_invoices": tested.train_count,
            "test_invoices": tested.test_count,
            "model_mae_days": tested.model_mae,
            "baseline_mae_days": tested.baseline_mae,
        },
        "weeks": [
            {
                "week": w.week,
                "starts_on": w.starts_on.isoformat(),
                "currency": w.currency,
                "model": str(w.model),
                "baseline": str(w.baseline),
            }
            for w in cash.weeks
        ],
        "later": {
            code: {"model": str(m), "baseline": str(b)} for code, (m, b) in cash.later.items()
        },
        "doubtful": {code: str(amount) for code, amount in cash.doubtful.items()},
    }


def show(tested: Backtest | None, cash: CashInForecast) -> None:
    if tested is None:
        console.print("backtest: not enough paid history before the cut")
    else:
        better = "model" if tested.model_mae < tested.baseline_mae else "baseline"
        console.print(
            f"backtest (trained on {tested.train_count} invoices due before {tested.cut}, "
            f"tested on {tested.test_count} due after): MAE model {tested.model_mae} days, "
            f"baseline {tested.baseline_mae} days — {better} is better",
            highlight=False,
        )
    table = Table(
        "week", "from", "currency", "model", "baseline", title=f"cash-in from {cash.as_of}"
    )
    for w in cash.weeks:
        table.add_row(w.week, str(w.starts_on), w.currency, f"{w.model:,}", f"{w.baseline:,}")
    for code, (model, baseline) in cash.later.items():
        table.add_row("later", "", code, f"{model:,}", f"{baseline:,}")
    for code, amount in cash.doubtful.items():
        table.add_row("doubtful (90+ days past due)", "", code, f"{amount:,}", f"{amount:,}")
    console.print(table)
