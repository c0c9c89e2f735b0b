"""Automated calls through Twilio's Voice API: the message's script is read aloud with ``<Say>``.

The TwiML travels with the request (``twiml=``), so Twilio never has to fetch instructions from
us while the debtor is on the line. A call counts as a "call" for the contact laws.
"""

from __future__ import annotations

import re

from twilio.twiml.voice_response import VoiceResponse

from activities.channels.base import DeliveryRejected, OutboundMessage, synthetic_message_id
from activities.channels.twilio_api import build_client, classified_errors
from dunning_policies.messages import language_of

# Twilio error codes where the same call can never go through; the engine falls back to the
# next channel. Any other 4xx is permanent too; these are listed to say why.
_PERMANENT_CODES = frozenset(
    {
        13223,  # invalid phone number format
        13224,  # not a number Twilio can call, or not a valid number
        13225,  # restricted number (blocklist, fraud protection)
        13226,  # invalid country code
        13227,  # no international permission (geo permissions)
        21210,  # 'From' is not a verified caller ID
        21211,  # invalid 'To' number
        21212,  # invalid 'From' number
        21215,  # geo permissions do not allow calling this destination
        21216,  # number blocked (high-risk or regulated destination)
        21217,  # 'To' does not appear to be a valid phone number
        21219,  # trial account: 'To' is not a verified number
        20003,  # authentication failed
    }
)
ADDRESS_INVALID_CODES = frozenset(
    {"twilio_13223", "twilio_13224", "twilio_13226", "twilio_21211", "twilio_21217"}
)
"""Rejections that say the number itself is bad: the channel is unusable for later steps too.
Geo permissions and blocklists (13225, 13227, 21215, 21216) are the account's settings, not the
debtor's number, so they fail only this call."""

# Neural voices per <Say> language. Polly has no es-CL (nor es-CO, es-PE): the rest of Latin
# America hears Mexican Spanish, closer than Castilian.
VOICES = {
    "es-MX": "Polly.Mia-Neural",
    "es-US": "Polly.Lupe-Neural",
    "es-ES": "Polly.Lucia-Neural",
    "en-US": "Polly.Joanna-Neural",
    "en-GB": "Polly.Amy-Neural",
}
_DEFAULT_LANGUAGE = {"es": "es-MX", "en": "en-US"}
# What XML 1.0 forbids even escaped (and lone surrogates, which UTF-8 cannot carry): one stray
# character in a customer's name would make the request fail.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def say_language(locale: str) -> str:
    """The ``<Say>`` language: ``es_MX`` → ``es-MX``, ``en_GB`` → ``en-GB``; ``es_CL`` or a bare
    ``es`` → ``es-MX``; ``en`` → ``en-US``."""
    language = language_of(locale)
    parts = re.split(r"[_\-.@]", locale.strip())
    candidate = f"{language}-{parts[1].upper()}" if len(parts) > 1 else ""
    return candidate if candidate in VOICES else _DEFAULT_LANGUAGE[language]


def twiml_for(message: OutboundMessage) -> str:
    """The call's instructions: a second's pause (so the debtor's "hello?" does not talk over
    the first words), then the script in the debtor's language, XML-escaped."""
    language = say_language(message.locale)
    response = VoiceResponse()
    response.pause(length=1)
    response.say(_NOT_XML.sub("", message.body), language=language, voice=VOICES[language])
    return str(response)


class TwilioVoiceSender:
    provider = "twilio"
    blocking = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        voice_from: str,
        api_base_url: str = "",
        timeout: float = 15.0,
        status_callback: str = "",
    ) -> None:
        """``voice_from``: the Twilio number the debtor sees calling. ``status_callback``: where
        Twilio reports how the call ended; empty, it reports nowhere."""
        self._client = build_client(account_sid, auth_token, api_base_url, timeout)
        self._from = voice_from
        self._callback = {"status_callback": status_callback} if status_callback else {}

    def send(self, message: OutboundMessage) -> str:
        """Place the call and return its SID (``CA…``)."""
        if message.channel != "voice":
            raise ValueError(f"TwilioVoiceSender cannot send {message.channel!r} messages")
        if not self._from:
            raise DeliveryRejected("twilio_no_sender", "no Twilio number configured for calls")
        with classified_errors(_PERMANENT_CODES):
            call = self._client.calls.create(
                to=message.recipient, from_=self._from, twiml=twiml_for(message), **self._callback
            )
        sid = call.sid
        return str(sid) if sid else synthetic_message_id("twilio", message.idempotency_key)
