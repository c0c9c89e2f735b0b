"""One customer, one voice: the contact engine that all of a customer's invoices go through.

Each invoice's engine decides *that* the customer should hear about it (a step of its policy,
at a moment inside the contact window). This engine decides *when* and *how* the customer is
actually contacted, across all their invoices: requests due together become one consolidated
message; the jurisdiction's caps (contacts per week, per customer or per debt), the minimum gap
between written contacts and the pause on calls after a conversation hold across every invoice;
a channel the customer opted out of is closed for all of them.

Pure, like the invoice engine: the customer contact workflow, the preview and the property
tests call ``next_contact`` and the transitions below, and nothing else decides a contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from dunning_policies.calendar import next_contact_moment
from dunning_policies.jurisdictions import ContactRules
from dunning_policies.language import Channel, ContactClass, ContactLimit, Tone, contact_class

# Invoices queue their messages a day ahead of their moment, so the customer's queue knows
# everything due that day when the day's first message leaves; by default nothing waits for
# late arrivals (a caller may ask requests to gather for a while).
QUEUE_AHEAD = timedelta(days=1)
DEFAULT_GATHER = timedelta(0)

_TONE_RANK = {Tone.FRIENDLY: 0, Tone.NEUTRAL: 1, Tone.FIRM: 2, Tone.FINAL: 3}

NEVER = datetime.max.replace(tzinfo=UTC)
"""When a rule that allows no contact at all (a cap of zero) stops forbidding one."""

# How far ahead the search for an allowed moment looks before declaring the rules unsatisfiable.
_SEARCH_STEPS = 64


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ContactRequest(_Value):
    """An invoice asks to reach the customer about one step of its policy."""

    workflow_id: str
    invoice_number: str
    step_id: str
    channels: tuple[Channel, ...] = Field(min_length=1)
    """The step's channels still usable for this invoice, in the policy's order."""
    template: str
    tone: Tone
    amount_due: Decimal
    original_amount: Decimal
    currency: str
    due_on: date
    not_before: datetime
    """The moment the invoice's engine chose (already inside the contact window)."""
    moved_by: str | None = None
    """Why the invoice's engine moved it, if it did."""
    last_conversation_at: datetime | None = None
    """When someone last talked with the debtor about this invoice (calls pause after it)."""
    held_by: tuple[str, ...] = ()
    """The rules that have held it back so far (``hold``): the message says why it is late."""

    @property
    def key(self) -> str:
        return f"{self.workflow_id}:{self.step_id}"


class ContactRecord(_Value):
    """A contact that reached (or was attempted to) the customer: what the caps count."""

    at: datetime
    channel: Channel
    invoices: tuple[str, ...]
    message_key: str


class CustomerContactState(_Value):
    customer_id: str
    timezone: str
    rules: ContactRules | None
    """``None``: no jurisdiction rules (contacts go when the invoices ask)."""
    respect_rules: bool = True
    """Only the demo turns this off, to show messages at any hour."""
    pending: tuple[ContactRequest, ...] = ()
    history: tuple[ContactRecord, ...] = ()
    conversations: dict[str, datetime] = Field(default_factory=dict)
    """Invoice number → the last conversation with the debtor about it."""
    closed_channels: dict[Channel, str] = Field(default_factory=dict)
    """Channels closed for every invoice: opted out, or the address is invalid."""
    failed: dict[str, tuple[Channel, ...]] = Field(default_factory=dict)
    """Request key → channels the provider rejected for it (the next message tries another)."""
    messages: int = 0
    """Messages sent so far; numbers each consolidated message's idempotency key."""


@dataclass(frozen=True)
class SendContact:
    requests: tuple[ContactRequest, ...]
    channel: Channel
    moved_by: tuple[str, ...] = ()
    """Each rule that moved the message from when the first invoice asked, in order."""

    @property
    def consolidated(self) -> bool:
        return len(self.requests) > 1

    @property
    def lead(self) -> ContactRequest:
        """The most escalated request: its template and tone speak for the message."""
        return max(self.requests, key=lambda r: (_TONE_RANK[r.tone], r.not_before, r.key))


@dataclass(frozen=True)
class GiveUpContact:
    """No channel can reach the customer for these requests."""

    requests: tuple[ContactRequest, ...]
    reason: str


@dataclass(frozen=True)
class Idle:
    """Nothing to send; ``until`` is when the contact history no longer limits anything."""

    until: datetime | None


ContactAction = SendContact | GiveUpContact | Idle


@dataclass(frozen=True)
class ContactDecision:
    action: ContactAction
    at: datetime | None


def _channels_for(
    state: CustomerContactState, group: tuple[ContactRequest, ...]
) -> tuple[Channel, ...]:
    """The lead request's channels first, then any other request's, each once; without the
    customer's closed channels and those rejected for every request of the group."""
    lead = max(group, key=lambda r: (_TONE_RANK[r.tone], r.not_before, r.key))
    ordered: list[Channel] = []
    for request in (lead, *group):
        for channel in request.channels:
            if channel not in ordered:
                ordered.append(channel)
    return tuple(
        channel
        for channel in ordered
        if channel not in state.closed_channels
        and not all(channel in state.failed.get(r.key, ()) for r in group)
    )


def _limits(rules: ContactRules, kind: ContactClass) -> tuple[ContactLimit, ...]:
    return tuple(limit for limit in rules.limits if limit.contact_class == kind)


def _blocked_until(
    state: CustomerContactState,
    rules: ContactRules,
    channel: Channel,
    invoices: tuple[str, ...],
    at: datetime,
) -> tuple[datetime, str] | None:
    """``None`` if a contact on ``channel`` about ``invoices`` is allowed at ``at``; else the
    earliest moment one rule stops forbidding it, and that rule's source."""
    kind = contact_class(channel)
    same_class = [r for r in state.history if contact_class(r.channel) == kind]
    blocks: list[tuple[datetime, str]] = []
    for limit in _limits(rules, kind):
        period = timedelta(days=limit.period_days)
        scopes = [(i,) for i in invoices] if limit.per_debt else [None]
        for scope in scopes:
            counted = sorted(
                r.at
                for r in same_class
                if at - period < r.at <= at
                and (scope is None or any(i in r.invoices for i in scope))
            )
            if limit.max_contacts == 0:
                blocks.append((NEVER, limit.source))
            elif len(counted) >= limit.max_contacts:
                blocks.append((counted[len(counted) - limit.max_contacts] + period, limit.source))
    if kind == "written" and rules.min_gap_hours:
        last = max((r.at for r in same_class if r.at <= at), default=None)
        gap = timedelta(hours=rules.min_gap_hours)
        if last is not None and at < last + gap:
            blocks.append((last + gap, rules.min_gap_source))
    if kind == "call" and rules.call_pause_after_conversation_days:
        pause = timedelta(days=rules.call_pause_after_conversation_days)
        for invoice in invoices:
            talked = state.conversations.get(invoice)
            if talked is not None and at < talked + pause:
                blocks.append((talked + pause, rules.call_pause_source))
    if not blocks:
        return None
    return max(blocks, key=lambda block: block[0])


def history_horizon(state: CustomerContactState) -> datetime | None:
    """When the last contact (or conversation) stops counting against any rule."""
    rules = state.rules
    if rules is None or not (state.history or state.conversations):
        return None
    longest = max(
        [timedelta(days=limit.period_days) for limit in rules.limits]
        + [timedelta(hours=rules.min_gap_hours)]
        + [timedelta(days=rules.call_pause_after_conversation_days)]
    )
    moments = [r.at for r in state.history] + list(state.conversations.values())
    return max(moments) + longest


def next_contact(
    state: CustomerContactState, now: datetime, gather: timedelta = DEFAULT_GATHER
) -> ContactDecision:
    """The customer's next contact and when, or ``Idle``."""
    if not state.pending:
        return ContactDecision(Idle(history_horizon(state)), None)
    first = min(state.pending, key=lambda r: (r.not_before, r.key))
    at = max(first.not_before + gather, now) if gather else max(first.not_before, now)
    rules = state.rules if state.respect_rules else None
    moved: list[str] = []
    for _ in range(_SEARCH_STEPS):
        if rules is not None:
            at, reason = next_contact_moment(at, rules, state.timezone)
            if reason:
                moved.append(reason)
        group = _group(state, at)
        channels = _channels_for(state, group)
        if not channels:
            return ContactDecision(GiveUpContact(group, _no_channel_reason(state, group)), at)
        if rules is None:
            return ContactDecision(SendContact(group, channels[0], _reasons(group, moved)), at)
        invoices = tuple(r.invoice_number for r in group)
        blocks = []
        for channel in channels:
            block = _blocked_until(state, rules, channel, invoices, at)
            if block is None:
                return ContactDecision(SendContact(group, channel, _reasons(group, moved)), at)
            blocks.append(block)
        until, source = min(blocks, key=lambda block: block[0])
        if until == NEVER:
            reason = "; ".join(sorted({s for _, s in blocks}))
            return ContactDecision(GiveUpContact(group, f"no channel allowed: {reason}"), at)
        moved.append(source)
        at = until
    raise ValueError(f"customer {state.customer_id}: no allowed contact moment found")


def _reasons(group: tuple[ContactRequest, ...], moved: list[str]) -> tuple[str, ...]:
    """Every rule that moved the message, each once: the invoices' own window moves, what held
    the requests back before, and what moves it now."""
    reasons = [r.moved_by for r in group if r.moved_by] + [h for r in group for h in r.held_by]
    return tuple(dict.fromkeys([*reasons, *moved]))


def hold(state: CustomerContactState, decision: ContactDecision) -> CustomerContactState:
    """Remember on each request why a message is waiting, before the caller sleeps until
    ``decision.at``: deciding again then starts from that moment and would forget why."""
    action = decision.action
    if not isinstance(action, SendContact) or not action.moved_by:
        return state
    keys = {r.key for r in action.requests}
    pending = tuple(
        r.model_copy(update={"held_by": tuple(dict.fromkeys([*r.held_by, *action.moved_by]))})
        if r.key in keys
        else r
        for r in state.pending
    )
    if pending == state.pending:
        return state
    return state.model_copy(update={"pending": pending})


def _group(state: CustomerContactState, at: datetime) -> tuple[ContactRequest, ...]:
    """Every request due by ``at``, and those due later the same local day: the customer hears
    once that day, not at 09:00 about one invoice and at 10:00 about another."""
    zone = ZoneInfo(state.timezone)
    day = at.astimezone(zone).date()
    return tuple(
        sorted(
            (
                r
                for r in state.pending
                if r.not_before <= at or r.not_before.astimezone(zone).date() == day
            ),
            key=_order,
        )
    )


def _order(request: ContactRequest) -> tuple[date, str]:
    return (request.due_on, request.invoice_number)


def _no_channel_reason(state: CustomerContactState, group: tuple[ContactRequest, ...]) -> str:
    wanted = sorted({c for r in group for c in r.channels})
    parts = [f"{c}: {state.closed_channels.get(c, 'rejected by the provider')}" for c in wanted]
    return "no usable channel (" + "; ".join(parts) + ")"


# --- transitions: each returns a new state ---


def request_contact(state: CustomerContactState, request: ContactRequest) -> CustomerContactState:
    """Add a request; a newer step of the same invoice replaces its older one (the invoice
    skipped it), and a repeated request (a retried signal) changes nothing."""
    if any(r.key == request.key and r.not_before == request.not_before for r in state.pending):
        return state
    if request.last_conversation_at is not None:
        state = record_conversation(state, request.invoice_number, request.last_conversation_at)
    kept = tuple(r for r in state.pending if r.workflow_id != request.workflow_id)
    prefix = f"{request.workflow_id}:"
    failed = {k: v for k, v in state.failed.items() if not k.startswith(prefix)}
    return state.model_copy(update={"pending": (*kept, request), "failed": failed})


def displaced(
    state: CustomerContactState, workflow_id: str, *, keep: str | None = None
) -> tuple[ContactRequest, ...]:
    """The invoice's queued requests that a new request (``keep``: its key) or a withdrawal
    takes out of the queue."""
    return tuple(r for r in state.pending if r.workflow_id == workflow_id and r.key != keep)


def withdraw(state: CustomerContactState, workflow_id: str) -> CustomerContactState:
    """The invoice no longer wants its request: paid, paused, disputed, promised, closed."""
    if not any(r.workflow_id == workflow_id for r in state.pending):
        return state
    return state.model_copy(
        update={"pending": tuple(r for r in state.pending if r.workflow_id != workflow_id)}
    )


def record_sent(
    state: CustomerContactState, action: SendContact, at: datetime, message_key: str
) -> CustomerContactState:
    keys = {r.key for r in action.requests}
    record = ContactRecord(
        at=at,
        channel=action.channel,
        invoices=tuple(r.invoice_number for r in action.requests),
        message_key=message_key,
    )
    return state.model_copy(
        update={
            "pending": tuple(r for r in state.pending if r.key not in keys),
            "history": (*prune_history(state, at), record),
            "failed": {k: v for k, v in state.failed.items() if k not in keys},
            "messages": state.messages + 1,
        }
    )


def record_rejected(
    state: CustomerContactState, action: SendContact, *, address_invalid: bool, reason: str
) -> CustomerContactState:
    """The provider refused the message: the same requests try their next channel; a bad
    address (or an opt-out the provider knows of) closes the channel for every invoice."""
    failed = dict(state.failed)
    for request in action.requests:
        failed[request.key] = (*failed.get(request.key, ()), action.channel)
    update: dict[str, object] = {"failed": failed, "messages": state.messages + 1}
    if address_invalid:
        update["closed_channels"] = {**state.closed_channels, action.channel: reason}
    return state.model_copy(update=update)


def record_given_up(state: CustomerContactState, action: GiveUpContact) -> CustomerContactState:
    keys = {r.key for r in action.requests}
    return state.model_copy(
        update={
            "pending": tuple(r for r in state.pending if r.key not in keys),
            "failed": {k: v for k, v in state.failed.items() if k not in keys},
        }
    )


def close_channel(
    state: CustomerContactState, channel: Channel, reason: str
) -> CustomerContactState:
    if state.closed_channels.get(channel) == reason:
        return state
    return state.model_copy(update={"closed_channels": {**state.closed_channels, channel: reason}})


def reopen_channel(state: CustomerContactState, channel: Channel) -> CustomerContactState:
    if channel not in state.closed_channels:
        return state
    closed = {c: why for c, why in state.closed_channels.items() if c != channel}
    return state.model_copy(update={"closed_channels": closed})


def record_conversation(
    state: CustomerContactState, invoice_number: str, at: datetime
) -> CustomerContactState:
    """A collector or the debtor talked about this debt: calls about it pause (Regulation F)."""
    talked = state.conversations.get(invoice_number)
    if talked is not None and talked >= at:
        return state
    return state.model_copy(update={"conversations": {**state.conversations, invoice_number: at}})


def prune_history(state: CustomerContactState, now: datetime) -> tuple[ContactRecord, ...]:
    """The records some rule can still count at ``now``: the rest only grow the state."""
    rules = state.rules
    if rules is None:
        return ()
    longest = max(
        [timedelta(days=limit.period_days) for limit in rules.limits]
        + [timedelta(hours=rules.min_gap_hours), timedelta(0)]
    )
    return tuple(r for r in state.history if r.at > now - longest)


def forget_expired(state: CustomerContactState, now: datetime) -> CustomerContactState:
    rules = state.rules
    pause = timedelta(days=rules.call_pause_after_conversation_days if rules else 0)
    history = prune_history(state, now)
    conversations = {i: at for i, at in state.conversations.items() if at + pause > now}
    if history == state.history and conversations == state.conversations:
        return state
    return state.model_copy(update={"history": history, "conversations": conversations})
