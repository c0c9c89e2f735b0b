"""SMS and WhatsApp through Twilio's Messages API, with every failure classified for the engine.

WhatsApp lets a business write free-form text only within 24 hours of the customer's last
message to it; outside that window only a template Meta approved (a Twilio Content SID per
template and language) may be sent, with the message's values in its placeholders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from activities.channels.base import (
    DeliveryRejected,
    OutboundMessage,
    synthetic_message_id,
)
from activities.channels.twilio_api import build_client, classified_errors
from dunning_policies.messages import whatsapp_content_key

# Twilio error codes where the same request can never succeed. Sending again would waste money
# or, for 21610, contact someone who replied STOP; the engine falls back to the next channel.
_PERMANENT_CODES = frozenset(
    {
        21610,  # recipient unsubscribed (STOP)
        21211,  # invalid 'To' number
        21614,  # 'To' is not a mobile number
        63016,  # outside the WhatsApp 24 h window: only an approved template may be sent
        20003,  # authentication failed
        21606,  # 'From' number cannot send to this destination
        21659,  # 'From' is not a Twilio number on this account
    }
)
WHATSAPP_PREFIX = "whatsapp:"
NO_APPROVED_TEMPLATE = "no_approved_template"
"""Rejection code: outside the 24-hour window with no approved template for this message. The
engine falls back to the next channel; the WhatsApp number itself stays usable."""


class TwilioSender:
    provider = "twilio"
    blocking = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sms_from: str,
        whatsapp_from: str,
        api_base_url: str = "",
        timeout: float = 15.0,
        status_callback: str = "",
        whatsapp_content_sids: Mapping[str, str] | None = None,
    ) -> None:
        """``status_callback``: where Twilio reports each message's delivery (our
        ``/webhooks/twilio/status``); empty, it reports nowhere. ``whatsapp_content_sids``: the
        approved WhatsApp templates, ``{"overdue.es": "HX…"}``."""
        self._client = build_client(account_sid, auth_token, api_base_url, timeout)
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._callback = {"status_callback": status_callback} if status_callback else {}
        self._content_sids = dict(whatsapp_content_sids or {})

    def send(self, message: OutboundMessage) -> str:
        to, from_ = self._addresses(message)
        content = self._content(message)
        with classified_errors(_PERMANENT_CODES):
            created = self._client.messages.create(to=to, from_=from_, **content, **self._callback)
        sid = created.sid
        return str(sid) if sid else synthetic_message_id("twilio", message.idempotency_key)

    def _content(self, message: OutboundMessage) -> dict[str, str]:
        """Free-form text, or outside WhatsApp's 24-hour window the approved template."""
        if message.channel != "whatsapp" or message.free_form_allowed:
            return {"body": message.body}
        key = whatsapp_content_key(message.template, message.locale)
        content_sid = self._content_sids.get(key)
        if not content_sid:
            raise DeliveryRejected(
                NO_APPROVED_TEMPLATE,
                f"no approved WhatsApp template {key!r}, and the debtor has not written "
                "in the last 24 hours, so free-form text would be refused",
            )
        content = {"content_sid": content_sid}
        if message.template_variables:
            content["content_variables"] = json.dumps(
                dict(message.template_variables), ensure_ascii=False
            )
        return content

    def _addresses(self, message: OutboundMessage) -> tuple[str, str]:
        if message.channel == "sms":
            sender, prefix = self._sms_from, ""
        elif message.channel == "whatsapp":
            sender, prefix = self._whatsapp_from, WHATSAPP_PREFIX
        else:
            raise ValueError(f"TwilioSender cannot send {message.channel!r} messages")
        if not sender:
            raise DeliveryRejected(
                "twilio_no_sender", f"no Twilio sender configured for {message.channel}"
            )
        return _with_prefix(prefix, message.recipient), _with_prefix(prefix, sender)


def _with_prefix(prefix: str, address: str) -> str:
    return address if address.startswith(prefix) else f"{prefix}{address}"
