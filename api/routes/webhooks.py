"""Provider and gateway webhooks. Each is verified with the sender's own signature scheme
before anything is read: a forged, missing or replayed signature gets 403 and is not recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from api import provider_events
from api.context import Context, problem
from api.errors import InvalidRequest
from api.payments import record_customer_payment, record_payment
from api.schemas import Problem
from api.webhooks import MalformedEvent, SignatureRejected
from api.webhooks import sendgrid as sendgrid_hooks
from api.webhooks import twilio as twilio_hooks
from api.webhooks.payments import (
    SIGNATURE_HEADER as PAYMENT_SIGNATURE_HEADER,
)
from api.webhooks.payments import (
    GatewayPaymentBody,
    parse_payment_event,
    verify_payment_signature,
)
from ledger.db import unit_of_work
from ledger.repositories.contact_lookup import ContactLookup

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

REJECTIONS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Authentic but unreadable."},
    422: {"model": Problem, "description": "The form or body is missing a field."},
    403: {"model": Problem, "description": "Forged, missing or replayed signature."},
    503: {"model": Problem, "description": "This webhook's secret is not configured."},
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _public_url(request: Request, base: str) -> str:
    """The URL the provider called, as it signed it (behind a proxy: the configured base)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base.rstrip('/')}{request.url.path}{query}"


async def _verified_twilio_form(request: Request, context: Context) -> Any:
    token = context.settings.twilio_auth_token.get_secret_value()
    if not token:
        raise problem(503, "twilio_auth_token", "Twilio webhooks are not configured")
    form = await request.form()
    try:
        twilio_hooks.verify_twilio(
            token,
            _public_url(request, context.settings.public_base_url),
            form,
            request.headers.get(twilio_hooks.SIGNATURE_HEADER),
            signature_settings=request.headers.get(twilio_hooks.SIGNATURE_SETTINGS_HEADER),
        )
    except SignatureRejected as error:
        raise problem(403, "signature", str(error)) from error
    return form


@router.post("/twilio/status", status_code=204, responses=REJECTIONS)
async def twilio_status(request: Request, context: Context) -> Response:
    """Twilio's message status callback: the delivery status goes into the bitácora."""
    form = await _verified_twilio_form(request, context)
    try:
        event = twilio_hooks.parse_status_callback(form)
    except MalformedEvent as error:
        raise problem(400, error.field, str(error)) from error
    await provider_events.twilio_status(context.temporal, context.sessions, event)
    return Response(status_code=204)


@router.post("/twilio/inbound", responses=REJECTIONS)
async def twilio_inbound(request: Request, context: Context) -> Response:
    """A debtor's SMS or WhatsApp reply: STOP/BAJA/… opts out, anything else is a task."""
    form = await _verified_twilio_form(request, context)
    try:
        reply = twilio_hooks.parse_inbound(form)
    except MalformedEvent as error:
        raise problem(400, error.field, str(error)) from error
    await provider_events.twilio_reply(context.temporal, context.sessions, reply)
    return Response(content=EMPTY_TWIML, media_type="application/xml")


@router.post("/sendgrid/events", status_code=204, responses=REJECTIONS)
async def sendgrid_events(request: Request, context: Context) -> Response:
    """SendGrid's signed event webhook: deliveries, opens, bounces, drops, spam reports."""
    key = context.settings.sendgrid_webhook_public_key
    if not key:
        raise problem(503, "sendgrid_webhook_public_key", "SendGrid webhooks are not configured")
    raw = await request.body()
    try:
        sendgrid_hooks.verify_sendgrid(
            key,
            raw,
            request.headers.get(sendgrid_hooks.SIGNATURE_HEADER),
            request.headers.get(sendgrid_hooks.TIMESTAMP_HEADER),
            now=datetime.now(UTC),
        )
    except SignatureRejected as error:
        raise problem(403, "signature", str(error)) from error
    try:
        events = sendgrid_hooks.parse_events(raw)
    except MalformedEvent as error:
        raise problem(400, error.field, str(error)) from error
    for event in events:
        await provider_events.sendgrid_event(context.temporal, context.sessions, event)
    return Response(status_code=204)


@router.post(
    "/payments",
    responses={**REJECTIONS, 422: {"model": Problem}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": GatewayPaymentBody.model_json_schema()}},
        }
    },
)
async def gateway_payment(request: Request, context: Context) -> dict[str, Any]:
    """A payment from a gateway or bank, signed ``X-Dunning-Signature: t=<unix>,v1=<hex>``
    (HMAC-SHA256 over ``"<t>." + body``); older than 5 minutes is a replay."""
    secrets = [
        s.strip()
        for s in context.settings.payment_webhook_secrets.get_secret_value().split(",")
        if s.strip()
    ]
    if not secrets:
        raise problem(503, "payment_webhook_secrets", "payment webhooks are not configured")
    raw = await request.body()
    try:
        verify_payment_signature(
            secrets, raw, request.headers.get(PAYMENT_SIGNATURE_HEADER), now=datetime.now(UTC)
        )
    except SignatureRejected as error:
        raise problem(403, "signature", str(error)) from error
    try:
        payment = parse_payment_event(raw)
    except MalformedEvent as error:
        raise problem(400, error.field, str(error)) from error
    reference = payment.reference or payment.event_id
    try:
        if payment.invoice_number:
            recorded = await record_payment(
                context.temporal,
                context.sessions,
                payment.invoice_number,
                payment.amount,
                paid_at=payment.paid_at,
                reference=payment.event_id,
                currency=payment.currency,
                source="gateway",
            )
            return {"payment_id": recorded.payment_id, "unapplied": recorded.unapplied}
        assert payment.customer_tax_id is not None
        with unit_of_work(context.sessions) as session:
            customer = ContactLookup.from_session(session).customer_by_tax_id(
                payment.customer_tax_id
            )
            customer_id = customer.id if customer else None
        if customer_id is None:
            raise InvalidRequest("customer_tax_id", f"{payment.customer_tax_id} is not a customer")
        allocated = await record_customer_payment(
            context.temporal,
            context.sessions,
            customer_id,
            payment.amount,
            payment.currency,
            reference=reference,
            paid_at=payment.paid_at,
            source="gateway",
        )
        return {
            "payment_id": allocated.payment_id,
            "allocations": [a.invoice_number for a in allocated.allocations],
        }
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
