"""A channel closed for a customer — opted out, or its address bounced — for every invoice.

Recorded as a contact block (new invoices start without the channel) and told to each of the
customer's running workflows, so the engine falls back to the next channel at once.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from activities.contracts import contact_workflow_id
from api.signals import signal_invoice
from dunning_policies.language import Channel
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.repositories.contact_blocks import ContactBlockRepository
from ledger.repositories.invoices import InvoiceRepository
from workflows.customer_contact import CustomerContactWorkflow
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import AddressInvalid, ChannelPreference

log = structlog.get_logger()


def _open_workflows(session: Session, customer_id: str) -> list[str]:
    invoices = InvoiceRepository.from_session(session).list_invoices(customer_id=customer_id)
    return [i.workflow_id for i in invoices if i.stage not in CLOSED_STAGES]


async def opt_out(
    client: Client,
    sessions: sessionmaker[Session],
    customer_id: str,
    channel: Channel,
    *,
    address: str | None,
    source: str,
) -> list[str]:
    """Returns the workflows told."""
    with unit_of_work(sessions) as session:
        ContactBlockRepository.from_session(session).block(
            customer_id=customer_id,
            channel=channel.value,
            kind="opted_out",
            address=address,
            reason=source,
        )
        workflows = _open_workflows(session, customer_id)
    preference = ChannelPreference(channel=channel, opted_out=True, source=source)
    for workflow_id in workflows:
        await signal_invoice(
            client, workflow_id, InvoiceDunningWorkflow.channel_preference, preference
        )
    # Messages already queued for the customer must not leave on the closed channel either.
    await signal_invoice(
        client,
        contact_workflow_id(customer_id),
        CustomerContactWorkflow.channel_preference,
        preference,
    )
    log.info(
        "customer opted out", customer=customer_id, channel=channel.value, invoices=len(workflows)
    )
    return workflows


async def opt_in(
    client: Client, sessions: sessionmaker[Session], customer_id: str, channel: Channel, source: str
) -> list[str]:
    with unit_of_work(sessions) as session:
        lifted = ContactBlockRepository.from_session(session).lift_opt_out(
            customer_id=customer_id, channel=channel.value
        )
        workflows = _open_workflows(session, customer_id) if lifted else []
    preference = ChannelPreference(channel=channel, opted_out=False, source=source)
    for workflow_id in workflows:
        await signal_invoice(
            client, workflow_id, InvoiceDunningWorkflow.channel_preference, preference
        )
    if lifted:
        await signal_invoice(
            client,
            contact_workflow_id(customer_id),
            CustomerContactWorkflow.channel_preference,
            preference,
        )
    if lifted:
        log.info("customer opted back in", customer=customer_id, channel=channel.value)
    return workflows


async def address_invalid(
    client: Client,
    sessions: sessionmaker[Session],
    customer_id: str,
    channel: Channel,
    *,
    address: str | None,
    reason: str,
) -> list[str]:
    with unit_of_work(sessions) as session:
        changed = ContactBlockRepository.from_session(session).block(
            customer_id=customer_id,
            channel=channel.value,
            kind="address_invalid",
            address=address,
            reason=reason,
        )
        workflows = _open_workflows(session, customer_id) if changed else []
    notice = AddressInvalid(channel=channel, reason=reason)
    for workflow_id in workflows:
        await signal_invoice(client, workflow_id, InvoiceDunningWorkflow.address_invalid, notice)
    if changed:
        log.warning("address invalid", customer=customer_id, channel=channel.value, reason=reason)
    return workflows
