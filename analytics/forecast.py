"""When open invoices will be paid, and the cash that brings in over the next 13 weeks.

Two predictors of an invoice's days late, side by side:
- the baseline: the customer's median days late on the invoices paid before this one was issued;
  a customer without history gets the segment's median (from the training invoices), then the
  global median;
- the model: scikit-learn's ``HistGradientBoostingRegressor`` on the features of
  ``analytics.features``, fitted for absolute error (the median, as the baseline is) with a
  fixed ``random_state``: the same ledger gives the same numbers.

The backtest is time-ordered: the model learns from the invoices due before the cut whose
payment was known by the cut, and is scored on the invoices due from the cut until 60 days
before the book's day (later ones have not had the time to be paid: scoring them would reward
a predictor for guessing early). Only paid invoices have a days-late to learn or score;
never-payers are the risk score's concern, not this one's.

The cash-in forecast places each open invoice at due date + predicted days late. An invoice the
prediction expected paid already is placed on the day after ``as_of`` (due any day now); one
more than ``DOUBTFUL_AFTER_DAYS`` past due is not counted as cash coming in (``doubtful``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from analytics.features import CATEGORICAL_FEATURES, FEATURES, days_open
from dunning_policies.money import from_minor

WEEKS = 13
DOUBTFUL_AFTER_DAYS = 90
BACKTEST_DAYS = 180
"""The cut is this many days before ``as_of``."""
SETTLING_DAYS = 60
"""Invoices due in the last 60 days before ``as_of`` are left out of the backtest."""
RANDOM_STATE = 7


@dataclass(frozen=True)
class Backtest:
    cut: date
    train_count: int
    test_count: int
    model_mae: float
    baseline_mae: float
    """Mean absolute error in days on the test invoices."""


@dataclass(frozen=True)
class WeekForecast:
    week: str
    """ISO week, ``2026-W49``."""
    starts_on: date
    currency: str
    model: Decimal
    baseline: Decimal


@dataclass(frozen=True)
class CashInForecast:
    as_of: date
    weeks: tuple[WeekForecast, ...]
    later: dict[str, tuple[Decimal, Decimal]]
    """Per currency, (model, baseline): expected after the 13th week."""
    doubtful: dict[str, Decimal]
    """Per currency: open and more than DOUBTFUL_AFTER_DAYS past due."""


class Predictor(Protocol):
    def model_days_late(self, frame: pd.DataFrame) -> np.ndarray: ...

    def baseline_days_late(self, frame: pd.DataFrame) -> np.ndarray: ...


class DaysLatePredictor:
    """The model and the baseline, fitted on paid invoices."""

    def __init__(self, train: pd.DataFrame) -> None:
        if train.empty:
            raise ValueError("no paid invoices to learn from")
        self.global_median = float(train["days_late"].median())
        self.segment_median = train.groupby("segment")["days_late"].median().to_dict()
        categorical = [FEATURES.index(name) for name in CATEGORICAL_FEATURES]
        self.model = HistGradientBoostingRegressor(
            loss="absolute_error",
            learning_rate=0.05,
            max_iter=400,
            min_samples_leaf=40,
            categorical_features=categorical,
            random_state=RANDOM_STATE,
        )
        self.model.fit(train[list(FEATURES)].to_numpy(dtype=float), train["days_late"])

    def model_days_late(self, frame: pd.DataFrame) -> np.ndarray:
        if frame.empty:
            return np.empty(0)
        return np.asarray(self.model.predict(frame[list(FEATURES)].to_numpy(dtype=float)))

    def baseline_days_late(self, frame: pd.DataFrame) -> np.ndarray:
        fallback = frame["segment"].map(self.segment_median).fillna(self.global_median)
        return frame["past_median_days_late"].fillna(fallback).to_numpy(dtype=float)


def paid(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["days_late"].notna()]


def backtest(frame: pd.DataFrame, as_of: date) -> Backtest:
    cut = as_of - timedelta(days=BACKTEST_DAYS)
    cut_at, settled_at = pd.Timestamp(cut), pd.Timestamp(as_of - timedelta(days=SETTLING_DAYS))
    known = paid(frame)
    train = known[(known["due_on"] < cut_at) & (known["paid_on"] < cut_at)]
    test = known[(known["due_on"] >= cut_at) & (known["due_on"] < settled_at)]
    predictor = DaysLatePredictor(train)
    actual = test["days_late"].to_numpy(dtype=float)
    model_error = np.abs(predictor.model_days_late(test) - actual)
    baseline_error = np.abs(predictor.baseline_days_late(test) - actual)
    return Backtest(
        cut=cut,
        train_count=len(train),
        test_count=len(test),
        model_mae=round(float(model_error.mean()), 2) if len(test) else float("nan"),
        baseline_mae=round(float(baseline_error.mean()), 2) if len(test) else float("nan"),
    )


def open_invoices(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["closed_reason"].isna() & (frame["amount_due_minor"] > 0)]


def cash_in(
    frame: pd.DataFrame, predictor: Predictor, as_of: date, currency: str | None = None
) -> CashInForecast:
    """The open invoices' amounts due, summed by the ISO week of their predicted payment day,
    for the 13 weeks from the week of the day after ``as_of``."""
    still_open = open_invoices(frame)
    if currency is not None:
        still_open = still_open[still_open["currency"] == currency]
    doubtful_rows = days_open(still_open, as_of) > DOUBTFUL_AFTER_DAYS
    doubtful = _sum_minor(still_open[doubtful_rows].groupby("currency")["amount_due_minor"].sum())
    expected = still_open[~doubtful_rows]
    first_day = as_of + timedelta(days=1)
    first_monday = first_day - timedelta(days=first_day.weekday())
    by_method = {
        "model": _weekly(expected, predictor.model_days_late(expected), first_day, first_monday),
        "baseline": _weekly(
            expected, predictor.baseline_days_late(expected), first_day, first_monday
        ),
    }
    currencies = sorted(set(expected["currency"]))
    weeks = []
    for index in range(WEEKS):
        starts_on = first_monday + timedelta(weeks=index)
        year, week, _ = starts_on.isocalendar()
        for code in currencies:
            weeks.append(
                WeekForecast(
                    week=f"{year}-W{week:02d}",
                    starts_on=starts_on,
                    currency=code,
                    model=from_minor(by_method["model"].get((index, code), 0), code),
                    baseline=from_minor(by_method["baseline"].get((index, code), 0), code),
                )
            )
    later = {
        code: (
            from_minor(by_method["model"].get((WEEKS, code), 0), code),
            from_minor(by_method["baseline"].get((WEEKS, code), 0), code),
        )
        for code in currencies
    }
    return CashInForecast(as_of=as_of, weeks=tuple(weeks), later=later, doubtful=doubtful)


def _weekly(
    invoices: pd.DataFrame, days_late: np.ndarray, first_day: date, first_monday: date
) -> dict[tuple[int, str], int]:
    """(week index, currency) → minor units; week index ``WEEKS`` holds everything later."""
    if invoices.empty:
        return {}
    predicted = invoices["due_on"] + pd.to_timedelta(np.round(days_late), unit="D")
    predicted = predicted.clip(lower=pd.Timestamp(first_day))
    week = ((predicted - pd.Timestamp(first_monday)).dt.days // 7).clip(upper=WEEKS)
    sums = invoices.assign(week=week).groupby(["week", "currency"])["amount_due_minor"].sum()
    return {(int(w), str(c)): int(total) for (w, c), total in sums.items()}


def _sum_minor(sums: pd.Series) -> dict[str, Decimal]:
    return {str(code): from_minor(int(total), str(code)) for code, total in sums.items()}


@dataclass(frozen=True)
class InvoicePrediction:
    number: str
    customer_id: str
    currency: str
    amount_due: Decimal
    due_on: date
    model_pays_on: date | None
    baseline_pays_on: date | None
    """None: more than DOUBTFUL_AFTER_DAYS past due, not expected as cash coming in."""


def predict_open(
    frame: pd.DataFrame, predictor: Predictor, as_of: date, currency: str | None = None
) -> list[InvoicePrediction]:
    """Each open invoice's predicted payment day by the model and by the baseline, placed as
    the cash-in forecast places them; earliest (by the model) first."""
    still_open = open_invoices(frame)
    if currency is not None:
        still_open = still_open[still_open["currency"] == currency]
    doubtful = (days_open(still_open, as_of) > DOUBTFUL_AFTER_DAYS).to_numpy()
    first_day = pd.Timestamp(as_of + timedelta(days=1))
    days: dict[str, list[date | None]] = {}
    for name, late in (
        ("model", predictor.model_days_late(still_open)),
        ("baseline", predictor.baseline_days_late(still_open)),
    ):
        when = (still_open["due_on"] + pd.to_timedelta(np.round(late), unit="D")).clip(
            lower=first_day
        )
        days[name] = [
            None if gone else day.date() for day, gone in zip(when, doubtful, strict=True)
        ]
    predictions = [
        InvoicePrediction(
            number=str(row.number),
            customer_id=str(row.customer_id),
            currency=str(row.currency),
            amount_due=from_minor(int(row.amount_due_minor), str(row.currency)),
            due_on=row.due_on.date(),
            model_pays_on=model_day,
            baseline_pays_on=baseline_day,
        )
        for row, model_day, baseline_day in zip(
            still_open.itertuples(), days["model"], days["baseline"], strict=True
        )
    ]
    return sorted(predictions, key=lambda p: (p.model_pays_on or date.max, p.number))
