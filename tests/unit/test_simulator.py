"""The policy simulator: the engine's own timeline, payers that end it, figures, determinism
(same seed, any process, any number of workers), the payer model's file and what it learns
from a ledger (SQLite and PostgreSQL), and the book file's errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from analytics.book_file import BookFileError, BookInvoice, from_synthetic, parse_book
from analytics.ledger_loader import CONTACT_OFFSETS, STEPS, load_book
from analytics.payer_model import PayerModel, PayerModelError
from analytics.simulation_result import ChannelPrices, compare
from analytics.simulator import invoice_state, run_customer, simulate
from analytics.synthetic_book import synthetic_book
from dunning_policies.language import Channel, StepKind
from dunning_policies.preview import plan
from dunning_policies.registry import get_policy
from ledger.db import create_ledger_engine
from tests.ledger_support import BACKENDS, postgres_schema_url, sqlite_url

REPO = Path(__file__).resolve().parents[2]


def _invoice(number: str = "F-1", customer: str = "C-1", **changes: object) -> BookInvoice:
    fields: dict[str, object] = {
        "number": number,
        "customer_id": customer,
        "segment": "standard",
        "country": "CL",
        "currency": "CLP",
        "amount": Decimal(1_000_000),
        "issued_on": date(2026, 3, 2),
        "due_on": date(2026, 4, 7),
    }
    fields.update(changes)
    return BookInvoice(**fields)  # type: ignore[arg-type]


@dataclass
class NeverPays:
    def on_issue(self, invoice: BookInvoice) -> datetime | None:
        return None

    def on_contact(
        self, invoice: BookInvoice, channel: Channel, at: datetime, contacts: int
    ) -> datetime | None:
        return None


@dataclass
class PaysAfter:
    contact: int
    delay: timedelta

    def on_issue(self, invoice: BookInvoice) -> datetime | None:
        return None

    def on_contact(
        self, invoice: BookInvoice, channel: Channel, at: datetime, contacts: int
    ) -> datetime | None:
        return at + self.delay if contacts == self.contact else None


# --- the engine's own timeline ---


@pytest.mark.parametrize("policy_name", ["preferred", "standard", "high_risk"])
def test_with_nobody_paying_the_simulator_plans_what_the_preview_plans(policy_name: str) -> None:
    policy, invoice = get_policy(policy_name), _invoice()
    preview = [
        (step.step_id, step.channel, step.at)
        for step in plan(policy, invoice_state(invoice))
        if step.kind is StepKind.REMIND
    ]
    simulated = run_customer(policy, [invoice], NeverPays(), days=120)
    assert [(s.steps[0], s.channel, s.at) for s in simulated.sent] == preview
    assert preview


def test_a_payment_after_the_second_message_ends_the_dunning() -> None:
    policy, invoice = get_policy("standard"), _invoice()
    run = run_customer(policy, [invoice], PaysAfter(2, timedelta(days=1)), days=120)
    assert [s.steps[0] for s in run.sent] == ["preventive", "due_day"]
    assert run.paid["F-1"] == run.sent[1].at + timedelta(days=1)
    kinds = [event.kind for event in run.invoices["F-1"].timeline]
    assert kinds[-2:] == ["payment_received", "closed"]
    assert "task_opened" not in kinds


def test_the_same_days_news_of_two_invoices_go_in_one_message() -> None:
    first, second = _invoice("F-1"), _invoice("F-2", issued_on=date(2026, 3, 5))
    run = run_customer(get_policy("standard"), [first, second], NeverPays(), days=120)
    together = [s for s in run.sent if set(s.invoices) == {"F-1", "F-2"}]
    assert together, "invoices due the same day share the customer's messages"
    alone = run_customer(get_policy("standard"), [first], NeverPays(), days=120)
    assert len(run.sent) == len(alone.sent)


def test_the_figures_count_within_each_invoices_horizon() -> None:
    book = [_invoice("F-1"), _invoice("F-2", customer="C-2", amount=Decimal(500_000))]
    model = PayerModel.default()
    [result] = simulate(book, ["standard"], model=model, seed=3, days=120, workers=1)
    assert result.invoices == 2
    [clp] = result.currencies
    assert clp.invoiced == Decimal(1_500_000)
    assert set(clp.collected_by_day) == {30, 60, 90, 120}
    assert clp.collected_by_day[30] <= clp.collected_by_day[60] <= clp.collected_by_day[120]
    assert Decimal(0) < clp.dso_days <= Decimal(120)
    prices = ChannelPrices()
    expected_cost = sum(
        (prices.price(channel, "CLP") * count for channel, count in result.contacts.items()),
        Decimal(0),
    )
    assert clp.channel_cost == expected_cost.quantize(Decimal("0.01"))


def test_nobody_paying_collects_nothing_and_hands_every_invoice_off() -> None:
    raw = PayerModel.default().as_dict()
    raw["pays_without_contact"] = dict.fromkeys(raw["pays_without_contact"], 0)
    raw["pays_after_contact"] = {
        segment: dict.fromkeys(channels, 0)
        for segment, channels in raw["pays_after_contact"].items()
    }
    model = PayerModel.from_dict(raw)
    book = [_invoice("F-1"), _invoice("F-2", customer="C-2")]
    [result] = simulate(book, ["standard"], model=model, seed=1, days=120, workers=1)
    [clp] = result.currencies
    assert result.invoices_paid == 0
    assert clp.collected_by_day[120] == 0
    assert clp.dso_days == Decimal(120)
    assert (result.tasks_created, result.handoffs) == (2, 2)
    assert result.contacts == {"email": 6, "sms": 2, "whatsapp": 2, "voice": 0}


# --- determinism ---


def _small_book() -> list[BookInvoice]:
    return from_synthetic(synthetic_book(240, seed=11))


def test_the_same_seed_gives_the_same_result_with_any_number_of_workers() -> None:
    book, model = _small_book(), PayerModel.default()
    one = simulate(book, ["standard", "high_risk"], model=model, seed=5, workers=1)
    two = simulate(book, ["standard", "high_risk"], model=model, seed=5, workers=2)
    assert [r.as_dict() for r in one] == [r.as_dict() for r in two]
    other = simulate(book, ["standard"], model=model, seed=6, workers=1)
    assert other[0].as_dict() != one[0].as_dict()


def test_the_same_seed_gives_the_same_output_in_another_process() -> None:
    """Two fresh interpreters with different string-hash salts print the same JSON."""
    command = [
        sys.executable,
        "starter.py",
        "simulate",
        "--policy",
        "standard",
        "--policy",
        "high_risk",
        "--synthetic",
        "120",
        "--seed",
        "9",
        "--json",
    ]
    outputs = []
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=120
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    [a, b] = outputs[0]["results"]
    assert (a["policy"], b["policy"], a["invoices"]) == ("standard", "high_risk", 120)
    in_process = simulate(
        from_synthetic(synthetic_book(120, seed=9)),
        ["standard", "high_risk"],
        model=PayerModel.default(),
        seed=9,
        workers=1,
    )
    assert outputs[0]["results"] == [r.as_dict() for r in in_process]
    assert outputs[0]["comparison"] == [r.as_dict() for r in compare(*in_process)]


# --- the payer model ---


def test_the_bundled_model_loads_and_draws_from_the_callers_generator() -> None:
    import random

    model = PayerModel.default()
    assert model.response_window_days == 7
    draws = [model.draw_after_contact(random.Random(4), "standard", "sms") for _ in range(2)]
    assert draws[0] == draws[1]
    always = PayerModel.from_dict(
        {
            **model.as_dict(),
            "pays_after_contact": {
                s: dict.fromkeys(("email", "sms", "whatsapp", "voice"), 1)
                for s in ("preferred", "standard", "high_risk")
            },
        }
    )
    assert always.draw_after_contact(random.Random(1), "high_risk", "email") in range(7)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"response_window_days": 0}, "response_window_days"),
        ({"pays_without_contact": {"preferred": 0.1}}, "pays_without_contact.standard"),
        ({"delay_days": {"9": 1}}, "delay_days must lie in 0..6"),
        ({"delay_days": {"x": 1}}, "delay_days.x"),
    ],
)
def test_a_bad_model_file_names_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({**PayerModel.default().as_dict(), **change}))
    with pytest.raises(PayerModelError, match=message.replace(".", r"\.")):
        PayerModel.from_file(path)


@pytest.fixture(params=BACKENDS)
def ledger_session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    def open_on(url: str) -> Iterator[Session]:
        engine = create_ledger_engine(url)
        with Session(engine) as session:
            yield session
        engine.dispose()

    if request.param == "sqlite":
        yield from open_on(sqlite_url(tmp_path))
        return
    with postgres_schema_url() as url:
        yield from open_on(url)


def test_the_model_learned_from_a_ledger_is_what_its_history_says(
    ledger_session: Session,
) -> None:
    """The book's reminders and payments, counted again in Python: a message is answered when
    the payment came within 7 days after it and before the next message."""
    book = synthetic_book(600, seed=3)
    load_book(ledger_session.connection(), book)
    ledger_session.flush()
    since, until = date(2025, 9, 1), date(2026, 9, 1)
    model = PayerModel.learned_from_ledger(ledger_session, since, until, min_observations=1)

    paid = {p.invoice_number: p.paid_on for p in book.payments}
    sent: dict[tuple[str, str], int] = defaultdict(int)
    answered: dict[tuple[str, str], int] = defaultdict(int)
    alone: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for invoice in book.invoices:
        segment = book.customer_by_id[invoice.customer_id].segment
        paid_on = paid.get(invoice.number)
        last_day = paid_on or book.as_of + timedelta(days=1)
        contacts = [
            (invoice.due_on + timedelta(days=offset), channel)
            for (_, channel), offset in zip(STEPS, CONTACT_OFFSETS, strict=True)
            if invoice.issued_on <= invoice.due_on + timedelta(days=offset) < last_day
        ]
        for index, (day, channel) in enumerate(contacts):
            if not since <= day < until:
                continue
            sent[segment, channel] += 1
            following = contacts[index + 1][0] if index + 1 < len(contacts) else None
            if (
                paid_on is not None
                and day <= paid_on < day + timedelta(days=7)
                and (following is None or paid_on < following)
            ):
                answered[segment, channel] += 1
        if since <= invoice.issued_on < until:
            alone[segment][0] += 1
            if paid_on is not None and (not contacts or paid_on < contacts[0][0]):
                alone[segment][1] += 1
    assert sent
    for (segment, channel), count in sent.items():
        expected = round(answered[segment, channel] / count, 4)
        assert model.pays_after_contact[segment][channel] == expected, (segment, channel)
    for segment, (invoices, paid_alone) in alone.items():
        assert model.pays_without_contact[segment] == round(paid_alone / invoices, 4), segment
    assert all(0 <= days < 7 for days, _ in model.delay_days)


# --- the book file ---


def test_a_book_file_reads_its_columns() -> None:
    lines = [
        "number,customer,segment,country,currency,amount,issued_on,due_on,note\n",
        "F-1,C-1,standard,cl,clp,1250000,2026-03-02,2026-04-01,x\n",
    ]
    [invoice] = parse_book(lines)
    assert invoice == _invoice(country="CL", amount=Decimal(1_250_000), due_on=date(2026, 4, 1))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("F-1,C-1,vip,CL,CLP,100,2026-03-02,2026-04-01", "line 2, column segment ('vip')"),
        ("F-1,C-1,standard,AR,CLP,100,2026-03-02,2026-04-01", "line 2, column country"),
        ("F-1,C-1,standard,CL,CLP,1.2.3,2026-03-02,2026-04-01", "line 2, column amount"),
        ("F-1,C-1,standard,CL,CLP,100,02/03/2026,2026-04-01", "line 2, column issued_on"),
        ("F-1,C-1,standard,CL,CLP,100,2026-03-02,2026-02-01", "line 2, column due_on"),
        ("F-1,,standard,CL,CLP,100,2026-03-02,2026-04-01", "line 2, column customer"),
    ],
)
def test_a_bad_book_row_names_its_line_and_column(row: str, message: str) -> None:
    header = "number,customer,segment,country,currency,amount,issued_on,due_on\n"
    with pytest.raises(BookFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_book([header, row + "\n"])


def test_a_book_file_without_a_column_says_which() -> None:
    with pytest.raises(BookFileError, match="missing column\\(s\\) due_on"):
        parse_book(["number,customer,segment,country,currency,amount,issued_on\n"])


# --- the command ---


def test_the_command_reads_a_book_file_and_prints_a_and_b(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from starter import app

    book = tmp_path / "book.csv"
    book.write_text(
        "number,customer,segment,country,currency,amount,issued_on,due_on\n"
        "F-1,C-1,standard,CL,CLP,1250000,2026-03-02,2026-04-01\n"
        "F-2,C-2,high_risk,MX,MXN,30000.50,2026-03-02,2026-04-01\n"
    )
    arguments = ["simulate", "--policy", "standard", "--policy", "high_risk"]
    result = CliRunner().invoke(app, [*arguments, "--book", str(book), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "A: standard" in result.output and "B: high_risk" in result.output
    assert "collected by day 90 (MXN)" in result.output

    book.write_text(book.read_text() + "F-3,C-3,standard,CL,CLP,-5,2026-03-02,2026-04-01\n")
    result = CliRunner().invoke(app, [*arguments, "--book", str(book)])
    assert result.exit_code == 1
    assert "line 4, column amount ('-5'): must be positive" in result.output


def test_the_command_learns_the_payers_from_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from config.settings import get_settings
    from starter import app

    engine = create_ledger_engine(sqlite_url(tmp_path))
    with engine.begin() as connection:
        load_book(connection, synthetic_book(300, seed=2, as_of=date.today()))
    engine.dispose()
    monkeypatch.setenv("DUNNING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    arguments = ["simulate", "--policy", "standard", "--synthetic", "60", "--workers", "1"]
    try:
        learned = CliRunner().invoke(app, [*arguments, "--learn-from-ledger", "--json"])
        bundled = CliRunner().invoke(app, [*arguments, "--json"])
    finally:
        get_settings.cache_clear()
    assert learned.exit_code == 0, learned.output
    [only] = json.loads(learned.output)["results"]
    assert (only["policy"], only["invoices"]) == ("standard", 60)
    # The ledger's payers are not the bundled model's: the same seed tells another story.
    assert json.loads(bundled.output)["results"] != [only]
