"""Sign webhook requests the way the providers do, for tests of the webhook routes.

Production code never imports this module. The signatures come from the providers' own
primitives (Twilio's ``RequestValidator``, ECDSA P-256 for SendGrid), so a test that passes
here exercises the real verification path.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from api.webhooks.payments import sign_payment_payload

__all__ = ["sendgrid_test_keypair", "sign_payment_payload", "sign_sendgrid", "twilio_signature"]


def sendgrid_test_keypair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A fresh P-256 key pair; the public half is base64 DER SubjectPublicKeyInfo, the format
    SendGrid shows under Mail Settings → Signed Event Webhook."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_key, base64.b64encode(public_der).decode("ascii")


def sign_sendgrid(
    private_key: ec.EllipticCurvePrivateKey, raw_body: bytes, timestamp: str | int
) -> str:
    """The X-Twilio-Email-Event-Webhook-Signature value for ``raw_body`` sent at ``timestamp``
    (which goes, as the same text, in X-Twilio-Email-Event-Webhook-Timestamp)."""
    signed = str(timestamp).encode("ascii") + raw_body
    der_signature = private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(der_signature).decode("ascii")


def twilio_signature(token: str, url: str, form: Mapping[str, object]) -> str:
    """The X-Twilio-Signature value Twilio would send for a POST of ``form`` to ``url``."""
    return str(RequestValidator(token).compute_signature(url, form))
