from __future__ import annotations

import pytest

from api.webhooks.errors import MalformedEvent
from api.webhooks.twilio import InboundReply, parse_inbound

SID = "SM99999999999999999999999999999999"


def _reply(body: str, sender: str = "+56912345678", **extra: str) -> InboundReply:
    return parse_inbound(
        {"MessageSid": SID, "From": sender, "To": "+56227654321", "Body": body, **extra}
    )


@pytest.mark.parametrize(
    "body",
    [
        "Baja",
        "  stop ",
        "CANCELAR.",
        "¡BAJA!",
        "Alto",
        "parar",
        "Unsubscribe",
        "STOPALL",
        "end",
        "Quit",
        "Cancél",  # accent stripped → "cancel", Twilio's own keyword
        "\tStop!!\n",
    ],
)
def test_a_whole_body_keyword_is_an_opt_out(body: str) -> None:
    reply = _reply(body)
    assert reply.opt_out is True
    assert reply.opt_in is False
    assert reply.body == body  # the original text is kept for the bitácora


@pytest.mark.parametrize(
    "body",
    [
        "Por favor denme de baja",
        "stop please",
        "No puedo pagar, alto el cobro por favor",
        "Voy a pagar el viernes",
        "STOP STOP",
        "",
    ],
)
def test_a_sentence_that_contains_a_keyword_is_not_an_opt_out(body: str) -> None:
    reply = _reply(body)
    assert (reply.opt_out, reply.opt_in) == (False, False)


@pytest.mark.parametrize("body", ["START", "Sí", "si", "ALTA", "Yes!", "unstop"])
def test_opt_in_keywords(body: str) -> None:
    reply = _reply(body)
    assert (reply.opt_out, reply.opt_in) == (False, True)


def test_twilio_advanced_opt_out_verdict_counts_for_custom_keywords() -> None:
    assert _reply("DETENER", OptOutType="STOP").opt_out is True
    assert _reply("VOLVER", OptOutType="START").opt_in is True
    assert _reply("AYUDA", OptOutType="HELP").opt_out is False


def test_a_whatsapp_reply_names_the_sender_without_prefix() -> None:
    reply = _reply("Ya pagué, adjunto comprobante", sender="whatsapp:+5215512345678")
    assert reply == InboundReply(
        provider_message_id=SID,
        sender="+5215512345678",
        channel="whatsapp",
        body="Ya pagué, adjunto comprobante",
        opt_out=False,
        opt_in=False,
    )


def test_a_media_only_message_has_an_empty_body() -> None:
    reply = parse_inbound({"MessageSid": SID, "From": "+56912345678", "NumMedia": "1"})
    assert (reply.body, reply.channel, reply.opt_out) == ("", "sms", False)


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_missing_identifiers_are_malformed(missing: str) -> None:
    form = {"MessageSid": SID, "From": "+56912345678", "Body": "hola"}
    del form[missing]
    with pytest.raises(MalformedEvent) as caught:
        parse_inbound(form)
    assert caught.value.field == missing
