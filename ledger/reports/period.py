"""A KPI report's period and its answer: the figure, the formula, the inputs and the rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from dunning_policies.money import from_minor, validate_currency
from ledger.reports.window import ReportWindow, day_start

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)
Cell = str | int | Decimal | None


@dataclass(frozen=True)
class KpiPeriod:
    """The days ``start`` to ``end`` (both inclusive, UTC), in one currency.

    ``contact_days``: how far back before a payment a message may be to take the credit for it.
    """

    start: date
    end: date
    currency: str
    contact_days: int = 7

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        object.__setattr__(self, "currency", validate_currency(self.currency.upper()))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        """00:00 UTC of the first day: where opening balances are taken."""
        return day_start(self.start)

    @property
    def end_at(self) -> datetime:
        """00:00 UTC after the last day: where closing balances are taken."""
        return day_start(self.end + timedelta(days=1))

    @property
    def window(self) -> ReportWindow:
        """The dashboard's window over the same days, to reuse its contribution queries."""
        return ReportWindow(self.end, self.currency, self.days, self.contact_days)

    def money(self, minor: int) -> Decimal:
        return from_minor(minor, self.currency)


@dataclass(frozen=True)
class KpiReport:
    """One KPI: its headline ``figure``, the ``formula`` that gives it, the ``inputs`` that
    went into it, and a table of ``rows`` under ``columns`` (its breakdown)."""

    name: str
    title: str
    period: KpiPeriod
    figure: Cell
    unit: str
    """``days``, ``percent``, a currency code, or ``ratio``."""
    formula: str
    inputs: Mapping[str, Cell]
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: money and ratios as decimal strings, never floats."""
        return {
            "name": self.name,
            "title": self.title,
            "currency": self.period.currency,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "contact_days": self.period.contact_days,
            "figure": _json(self.figure),
            "unit": self.unit,
            "formula": self.formula,
            "inputs": {key: _json(value) for key, value in self.inputs.items()},
            "columns": list(self.columns),
            "rows": [[_json(cell) for cell in row] for row in self.rows],
            "notes": list(self.notes),
        }


def _json(value: Cell) -> str | int | None:
    return str(value) if isinstance(value, Decimal) else value


def one_decimal(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_EVEN)


def ratio(numerator: Decimal | int, denominator: Decimal | int, scale: int = 1) -> Decimal | None:
    """numerator ÷ denominator × scale, one decimal, half-even; None when nothing to divide by."""
    if not denominator:
        return None
    return one_decimal(Decimal(numerator) * scale / Decimal(denominator))
