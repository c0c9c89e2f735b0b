"""A synthetic book: customers with payment habits, their invoices over a span of time, and what
they paid and when. Deterministic for a seed. The demo, the tests and the benchmarks share it.

How lateness is drawn (what a model can learn and a per-customer median cannot all see):
- each customer has a habit, by segment: preferred pay around the due date, standard a couple of
  weeks late, high-risk a month or more, and some of those never;
- larger invoices (relative to the customer's usual) are paid later; longer terms a little
  earlier (the customer had time to plan);
- many customers pay on a fixed day: the next month-end after they would have paid;
- invoices due in December are paid later (holidays, year-end closing);
- contacts help: each reminder before payment takes some days off;
- broken promises make a customer later still.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

SEGMENT_SHARE = (("preferred", 0.25), ("standard", 0.6), ("high_risk", 0.15))
TERMS_DAYS = (30, 30, 30, 45, 60)
COUNTRIES = (
    ("CL", "America/Santiago", "es_CL", "CLP", 0.6),
    ("MX", "America/Mexico_City", "es_MX", "MXN", 0.4),
)
NAMES = (
    "Ferretería",
    "Comercial",
    "Distribuidora",
    "Importadora",
    "Constructora",
    "Panadería",
    "Transportes",
    "Agrícola",
    "Farmacia",
    "Textil",
    "Librería",
    "Muebles",
)
PLACES = (
    "Los Andes",
    "del Pacífico",
    "San Martín",
    "La Frontera",
    "Valle Central",
    "Norte Grande",
    "Bío Bío",
    "Atacama",
    "Sierra Madre",
    "Bajío",
    "Laguna",
    "Santa Fe",
)


@dataclass(frozen=True)
class PayerHabit:
    """How a customer pays: the days late of a typical invoice, how much that varies, whether
    they wait for a month-end, how much a reminder moves them, and how often they never pay."""

    typical_days_late: float
    spread_days: float
    month_end_payer: bool
    days_saved_per_contact: float
    never_pays: float
    promises_broken: int


@dataclass(frozen=True)
class SyntheticCustomer:
    id: str
    name: str
    country: str
    timezone: str
    locale: str
    currency: str
    segment: str
    typical_amount: Decimal
    habit: PayerHabit


@dataclass(frozen=True)
class SyntheticInvoice:
    number: str
    customer_id: str
    currency: str
    amount: Decimal
    issued_on: date
    due_on: date

    @property
    def terms_days(self) -> int:
        return (self.due_on - self.issued_on).days


@dataclass(frozen=True)
class SyntheticPayment:
    invoice_number: str
    paid_on: date
    amount: Decimal
    contacts_before: int
    """Reminders the customer had been sent by then (the standard policy's offsets)."""


@dataclass(frozen=True)
class Book:
    customers: tuple[SyntheticCustomer, ...]
    invoices: tuple[SyntheticInvoice, ...]
    payments: tuple[SyntheticPayment, ...]
    """Only what was paid by ``as_of``; the rest of the invoices are open."""
    as_of: date
    seed: int
    customer_by_id: dict[str, SyntheticCustomer] = field(repr=False, compare=False)

    def days_late(self) -> dict[str, int]:
        due = {invoice.number: invoice.due_on for invoice in self.invoices}
        return {p.invoice_number: (p.paid_on - due[p.invoice_number]).days for p in self.payments}


# The standard policy's reminders from the due date (before payment they count as contacts).
CONTACT_OFFSETS = (-3, 0, 3, 10, 18)


def contacts_before(due_on: date, paid_on: date) -> int:
    return sum(1 for offset in CONTACT_OFFSETS if due_on + timedelta(days=offset) < paid_on)


def _habit(rng: random.Random, segment: str) -> PayerHabit:
    if segment == "preferred":
        typical, spread, never, broken = rng.uniform(-3, 4), rng.uniform(1, 4), 0.0, 0
    elif segment == "standard":
        typical, spread, never = rng.uniform(3, 25), rng.uniform(3, 10), 0.01
        broken = rng.choice((0, 0, 0, 1))
    else:
        typical, spread, never = rng.uniform(25, 75), rng.uniform(8, 25), rng.uniform(0.05, 0.2)
        broken = rng.choice((1, 2, 3))
    return PayerHabit(
        typical_days_late=typical,
        spread_days=spread,
        month_end_payer=rng.random() < 0.35,
        days_saved_per_contact=rng.uniform(0.5, 3.0),
        never_pays=never,
        promises_broken=broken,
    )


def _segment(rng: random.Random) -> str:
    draw, total = rng.random(), 0.0
    for segment, share in SEGMENT_SHARE:
        total += share
        if draw < total:
            return segment
    return SEGMENT_SHARE[-1][0]


def _country(rng: random.Random) -> tuple[str, str, str, str]:
    draw, total = rng.random(), 0.0
    for country, zone, locale, currency, share in COUNTRIES:
        total += share
        if draw < total:
            return country, zone, locale, currency
    country, zone, locale, currency, _ = COUNTRIES[-1]
    return country, zone, locale, currency


def _month_end(day: date) -> date:
    first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_of_next - timedelta(days=1)


def payment_day(
    rng: random.Random, customer: SyntheticCustomer, invoice: SyntheticInvoice
) -> date | None:
    """When this customer pays this invoice (None: never), by the rules in the module doc."""
    habit = customer.habit
    if rng.random() < habit.never_pays:
        return None
    size = float(invoice.amount / customer.typical_amount)
    late = habit.typical_days_late + rng.gauss(0, habit.spread_days)
    late += 6.0 * math.log(max(size, 0.1))  # twice the usual amount: ~4 days later
    late -= (invoice.terms_days - 30) / 6  # 60-day terms: ~5 days earlier
    late += 3.0 * habit.promises_broken
    if invoice.due_on.month == 12:
        late += 9
    # Reminders sent before the customer would have paid pull the payment earlier.
    planned = invoice.due_on + timedelta(days=round(late))
    late -= habit.days_saved_per_contact * contacts_before(invoice.due_on, planned)
    paid = invoice.due_on + timedelta(days=round(late))
    paid = max(paid, invoice.issued_on + timedelta(days=1))
    if habit.month_end_payer:
        paid = _month_end(paid)
    return paid


def synthetic_book(
    invoices: int,
    *,
    seed: int = 7,
    as_of: date = date(2026, 11, 30),
    history_days: int = 540,
    invoices_per_customer: int = 12,
) -> Book:
    """``invoices`` issued evenly over the ``history_days`` before ``as_of``, to
    ``invoices / invoices_per_customer`` customers; payments are those made by ``as_of``."""
    rng = random.Random(seed)
    count = max(1, invoices // invoices_per_customer)
    customers = []
    for index in range(count):
        country, zone, locale, currency = _country(rng)
        segment = _segment(rng)
        usual = Decimal(rng.choice((150_000, 400_000, 900_000, 2_500_000, 6_000_000)))
        if currency == "MXN":
            usual = (usual / 45).quantize(Decimal("1"))
        customers.append(
            SyntheticCustomer(
                id=f"SC-{index:06d}",
                name=f"{rng.choice(NAMES)} {rng.choice(PLACES)} {index}",
                country=country,
                timezone=zone,
                locale=locale,
                currency=currency,
                segment=segment,
                typical_amount=usual,
                habit=_habit(rng, segment),
            )
        )
    first_day = as_of - timedelta(days=history_days)
    book_invoices, payments = [], []
    for index in range(invoices):
        customer = customers[rng.randrange(count)]
        issued = first_day + timedelta(days=rng.randrange(history_days))
        terms = rng.choice(TERMS_DAYS)
        factor = Decimal(str(round(math.exp(rng.gauss(0, 0.6)), 2)))
        amount = max(Decimal(1000), (customer.typical_amount * factor).quantize(Decimal("1")))
        invoice = SyntheticInvoice(
            number=f"SF-{index:07d}",
            customer_id=customer.id,
            currency=customer.currency,
            amount=amount,
            issued_on=issued,
            due_on=issued + timedelta(days=terms),
        )
        book_invoices.append(invoice)
        paid = payment_day(rng, customer, invoice)
        if paid is not None and paid <= as_of:
            payments.append(
                SyntheticPayment(
                    invoice.number, paid, amount, contacts_before(invoice.due_on, paid)
                )
            )
    return Book(
        customers=tuple(customers),
        invoices=tuple(book_invoices),
        payments=tuple(payments),
        as_of=as_of,
        seed=seed,
        customer_by_id={customer.id: customer for customer in customers},
    )
