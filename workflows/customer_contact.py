"""One customer, one voice: the workflow every contact with a customer goes through.

Invoice workflows hand it their messages (``contact_requested``, delivered by signal-with-start
from an activity); it asks the pure contact engine when and through what the customer may be
contacted, sends one message for every request due together, and tells each invoice what
became of its request (``contact_result``). One workflow per customer means one decision-maker
for the caps that span invoices: Temporal runs its signals one at a time, so two invoices can
never both take the customer's last contact of the week.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        ConsolidatedLine,
        CustomerContactStart,
        DunningActivities,
        LateContactRecord,
        SendAbandoned,
        SendRequest,
        SendResult,
    )
    from dunning_policies import contact as c
    from dunning_policies.contact import (
        ContactRequest,
        CustomerContactState,
        GiveUpContact,
        Idle,
        SendContact,
    )
    from dunning_policies.language import Channel
    from workflows.messages import ChannelPreference, ContactOutcome, ContactWithdrawal

from workflows.retries import (
    LEDGER_RETRY,
    LEDGER_START_TO_CLOSE,
    SEND_HEARTBEAT_TIMEOUT,
    SEND_RETRY,
    SEND_START_TO_CLOSE,
    send_time_limit,
)

CONTACT_RESULT_SIGNAL = "contact_result"
# An invoice whose queued message a later step (or a withdrawal) took out of the queue hears
# that it never went out; before this patch it was not told.
TELL_DROPPED = "tell-dropped-requests"
# A send that ran out of retries marks its outbox row failed; before, it stayed 'pending'.
MARK_ABANDONED_SEND = "mark-abandoned-send"
# A message whose invoice closed before hearing of it is recorded in the bitácora by this
# workflow; before, the outbox had it and the bitácora did not.
RECORD_SENT_AFTER_CLOSE = "record-sent-after-close"


class CustomerContactInput(CustomerContactStart):
    state: CustomerContactState | None = None
    """Carried across continue-as-new."""


@workflow.defn(name="CustomerContactWorkflow")
class CustomerContactWorkflow:
    @workflow.init
    def __init__(self, start: CustomerContactInput) -> None:
        self._state = start.state or CustomerContactState(
            customer_id=start.customer_id,
            timezone=start.timezone,
            rules=start.rules,
            respect_rules=start.respect_rules,
        )
        self._revision = 0
        self._sending: frozenset[str] = frozenset()
        """Keys of the requests in the send under way: a replacement cannot call them back."""
        self._dropped_while_sending: set[str] = set()
        """Those of them taken out of the queue meanwhile: if the send fails, nobody tries
        them again, and their invoices hear so."""

    @workflow.run
    async def run(self, start: CustomerContactInput) -> None:
        while True:
            now = workflow.now()
            self._state = c.forget_expired(self._state, now)
            decision = c.next_contact(self._state, now)
            action = decision.action
            if isinstance(action, Idle):
                if action.until is None or action.until <= now:
                    # Nothing queued and no past contact still counts: the next request
                    # starts a fresh run with nothing lost.
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if not self._state.pending:
                        return
                    continue
                await self._wait_for_change(action.until - now)
                continue
            assert decision.at is not None
            if decision.at > now:
                self._changed(c.hold(self._state, decision))
                await self._wait_for_change(decision.at - now)
                continue
            if isinstance(action, SendContact):
                await self._send(action)
            else:
                await self._give_up(action)
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    CustomerContactInput(
                        customer_id=start.customer_id,
                        timezone=start.timezone,
                        rules=self._state.rules,
                        respect_rules=self._state.respect_rules,
                        state=self._state,
                    )
                )

    async def _wait_for_change(self, timeout: timedelta) -> None:
        seen = self._revision
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._revision != seen, timeout=timeout)

    def _changed(self, state: CustomerContactState) -> None:
        if state is not self._state:
            self._state = state
            self._revision += 1

    def _message_key(self, action: SendContact) -> str:
        if not action.consolidated:
            # The key a lone message always had, so a message sent before consolidation
            # existed is recognised by the outbox and never sent again.
            lead = action.lead
            return f"{lead.workflow_id}:{lead.step_id}:{action.channel.value}"
        number = self._state.messages + 1
        return f"{workflow.info().workflow_id}:m{number}:{action.channel.value}"

    async def _send(self, action: SendContact) -> None:
        lead, key = action.lead, self._message_key(action)
        request = SendRequest(
            idempotency_key=key,
            workflow_id=lead.workflow_id,
            invoice_number=lead.invoice_number,
            customer_id=self._state.customer_id,
            step_id=lead.step_id,
            channel=action.channel,
            template="consolidated" if action.consolidated else lead.template,
            tone=lead.tone,
            amount_due=lead.amount_due,
            original_amount=lead.original_amount,
            currency=lead.currency,
            due_on=lead.due_on,
            scheduled_at=workflow.now(),
            invoices=tuple(
                ConsolidatedLine(
                    invoice_number=r.invoice_number, amount_due=r.amount_due, due_on=r.due_on
                )
                for r in action.requests
            )
            if action.consolidated
            else (),
        )
        self._sending = frozenset(r.key for r in action.requests)
        try:
            result = await workflow.execute_activity_method(
                DunningActivities.send_message,
                request,
                start_to_close_timeout=SEND_START_TO_CLOSE,
                heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                # A provider outage is ridden out on this channel until the limit; only then
                # does the except below move the message to the next channel.
                schedule_to_close_timeout=send_time_limit(
                    workflow.now(),
                    self._state.rules,
                    self._state.timezone,
                    respect_rules=self._state.respect_rules,
                ),
                retry_policy=SEND_RETRY,
            )
        except ActivityError as error:
            result = SendResult(
                status="rejected",
                provider="",
                code="retries_exhausted",
                reason=str(error.cause or error),
            )
            if workflow.patched(MARK_ABANDONED_SEND):
                await workflow.execute_activity_method(
                    DunningActivities.abandon_send,
                    SendAbandoned(
                        idempotency_key=key,
                        channel=action.channel,
                        reason=result.reason or "",
                        invoice_number=lead.invoice_number,
                        customer_id=self._state.customer_id,
                        workflow_id=lead.workflow_id,
                    ),
                    start_to_close_timeout=LEDGER_START_TO_CLOSE,
                    retry_policy=LEDGER_RETRY,
                )
        finally:
            self._sending = frozenset()
        dropped, self._dropped_while_sending = self._dropped_while_sending, set()
        now = workflow.now()
        outcome = ContactOutcome(
            step_id="",
            status="sent" if result.status == "sent" else "failed",
            channel=action.channel,
            idempotency_key=key,
            provider=result.provider,
            provider_message_id=result.provider_message_id,
            code=result.code,
            reason=result.reason,
            address_invalid=result.address_invalid,
            moved_by=action.moved_by,
        )
        if result.status == "sent":
            self._changed(c.record_sent(self._state, action, now, key))
        else:
            self._changed(
                c.record_rejected(
                    self._state,
                    action,
                    address_invalid=result.address_invalid,
                    reason=result.reason or result.code or "rejected",
                )
            )
        told = action.requests
        if result.status != "sent" and dropped:
            # Taken out of the queue while this send was under way: no other channel is tried
            # for them, and their invoices hear that they never left.
            gone = tuple(r for r in told if r.key in dropped)
            told = tuple(r for r in told if r.key not in dropped)
            await self._tell_invoices(gone, outcome.model_copy(update={"status": "replaced"}))
        await self._tell_invoices(told, outcome)

    async def _give_up(self, action: GiveUpContact) -> None:
        self._changed(c.record_given_up(self._state, action))
        await self._tell_invoices(
            action.requests,
            ContactOutcome(step_id="", status="undeliverable", reason=action.reason),
        )

    async def _tell_invoices(
        self, requests: tuple[ContactRequest, ...], outcome: ContactOutcome
    ) -> None:
        numbers = [r.invoice_number for r in requests]
        await asyncio.gather(
            *(
                self._tell(
                    request,
                    outcome.model_copy(
                        update={
                            "step_id": request.step_id,
                            "consolidated_with": tuple(
                                n for n in numbers if n != request.invoice_number
                            ),
                        }
                    ),
                )
                for request in requests
            )
        )

    async def _tell(self, request: ContactRequest, outcome: ContactOutcome) -> None:
        handle = workflow.get_external_workflow_handle(request.workflow_id)
        try:
            await handle.signal(CONTACT_RESULT_SIGNAL, outcome)
        except ApplicationError:
            # The invoice closed meanwhile (paid, cancelled): nobody is left to tell.
            workflow.logger.info(
                "invoice workflow gone; outcome not delivered",
                extra={"invoice": request.invoice_number, "step": request.step_id},
            )
            if (
                outcome.status == "sent"
                and outcome.channel is not None
                and workflow.patched(RECORD_SENT_AFTER_CLOSE)
            ):
                # The debtor was contacted all the same: the bitácora must say so.
                await self._record_late_contact(request, outcome, outcome.channel)

    async def _record_late_contact(
        self, request: ContactRequest, outcome: ContactOutcome, channel: Channel
    ) -> None:
        await workflow.execute_activity_method(
            DunningActivities.record_late_contact,
            LateContactRecord(
                invoice_workflow_id=request.workflow_id,
                invoice_number=request.invoice_number,
                customer_id=self._state.customer_id,
                step_id=request.step_id,
                channel=channel,
                template="consolidated" if outcome.consolidated_with else request.template,
                idempotency_key=outcome.idempotency_key or "",
                provider=outcome.provider or "",
                provider_message_id=outcome.provider_message_id,
                sent_at=workflow.now(),
                consolidated_with=outcome.consolidated_with,
            ),
            start_to_close_timeout=LEDGER_START_TO_CLOSE,
            retry_policy=LEDGER_RETRY,
        )

    # --- signals ---

    @workflow.signal
    async def contact_requested(self, request: ContactRequest) -> None:
        dropped = c.displaced(self._state, request.workflow_id, keep=request.key)
        self._changed(c.request_contact(self._state, request))
        await self._tell_dropped(dropped)

    @workflow.signal
    async def contact_withdrawn(self, withdrawal: ContactWithdrawal) -> None:
        dropped = c.displaced(self._state, withdrawal.workflow_id) if withdrawal.answer else ()
        self._changed(c.withdraw(self._state, withdrawal.workflow_id))
        await self._tell_dropped(dropped)

    async def _tell_dropped(self, dropped: tuple[ContactRequest, ...]) -> None:
        """The invoice recorded nothing yet for a message it replaced: it may have been on its
        way out. It hears that it never left, now, or when the send under way fails."""
        if not dropped or not workflow.patched(TELL_DROPPED):
            return
        for request in dropped:
            if request.key in self._sending:
                self._dropped_while_sending.add(request.key)
            else:
                outcome = ContactOutcome(step_id=request.step_id, status="replaced")
                await self._tell(request, outcome)

    @workflow.signal
    def channel_preference(self, preference: ChannelPreference) -> None:
        if preference.opted_out:
            state = c.close_channel(
                self._state, preference.channel, f"opted out ({preference.source})"
            )
        else:
            state = c.reopen_channel(self._state, preference.channel)
        self._changed(state)

    @workflow.query
    def status(self) -> CustomerContactState:
        return self._state
