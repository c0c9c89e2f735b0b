from __future__ import annotations

import io

import pytest
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator

from api.webhooks.errors import SignatureRejected
from api.webhooks.testing import twilio_signature
from api.webhooks.twilio import verify_twilio

TOKEN = "12345678901234567890123456789012"
URL = "https://cobranza.example.cl/webhooks/twilio/status?tenant=acme"
FORM = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "MessageStatus": "delivered",
    "To": "+56912345678",
    "From": "+15005550006",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
}


def _signed(url: str = URL, form: dict[str, str] = FORM, token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def test_a_request_signed_with_our_token_is_accepted() -> None:
    verify_twilio(TOKEN, URL, FORM, _signed())


def test_the_testing_helper_signs_exactly_like_the_sdk() -> None:
    assert twilio_signature(TOKEN, URL, FORM) == _signed()
    verify_twilio(TOKEN, URL, FORM, twilio_signature(TOKEN, URL, FORM))


def test_a_signature_made_with_another_token_is_rejected() -> None:
    forged = _signed(token="another-account-token-000000000000")
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_twilio(TOKEN, URL, FORM, forged)


def test_a_tampered_form_is_rejected() -> None:
    tampered = {**FORM, "MessageStatus": "failed"}
    with pytest.raises(SignatureRejected):
        verify_twilio(TOKEN, URL, tampered, _signed())


@pytest.mark.parametrize(
    "called_url",
    [
        "https://cobranza.example.cl/webhooks/twilio/status",  # query string dropped
        "http://cobranza.example.cl/webhooks/twilio/status?tenant=acme",  # proxy's own scheme
        "https://cobranza.example.cl/webhooks/twilio/inbound?tenant=acme",
    ],
)
def test_the_signature_covers_the_exact_public_url(called_url: str) -> None:
    with pytest.raises(SignatureRejected):
        verify_twilio(TOKEN, called_url, FORM, _signed())


def test_an_explicit_default_port_is_tolerated_like_the_sdk_does() -> None:
    with_port = "https://cobranza.example.cl:443/webhooks/twilio/status?tenant=acme"
    verify_twilio(TOKEN, with_port, FORM, _signed())


@pytest.mark.parametrize("signature", [None, ""])
def test_a_missing_signature_is_rejected(signature: str | None) -> None:
    with pytest.raises(SignatureRejected, match="missing X-Twilio-Signature"):
        verify_twilio(TOKEN, URL, FORM, signature)


def test_an_unconfigured_token_is_an_error_not_a_pass() -> None:
    # HMAC with an empty key is computable by anyone; it must never validate a request.
    with pytest.raises(ValueError, match="not configured"):
        verify_twilio("", URL, FORM, _signed(token=""))


def test_repeated_form_fields_are_all_signed() -> None:
    form = FormData([*FORM.items(), ("MediaUrl0", "https://a"), ("MediaUrl0", "https://b")])
    signature = str(RequestValidator(TOKEN).compute_signature(URL, form))
    verify_twilio(TOKEN, URL, form, signature)
    only_one = FormData([*FORM.items(), ("MediaUrl0", "https://b")])
    with pytest.raises(SignatureRejected):
        verify_twilio(TOKEN, URL, only_one, signature)


def test_shared_key_sha256_signatures_follow_the_settings_header() -> None:
    signature = str(RequestValidator(TOKEN).compute_signature(URL, FORM, "HMAC_SHA256"))
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    verify_twilio(TOKEN, URL, FORM, signature, signature_settings=settings)
    with pytest.raises(SignatureRejected):
        verify_twilio(TOKEN, URL, FORM, signature)  # read as the legacy SHA-1 scheme


def test_a_file_upload_is_a_rejection_not_a_crash() -> None:
    form = FormData([*FORM.items(), ("Body", UploadFile(io.BytesIO(b"x"), filename="a.txt"))])
    with pytest.raises(SignatureRejected, match="file upload"):
        verify_twilio(TOKEN, URL, form, _signed())
