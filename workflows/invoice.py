"""One invoice, from issuance to payment (or handoff): a loop around the pure engine."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import DunningActivities, ProgressReport, SendRequest
    from dunning_policies import amendments
    from dunning_policies import transitions as t
    from dunning_policies.engine import (
        Action,
        Close,
        Decision,
        ExpireTask,
        Finished,
        GiveUpStep,
        HandOff,
        OpenNegotiationTask,
        SendMessage,
        SettlePromise,
        Wait,
        apply_action,
        next_action,
        stage_of,
    )
    from dunning_policies.language import Policy
    from dunning_policies.money import to_minor
    from dunning_policies.state import CreditNote, InvoiceState, Payment
    from workflows.messages import (
        AddressInvalid,
        ChannelPreference,
        CreditNoteNotice,
        DisputeResolution,
        InvoiceAmendment,
        InvoiceDunningInput,
        InvoiceOutcome,
        InvoiceStatus,
        NextAction,
        PaymentNotice,
        Reason,
    )

STAGE = SearchAttributeKey.for_keyword("DunningStage")
AMOUNT_DUE_MINOR = SearchAttributeKey.for_int("DunningAmountDueMinor")

# A signal handled while the ledger write was in flight (a cancel, a credit note) must wake
# the loop at once; before this patch it waited for the next timer.
WAKE_ON_CHANGE_DURING_RECORD = "wake-on-change-during-record"

SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)
LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def describe(decision: Decision) -> NextAction:
    action = decision.action
    match action:
        case SendMessage(step=step, channel=channel):
            return NextAction(
                action=f"send {step.id}", at=decision.at, detail=f"{channel} {step.template}"
            )
        case GiveUpStep(step=step, reason=reason):
            return NextAction(action=f"give up {step.id}", at=decision.at, detail=reason)
        case OpenNegotiationTask(step=step):
            return NextAction(action=f"open task {step.id}", at=decision.at, detail=step.queue)
        case ExpireTask(task_id=task_id):
            return NextAction(action="escalate: task SLA lapses", at=decision.at, detail=task_id)
        case SettlePromise(kept=kept):
            detail = "kept" if kept else "broken unless paid by then"
            return NextAction(action="check promise", at=decision.at, detail=detail)
        case HandOff(step=step, reason=reason):
            return NextAction(action=f"hand off to {step.agency}", at=decision.at, detail=reason)
        case Close(reason=reason) | Finished(reason=reason):
            return NextAction(action="close", at=decision.at, detail=reason)
        case Wait(reason=reason):
            return NextAction(action="wait", at=None, detail=reason)
    raise AssertionError(action)


@workflow.defn
class InvoiceDunningWorkflow:
    @workflow.init
    def __init__(self, start: InvoiceDunningInput) -> None:
        self._policy: Policy = start.policy
        self._segment = start.segment
        self._state: InvoiceState = start.state
        self._revision = 0
        self._recorded_seq = (
            start.state.timeline[-1].seq if start.continued and start.state.timeline else 0
        )
        self._projection: tuple[object, ...] = ()

    @workflow.run
    async def run(self, start: InvoiceDunningInput) -> InvoiceOutcome:
        if not start.continued:
            self._state = t.record_issued(self._state, workflow.now(), self._policy)
        while True:
            now = workflow.now()
            decision = next_action(self._policy, self._state, now)
            if isinstance(decision.action, Finished):
                break
            if decision.at is None or decision.at > now:
                seen = self._revision
                await self._record(decision)
                if workflow.info().is_continue_as_new_suggested():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(
                        InvoiceDunningInput(
                            policy=self._policy,
                            segment=self._segment,
                            state=self._state,
                            continued=True,
                        )
                    )
                if not workflow.patched(WAKE_ON_CHANGE_DURING_RECORD):
                    seen = self._revision
                await self._wait_for_change(
                    seen, None if decision.at is None else decision.at - now
                )
                continue
            await self._execute(decision.action, now)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._record(next_action(self._policy, self._state, workflow.now()))
        return InvoiceOutcome(
            invoice_number=self._state.invoice_number,
            stage=stage_of(self._state, workflow.now()).value,
            amount_due=max(self._state.amount_due, Decimal(0)),
            credit=max(-self._state.amount_due, Decimal(0)),
        )

    async def _wait_for_change(self, seen: int, timeout: timedelta | None) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._revision != seen, timeout=timeout)

    def _changed(self, state: InvoiceState) -> None:
        if state is not self._state:
            self._state = state
            self._revision += 1

    async def _execute(self, action: Action, now: datetime) -> None:
        self._changed(apply_action(self._policy, self._state, action, now))
        if isinstance(action, SendMessage):
            await self._send(action, now)

    async def _send(self, action: SendMessage, sent_at: datetime) -> None:
        info = workflow.info()
        state, step, channel = self._state, action.step, action.channel
        request = SendRequest(
            idempotency_key=f"{info.workflow_id}:{step.id}:{channel.value}",
            workflow_id=info.workflow_id,
            invoice_number=state.invoice_number,
            customer_id=state.customer.id,
            step_id=step.id,
            channel=channel,
            template=step.template,
            tone=step.tone,
            amount_due=state.amount_due,
            original_amount=state.original_amount,
            currency=state.currency,
            due_on=state.due_on,
            scheduled_at=sent_at,
        )
        try:
            result = await workflow.execute_activity_method(
                DunningActivities.send_message,
                request,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=SEND_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning(
                "delivery failed after retries; falling back",
                extra={"invoice": state.invoice_number, "step": step.id, "channel": channel.value},
            )
            self._changed(
                t.mark_channel_failed(
                    self._state,
                    step,
                    channel,
                    workflow.now(),
                    code="retries_exhausted",
                    reason=str(error.cause or error),
                    address_invalid=False,
                )
            )
            return
        now = workflow.now()
        if result.status == "sent":
            detail = {
                "idempotency_key": request.idempotency_key,
                "provider": result.provider,
                "provider_message_id": result.provider_message_id or "",
            }
            self._changed(t.mark_sent(self._state, step, channel, now, detail))
        else:
            self._changed(
                t.mark_channel_failed(
                    self._state,
                    step,
                    channel,
                    now,
                    code=result.code or "rejected",
                    reason=result.reason or "",
                    address_invalid=result.address_invalid,
                )
            )

    async def _record(self, decision: Decision) -> None:
        """Write new timeline events and the invoice's projection to the ledger, if anything
        changed; keep the visibility search attributes in step."""
        state, now = self._state, workflow.now()
        stage = stage_of(state, now).value
        upcoming = describe(decision)
        events = tuple(e for e in state.timeline if e.seq > self._recorded_seq)
        projection = (stage, state.amount_due, upcoming.action, upcoming.at, state.closed_reason)
        if events or projection != self._projection:
            await workflow.execute_activity_method(
                DunningActivities.record_progress,
                ProgressReport(
                    workflow_id=workflow.info().workflow_id,
                    invoice_number=state.invoice_number,
                    customer_id=state.customer.id,
                    currency=state.currency,
                    stage=stage,
                    amount_due=state.amount_due,
                    next_action=upcoming.action,
                    next_action_at=upcoming.at,
                    closed_reason=state.closed_reason,
                    events=events,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LEDGER_RETRY,
            )
            self._projection = projection
            if events:
                self._recorded_seq = events[-1].seq
        # Only what changed: each upsert is a history event. The due date is set at the start
        # and never changes, so "60+ days past due" is a query, not a counter kept up to date.
        amount_minor = to_minor(max(state.amount_due, Decimal(0)), state.currency)
        current = workflow.info().typed_search_attributes
        updates: list[SearchAttributeUpdate[Any]] = []
        if current.get(STAGE) != stage:
            updates.append(STAGE.value_set(stage))
        if current.get(AMOUNT_DUE_MINOR) != amount_minor:
            updates.append(AMOUNT_DUE_MINOR.value_set(amount_minor))
        if updates:
            workflow.upsert_search_attributes(updates)

    # --- messages from the ERP, the bank, collectors and operators ---

    @workflow.signal
    def payment_received(self, notice: PaymentNotice) -> None:
        payment = Payment(
            id=notice.id, amount=notice.amount, paid_at=notice.paid_at, reference=notice.reference
        )
        self._changed(t.apply_payment(self._state, payment, workflow.now()))

    @workflow.signal
    def credit_note_applied(self, notice: CreditNoteNotice) -> None:
        note = CreditNote(
            id=notice.id, amount=notice.amount, issued_at=notice.issued_at, reason=notice.reason
        )
        self._changed(amendments.apply_credit_note(self._state, note, workflow.now()))

    @workflow.signal
    def amend(self, amendment: InvoiceAmendment) -> None:
        try:
            amended = amendments.amend_invoice(
                self._state,
                workflow.now(),
                due_on=amendment.due_on,
                original_amount=amendment.amount,
                reason=amendment.reason,
            )
        except ValueError as error:
            # The API validates first; a signal cannot answer, so a bad one is logged, not applied.
            workflow.logger.warning("amendment refused", extra={"reason": str(error)})
            return
        self._changed(amended)

    @workflow.signal
    def channel_preference(self, preference: ChannelPreference) -> None:
        change = amendments.opt_out if preference.opted_out else amendments.opt_in
        self._changed(change(self._state, preference.channel, workflow.now(), preference.source))

    @workflow.signal
    def address_invalid(self, notice: AddressInvalid) -> None:
        self._changed(
            amendments.mark_address_invalid(
                self._state, notice.channel, workflow.now(), notice.reason
            )
        )

    @workflow.signal
    def pause(self, request: Reason) -> None:
        self._changed(t.pause(self._state, workflow.now(), request.reason))

    @workflow.signal
    def resume(self) -> None:
        self._changed(t.resume(self._state, workflow.now()))

    @workflow.signal
    def open_dispute(self, request: Reason) -> None:
        self._changed(t.open_dispute(self._state, request.reason, workflow.now()))

    @workflow.signal
    def resolve_dispute(self, resolution: DisputeResolution) -> None:
        self._changed(
            t.resolve_dispute(
                self._state, self._policy, resolution.upheld, workflow.now(), resolution.note
            )
        )

    @workflow.signal
    def cancel(self, request: Reason) -> None:
        if self._state.closed_reason is None:
            self._changed(t.close(self._state, "cancelled", workflow.now()))

    @workflow.signal
    def write_off(self, request: Reason) -> None:
        if self._state.closed_reason is None:
            self._changed(t.close(self._state, "written_off", workflow.now()))

    @workflow.update
    def complete_task(self, completion: t.TaskCompletion) -> NextAction:
        now = workflow.now()
        self._changed(t.complete_task(self._state, self._policy, completion, now))
        return describe(next_action(self._policy, self._state, now))

    @complete_task.validator
    def _validate_completion(self, completion: t.TaskCompletion) -> None:
        t.check_completion(self._policy, self._state, completion, workflow.now())

    @workflow.query
    def status(self) -> InvoiceStatus:
        state, now = self._state, workflow.now()
        return InvoiceStatus(
            invoice_number=state.invoice_number,
            customer_id=state.customer.id,
            segment=self._segment,
            policy=self._policy.name,
            policy_version=self._policy.version,
            stage=stage_of(state, now).value,
            currency=state.currency,
            original_amount=state.original_amount,
            amount_due=state.amount_due,
            next_action=describe(next_action(self._policy, state, now)),
            open_task=state.negotiation.task,
            promise=state.promise,
            timeline=state.timeline,
        )
