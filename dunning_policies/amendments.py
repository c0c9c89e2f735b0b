"""What the ERP and the debtor change on an open invoice: credit notes, corrections, opt-outs.

Each is a pure state change with its timeline event, idempotent where the ERP may re-send it
(a credit note by its id). The engine replans from the new state: a later due date moves every
step not yet taken, a credit note lowers the amount the next message asks for, and a channel
the debtor opted out of is never used again for this invoice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from dunning_policies.language import Channel
from dunning_policies.state import CreditNote, InvoiceState
from dunning_policies.transitions import _event, apply_credit

OPTED_OUT = "opted out"


def apply_credit_note(state: InvoiceState, note: CreditNote, at: datetime) -> InvoiceState:
    return apply_credit(state, note, at)


def amend_invoice(
    state: InvoiceState,
    at: datetime,
    *,
    due_on: date | None = None,
    original_amount: Decimal | None = None,
    reason: str | None = None,
) -> InvoiceState:
    """A corrected due date or invoice amount; a no-op when nothing differs."""
    update: dict[str, object] = {}
    detail: dict[str, object] = {"reason": reason}
    if due_on is not None and due_on != state.due_on:
        if due_on < state.issued_on:
            raise ValueError(f"due date {due_on} is before the issue date {state.issued_on}")
        update["due_on"] = due_on
        detail |= {"due_on_before": state.due_on, "due_on": due_on}
    if original_amount is not None and original_amount != state.original_amount:
        if original_amount <= 0:
            raise ValueError(f"the invoice amount must be positive, got {original_amount}")
        update["original_amount"] = original_amount
        detail |= {"amount_before": state.original_amount, "amount": original_amount}
    if not update:
        return state
    return _event(state.model_copy(update=update), at, "invoice_amended", detail=detail)


def opt_out(state: InvoiceState, channel: Channel, at: datetime, source: str) -> InvoiceState:
    """The debtor asked not to be contacted on ``channel`` (STOP, BAJA, unsubscribe…)."""
    if state.unusable_channels.get(channel) == OPTED_OUT:
        return state
    unusable = {**state.unusable_channels, channel: OPTED_OUT}
    state = state.model_copy(update={"unusable_channels": unusable})
    return _event(
        state, at, "channel_opted_out", channel=channel, status="opted_out", detail={"via": source}
    )


def opt_in(state: InvoiceState, channel: Channel, at: datetime, source: str) -> InvoiceState:
    if state.unusable_channels.get(channel) != OPTED_OUT:
        return state
    unusable = {c: why for c, why in state.unusable_channels.items() if c != channel}
    state = state.model_copy(update={"unusable_channels": unusable})
    return _event(
        state, at, "channel_opted_in", channel=channel, status="opted_in", detail={"via": source}
    )


def mark_address_invalid(
    state: InvoiceState, channel: Channel, at: datetime, reason: str
) -> InvoiceState:
    """The provider says the address bounced for good: fall back to the next channel."""
    if channel in state.unusable_channels:
        return state
    unusable = {**state.unusable_channels, channel: reason}
    state = state.model_copy(update={"unusable_channels": unusable})
    return _event(
        state, at, "address_invalid", channel=channel, status="invalid", detail={"reason": reason}
    )
