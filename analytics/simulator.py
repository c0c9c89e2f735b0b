"""The policy simulator: a book of invoices run through the workflows' own pure engine, with
payers who answer the messages as a payer model (or a script) says.

Each customer's invoices run together through ``simulate_customer`` (the contact engine's caps,
gaps and consolidation apply as in production); each invoice joins the run at its issuance (the
policy's window opening that day, as the preview starts) and is watched for ``days`` days. A
payment is applied through the engine's own transition (``apply_payment``), and the engine then
withdraws the queued message and closes the invoice, as the workflow does on the ERP's signal.

Randomness: one ``random.Random`` per invoice, seeded from (seed, invoice number) with CRC-32 —
a stable hash, unlike ``hash()`` of a string, which changes from one process to the next — so a
seed gives the same result in any process, any chunking and any number of workers; and the two
policies compared meet the same payers (the same draws, in the same order).
"""

from __future__ import annotations

import multiprocessing
import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby
from typing import Protocol
from zoneinfo import ZoneInfo

from analytics.book_file import BookInvoice
from analytics.payer_model import PayerModel
from analytics.simulation_result import ChannelPrices, InvoiceOutcome, SimulationResult, summarise
from dunning_policies import transitions as t
from dunning_policies.calendar import local_moment
from dunning_policies.customer_simulation import CustomerRun, SentContact, simulate_customer
from dunning_policies.jurisdictions import ContactRules, DebtType, rules_for_customer
from dunning_policies.language import Channel, Policy
from dunning_policies.registry import get_policy
from dunning_policies.state import Customer, InvoiceState, Payment

UNPROMPTED_PAYMENT_HOUR = time(15)
"""A customer paying on its own pays at 15:00 its time."""
HOURS_AFTER_CONTACT = 2
"""A payment answering a message lands this many hours after it, plus the drawn days."""
CHUNKS_PER_WORKER = 8
"""Enough chunks that a slow one does not leave the other workers idle at the end."""
MAX_CUSTOMERS_PER_CHUNK = 200
NEVER = datetime.max.replace(tzinfo=UTC)


class Payer(Protocol):
    """When the customers pay: asked at each invoice's issuance and after each message."""

    def on_issue(self, invoice: BookInvoice) -> datetime | None: ...

    def on_contact(
        self, invoice: BookInvoice, channel: Channel, at: datetime, contacts: int
    ) -> datetime | None:
        """``contacts``: the messages this invoice has been part of, this one included."""
        ...


class ModelPayer:
    """Payers drawn from a ``PayerModel``, one seeded generator per invoice."""

    def __init__(self, model: PayerModel, seed: int) -> None:
        self.model = model
        self.seed = seed
        self._generators: dict[str, random.Random] = {}

    def _rng(self, number: str) -> random.Random:
        rng = self._generators.get(number)
        if rng is None:
            rng = random.Random(zlib.crc32(f"{self.seed}:{number}".encode()))
            self._generators[number] = rng
        return rng

    def on_issue(self, invoice: BookInvoice) -> datetime | None:
        days = self.model.draw_unprompted(self._rng(invoice.number), invoice.segment)
        if days is None:
            return None
        day = max(invoice.due_on + timedelta(days=days), invoice.issued_on + timedelta(days=1))
        return datetime.combine(day, UNPROMPTED_PAYMENT_HOUR, tzinfo=ZoneInfo(invoice.timezone))

    def on_contact(
        self, invoice: BookInvoice, channel: Channel, at: datetime, contacts: int
    ) -> datetime | None:
        rng = self._rng(invoice.number)
        days = self.model.draw_after_contact(rng, invoice.segment, channel.value)
        if days is None:
            return None
        return at + timedelta(days=days, hours=HOURS_AFTER_CONTACT)


@lru_cache(maxsize=8192)
def _rules(country: str, due_on: date) -> ContactRules:
    # Building a pack (its holidays) costs more than a whole lifecycle: a book reuses a few.
    return rules_for_customer(country, DebtType.BUSINESS, None, due_on)


def invoice_state(invoice: BookInvoice) -> InvoiceState:
    """The state a workflow starts with for this invoice (a business customer, every channel)."""
    return InvoiceState(
        invoice_number=invoice.number,
        currency=invoice.currency,
        original_amount=invoice.amount,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        contact_rules=_rules(invoice.country, invoice.due_on),
        customer=Customer(
            id=invoice.customer_id,
            country=invoice.country,
            timezone=invoice.timezone,
            locale=invoice.locale,
            channels=frozenset(Channel),
        ),
        replacements_confirmed=True,
    )


def start_of(policy: Policy, invoice: BookInvoice) -> datetime:
    """When the invoice joins the run: its issuance day's window opening, as the preview."""
    return local_moment(invoice.issued_on, policy.window.start, invoice.timezone)


class _CustomerClock:
    """The ``events`` hook of one customer's run: invoices join at issuance, the payer hears
    each message, and payments land at their moment."""

    def __init__(
        self,
        policy: Policy,
        invoices: Sequence[BookInvoice],
        payer: Payer,
        days: int,
        policies: dict[str, Policy],
    ) -> None:
        self.policy, self.payer, self.policies = policy, payer, policies
        self.by_number = {invoice.number: invoice for invoice in invoices}
        self.starts = {i.number: start_of(policy, i) for i in invoices}
        self.ends = {n: start + timedelta(days=days) for n, start in self.starts.items()}
        self.arrivals = sorted(invoices, key=lambda i: (self.starts[i.number], i.number))
        self.arrived = 0
        self.heard = 0
        self.contacts: dict[str, int] = {}
        self.payments: dict[str, datetime] = {}
        self.paid: dict[str, datetime] = {}
        self.retired: dict[str, InvoiceState] = {}
        self.next_payment = NEVER
        self.next_arrival = self.starts[self.arrivals[0].number] if invoices else NEVER

    def _schedule(self, number: str, at: datetime | None) -> None:
        if at is None or at >= self.ends[number] or number in self.paid:
            return
        current = self.payments.get(number)
        if current is None or at < current:
            self.payments[number] = at
            self.next_payment = min(self.next_payment, at)

    def __call__(self, run: CustomerRun, now: datetime) -> datetime | None:
        if self.arrived < len(self.arrivals) and self.next_arrival <= now:
            self._arrive(run, now)
        if len(run.sent) > self.heard:
            self._hear(run)
        if self.next_payment <= now:
            self._pay(run, now)
        self._retire(run)
        wake = min(self.next_payment, self.next_arrival)
        return None if wake is NEVER else wake

    def _arrive(self, run: CustomerRun, now: datetime) -> None:
        while self.arrived < len(self.arrivals):
            invoice = self.arrivals[self.arrived]
            if self.starts[invoice.number] > now:
                break
            self.arrived += 1
            self.policies[invoice.number] = self.policy
            run.invoices.setdefault(invoice.number, invoice_state(invoice))
            self._schedule(invoice.number, self.payer.on_issue(invoice))
        following = self.arrived < len(self.arrivals)
        self.next_arrival = self.starts[self.arrivals[self.arrived].number] if following else NEVER

    def _hear(self, run: CustomerRun) -> None:
        for sent in run.sent[self.heard :]:
            for number in sent.invoices:
                self.contacts[number] = self.contacts.get(number, 0) + 1
                answer = self.payer.on_contact(
                    self.by_number[number], sent.channel, sent.at, self.contacts[number]
                )
                self._schedule(number, answer)
        self.heard = len(run.sent)

    def _pay(self, run: CustomerRun, now: datetime) -> None:
        for number, at in sorted(self.payments.items(), key=lambda item: (item[1], item[0])):
            if at > now:
                continue
            del self.payments[number]
            retired = number in self.retired
            state = self.retired[number] if retired else run.invoices[number]
            if state.closed_reason is not None or state.amount_due <= 0:
                continue
            payment = Payment(id=f"SIM-{number}", amount=state.amount_due, paid_at=at)
            state = t.apply_payment(state, payment, now)
            if retired:
                # With the agency: the engine would only close it; the money is what counts.
                self.retired[number] = state
            else:
                run.invoices[number] = state
            self.paid[number] = now
        self.next_payment = min(self.payments.values(), default=NEVER)

    def _retire(self, run: CustomerRun) -> None:
        """Take out of the run the invoices the engine has nothing more for (closed, or with
        the agency, with no message on its way): each turn of the clock asks every invoice in
        the run, and a customer's book grows with every month."""
        for number, state in list(run.invoices.items()):
            if state.contact_in_flight is None and (
                state.closed_reason is not None or _only_waits_for_the_agency(state)
            ):
                self.retired[number] = run.invoices.pop(number)


def _only_waits_for_the_agency(state: InvoiceState) -> bool:
    return (
        state.handed_off
        and state.amount_due > 0
        and state.promise is None
        and state.plan is None
        and state.dispute_reason is None
        and not state.paused
    )


@dataclass(frozen=True)
class CustomerTimeline:
    """What one customer's run did, for tests and for the equivalence with the workflow."""

    invoices: dict[str, InvoiceState]
    """Every invoice's final state, those taken out of the run early included."""
    sent: list[SentContact]
    starts: dict[str, datetime]
    ends: dict[str, datetime]
    paid: dict[str, datetime]


def run_customer(
    policy: Policy, invoices: Sequence[BookInvoice], payer: Payer, days: int
) -> CustomerTimeline:
    """Run one customer's invoices (all of the same customer) under ``policy``."""
    policies: dict[str, Policy] = {}
    clock = _CustomerClock(policy, invoices, payer, days, policies)
    first = clock.arrivals[0]
    policies[first.number] = policy
    start = clock.starts[first.number]
    until = max(clock.ends.values())
    run = simulate_customer(
        policies,
        {first.number: invoice_state(first)},
        start,
        until,
        max_rounds=10_000 + 200 * len(invoices),
        events=clock,
    )
    return CustomerTimeline(
        {**run.invoices, **clock.retired}, run.sent, clock.starts, clock.ends, clock.paid
    )


def outcomes_of(
    timeline: CustomerTimeline, invoices: Sequence[BookInvoice]
) -> list[InvoiceOutcome]:
    """Each invoice's figures within its own ``days`` from issuance. A message that spoke for
    several invoices counts once, for the first of them."""
    contacts: dict[str, list[str]] = {invoice.number: [] for invoice in invoices}
    for sent in timeline.sent:
        owner = sent.invoices[0]
        if sent.at < timeline.ends[owner]:
            contacts[owner].append(sent.channel.value)
    outcomes = []
    for invoice in invoices:
        number = invoice.number
        start, end = timeline.starts[number], timeline.ends[number]
        state = timeline.invoices.get(number)
        events = [e for e in state.timeline if e.at < end] if state is not None else []
        paid = timeline.paid.get(number)
        outcomes.append(
            InvoiceOutcome(
                number=number,
                currency=invoice.currency,
                amount=invoice.amount,
                paid_after_seconds=None if paid is None else int((paid - start).total_seconds()),
                contacts=tuple(contacts[number]),
                tasks=sum(1 for e in events if e.kind == "task_opened"),
                handoffs=sum(1 for e in events if e.kind == "handed_off"),
            )
        )
    return outcomes


def by_customer(book: Iterable[BookInvoice]) -> list[list[BookInvoice]]:
    """The book's invoices grouped by customer, customers and invoices in a fixed order."""
    ordered = sorted(book, key=lambda invoice: (invoice.customer_id, invoice.number))
    return [list(group) for _, group in groupby(ordered, key=lambda i: i.customer_id)]


@dataclass(frozen=True)
class _Chunk:
    policy: str
    model: PayerModel
    seed: int
    days: int
    customers: list[list[BookInvoice]]


def _run_chunk(chunk: _Chunk) -> list[InvoiceOutcome]:
    policy = get_policy(chunk.policy)
    payer = ModelPayer(chunk.model, chunk.seed)
    outcomes: list[InvoiceOutcome] = []
    for invoices in chunk.customers:
        outcomes.extend(outcomes_of(run_customer(policy, invoices, payer, chunk.days), invoices))
    return outcomes


def _chunks(
    policy: str,
    model: PayerModel,
    seed: int,
    days: int,
    customers: list[list[BookInvoice]],
    workers: int,
) -> Iterator[_Chunk]:
    size = -(-len(customers) // (workers * CHUNKS_PER_WORKER))
    size = max(1, min(size, MAX_CUSTOMERS_PER_CHUNK))
    for first in range(0, len(customers), size):
        yield _Chunk(policy, model, seed, days, customers[first : first + size])


def simulate(
    book: Sequence[BookInvoice],
    policies: Sequence[str],
    *,
    model: PayerModel,
    seed: int,
    days: int = 120,
    prices: ChannelPrices | None = None,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> list[SimulationResult]:
    """One result per policy, over the same book and the same payers. ``workers`` processes
    share the customers; the outcomes are merged in the book's order, so the result does not
    depend on how many there were. ``progress`` hears the invoices done so far."""
    customers = by_customer(book)
    for name in policies:
        get_policy(name)  # an unknown policy fails here, before any work
    results = []
    done = 0
    pool = None
    if workers > 1:
        pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        for name in policies:
            outcomes: list[InvoiceOutcome] = []
            chunks = _chunks(name, model, seed, days, customers, workers)
            mapped = pool.imap(_run_chunk, chunks) if pool else map(_run_chunk, chunks)
            for part in mapped:
                outcomes.extend(part)
                done += len(part)
                if progress is not None:
                    progress(done)
            results.append(summarise(name, outcomes, days=days, seed=seed, prices=prices))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return results
