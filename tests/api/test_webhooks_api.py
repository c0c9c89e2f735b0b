"""Provider webhooks through the HTTP API, signed with the providers' own helpers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.webhooks.payments import sign_payment_payload
from api.webhooks.testing import sendgrid_test_keypair, sign_sendgrid, twilio_signature
from ledger.db import unit_of_work
from ledger.models import ContactBlock, Interaction, OutboxMessage, Payment, Task
from tests.api.support import ApiHarness, invoice_body, running_api
from tests.api.test_erp_api import dates, eventually

TOKEN = "twilio-test-token"
PAYMENT_SECRET = "gateway-secret-1"
PRIVATE_KEY, PUBLIC_KEY = sendgrid_test_keypair()
PUBLIC = "https://cobranza.example.cl"
PHONE = "+56912345678"


def webhook_settings() -> dict[str, object]:
    return {
        "twilio_auth_token": SecretStr(TOKEN),
        "public_base_url": PUBLIC,
        "sendgrid_webhook_public_key": PUBLIC_KEY,
        "payment_webhook_secrets": SecretStr(f"old-secret,{PAYMENT_SECRET}"),
    }


def sent(api: ApiHarness, number: str, channel: str, provider_id: str, recipient: str) -> None:
    """A message as the send activity leaves it: in the outbox, accepted by the provider."""
    with unit_of_work(api.harness.sessions) as session:
        session.add(
            OutboxMessage(
                idempotency_key=f"invoice-{number}:overdue_3:{channel}",
                invoice_number=number,
                customer_id="C-42",
                workflow_id=f"invoice-{number}",
                step_id="overdue_3",
                channel=channel,
                provider="twilio" if channel != "email" else "sendgrid",
                template="overdue",
                locale="es_CL",
                recipient=recipient,
                body="Su factura está vencida",
                status="sent",
                provider_message_id=provider_id,
                created_at=datetime.now(UTC),
            )
        )


def bitacora_kinds(api: ApiHarness, number: str) -> list[str]:
    with unit_of_work(api.harness.sessions) as session:
        return list(
            session.scalars(
                select(Interaction.kind)
                .where(Interaction.invoice_number == number)
                .order_by(Interaction.id)
            )
        )


async def post_twilio(api: ApiHarness, path: str, form: dict[str, str], signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return await api.http.post(path, data=form, headers=headers)


async def issue_two(api: ApiHarness, env: WorkflowEnvironment, prefix: str) -> tuple[str, str]:
    """Two invoices of customer C-42; numbers unique per test (the server outlives tests, and
    a terminated workflow's id is never reused)."""
    today, due = await dates(env)
    numbers = (f"{prefix}-1", f"{prefix}-2")
    for number in numbers:
        response = await api.post(
            "/v1/invoices", invoice_body(number, today.isoformat(), due.isoformat())
        )
        assert response.status_code == 201
    return numbers


async def test_twilio_status_is_recorded_only_with_a_valid_signature(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(time_skipping_env, tmp_path, **webhook_settings()) as api:
        one, _ = await issue_two(api, time_skipping_env, "W1")
        sent(api, one, "sms", "SM0001", PHONE)
        form = {"MessageSid": "SM0001", "MessageStatus": "delivered", "To": PHONE, "From": "+1"}
        url = f"{PUBLIC}/webhooks/twilio/status"

        forged = await post_twilio(api, "/webhooks/twilio/status", form, "bm90IGEgc2lnbmF0dXJl")
        missing = await post_twilio(api, "/webhooks/twilio/status", form, None)
        tampered = await post_twilio(
            api,
            "/webhooks/twilio/status",
            {**form, "MessageStatus": "failed"},
            twilio_signature(TOKEN, url, form),
        )
        assert (forged.status_code, missing.status_code, tampered.status_code) == (403, 403, 403)
        assert "delivery_status" not in bitacora_kinds(api, one)

        valid = await post_twilio(
            api, "/webhooks/twilio/status", form, twilio_signature(TOKEN, url, form)
        )
        assert valid.status_code == 204
        again = await post_twilio(
            api, "/webhooks/twilio/status", form, twilio_signature(TOKEN, url, form)
        )
        assert again.status_code == 204
        assert bitacora_kinds(api, one).count("delivery_status") == 1


async def test_baja_opts_the_customer_out_of_that_channel_on_every_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(time_skipping_env, tmp_path, **webhook_settings()) as api:
        one, two = await issue_two(api, time_skipping_env, "W2")
        sent(api, one, "whatsapp", "SM0002", PHONE)
        url = f"{PUBLIC}/webhooks/twilio/inbound"
        form = {
            "MessageSid": "SM0099",
            "From": f"whatsapp:{PHONE}",
            "To": "whatsapp:+15550001111",
            "Body": "  Baja. ",
        }
        forged = await post_twilio(api, "/webhooks/twilio/inbound", form, "x")
        assert forged.status_code == 403
        with unit_of_work(api.harness.sessions) as session:
            assert session.scalars(select(ContactBlock)).all() == []

        answer = await post_twilio(
            api, "/webhooks/twilio/inbound", form, twilio_signature(TOKEN, url, form)
        )
        assert answer.status_code == 200 and "<Response>" in answer.text
        for number in (one, two):
            await eventually(
                api,
                lambda number=number: api.get(f"/v1/invoices/{number}"),
                lambda body: any(
                    e["kind"] == "channel_opted_out" and e["channel"] == "whatsapp"
                    for e in body["timeline"]
                ),
                f"{number} told of the opt-out",
            )
        statement = (await api.get("/v1/customers/C-42")).json()
        assert list(statement["blocked_channels"]) == ["whatsapp"]


async def test_any_other_reply_becomes_a_collector_task_with_its_text(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(time_skipping_env, tmp_path, **webhook_settings()) as api:
        _, two = await issue_two(api, time_skipping_env, "W3")
        sent(api, two, "sms", "SM0003", PHONE)
        url = f"{PUBLIC}/webhooks/twilio/inbound"
        form = {
            "MessageSid": "SM0100",
            "From": PHONE,
            "To": "+15550001111",
            "Body": "Pago el viernes",
        }
        answer = await post_twilio(
            api, "/webhooks/twilio/inbound", form, twilio_signature(TOKEN, url, form)
        )
        assert answer.status_code == 200
        with unit_of_work(api.harness.sessions) as session:
            task = session.get(Task, "R-SM0100")
            assert task is not None
            assert (task.invoice_number, task.kind, task.queue) == (two, "reply", "replies")
            assert task.detail["text"] == "Pago el viernes"
            assert session.scalars(select(ContactBlock)).all() == []


async def test_a_sendgrid_hard_bounce_makes_email_unusable_and_forgeries_are_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(time_skipping_env, tmp_path, **webhook_settings()) as api:
        one, two = await issue_two(api, time_skipping_env, "W4")
        sent(api, one, "email", "msg-abc", "pagos@losandes.cl")
        events = [
            {
                "email": "pagos@losandes.cl",
                "timestamp": int(time.time()),
                "event": "bounce",
                "type": "bounce",
                "reason": "550 5.1.1 user unknown",
                "sg_event_id": "ev-1",
                "sg_message_id": "msg-abc.filter0001",
                "idempotency_key": f"invoice-{one}:overdue_3:email",
            }
        ]
        raw = json.dumps(events).encode()
        now = str(int(time.time()))
        signature = sign_sendgrid(PRIVATE_KEY, raw, now)
        old = str(int(time.time()) - 3600)

        def headers(sig: str, ts: str) -> dict[str, str]:
            return {
                "X-Twilio-Email-Event-Webhook-Signature": sig,
                "X-Twilio-Email-Event-Webhook-Timestamp": ts,
                "Content-Type": "application/json",
            }

        other_key, _ = sendgrid_test_keypair()
        for bad in (
            headers(sign_sendgrid(other_key, raw, now), now),
            headers(signature, str(int(now) + 1)),
            headers(sign_sendgrid(PRIVATE_KEY, raw, old), old),
            {"Content-Type": "application/json"},
        ):
            refused = await api.http.post("/webhooks/sendgrid/events", content=raw, headers=bad)
            assert refused.status_code == 403, refused.text
        assert "email_bounce" not in bitacora_kinds(api, one)

        accepted = await api.http.post(
            "/webhooks/sendgrid/events", content=raw, headers=headers(signature, now)
        )
        assert accepted.status_code == 204, accepted.text
        assert "email_bounce" in bitacora_kinds(api, one)
        for number in (one, two):
            await eventually(
                api,
                lambda number=number: api.get(f"/v1/invoices/{number}"),
                lambda body: any(e["kind"] == "address_invalid" for e in body["timeline"]),
                f"{number} told the email bounced",
            )


async def test_a_signed_gateway_payment_is_recorded_and_a_replay_is_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(time_skipping_env, tmp_path, **webhook_settings()) as api:
        one, _ = await issue_two(api, time_skipping_env, "W5")
        raw = json.dumps(
            {
                "id": "evt_77",
                "invoice_number": one,
                "amount": "1250000",
                "currency": "CLP",
                "paid_at": "2026-11-20T10:00:00-03:00",
                "reference": "WEBPAY-1",
            }
        ).encode()
        now = int(time.time())

        async def post(header: str):
            return await api.http.post(
                "/webhooks/payments",
                content=raw,
                headers={"X-Dunning-Signature": header, "Content-Type": "application/json"},
            )

        stale = await post(sign_payment_payload(PAYMENT_SECRET, raw, now - 600))
        wrong = await post(sign_payment_payload("not-our-secret", raw, now))
        tampered = await api.http.post(
            "/webhooks/payments",
            content=raw.replace(b"1250000", b"9250000"),
            headers={"X-Dunning-Signature": sign_payment_payload(PAYMENT_SECRET, raw, now)},
        )
        assert (stale.status_code, wrong.status_code, tampered.status_code) == (403, 403, 403)
        with unit_of_work(api.harness.sessions) as session:
            assert session.scalars(select(Payment)).all() == []

        accepted = await post(sign_payment_payload(PAYMENT_SECRET, raw, now))
        assert accepted.status_code == 200, accepted.text
        await eventually(
            api,
            lambda: api.get(f"/v1/invoices/{one}"),
            lambda body: body["stage"] == "paid",
            "paid through the gateway",
        )
