"""Benchmark: every KPI of ``dunning report`` on a large book in PostgreSQL, beside pandas.

Run from the repository root (needs PostgreSQL, ``DUNNING_TEST_POSTGRES_URL``)::

    .venv/bin/python -m bench.reports [--invoices 1000000] [--runs 3]

A fresh migrated schema is filled in SQL (``INSERT … SELECT … FROM generate_series``): N
invoices issued over the 365 days to 2026-11-30 (nine in ten in CLP, the rest in MXN) for
N/20 customers; payments for about 70 % of them (one in 23 of those only half), two
``message_sent`` per invoice (an email 3 days before the due date, then an SMS or a WhatsApp
7 days after), a promise for one in 20. Then each KPI over 2026-09-01 – 2026-11-30 in CLP:

- **ours**: ``build_report`` (SQL aggregates), the median of ``--runs`` runs;
- **pandas**: what a spreadsheet-style tool does — load the columns the KPI needs with
  ``pandas.read_sql`` and compute the same figure in pandas; load + compute, one run.

Printed per KPI: both times, their ratio, both figures (they must agree) and the goal, 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial

import pandas as pd
import psycopg
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from ledger.db import create_ledger_engine
from ledger.reports.channel_costs import DEFAULT_CHANNEL_PRICES
from ledger.reports.contributions import CLOSED
from ledger.reports.effort import AT_RISK_DAYS
from ledger.reports.kpis import REPORT_NAMES, KpiReport, build_report
from tests.ledger_support import postgres_schema_url

GOAL_SECONDS = 2.0
START, END, CURRENCY = date(2026, 9, 1), date(2026, 11, 30), "CLP"
FIRST_ISSUE = date(2025, 12, 1)

LOAD = [
    """
    INSERT INTO customers (id, name, email, phone, whatsapp, country, timezone, locale, segment,
                           created_at, updated_at)
    SELECT 'C-' || c, 'Cliente ' || c || ' SpA', 'pagos' || c || '@example.cl', '+569' || c,
           '+569' || c, 'CL', 'America/Santiago', 'es_CL',
           CASE WHEN c % 10 = 0 THEN 'high_risk' WHEN c % 3 = 0 THEN 'preferred'
                ELSE 'standard' END,
           now(), now()
    FROM generate_series(0, :customers - 1) AS c
    """,
    """
    CREATE TEMP TABLE book AS
    SELECT i,
           'F-' || i AS number,
           'C-' || (i % :customers) AS customer_id,
           CASE WHEN i % 10 = 9 THEN 'MXN' ELSE 'CLP' END AS currency,
           (100 + (i * 7919) % 900) * 1000 AS amount,
           DATE '2025-12-01' + (i % 365)::int AS issued_on,
           DATE '2025-12-01' + (i % 365)::int + 30 AS due_on,
           i % 10 < 7 AS pays,
           i % 23 = 0 AS pays_half,
           (DATE '2025-12-01' + (i % 365)::int + 30 + ((i * 31) % 90)::int - 20 + TIME '10:00')
               AT TIME ZONE 'UTC' AS paid_at
    FROM generate_series(0::bigint, :invoices - 1) AS i
    """,
    """
    INSERT INTO payments (id, invoice_number, customer_id, amount_minor, currency, paid_at,
                          reference, recorded_at, status, source)
    SELECT 'P-' || i, number, customer_id,
           CASE WHEN pays_half THEN amount / 2 ELSE amount END, currency, paid_at, NULL,
           paid_at, 'applied', 'bench'
    FROM book WHERE pays AND paid_at < TIMESTAMPTZ '2026-12-01 00:00Z'
    """,
    """
    INSERT INTO invoices (number, customer_id, currency, amount_minor, amount_due_minor,
                          issued_on, due_on, stage, segment, policy_name, policy_version,
                          workflow_id, created_at, updated_at)
    SELECT number, customer_id, currency, amount,
           CASE WHEN NOT paid THEN amount WHEN pays_half THEN amount - amount / 2 ELSE 0 END,
           issued_on, due_on,
           CASE WHEN paid AND NOT pays_half THEN 'paid'
                WHEN due_on < DATE '2026-11-30' THEN 'overdue' ELSE 'current' END,
           CASE WHEN i % 10 = 0 THEN 'high_risk' ELSE 'standard' END,
           CASE WHEN i % 10 = 0 THEN 'high_risk' ELSE 'standard' END, 1,
           'invoice-' || number, issued_on::timestamptz,
           CASE WHEN paid AND NOT pays_half THEN paid_at
                ELSE TIMESTAMPTZ '2026-12-01 00:00Z' END
    FROM (SELECT *, pays AND paid_at < TIMESTAMPTZ '2026-12-01 00:00Z' AS paid FROM book) AS b
    """,
    """
    INSERT INTO interactions (event_key, occurred_at, invoice_number, customer_id, workflow_id,
                              kind, step_id, channel, template, status, detail, recorded_at)
    SELECT number || '#' || n, sent_at, number, customer_id, 'invoice-' || number,
           'message_sent', step, channel, step, 'sent', '{}'::jsonb, sent_at
    FROM (
        SELECT number, customer_id, 1 AS n, 'pre_due' AS step, 'email' AS channel,
               (due_on - 3 + TIME '09:00') AT TIME ZONE 'UTC' AS sent_at
        FROM book
        UNION ALL
        SELECT number, customer_id, 2, 'overdue_7',
               CASE WHEN i % 2 = 0 THEN 'sms' ELSE 'whatsapp' END,
               (due_on + 7 + TIME '09:00') AT TIME ZONE 'UTC'
        FROM book
    ) AS messages
    WHERE sent_at < TIMESTAMPTZ '2026-12-01 00:00Z'
    """,
    """
    INSERT INTO promises (id, invoice_number, customer_id, kind, source, promised_date,
                          amount_minor, currency, made_at, status, settled_at)
    SELECT 'invoice-' || number || '#1', number, customer_id, 'promise', 'collector',
           due_on + 10, amount, currency, (due_on + 2 + TIME '12:00') AT TIME ZONE 'UTC',
           CASE WHEN due_on + 10 >= DATE '2026-11-30' THEN 'open'
                WHEN pays AND paid_at < (due_on + 11)::timestamptz AND NOT pays_half
                    THEN 'kept' ELSE 'broken' END,
           NULL
    FROM book WHERE i % 20 = 3 AND due_on + 3 < DATE '2026-11-30'
    """,
]


def load(engine: Engine, invoices: int) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        for statement in LOAD:
            connection.execute(
                text(statement), {"invoices": invoices, "customers": max(1, invoices // 20)}
            )
    with engine.connect() as connection:
        # What autovacuum does to a table after a bulk load: statistics, and the visibility
        # map that lets the bitácora's index answer without reading the rows.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def ours(engine: Engine, name: str, runs: int) -> tuple[float, KpiReport]:
    times: list[float] = []
    report: KpiReport | None = None
    for _ in range(runs):
        with Session(engine) as session:
            started = time.perf_counter()
            report = build_report(session, name, start=START, end=END, currency=CURRENCY)
            times.append(time.perf_counter() - started)
    assert report is not None
    return statistics.median(times), report


def explain(engine: Engine, name: str) -> None:
    """Print the plan, with real timings, of every statement the KPI runs."""
    statements: list[tuple[str, object]] = []

    def capture(
        conn: object, cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            build_report(session, name, start=START, end=END, currency=CURRENCY)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            print(f"--- {name}\n" + "\n".join(row[0] for row in cursor.fetchall()))


def timed(compute: Callable[[], Decimal | None]) -> tuple[float, Decimal | None]:
    started = time.perf_counter()
    figure = compute()
    return time.perf_counter() - started, figure


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE our SQL.")
    parser.add_argument("--no-pandas", action="store_true", help="Skip the pandas baseline.")
    args = parser.parse_args()
    try:
        schema = postgres_schema_url()
        url = schema.__enter__()
    except psycopg.OperationalError as error:
        raise SystemExit(f"bench.reports needs PostgreSQL: {error}") from error
    try:
        engine = create_ledger_engine(url)
        print(f"loading {args.invoices:,} invoices into PostgreSQL …", flush=True)
        print(f"loaded in {load(engine, args.invoices):.1f} s", flush=True)
        header = f"{'KPI':<14}{'ours s':>9}{'pandas s':>10}{'ratio':>8}  {'ours':>14}"
        print(f"\n{header}{'pandas':>14}  goal < {GOAL_SECONDS:.0f} s")
        baseline = Baseline(engine, START, END, CURRENCY)
        for name in REPORT_NAMES:
            seconds, report = ours(engine, name, args.runs)
            if args.explain:
                explain(engine, name)
            pandas_seconds, pandas_figure = (
                (float("nan"), None) if args.no_pandas else timed(partial(baseline.figure, name))
            )
            ok = "ok" if seconds < GOAL_SECONDS else "MISSED"
            agree = ""
            if not args.no_pandas and not _same(report.figure, pandas_figure):
                agree = "  (figures differ)"
            print(
                f"{name:<14}{seconds:>9.3f}{pandas_seconds:>10.2f}"
                f"{pandas_seconds / seconds:>7.1f}×  {report.figure!s:>14}{pandas_figure!s:>14}"
                f"  {ok}{agree}",
                flush=True,
            )
        engine.dispose()
    finally:
        schema.__exit__(None, None, None)


PANDAS_SQL = {
    "invoices": "SELECT number, customer_id, segment, amount_minor, amount_due_minor, issued_on,"
    " due_on, stage, updated_at FROM invoices WHERE currency = :currency AND stage <> 'cancelled'",
    "payments": "SELECT invoice_number, amount_minor, paid_at FROM payments"
    " WHERE status = 'applied' AND currency = :currency",
    "credit_notes": "SELECT invoice_number, amount_minor, issued_on FROM credit_notes"
    " WHERE currency = :currency",
    "closed": "SELECT invoice_number, max(occurred_at) AS closed_at FROM interactions"
    " WHERE kind = 'closed' GROUP BY invoice_number",
    "messages": "SELECT invoice_number, occurred_at, channel, step_id FROM interactions"
    " WHERE kind = 'message_sent'",
    "promises": "SELECT id, invoice_number, kind, amount_minor, promised_date, made_at, status"
    " FROM promises WHERE currency = :currency",
}


class Baseline:
    """The same KPIs the way a spreadsheet-style tool gets them: export the rows, then compute.
    Each KPI loads afresh what it needs (the load is most of its time)."""

    def __init__(self, engine: Engine, start: date, end: date, currency: str) -> None:
        self.engine, self.currency = engine, currency
        self.start, self.end = pd.Timestamp(start), pd.Timestamp(end)
        self.start_at = pd.Timestamp(start, tz="UTC")
        self.end_at = pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
        self.days = (end - start).days + 1

    def read(self, table: str) -> pd.DataFrame:
        frame = pd.read_sql(
            text(PANDAS_SQL[table]), self.engine, params={"currency": self.currency}
        )
        for column in ("issued_on", "due_on", "promised_date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column])
        for column in ("paid_at", "updated_at", "closed_at", "occurred_at", "made_at"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def figure(self, name: str) -> Decimal | None:
        return getattr(self, name.replace("-", "_"))()

    def _balances(self, cutoffs: list[pd.Timestamp]) -> tuple[list[int], int]:
        invoices, payments = self.read("invoices"), self.read("payments")
        credits, closed = self.read("credit_notes"), self.read("closed")
        invoices = invoices.merge(closed, left_on="number", right_on="invoice_number", how="left")
        closed_at = invoices.closed_at.fillna(invoices.updated_at)
        totals, current = [], 0
        for cutoff in cutoffs:
            at = cutoff.tz_localize("UTC")
            paid = payments[payments.paid_at >= at].groupby("invoice_number").amount_minor.sum()
            credited = (
                credits[credits.issued_on >= cutoff].groupby("invoice_number").amount_minor.sum()
            )
            rolled = (
                invoices.amount_due_minor
                + invoices.number.map(paid).fillna(0)
                + invoices.number.map(credited).fillna(0)
            )
            balance = rolled.clip(upper=invoices.amount_minor)
            holds = (invoices.issued_on < cutoff) & (
                ~invoices.stage.isin(CLOSED) | (closed_at >= at)
            )
            holds &= balance > 0
            totals.append(int(balance[holds].sum()))
            current = int(balance[holds & (invoices.due_on >= self.end)].sum())
        return totals, current

    def _sales(self) -> int:
        invoices = self.read("invoices")
        issued = invoices.issued_on.between(self.start, self.end)
        return int(invoices.amount_minor[issued].sum())

    def dso(self) -> Decimal | None:
        (closing,), _ = self._balances([self.end + pd.Timedelta(days=1)])
        sales = self._sales()
        return _one(Decimal(closing) * self.days / sales) if sales else None

    def cei(self) -> Decimal | None:
        (opening, closing), current = self._balances([self.start, self.end + pd.Timedelta(days=1)])
        collectable = opening + self._sales()
        if collectable == current:
            return None
        return _one(Decimal(collectable - closing) * 100 / (collectable - current))

    def aging(self) -> Decimal | None:
        invoices = self.read("invoices")
        (closing,), _ = self._balances([self.end + pd.Timedelta(days=1)])
        days_past_due = (self.end - invoices.due_on).dt.days
        pd.cut(days_past_due, [-10_000, 0, 30, 60, 90, 120, 10_000]).value_counts()
        return Decimal(closing)

    def promise_kept(self) -> Decimal | None:
        promises, payments = self.read("promises"), self.read("payments")
        due = promises[
            promises.promised_date.between(self.start, self.end) & (promises.status != "superseded")
        ]
        joined = due.merge(payments, on="invoice_number", how="left", suffixes=("", "_paid"))
        paid_date = joined.paid_at.dt.tz_localize(None).dt.normalize()
        counts = (paid_date <= joined.promised_date) & (
            (joined.kind == "payment_claim") | (joined.paid_at >= joined.made_at)
        )
        paid = joined.amount_minor_paid.where(counts, 0).groupby(joined.id).sum()
        kept = int((due.set_index("id").amount_minor <= paid.reindex(due.id).fillna(0)).sum())
        return _one(Decimal(kept) * 100 / len(due)) if len(due) else None

    def recovery(self) -> Decimal | None:
        payments, messages = self.read("payments"), self.read("messages")
        (opening,), _ = self._balances([self.start])
        outstanding = opening + self._sales()
        period = payments[(payments.paid_at >= self.start_at) & (payments.paid_at < self.end_at)]
        credited = pd.merge_asof(
            period.sort_values("paid_at"),
            messages.sort_values("occurred_at"),
            left_on="paid_at",
            right_on="occurred_at",
            by="invoice_number",
            tolerance=pd.Timedelta(days=7),
        )
        credited.channel.fillna("none").groupby(credited.channel.fillna("none")).size()
        collected = int(period.amount_minor.sum())
        return _one(Decimal(collected) * 100 / outstanding) if outstanding else None

    def time_to_pay(self) -> Decimal | None:
        invoices, payments, messages = (
            self.read("invoices"),
            self.read("payments"),
            self.read("messages"),
        )
        closing = payments.groupby("invoice_number").paid_at.max()
        first = messages.groupby("invoice_number").occurred_at.min()
        paid = invoices[invoices.stage == "paid"].number
        frame = pd.DataFrame({"paid_at": paid.map(closing), "sent_at": paid.map(first)}).dropna()
        frame = frame[
            (frame.paid_at >= self.start_at)
            & (frame.paid_at < self.end_at)
            & (frame.sent_at <= frame.paid_at)
        ]
        days = (frame.paid_at.dt.normalize() - frame.sent_at.dt.normalize()).dt.days
        return _one(Decimal(str(days.median()))) if len(days) else None

    def at_risk(self) -> Decimal | None:
        invoices, payments, credits = (
            self.read("invoices"),
            self.read("payments"),
            self.read("credit_notes"),
        )
        issued = invoices[
            invoices.issued_on.between(self.start, self.end) & (invoices.amount_minor > 0)
        ]
        due = issued.set_index("number").due_on
        limit = pd.Timedelta(days=AT_RISK_DAYS)
        paid = payments.assign(due_on=payments.invoice_number.map(due)).dropna(subset=["due_on"])
        paid = paid[paid.paid_at.dt.tz_localize(None).dt.normalize() - paid.due_on < limit]
        credited = credits.assign(due_on=credits.invoice_number.map(due)).dropna(subset=["due_on"])
        credited = credited[credited.issued_on - credited.due_on < limit]
        covered = issued.number.map(paid.groupby("invoice_number").amount_minor.sum()).fillna(0)
        covered += issued.number.map(credited.groupby("invoice_number").amount_minor.sum()).fillna(
            0
        )
        matured = issued.due_on <= self.end - limit
        reached = int((matured & (covered < issued.amount_minor)).sum())
        return _one(Decimal(reached) * 100 / len(issued)) if len(issued) else None

    def channel_cost(self) -> Decimal | None:
        invoices, messages, payments = (
            self.read("invoices"),
            self.read("messages"),
            self.read("payments"),
        )
        sent = messages[
            (messages.occurred_at >= self.start_at) & (messages.occurred_at < self.end_at)
        ]
        sent = sent[sent.invoice_number.isin(invoices.number)]
        prices = DEFAULT_CHANNEL_PRICES[self.currency]
        cost = sum(
            (
                prices.get(str(channel), Decimal(0)) * int(count)
                for channel, count in sent.channel.value_counts().items()
            ),
            Decimal(0),
        )
        collected = Decimal(
            int(
                payments.amount_minor[
                    (payments.paid_at >= self.start_at) & (payments.paid_at < self.end_at)
                ].sum()
            )
        )
        return (cost / collected).quantize(Decimal("0.000001")) if collected else None


def _one(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"))


def _same(ours_figure: object, pandas_figure: Decimal | None) -> bool:
    if ours_figure is None or pandas_figure is None:
        return ours_figure is None and pandas_figure is None
    return abs(Decimal(str(ours_figure)) - pandas_figure) <= Decimal("0.05")


if __name__ == "__main__":
    main()
