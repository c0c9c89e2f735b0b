"""One invoice, from issuance to payment (or handoff): a loop around the pure engine."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        ContactRequestDelivery,
        CustomerContactStart,
        DunningActivities,
        ProgressReport,
        SendRequest,
        contact_workflow_id,
    )
    from dunning_policies import amendments
    from dunning_policies import transitions as t
    from dunning_policies.contact import QUEUE_AHEAD, ContactRequest
    from dunning_policies.engine import (
        Action,
        BreakPlan,
        Close,
        Decision,
        ExpireTask,
        Finished,
        FlagDisputeOverdue,
        GiveUpStep,
        HandOff,
        OpenNegotiationTask,
        RecordInstalmentsPaid,
        SendMessage,
        SettlePromise,
        Wait,
        WithdrawContact,
        apply_action,
        instalment_of,
        message_step,
        next_action,
        stage_of,
        usable_channels,
    )
    from dunning_policies.jurisdictions import effective_rules
    from dunning_policies.language import Policy
    from dunning_policies.money import to_minor
    from dunning_policies.state import CreditNote, InvoiceState, Payment, StepStatus
    from workflows.messages import (
        AddressInvalid,
        CallOutcome,
        ChannelPreference,
        ContactOutcome,
        ContactWithdrawal,
        CreditNoteNotice,
        DisputeOpening,
        DisputeResolution,
        Escalation,
        InvoiceAmendment,
        InvoiceDunningInput,
        InvoiceOutcome,
        InvoiceStatus,
        NextAction,
        PaymentClaim,
        PaymentNotice,
        PaymentPlanRequest,
        PolicyMigration,
        PromiseRequest,
        Reason,
        SegmentChange,
        TaskSnooze,
    )

from workflows.retries import (
    LEDGER_RETRY,
    LEDGER_START_TO_CLOSE,
    SEND_HEARTBEAT_TIMEOUT,
    SEND_RETRY,
    SEND_START_TO_CLOSE,
    send_time_limit,
)

STAGE = SearchAttributeKey.for_keyword("DunningStage")
AMOUNT_DUE_MINOR = SearchAttributeKey.for_int("DunningAmountDueMinor")

# A signal handled while the ledger write was in flight (a cancel, a credit note) must wake
# the loop at once; before this patch it waited for the next timer.
WAKE_ON_CHANGE_DURING_RECORD = "wake-on-change-during-record"
# Messages go through the customer's contact workflow (consolidation, caps across invoices);
# before this patch each invoice sent its own.
CONTACT_THROUGH_CUSTOMER = "contact-through-customer"
# What a signal adds while the last record is in flight (a message's result arriving as the
# invoice closes or continues as new) is recorded too; before this patch it stayed in the
# history and never reached the bitácora.
RECORD_LATE_EVENTS = "record-late-events"
LATE_GATHER = timedelta(minutes=2)


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
        case WithdrawContact(reason=reason):
            return NextAction(action="withdraw queued message", at=decision.at, detail=reason)
        case RecordInstalmentsPaid(covered=covered):
            return NextAction(action="record instalments paid", at=decision.at, detail=str(covered))
        case BreakPlan(instalment=instalment):
            return NextAction(
                action="check instalment",
                at=decision.at,
                detail=f"{instalment.number}: {instalment.amount} due {instalment.due_on}",
            )
        case FlagDisputeOverdue(case_id=case_id):
            return NextAction(action="dispute deadline", at=decision.at, detail=case_id)
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
        self._migration: PolicyMigration | None = None
        self._segment_change: SegmentChange | None = None
        # A payment plan may run for years: a new run after each instalment keeps every
        # history small.
        self._instalment_settled = False

    @workflow.run
    async def run(self, start: InvoiceDunningInput) -> InvoiceOutcome:
        if not start.continued:
            self._state = t.record_issued(self._state, workflow.now(), self._policy)
        while True:
            if self._migration is not None:
                self._apply_migration(self._migration)
            # Not while a message of the old policy waits in the customer's queue: its result
            # names a step the new policy may not have. The result wakes the loop again.
            if self._segment_change is not None and self._state.contact_in_flight is None:
                self._apply_segment_change(self._segment_change)
            now = workflow.now()
            decision = next_action(self._policy, self._state, now)
            if isinstance(decision.action, Finished):
                break
            run_at = decision.at
            if (
                isinstance(decision.action, SendMessage)
                and run_at is not None
                and run_at > now
                and self._state.contact_in_flight is None
                and workflow.patched(CONTACT_THROUGH_CUSTOMER)
            ):
                # Queue the message ahead, so that every invoice of the customer with news the
                # same day is in the customer's queue when the day's first message leaves. A
                # step that would replace a queued one waits for its own moment: the queued
                # message may still go out before it.
                run_at = max(now, run_at - QUEUE_AHEAD)
            if run_at is None or run_at > now:
                seen = self._revision
                await self._record(decision)
                if workflow.info().is_continue_as_new_suggested() or self._instalment_settled:
                    await self._settle_records()
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
                await self._wait_for_change(seen, None if run_at is None else run_at - now)
                continue
            await self._execute(decision.action, now, decision.at or now)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._record(next_action(self._policy, self._state, workflow.now()))
        await self._settle_records()
        return InvoiceOutcome(
            invoice_number=self._state.invoice_number,
            stage=stage_of(self._state, workflow.now()).value,
            amount_due=max(self._state.amount_due, Decimal(0)),
            credit=max(-self._state.amount_due, Decimal(0)),
        )

    async def _settle_records(self) -> None:
        """Before the run ends: let the handlers in flight finish, then record what they
        added, until nothing is left unrecorded."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self._unrecorded() and workflow.patched(RECORD_LATE_EVENTS):
            await self._record(next_action(self._policy, self._state, workflow.now()))
            await workflow.wait_condition(workflow.all_handlers_finished)

    def _unrecorded(self) -> bool:
        timeline = self._state.timeline
        return bool(timeline) and timeline[-1].seq > self._recorded_seq

    async def _wait_for_change(self, seen: int, timeout: timedelta | None) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._revision != seen, timeout=timeout)

    def _changed(self, state: InvoiceState) -> None:
        if state is not self._state:
            self._state = state
            self._revision += 1

    async def _execute(self, action: Action, now: datetime, due_at: datetime) -> None:
        if isinstance(action, RecordInstalmentsPaid):
            self._instalment_settled = True
        queued = self._state.contact_in_flight
        self._changed(apply_action(self._policy, self._state, action, now))
        if isinstance(action, SendMessage):
            if workflow.patched(CONTACT_THROUGH_CUSTOMER):
                await self._request_contact(action, now, due_at)
            else:
                await self._send(action, now)
        elif queued is not None and self._state.contact_in_flight is None:
            await self._withdraw_contact(action, queued.step_id)

    async def _request_contact(self, action: SendMessage, now: datetime, due_at: datetime) -> None:
        """Hand the message to the customer's contact workflow, which sends it — alone or with
        the customer's other invoices — when the contact rules allow; ``contact_result``
        brings back what became of it."""
        state, step = self._state, action.step
        usable = usable_channels(state, step)
        channels = (action.channel, *(c for c in usable if c != action.channel))
        self._changed(t.contact_requested(state, step, now))
        rules = state.contact_rules
        amount_due, due_on = state.amount_due, state.due_on
        number = instalment_of(step.id)
        if number is not None and state.plan is not None:
            # An instalment's message asks for the instalment, by its own date.
            instalment = state.plan.instalments[number - 1]
            amount_due, due_on = instalment.amount, instalment.due_on
        request = ContactRequest(
            workflow_id=workflow.info().workflow_id,
            invoice_number=state.invoice_number,
            step_id=step.id,
            channels=channels,
            template=step.template,
            tone=step.tone,
            amount_due=amount_due,
            original_amount=state.original_amount,
            currency=state.currency,
            due_on=due_on,
            not_before=due_at if due_at > now else now + self._late_gather(),
            moved_by=action.moved_by,
            last_conversation_at=t.last_conversation_at(state),
        )
        start = CustomerContactStart(
            customer_id=state.customer.id,
            timezone=state.customer.timezone,
            rules=effective_rules(rules, self._policy) if rules is not None else None,
            respect_rules=state.respect_contact_window,
        )
        await workflow.execute_activity_method(
            DunningActivities.request_contact,
            ContactRequestDelivery(start=start, request=request),
            start_to_close_timeout=LEDGER_START_TO_CLOSE,
            retry_policy=LEDGER_RETRY,
        )

    def _late_gather(self) -> timedelta:
        """A message due at once (a late entry, a broken promise) waits this long, so that
        the customer's other invoices imported or woken with it go in the same message."""
        return LATE_GATHER if self._state.respect_contact_window else timedelta(0)

    async def _withdraw_contact(self, action: Action, queued_step: str) -> None:
        reason = action.reason if isinstance(action, WithdrawContact) else "replaced"
        handle = workflow.get_external_workflow_handle(contact_workflow_id(self._state.customer.id))
        withdrawal = ContactWithdrawal(
            workflow_id=workflow.info().workflow_id,
            reason=reason,
            answer=self._state.steps.get(queued_step) is StepStatus.REPLACED,
        )
        # No contact workflow running means nothing is queued there.
        with contextlib.suppress(ApplicationError):
            await handle.signal("contact_withdrawn", withdrawal)

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
                start_to_close_timeout=SEND_START_TO_CLOSE,
                heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=send_time_limit(
                    workflow.now(),
                    state.contact_rules,
                    state.customer.timezone,
                    respect_rules=state.respect_contact_window,
                ),
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
            self._changed(
                t.mark_sent(self._state, step, channel, now, detail, moved_by=action.moved_by)
            )
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
                start_to_close_timeout=LEDGER_START_TO_CLOSE,
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
    def open_dispute(self, request: DisputeOpening) -> None:
        self._changed(
            t.open_dispute(
                self._state,
                request.reason,
                workflow.now(),
                policy=self._policy,
                code=request.code,
                owner=request.owner,
            )
        )

    @workflow.signal
    def resolve_dispute(self, resolution: DisputeResolution) -> None:
        self._changed(
            t.resolve_dispute(
                self._state,
                self._policy,
                resolution.upheld,
                workflow.now(),
                resolution.note,
                resolution.credit_amount,
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

    @workflow.signal
    def migrate_policy(self, migration: PolicyMigration) -> None:
        """Kept until the loop's next step boundary: never swapped in the middle of a send."""
        current = self._migration.policy if self._migration else self._policy
        try:
            t.check_migration(self._state, current, migration.policy)
        except t.MigrationRefused as error:
            workflow.logger.warning("policy migration refused", extra={"reason": str(error)})
            return
        self._migration = migration
        self._revision += 1  # wakes the loop from its wait

    def _apply_migration(self, migration: PolicyMigration) -> None:
        self._migration = None
        try:
            migrated = t.migrate_policy(
                self._state, self._policy, migration.policy, workflow.now(), migration.requested_by
            )
        except t.MigrationRefused as error:  # closed since the signal came
            workflow.logger.warning("policy migration refused", extra={"reason": str(error)})
            return
        self._policy = migration.policy
        self._changed(migrated)

    @workflow.signal
    def change_segment(self, change: SegmentChange) -> None:
        """The customer's risk segment moved: kept until the loop's next step boundary, like a
        migration. A later change before that boundary replaces an earlier one."""
        try:
            t.check_segment_change(self._state)
        except t.SegmentChangeRefused as error:
            workflow.logger.warning("segment change refused", extra={"reason": str(error)})
            return
        if change.segment == self._segment and change.policy == self._policy:
            return  # told again: already there
        self._segment_change = change
        self._revision += 1  # wakes the loop from its wait

    def _apply_segment_change(self, change: SegmentChange) -> None:
        self._segment_change = None
        try:
            changed = t.change_segment(
                self._state,
                self._policy,
                change.policy,
                workflow.now(),
                from_segment=self._segment,
                to_segment=change.segment,
                reason=change.reason,
            )
        except t.SegmentChangeRefused as error:  # closed since the signal came
            workflow.logger.warning("segment change refused", extra={"reason": str(error)})
            return
        self._policy, self._segment = change.policy, change.segment
        self._changed(changed)

    @workflow.signal
    def contact_result(self, outcome: ContactOutcome) -> None:
        state, now = self._state, workflow.now()
        step = message_step(self._policy, outcome.step_id)
        if step is None:
            workflow.logger.warning(
                "contact result for an unknown step", extra={"step": outcome.step_id}
            )
            return
        if outcome.status == "replaced":
            # Dropped from the customer's queue unsent: skipped now, on the record.
            last_attempt = None
            if outcome.channel is not None:
                last_attempt = f"{outcome.channel}: {outcome.code or outcome.reason or 'failed'}"
            self._changed(t.confirm_replaced(state, step.id, now, last_attempt=last_attempt))
            return
        if (
            outcome.status == "sent"
            and state.steps.get(step.id) is StepStatus.SENT
            and workflow.patched("contact-result-once")
        ):
            # The same message told twice (a retried request met the outbox's existing row):
            # it went out once, and the bitácora says so once.
            workflow.logger.info("duplicate contact result ignored", extra={"step": step.id})
            return
        if outcome.status == "sent" and outcome.channel is not None:
            detail = {
                "idempotency_key": outcome.idempotency_key or "",
                "provider": outcome.provider or "",
                "provider_message_id": outcome.provider_message_id or "",
            }
            if outcome.consolidated_with:
                detail["consolidated_with"] = ", ".join(outcome.consolidated_with)
            moved = "; ".join(outcome.moved_by) or None
            self._changed(t.mark_sent(state, step, outcome.channel, now, detail, moved_by=moved))
        elif outcome.status == "failed" and outcome.channel is not None:
            self._changed(
                t.mark_channel_failed(
                    state,
                    step,
                    outcome.channel,
                    now,
                    code=outcome.code or "rejected",
                    reason=outcome.reason or "",
                    address_invalid=outcome.address_invalid,
                )
            )
        elif outcome.status == "undeliverable":
            self._changed(t.mark_undeliverable(state, step, now, outcome.reason or "undeliverable"))

    @workflow.update
    def complete_task(self, completion: t.TaskCompletion) -> NextAction:
        now = workflow.now()
        self._changed(t.complete_task(self._state, self._policy, completion, now))
        return describe(next_action(self._policy, self._state, now))

    @complete_task.validator
    def _validate_completion(self, completion: t.TaskCompletion) -> None:
        t.check_completion(self._policy, self._state, completion, workflow.now())

    @workflow.update
    def make_promise(self, request: PromiseRequest) -> NextAction:
        now = workflow.now()
        self._changed(
            t.make_promise(
                self._state,
                request.promised_date,
                request.amount,
                now,
                source=request.source,
                note=request.note,
                closes_open_task=workflow.patched("promise-closes-open-task"),
            )
        )
        return describe(next_action(self._policy, self._state, now))

    @make_promise.validator
    def _validate_promise(self, request: PromiseRequest) -> None:
        t.check_promise(
            self._policy, self._state, request.promised_date, request.amount, workflow.now()
        )

    @workflow.update
    def agree_payment_plan(self, request: PaymentPlanRequest) -> NextAction:
        now = workflow.now()
        self._changed(
            t.agree_plan(self._state, self._policy, request.instalments, now, source=request.source)
        )
        return describe(next_action(self._policy, self._state, now))

    @agree_payment_plan.validator
    def _validate_plan(self, request: PaymentPlanRequest) -> None:
        t.check_plan(self._policy, self._state, request.instalments, workflow.now())

    # --- case actions: each is refused by its validator before anything is written ---

    def _answer(self, changed: InvoiceState, now: datetime) -> NextAction:
        self._changed(changed)
        return describe(next_action(self._policy, self._state, now))

    @workflow.update
    def record_call(self, call: CallOutcome) -> NextAction:
        now = workflow.now()
        return self._answer(
            t.log_call(self._state, call.outcome, now, collector=call.collector, note=call.note),
            now,
        )

    @record_call.validator
    def _validate_call(self, call: CallOutcome) -> None:
        t.check_call(self._state)

    @workflow.update
    def escalate_to_handoff(self, escalation: Escalation) -> NextAction:
        now = workflow.now()
        return self._answer(
            t.escalate(
                self._state, self._policy, escalation.reason, now, collector=escalation.collector
            ),
            now,
        )

    @escalate_to_handoff.validator
    def _validate_escalation(self, escalation: Escalation) -> None:
        t.check_escalation(self._policy, self._state)

    @workflow.update
    def snooze_task(self, snooze: TaskSnooze) -> NextAction:
        now = workflow.now()
        return self._answer(
            t.snooze_task(
                self._state,
                snooze.task_id,
                snooze.until,
                now,
                collector=snooze.collector,
                note=snooze.note,
            ),
            now,
        )

    @snooze_task.validator
    def _validate_snooze(self, snooze: TaskSnooze) -> None:
        t.check_snooze(self._state, snooze.task_id, snooze.until, workflow.now())

    @workflow.update
    def open_dispute_case(self, request: DisputeOpening) -> NextAction:
        """The ``open_dispute`` signal's twin that answers: a second dispute is refused."""
        now = workflow.now()
        return self._answer(
            t.open_dispute(
                self._state,
                request.reason,
                now,
                policy=self._policy,
                code=request.code,
                owner=request.owner,
                source=request.source,
            ),
            now,
        )

    @open_dispute_case.validator
    def _validate_dispute(self, request: DisputeOpening) -> None:
        t.check_dispute(self._state)

    @workflow.update
    def report_payment_claim(self, claim: PaymentClaim) -> NextAction:
        now = workflow.now()
        return self._answer(
            t.report_payment_claim(
                self._state,
                self._policy,
                now,
                reference=claim.reference,
                paid_on=claim.paid_on,
                amount=claim.amount,
                source=claim.source,
                note=claim.note,
            ),
            now,
        )

    @report_payment_claim.validator
    def _validate_payment_claim(self, claim: PaymentClaim) -> None:
        t.check_payment_claim(self._state, claim.paid_on, claim.amount, workflow.now())

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
            plan=state.plan,
            dispute=state.dispute,
            timeline=state.timeline,
        )
