from __future__ import annotations

import pytest

from api.webhooks.errors import MalformedEvent
from api.webhooks.twilio import DeliveryStatus, parse_status_callback

SID = "SM0123456789abcdef0123456789abcdef"


def test_an_sms_delivery_callback() -> None:
    form = {"MessageSid": SID, "MessageStatus": "delivered", "To": "+56912345678", "From": "+1500"}
    assert parse_status_callback(form) == DeliveryStatus(
        provider="twilio",
        provider_message_id=SID,
        status="delivered",
        raw_status="delivered",
        error_code=None,
        recipient="+56912345678",
        channel="sms",
    )


def test_a_whatsapp_read_receipt_strips_the_prefix() -> None:
    form = {
        "MessageSid": SID,
        "MessageStatus": "read",
        "To": "whatsapp:+5215512345678",
        "From": "whatsapp:+14155238886",
    }
    status = parse_status_callback(form)
    assert (status.channel, status.recipient, status.status) == (
        "whatsapp",
        "+5215512345678",
        "read",
    )


def test_an_undelivered_sms_carries_the_senders_error_label() -> None:
    form = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30003", "To": "+569"}
    status = parse_status_callback(form)
    assert status.status == "undelivered"
    assert status.error_code == "twilio_30003"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("partially_delivered", "delivered"),
        ("canceled", "failed"),
        ("failed", "failed"),
    ],
)
def test_every_outbound_status_folds_into_six(raw: str, normalized: str) -> None:
    status = parse_status_callback({"MessageSid": SID, "MessageStatus": raw, "To": "+569"})
    assert (status.status, status.raw_status) == (normalized, raw)


def test_an_empty_error_code_is_no_error() -> None:
    form = {"MessageSid": SID, "MessageStatus": "sent", "ErrorCode": "", "To": "+569"}
    assert parse_status_callback(form).error_code is None


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus", "To"])
def test_a_missing_field_is_named(missing: str) -> None:
    form = {"MessageSid": SID, "MessageStatus": "sent", "To": "+56912345678"}
    del form[missing]
    with pytest.raises(MalformedEvent) as caught:
        parse_status_callback(form)
    assert caught.value.field == missing


@pytest.mark.parametrize("raw", ["received", "teleported"])
def test_a_status_that_is_not_outbound_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedEvent, match="MessageStatus"):
        parse_status_callback({"MessageSid": SID, "MessageStatus": raw, "To": "+569"})


def test_a_channel_we_never_send_on_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="messenger"):
        parse_status_callback({"MessageSid": SID, "MessageStatus": "sent", "To": "messenger:123"})
