"""End to end on the time-skipping server: an invoice issued, dunned and disputed through the
product's encrypting converter leaves no debtor's name, email or phone anywhere in the Temporal
histories the server stores, while the same histories decrypted through the codec hold them.

The workflows carry ids, never contact points (the activities read those from the ledger); what
does reach Temporal is text people write: here a debtor's dispute from the portal quoting their
name, email and phone, which lands in the update's input, the workflow's state, the activities'
inputs, and the failure that refuses a second dispute."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.contracts import contact_workflow_id
from api import case_actions
from api.codec import EncryptionCodec, encrypted_data_converter
from api.errors import InvalidRequest
from api.invoicing import CustomerDetails
from config.payload_keys import new_key_entry, parse_payload_keys
from dunning_policies.jurisdictions import DebtType
from dunning_policies.language import Channel
from dunning_policies.state import DisputeCode
from tests.workflows.harness import (
    RecordingSender,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import InvoiceDunningWorkflow

NAME = "Ferretería Zúñiga Única SpA"
EMAIL = "pagos@zuniga-unica.cl"
PHONE = "+56987650123"
PII = (NAME, EMAIL, PHONE)
DISPUTE = f"Soy María Zúñiga, de {NAME}: la mercadería no llegó. Escríbanme a {EMAIL} o al {PHONE}."


def forms(text: str) -> list[bytes]:
    """Every way ``text`` could sit in a serialized history: UTF-8, JSON-escaped, and its
    longest ASCII run (so a re-encoding of the accents would not hide it)."""
    ascii_runs = sorted("".join(c if c.isascii() else " " for c in text).split(), key=len)
    return [text.encode(), json.dumps(text)[1:-1].encode(), ascii_runs[-1].encode()]


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every ``Payload`` inside ``message``, however deep (inputs, results, signals, headers,
    memos, failures' encoded attributes, search attributes)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        kind = field.message_type
        if kind is None:
            continue
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                for item in value.values():
                    yield from payloads_in(item)
        elif field.is_repeated:
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)


def stored_bytes(history: WorkflowHistory) -> bytes:
    """The history as the server keeps it: protobuf, payload data as raw bytes."""
    return b"".join(event.SerializeToString() for event in history.events)


async def decrypted_bytes(history: WorkflowHistory, codec: EncryptionCodec) -> bytes:
    for event in history.events:
        for payload in payloads_in(event):
            (readable,) = await codec.decode([payload])
            payload.CopyFrom(readable)
    return stored_bytes(history)


async def test_a_dunned_invoice_leaves_no_personal_data_in_temporal(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    codec = EncryptionCodec(parse_payload_keys(new_key_entry("k-e2e")))
    # The product's clients (api.temporal.connect) are built this way; this one shares the
    # session's test server.
    encrypting = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=encrypted_data_converter(codec),
    )
    without_codec = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    number = f"F-PII-{uuid.uuid4().hex[:6]}"
    customer_id = f"C-PII-{uuid.uuid4().hex[:6]}"
    debtor = CustomerDetails(
        id=customer_id,
        name=NAME,
        country="CL",
        timezone="America/Santiago",
        locale="es_CL",
        email=EMAIL,
        phone=PHONE,
        whatsapp=PHONE,
        segment="standard",
        debt_type=DebtType.BUSINESS,
    )
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(encrypting, tmp_path) as harness:
        workflow_id = await harness.issue(number, due, issued_on=today, customer=debtor)
        # The preventive reminder (three days before the due date) goes out by email, at the
        # customer's contact hour: the clock is moved to then, not by whole days from the hour
        # the test happens to run at (at night that is outside the contact window).
        await sleep_until(env, contact_at(due - timedelta(days=3)) + timedelta(hours=1))
        await until(env, lambda: bool(harness.outbox(number)), "the preventive reminder")
        await until(env, lambda: harness.outbox(number)[0][3] == "sent", "the reminder sent")
        await case_actions.open_dispute(
            encrypting,
            harness.sessions,
            number,
            code=DisputeCode.NOT_RECEIVED,
            reason=DISPUTE,
            source="portal",
        )
        await until(
            env,
            lambda: "dispute_opened" in [line.kind for line in harness.bitacora(number)],
            "dispute",
        )
        with pytest.raises(InvalidRequest) as second_dispute:
            await case_actions.open_dispute(
                encrypting,
                harness.sessions,
                number,
                code=DisputeCode.OTHER,
                reason="otra",
                source="portal",
            )
        status = await harness.handle(workflow_id).query(InvoiceDunningWorkflow.status)
        email = cast(RecordingSender, harness.senders[Channel.EMAIL])

        histories = [
            await without_codec.get_workflow_handle(workflow_id).fetch_history(),
            await without_codec.get_workflow_handle(
                contact_workflow_id(customer_id)
            ).fetch_history(),
        ]

    # The worker decrypted its input: it wrote to the debtor, by name, at their address.
    assert [m.recipient for m in email.sent] == [EMAIL]
    assert NAME in email.sent[0].body
    assert status.stage == "disputed"
    # The refusal quotes the open dispute: its message travelled encrypted and was decrypted.
    assert EMAIL in str(second_dispute.value)

    stored = b"".join(stored_bytes(history) for history in histories)
    for text in PII:
        for form in forms(text):
            assert form not in stored, f"{form!r} is in a stored history in plaintext"
    assert b"binary/encrypted" in stored and b"k-e2e" in stored
    assert customer_id.encode() in stored, "ids stay readable (search attributes)"

    readable = b"".join([await decrypted_bytes(history, codec) for history in histories])
    for text in PII:
        assert text.encode() in readable, f"{text} should be in the decrypted history"
