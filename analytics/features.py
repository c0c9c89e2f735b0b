"""What is known about an invoice when it is issued, for predicting when it will be paid.

Three queries read the ledger (invoices with their payment day, the customer's reminders before
each issue date, the customer's promises broken before it); pandas and numpy do the rest. The
prediction moment of every invoice is its issue date, so a feature never looks past it:

- the customer's history: days late of the invoices the customer had paid *before* the issue
  date (mean, median, count, share paid on a month's last day) — never this invoice's own
  payment, nor any later one;
- the invoice: amount (log), amount relative to the customer's usual (the median of the
  customer's invoices issued up to this one), terms in days, segment, country, due month, due
  day of the month;
- the customer's conduct: reminders sent to the customer before the issue date, per earlier
  paid invoice, and promises broken before it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Select, and_, func, select
from sqlalchemy.engine import Connection

from ledger.models import Customer, Interaction, Invoice, Payment, Promise
from ledger.reports.sql import utc_date

NUMERIC_FEATURES = (
    "past_mean_days_late",
    "past_median_days_late",
    "past_paid_count",
    "past_month_end_share",
    "log_amount",
    "amount_vs_usual",
    "terms_days",
    "due_month",
    "due_day",
    "contacts_per_paid",
    "broken_promises",
)
CATEGORICAL_FEATURES = ("segment_code", "country_code")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
SEGMENT_CODES = {"preferred": 0, "standard": 1, "high_risk": 2}


def invoice_frame(connection: Connection) -> pd.DataFrame:
    """One row per invoice: its facts, its payment day (NaT while open) and the features."""
    invoices = _invoices(connection)
    if invoices.empty:
        return invoices.assign(**{name: pd.Series(dtype=float) for name in FEATURES})
    contacts = _counts(connection, _contacts_before_issue())
    broken = _counts(connection, _broken_promises_before_issue())
    invoices["contacts_before"] = invoices["number"].map(contacts).fillna(0).astype(float)
    invoices["broken_promises"] = invoices["number"].map(broken).fillna(0).astype(float)
    return add_features(invoices)


def _invoices(connection: Connection) -> pd.DataFrame:
    last_payment = (
        select(
            Payment.invoice_number.label("number"),
            utc_date(func.max(Payment.paid_at)).label("paid_on"),
        )
        .where(Payment.status == "applied")
        .group_by(Payment.invoice_number)
        .subquery()
    )
    query = (
        select(
            Invoice.number,
            Invoice.customer_id,
            Invoice.currency,
            Invoice.amount_minor,
            Invoice.amount_due_minor,
            Invoice.issued_on,
            Invoice.due_on,
            Invoice.segment,
            Invoice.closed_reason,
            Customer.country,
            last_payment.c.paid_on,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(last_payment, last_payment.c.number == Invoice.number)
        .order_by(Invoice.number)
    )
    frame = pd.DataFrame(
        connection.execute(query).all(), columns=list(query.selected_columns.keys())
    )
    for column in ("issued_on", "due_on", "paid_on"):
        frame[column] = pd.to_datetime(frame[column])
    # Only an invoice paid in full has a payment day: a part payment is not the answer.
    fully_paid = (frame["closed_reason"] == "paid") & (frame["amount_due_minor"] == 0)
    frame.loc[~fully_paid, "paid_on"] = pd.NaT
    frame["days_late"] = (frame["paid_on"] - frame["due_on"]).dt.days
    return frame


def _contacts_before_issue() -> Select[str, int]:
    return (
        select(Invoice.number, func.count(Interaction.id))
        .join(
            Interaction,
            and_(
                Interaction.customer_id == Invoice.customer_id,
                Interaction.kind == "message_sent",
                utc_date(Interaction.occurred_at) < Invoice.issued_on,
            ),
        )
        .group_by(Invoice.number)
    )


def _broken_promises_before_issue() -> Select[str, int]:
    return (
        select(Invoice.number, func.count(Promise.id))
        .join(
            Promise,
            and_(
                Promise.customer_id == Invoice.customer_id,
                Promise.status == "broken",
                utc_date(Promise.settled_at) < Invoice.issued_on,
            ),
        )
        .group_by(Invoice.number)
    )


def _counts(connection: Connection, query: Select[str, int]) -> dict[str, int]:
    return {number: count for number, count in connection.execute(query).all()}


def add_features(invoices: pd.DataFrame) -> pd.DataFrame:
    """The features of ``invoices`` (the columns ``_invoices`` reads, plus ``contacts_before``
    and ``broken_promises``), from the customer's history before each issue date."""
    frame = invoices.sort_values(["customer_id", "issued_on", "number"]).copy()
    history = np.full((len(frame), 4), np.nan)
    usual = np.empty(len(frame))
    position = 0
    for _, customer in frame.groupby("customer_id", sort=False):
        size = len(customer)
        history[position : position + size] = _history(customer)
        amounts = customer["amount_minor"].to_numpy(dtype=float)
        usual[position : position + size] = pd.Series(amounts).expanding().median().to_numpy()
        position += size
    frame["past_mean_days_late"] = history[:, 0]
    frame["past_median_days_late"] = history[:, 1]
    frame["past_paid_count"] = history[:, 2]
    frame["past_month_end_share"] = history[:, 3]
    amount = frame["amount_minor"].to_numpy(dtype=float)
    frame["log_amount"] = np.log1p(amount)
    frame["amount_vs_usual"] = np.log(np.maximum(amount, 1) / np.maximum(usual, 1))
    frame["terms_days"] = (frame["due_on"] - frame["issued_on"]).dt.days.astype(float)
    frame["due_month"] = frame["due_on"].dt.month.astype(float)
    frame["due_day"] = frame["due_on"].dt.day.astype(float)
    frame["contacts_per_paid"] = frame["contacts_before"] / np.maximum(frame["past_paid_count"], 1)
    frame["segment_code"] = frame["segment"].map(SEGMENT_CODES).fillna(1).astype(float)
    frame["country_code"] = (frame["country"] == "MX").astype(float)
    return frame.sort_values("number").reset_index(drop=True)


def _history(customer: pd.DataFrame) -> np.ndarray:
    """For each invoice of one customer (sorted by issue date): mean, median, count and
    month-end share of the days late of the invoices paid strictly before its issue date."""
    paid = customer.dropna(subset=["paid_on"]).sort_values("paid_on")
    result = np.full((len(customer), 4), np.nan)
    result[:, 2] = 0.0
    if paid.empty:
        return result
    paid_days = paid["paid_on"].to_numpy()
    late = paid["days_late"].to_numpy(dtype=float)
    month_end = paid["paid_on"].dt.is_month_end.to_numpy(dtype=float)
    earlier = np.searchsorted(paid_days, customer["issued_on"].to_numpy(), side="left")
    running_mean = np.cumsum(late) / np.arange(1, len(late) + 1)
    running_median = pd.Series(late).expanding().median().to_numpy()
    running_month_end = np.cumsum(month_end) / np.arange(1, len(late) + 1)
    known = earlier > 0
    last = earlier[known] - 1
    result[known, 0] = running_mean[last]
    result[known, 1] = running_median[last]
    result[:, 2] = earlier
    result[known, 3] = running_month_end[last]
    return result


def days_open(frame: pd.DataFrame, as_of: date) -> pd.Series:
    """Days from the due date to ``as_of`` (negative: not yet due)."""
    return (pd.Timestamp(as_of) - frame["due_on"]).dt.days
