"""The ledger's tables. Money is integer minor units plus an ISO 4217 currency; times are UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_policies.language import Channel
from ledger.types import JSONDocument, UTCDateTime, utc_now

# Stable constraint names, so a migration can refer to (and later drop) any constraint by name.
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(column_0_label)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

TASK_STATUSES = ("open", "completed", "expired")
# 64-bit on PostgreSQL (the bitácora outlives 2^31 rows); SQLite needs plain INTEGER to make the
# column its rowid alias, which is already 64-bit there.
SerialId = BigInteger().with_variant(Integer(), "sqlite")
OUTBOX_STATUSES = ("pending", "sent", "failed")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument}


def _currency_check() -> CheckConstraint:
    return CheckConstraint("length(currency) = 3", name="currency_iso")


def _in_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_known")


DEBT_TYPES = ("consumer", "business")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_iso"),
        _in_check("debt_type", DEBT_TYPES),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    whatsapp: Mapped[str | None]
    country: Mapped[str]
    timezone: Mapped[str]
    locale: Mapped[str]
    segment: Mapped[str | None]
    policy_override: Mapped[str | None]
    tax_id: Mapped[str | None]
    debt_type: Mapped[str | None]
    """consumer or business, as the ERP says; None: the tax id's word, else consumer."""
    subdivision: Mapped[str | None]
    """ISO 3166-2 without the country ("RM"), for regional holidays."""
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    def address_for(self, channel: Channel) -> str | None:
        """Where a message on ``channel`` goes: an email address or an E.164 number."""
        addresses = {
            Channel.EMAIL: self.email,
            Channel.SMS: self.phone,
            Channel.WHATSAPP: self.whatsapp,
            Channel.VOICE: self.phone,
        }
        return addresses[channel]

    @property
    def reachable_channels(self) -> frozenset[Channel]:
        return frozenset(channel for channel in Channel if self.address_for(channel))


class Invoice(Base):
    """The projection of an invoice's workflow: what the workflow last reported."""

    __tablename__ = "invoices"
    __table_args__ = (
        _currency_check(),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("amount_due_minor >= 0", name="amount_due_not_negative"),
    )

    number: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(index=True)
    segment: Mapped[str]
    policy_name: Mapped[str]
    policy_version: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str]
    next_action: Mapped[str | None]
    next_action_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Payment(Base):
    # invoice_number is deliberately not a foreign key: the bank may report a payment
    # before the ERP has issued the invoice to us.
    __tablename__ = "payments"
    __table_args__ = (
        _currency_check(),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str | None]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    paid_at: Mapped[datetime]
    reference: Mapped[str | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[str] = mapped_column(index=True, default="applied", server_default="applied")
    """``applied`` once its invoice's workflow has it; ``unapplied`` while it is unknown."""
    source: Mapped[str | None]


class Interaction(Base):
    """One line of the bitácora. Append-only: database triggers reject UPDATE and DELETE."""

    __tablename__ = "interactions"
    __table_args__ = (
        # The KPIs' lookups of one kind of event per invoice: its closing, its first message.
        Index("ix_interactions_kind_invoice_number", "kind", "invoice_number", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(unique=True)
    occurred_at: Mapped[datetime]
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    workflow_id: Mapped[str]
    kind: Mapped[str]
    step_id: Mapped[str | None]
    channel: Mapped[str | None]
    template: Mapped[str | None]
    status: Mapped[str | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    prev_hash: Mapped[str | None]
    """The ``row_hash`` of the customer's previous line (64 zeros for the first): the chain
    that ``dunning audit verify`` walks (``ledger.audit``)."""
    row_hash: Mapped[str | None]
    """SHA-256 (hex) of this line's content and ``prev_hash``."""


class Task(Base):
    """A human collector's to-do, opened by a workflow and closed by a collector or by its SLA."""

    __tablename__ = "tasks"
    __table_args__ = (_in_check("status", TASK_STATUSES),)

    id: Mapped[str] = mapped_column(primary_key=True)
    invoice_number: Mapped[str]
    customer_id: Mapped[str]
    workflow_id: Mapped[str]
    queue: Mapped[str]
    kind: Mapped[str]
    status: Mapped[str] = mapped_column(index=True, default="open")
    created_at: Mapped[datetime]
    sla_due_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assignee: Mapped[str | None] = mapped_column(index=True)
    """The user id of the collector working it; None while it waits in its queue."""
    claimed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    """Hidden from the inbox until then; its SLA still runs."""


class Handoff(Base):
    """The referral of an invoice to an extrajudicial collection agency; at most one per invoice."""

    __tablename__ = "handoffs"
    __table_args__ = (_currency_check(),)

    id: Mapped[str] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(unique=True)
    customer_id: Mapped[str]
    agency: Mapped[str]
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to a debtor, written before the provider is called so a retry never sends twice."""

    __tablename__ = "outbox"
    __table_args__ = (_in_check("status", OUTBOX_STATUSES),)

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str]
    workflow_id: Mapped[str]
    step_id: Mapped[str]
    channel: Mapped[str]
    provider: Mapped[str | None]
    template: Mapped[str]
    locale: Mapped[str]
    recipient: Mapped[str]
    subject: Mapped[str | None]
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provider_message_id: Mapped[str | None]
    error_code: Mapped[str | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The debtor's local send time with its offset, kept as text purely for display.
    scheduled_local: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]


class CustomerCredit(Base):
    """A movement of a customer's credit balance (positive: overpayment; negative: applied)."""

    __tablename__ = "customer_credits"
    __table_args__ = (_currency_check(),)

    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    invoice_number: Mapped[str]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    created_at: Mapped[datetime]


API_KEY_ROLES = ("erp", "collector", "ops", "admin")
CONTACT_BLOCK_KINDS = ("opted_out", "address_invalid")
BANK_LINE_STATUSES = ("matched", "suggested", "unmatched", "confirmed", "dismissed")


class ApiKey(Base):
    """A caller of the HTTP API. Only a SHA-256 of the secret is kept: the key is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (_in_check("role", API_KEY_ROLES),)

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    role: Mapped[str]
    secret_sha256: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class CreditNote(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (
        _currency_check(),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(ForeignKey("invoices.number"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    issued_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)


class ContactBlock(Base):
    """A channel the customer must not be contacted on: opted out, or its address bounced."""

    __tablename__ = "contact_blocks"
    __table_args__ = (_in_check("kind", CONTACT_BLOCK_KINDS),)

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    address: Mapped[str | None]
    reason: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class BankLine(Base):
    """One line of an imported bank statement and what became of it; none is ever dropped."""

    __tablename__ = "bank_lines"
    __table_args__ = (_currency_check(), _in_check("status", BANK_LINE_STATUSES))

    id: Mapped[str] = mapped_column(primary_key=True)
    source: Mapped[str]
    line: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    direction: Mapped[str]
    description: Mapped[str]
    bank_reference: Mapped[str | None]
    counterparty_name: Mapped[str | None]
    counterparty_tax_id: Mapped[str | None]
    status: Mapped[str] = mapped_column(index=True)
    invoice_number: Mapped[str | None]
    rule: Mapped[str | None]
    reason: Mapped[str]
    candidates: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    payment_id: Mapped[str | None]
    imported_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None]


PROMISE_KINDS = ("promise", "payment_claim", "plan")
PROMISE_STATUSES = ("open", "kept", "broken", "superseded")
"""``superseded``: ended neither kept nor broken (a plan replaced it, or the invoice closed)."""
DISPUTE_STATUSES = ("open", "overdue", "upheld", "rejected")
PLAN_STATUSES = ("proposed", "active", "completed", "broken", "superseded")
INSTALMENT_STATUSES = ("due", "paid", "missed")


class Promise(Base):
    """A promise to pay, a payment claimed to be made, or a payment plan, and how it ended:
    projected from the invoice's timeline, for the kept rate and the customer's risk."""

    __tablename__ = "promises"
    __table_args__ = (
        _currency_check(),
        _in_check("kind", PROMISE_KINDS),
        _in_check("status", PROMISE_STATUSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    """``<workflow id>#<seq>`` of its ``promise_made`` or ``plan_agreed`` event."""
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    kind: Mapped[str]
    source: Mapped[str]
    promised_date: Mapped[date] = mapped_column(Date)
    """A plan: its last instalment's due date, when all of it should be paid."""
    first_due: Mapped[date | None] = mapped_column(Date)
    """A plan: its first instalment's due date."""
    plan_id: Mapped[str | None]
    """A plan: ``payment_plans.id``."""
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    made_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(default="open")
    settled_at: Mapped[datetime | None]


class DisputeCase(Base):
    """A disputed invoice: who works the case, by when, and how it ended."""

    __tablename__ = "dispute_cases"
    __table_args__ = (_currency_check(), _in_check("status", DISPUTE_STATUSES))

    case_id: Mapped[str] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str]
    code: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(index=True)
    opened_at: Mapped[datetime]
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(index=True, default="open")
    currency: Mapped[str]
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    credit_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    """Upheld: the credit note the workflow applied."""


class PaymentPlan(Base):
    """A payment plan's instalments are written when it is proposed (the workflow's timeline
    only counts them); the timeline then moves the statuses."""

    __tablename__ = "payment_plans"
    __table_args__ = (
        _currency_check(),
        _in_check("status", PLAN_STATUSES),
        CheckConstraint("total_minor > 0", name="total_positive"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    """``<invoice number>/<the workflow's plan id>``, e.g. ``F-1/plan1``."""
    invoice_number: Mapped[str] = mapped_column(index=True)
    customer_id: Mapped[str]
    plan_id: Mapped[str]
    source: Mapped[str]
    task_id: Mapped[str | None]
    currency: Mapped[str]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(index=True, default="proposed")
    proposed_at: Mapped[datetime]
    agreed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    """When it was completed or broken."""


class PlanInstalment(Base):
    __tablename__ = "plan_instalments"
    __table_args__ = (
        _in_check("status", INSTALMENT_STATUSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    plan_id: Mapped[str] = mapped_column(ForeignKey("payment_plans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(default="due")
    paid_at: Mapped[datetime | None]


USER_ROLES = ("collector", "ops", "admin")


class User(Base):
    """A person who signs in to the pages: a password (argon2) and a TOTP second factor."""

    __tablename__ = "users"
    __table_args__ = (_in_check("role", USER_ROLES),)

    id: Mapped[str] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True)
    """Lower-cased; the sign-in name."""
    name: Mapped[str]
    role: Mapped[str]
    password_hash: Mapped[str]
    totp_secret: Mapped[str]
    totp_confirmed_at: Mapped[datetime | None]
    """None until the user has entered a first code from the enrolled authenticator."""
    last_totp_step: Mapped[int | None] = mapped_column(BigInteger)
    """The 30-second step of the last accepted code: a code is good once."""
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(default="es", server_default="es")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    disabled_at: Mapped[datetime | None]


PAYMENT_LINK_STATUSES = ("open", "paid", "expired")


class PaymentLink(Base):
    """A pay button's target, made by a payment-link provider for one customer's invoices."""

    __tablename__ = "payment_links"
    __table_args__ = (_currency_check(), _in_check("status", PAYMENT_LINK_STATUSES))

    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    invoice_numbers: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    provider: Mapped[str]
    provider_reference: Mapped[str | None]
    url: Mapped[str | None] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    status: Mapped[str] = mapped_column(default="open")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


RISK_SEGMENTS = ("preferred", "standard", "high_risk")


class CustomerRisk(Base):
    """The customer's latest behaviour-based risk score and the segment it put them in
    (``analytics.risk``); ``reasons`` names what weighed, for the collector to read."""

    __tablename__ = "customer_risk"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        _in_check("segment", RISK_SEGMENTS),
    )

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str]
    scored_at: Mapped[datetime]
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
