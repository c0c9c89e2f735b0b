"""Issuing invoices and recording payments: the ledger first, then the invoice's workflow.

Used by the command line today and by the HTTP API; every call is idempotent, so an ERP may
re-send anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import InvalidRequest, InvoiceConflict, parse_amount
from api.payments import apply_waiting_payments
from dunning_policies.calendar import local_moment
from dunning_policies.holiday_calendar import subdivision_code
from dunning_policies.jurisdictions import (
    ContactRules,
    DebtType,
    debt_type_of,
    rules_for_customer,
)
from dunning_policies.language import Channel
from dunning_policies.money import from_minor, to_minor, validate_currency
from dunning_policies.registry import get_policy
from dunning_policies.segments import CustomerProfile, policy_name_for, segment_for
from dunning_policies.state import Customer as EngineCustomer
from dunning_policies.state import InvoiceState
from ledger.db import unit_of_work
from ledger.group_commit import GroupCommit
from ledger.models import Customer, Invoice
from ledger.repositories.contact_blocks import ContactBlockRepository
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository
from ledger.repositories.promises import PromiseRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceDunningInput, workflow_id_for

log = structlog.get_logger()

CUSTOMER_ID = SearchAttributeKey.for_keyword("DunningCustomerId")
SEGMENT = SearchAttributeKey.for_keyword("DunningSegment")
STAGE = SearchAttributeKey.for_keyword("DunningStage")
AMOUNT_DUE_MINOR = SearchAttributeKey.for_int("DunningAmountDueMinor")
DUE_DATE = SearchAttributeKey.for_datetime("DunningDueDate")


@dataclass(frozen=True)
class CustomerDetails:
    id: str
    name: str
    country: str
    timezone: str
    locale: str
    email: str | None = None
    phone: str | None = None
    whatsapp: str | None = None
    segment: str | None = None
    tax_id: str | None = None
    debt_type: DebtType | None = None
    """None: the tax id says (RUT, RFC), else consumer."""
    subdivision: str | None = None
    """ISO 3166-2 without the country ("RM"): its regional holidays join the national ones."""


@dataclass(frozen=True)
class NewInvoice:
    number: str
    customer_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date


@dataclass(frozen=True)
class IssuedInvoice:
    number: str
    workflow_id: str
    segment: str
    policy: str
    policy_version: int
    created: bool


def _validate(invoice: NewInvoice) -> NewInvoice:
    if not invoice.number.strip():
        raise InvalidRequest("invoice", "the invoice number is empty")
    try:
        currency = validate_currency(invoice.currency)
    except ValueError as error:
        raise InvalidRequest("currency", str(error)) from error
    parse_amount(invoice.amount, currency)
    if invoice.due_on < invoice.issued_on:
        raise InvalidRequest(
            "due", f"due date {invoice.due_on} is before the issue date {invoice.issued_on}"
        )
    return NewInvoice(
        invoice.number.strip(),
        invoice.customer_id,
        invoice.amount,
        currency,
        invoice.issued_on,
        invoice.due_on,
    )


def _upsert_customer(session: Session, details: CustomerDetails) -> Customer:
    subdivision = details.subdivision
    if subdivision is not None:
        try:
            subdivision = subdivision_code(details.country, subdivision)
        except ValueError as error:
            raise InvalidRequest("customer.subdivision", str(error)) from error
    try:
        return CustomerRepository.from_session(session).upsert(
            id=details.id,
            name=details.name,
            email=details.email,
            phone=details.phone,
            whatsapp=details.whatsapp,
            country=details.country,
            timezone=details.timezone,
            locale=details.locale,
            segment=details.segment,
            tax_id=details.tax_id,
            debt_type=details.debt_type,
            subdivision=subdivision,
        )
    except ValueError as error:
        raise InvalidRequest("customer", str(error)) from error


@dataclass(frozen=True)
class RecordedIssuance:
    """What the ledger said about an issuance: the workflow's start state and whether it is new."""

    workflow_id: str
    state: InvoiceState
    segment: str
    policy_name: str
    policy_version: int
    created: bool
    cash_waiting: bool


def record_issuance(
    session: Session,
    new: NewInvoice,
    customer_details: CustomerDetails | None = None,
    *,
    respect_contact_window: bool = True,
) -> RecordedIssuance:
    """The ledger's half of an issuance, inside the caller's unit of work."""
    new = _validate(new)
    workflow_id = workflow_id_for(new.number)
    if customer_details is not None:
        customer = _upsert_customer(session, customer_details)
    else:
        found = CustomerRepository.from_session(session).get(new.customer_id)
        if found is None:
            raise InvalidRequest(
                "customer", f"{new.customer_id} is not known: give its name and contacts"
            )
        customer = found
    profile = CustomerProfile(
        segment=customer.segment,
        policy_override=customer.policy_override,
        broken_promises_last_year=PromiseRepository.from_session(session).broken_in_last_year(
            customer.id, datetime.now(UTC)
        ),
    )
    try:
        segment = segment_for(profile)
        policy = get_policy(policy_name_for(profile))
    except (ValueError, LookupError) as error:
        raise InvalidRequest("segment", str(error)) from error
    invoice, created = InvoiceRepository.from_session(session).add_if_absent(
        number=new.number,
        customer_id=customer.id,
        currency=new.currency,
        amount_minor=to_minor(new.amount, new.currency),
        issued_on=new.issued_on,
        due_on=new.due_on,
        segment=segment,
        policy_name=policy.name,
        policy_version=policy.version,
        workflow_id=workflow_id,
    )
    differences = _differences(invoice, new, customer.id)
    if differences:
        raise InvoiceConflict(
            "invoice",
            f"{new.number} was already issued with a different " + ", ".join(differences),
        )
    state = InvoiceState(
        invoice_number=new.number,
        currency=new.currency,
        original_amount=new.amount,
        issued_on=new.issued_on,
        due_on=new.due_on,
        respect_contact_window=respect_contact_window,
        contact_rules=_contact_rules(customer, new.due_on),
        customer=EngineCustomer(
            id=customer.id,
            country=customer.country,
            timezone=customer.timezone,
            locale=customer.locale,
            channels=customer.reachable_channels,
        ),
        unusable_channels=_blocked_channels(session, customer.id),
        dispute_cases=True,
        replacements_confirmed=True,
    )
    return RecordedIssuance(
        workflow_id,
        state,
        invoice.segment,
        invoice.policy_name,
        invoice.policy_version,
        created,
        PaymentRepository.from_session(session).has_unapplied(new.number),
    )


async def issue_invoice(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    new: NewInvoice,
    customer_details: CustomerDetails | None = None,
    *,
    respect_contact_window: bool = True,
    ledger: GroupCommit | None = None,
) -> IssuedInvoice:
    """Record the invoice, then start its workflow. ``ledger``: share commits with concurrent
    issuances (the HTTP API, imports); without it, a unit of work of its own."""

    def write(session: Session) -> RecordedIssuance:
        return record_issuance(
            session, new, customer_details, respect_contact_window=respect_contact_window
        )

    if ledger is not None:
        recorded = await ledger.run(write)
    else:
        with unit_of_work(sessions) as session:
            recorded = write(session)
    return await start_issued(client, sessions, task_queue, recorded)


def issuance_search_attributes(state: InvoiceState, segment: str) -> TypedSearchAttributes:
    """What the workflow is found by from its start (ids and stages, never personal data)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CUSTOMER_ID, state.customer.id),
            SearchAttributePair(SEGMENT, segment),
            SearchAttributePair(STAGE, "current"),
            SearchAttributePair(AMOUNT_DUE_MINOR, to_minor(state.original_amount, state.currency)),
            SearchAttributePair(
                DUE_DATE, local_moment(state.due_on, time(0), state.customer.timezone)
            ),
        ]
    )


async def start_issued(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    recorded: RecordedIssuance,
) -> IssuedInvoice:
    """The workflow's half: start it (a no-op when it runs), hand it any cash that waited."""
    state, workflow_id = recorded.state, recorded.workflow_id
    segment, policy_name = recorded.segment, recorded.policy_name
    policy_version, created = recorded.policy_version, recorded.created
    try:
        await client.start_workflow(
            InvoiceDunningWorkflow.run,
            InvoiceDunningInput(policy=get_policy(policy_name), segment=segment, state=state),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=issuance_search_attributes(state, segment),
        )
    except WorkflowAlreadyStartedError:
        # The invoice's workflow has already finished (paid, cancelled): never restart it.
        log.info(
            "invoice already closed; not restarted",
            invoice=state.invoice_number,
            workflow=workflow_id,
        )
    if recorded.cash_waiting:
        await apply_waiting_payments(client, sessions, state.invoice_number)
    if created:
        log.info(
            "invoice issued",
            invoice=state.invoice_number,
            customer=state.customer.id,
            workflow=workflow_id,
            segment=segment,
            policy=policy_name,
        )
    return IssuedInvoice(
        state.invoice_number, workflow_id, segment, policy_name, policy_version, created
    )


def _contact_rules(customer: Customer, due_on: date) -> ContactRules:
    """The law's rules for the customer, its holidays around the due date included."""
    declared = DebtType(customer.debt_type) if customer.debt_type else None
    debt_type = debt_type_of(customer.country, declared, customer.tax_id)
    return rules_for_customer(customer.country, debt_type, customer.subdivision, due_on)


def _blocked_channels(session: Session, customer_id: str) -> dict[Channel, str]:
    """Channels the customer opted out of, or whose address bounced, on any earlier invoice."""
    blocked = ContactBlockRepository.from_session(session).blocked_channels(customer_id)
    return {Channel(channel): reason for channel, reason in blocked.items()}


def _differences(stored: Invoice, new: NewInvoice, customer_id: str) -> list[str]:
    differences = []
    if stored.customer_id != customer_id:
        differences.append(f"customer ({stored.customer_id} then, {customer_id} now)")
    if stored.currency != new.currency:
        differences.append(f"currency ({stored.currency} then, {new.currency} now)")
    if from_minor(stored.amount_minor, stored.currency) != new.amount:
        differences.append(
            f"amount ({from_minor(stored.amount_minor, stored.currency)} then, {new.amount} now)"
        )
    if stored.issued_on != new.issued_on:
        differences.append(f"issue date ({stored.issued_on} then, {new.issued_on} now)")
    if stored.due_on != new.due_on:
        differences.append(f"due date ({stored.due_on} then, {new.due_on} now)")
    return differences
