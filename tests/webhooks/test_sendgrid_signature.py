from __future__ import annotations

import base64
import json
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook

from api.webhooks.errors import SignatureRejected
from api.webhooks.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_sendgrid
from api.webhooks.testing import sendgrid_test_keypair, sign_sendgrid

NOW = datetime(2025, 3, 14, 13, 15, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
# Spacing and key order as SendGrid sends them; re-serialising would change both.
BODY = (
    b'[{"email": "deudor@example.cl", "timestamp": 1741958100, "event": "delivered",'
    b' "sg_event_id": "ZGVsaXZlcmVk", "sg_message_id": "abc.filter0001.0",'
    b' "idempotency_key": "inv-1:step-2"}]\r\n'
)

Key = tuple[ec.EllipticCurvePrivateKey, str]


@pytest.fixture(scope="module")
def keypair() -> Key:
    return sendgrid_test_keypair()


def test_header_names_are_sendgrids() -> None:
    assert SIGNATURE_HEADER == "X-Twilio-Email-Event-Webhook-Signature"
    assert TIMESTAMP_HEADER == "X-Twilio-Email-Event-Webhook-Timestamp"


def test_a_fresh_signature_from_sendgrids_key_is_accepted(keypair: Key) -> None:
    private_key, public_key = keypair
    signature = sign_sendgrid(private_key, BODY, TS)
    verify_sendgrid(public_key, BODY, signature, TS, now=NOW)


def test_a_signature_made_directly_with_cryptography_is_accepted() -> None:
    # Independent of api.webhooks.testing: key, DER signature and base64 key made by hand.
    private_key = ec.generate_private_key(ec.SECP256R1())
    der = private_key.sign(TS.encode() + BODY, ec.ECDSA(hashes.SHA256()))
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_key = base64.b64encode(public_der).decode()
    signature = base64.b64encode(der).decode()
    assert EventWebhook(public_key).verify_signature(BODY.decode(), signature, TS) is True
    verify_sendgrid(public_key, BODY, signature, TS, now=NOW)


def test_a_pem_block_is_accepted_as_the_key(keypair: Key) -> None:
    private_key, public_key = keypair
    pem = "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n".format(
        "\n".join(textwrap.wrap(public_key, 64))
    )
    verify_sendgrid(pem, BODY, sign_sendgrid(private_key, BODY, TS), TS, now=NOW)


def test_a_signature_from_another_key_is_rejected(keypair: Key) -> None:
    other_private, _ = sendgrid_test_keypair()
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_sendgrid(keypair[1], BODY, sign_sendgrid(other_private, BODY, TS), TS, now=NOW)


def test_a_tampered_body_is_rejected(keypair: Key) -> None:
    private_key, public_key = keypair
    signature = sign_sendgrid(private_key, BODY, TS)
    tampered = BODY.replace(b"delivered", b"bounce")
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_sendgrid(public_key, tampered, signature, TS, now=NOW)


def test_a_reserialised_body_no_longer_verifies(keypair: Key) -> None:
    private_key, public_key = keypair
    signature = sign_sendgrid(private_key, BODY, TS)
    reserialised = json.dumps(json.loads(BODY)).encode()
    with pytest.raises(SignatureRejected):
        verify_sendgrid(public_key, reserialised, signature, TS, now=NOW)


def test_a_tampered_timestamp_is_rejected(keypair: Key) -> None:
    private_key, public_key = keypair
    signature = sign_sendgrid(private_key, BODY, TS)
    moved = str(int(TS) + 1)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_sendgrid(public_key, BODY, signature, moved, now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "reason"),
    [(None, TS, "missing X-Twilio-Email-Event-Webhook-Signature"), ("x", None, "Timestamp")],
)
def test_missing_headers_are_rejected(
    keypair: Key, signature: str | None, timestamp: str | None, reason: str
) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        verify_sendgrid(keypair[1], BODY, signature, timestamp, now=NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=6), -timedelta(minutes=6), timedelta(days=3)])
def test_a_validly_signed_but_old_or_future_request_is_a_replay(
    keypair: Key, skew: timedelta
) -> None:
    private_key, public_key = keypair
    then = str(int((NOW - skew).timestamp()))
    signature = sign_sendgrid(private_key, BODY, then)
    with pytest.raises(SignatureRejected, match="replayed or stale"):
        verify_sendgrid(public_key, BODY, signature, then, now=NOW)


def test_a_request_inside_the_tolerance_is_accepted(keypair: Key) -> None:
    private_key, public_key = keypair
    then = str(int((NOW - timedelta(minutes=4, seconds=59)).timestamp()))
    verify_sendgrid(public_key, BODY, sign_sendgrid(private_key, BODY, then), then, now=NOW)


@pytest.mark.parametrize("timestamp", [f"{TS}.5", f" {TS}", f"+{TS}", "1_741_958_100", "soon"])
def test_a_non_integer_timestamp_is_rejected_even_when_signed(keypair: Key, timestamp: str) -> None:
    private_key, public_key = keypair
    signature = sign_sendgrid(private_key, BODY, timestamp)
    with pytest.raises(SignatureRejected, match="not a Unix timestamp"):
        verify_sendgrid(public_key, BODY, signature, timestamp, now=NOW)


@pytest.mark.parametrize("garbage", ["zz", "ñ", "AAAA", "not base64 at all!"])
def test_a_garbled_signature_is_a_rejection_not_a_crash(keypair: Key, garbage: str) -> None:
    with pytest.raises(SignatureRejected):
        verify_sendgrid(keypair[1], BODY, garbage, TS, now=NOW)


def test_a_body_that_is_not_utf8_is_rejected(keypair: Key) -> None:
    private_key, public_key = keypair
    body = b"[\xff]"
    with pytest.raises(SignatureRejected, match="UTF-8"):
        verify_sendgrid(public_key, body, sign_sendgrid(private_key, body, TS), TS, now=NOW)


@pytest.mark.parametrize("public_key", ["", "not-a-key"])
def test_a_bad_key_is_a_configuration_error(keypair: Key, public_key: str) -> None:
    signature = sign_sendgrid(keypair[0], BODY, TS)
    with pytest.raises(ValueError) as caught:
        verify_sendgrid(public_key, BODY, signature, TS, now=NOW)
    assert not isinstance(caught.value, SignatureRejected)


def test_a_naive_now_is_a_programming_error(keypair: Key) -> None:
    signature = sign_sendgrid(keypair[0], BODY, TS)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_sendgrid(keypair[1], BODY, signature, TS, now=NOW.replace(tzinfo=None))
