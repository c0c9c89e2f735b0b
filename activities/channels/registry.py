"""Which sender serves each channel, decided once from settings at worker start."""

from __future__ import annotations

from activities.channels.base import Channel, ChannelSender
from activities.channels.console import ConsoleSender
from activities.channels.sendgrid_email import SendGridEmailSender
from activities.channels.twilio_messaging import TwilioSender
from activities.channels.twilio_voice import TwilioVoiceSender
from config.settings import Settings


def build_senders(settings: Settings) -> dict[Channel, ChannelSender]:
    """A real provider where its credentials (and, for Twilio, that channel's sender number) are
    set; the console outbox everywhere else, so a partial set-up still runs end to end."""
    console = ConsoleSender(whatsapp_content_sids=settings.whatsapp_content_sids)
    senders: dict[Channel, ChannelSender] = {
        "email": console,
        "sms": console,
        "whatsapp": console,
        "voice": console,
    }
    if settings.sendgrid_configured:
        senders["email"] = SendGridEmailSender(
            # Secrets are unwrapped here and nowhere else; the senders never log them.
            api_key=settings.sendgrid_api_key.get_secret_value(),
            from_email=settings.email_from,
            host=settings.sendgrid_host,
            timeout=settings.provider_timeout_seconds,
            from_name=settings.company_name,
        )
    if settings.twilio_configured and (settings.twilio_sms_from or settings.twilio_whatsapp_from):
        twilio = TwilioSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sms_from=settings.twilio_sms_from,
            whatsapp_from=settings.twilio_whatsapp_from,
            api_base_url=settings.twilio_api_base_url,
            timeout=settings.provider_timeout_seconds,
            status_callback=f"{settings.public_base_url.rstrip('/')}/webhooks/twilio/status",
            whatsapp_content_sids=settings.whatsapp_content_sids,
        )
        if settings.twilio_sms_from:
            senders["sms"] = twilio
        if settings.twilio_whatsapp_from:
            senders["whatsapp"] = twilio
    if settings.twilio_configured and settings.twilio_voice_from:
        senders["voice"] = TwilioVoiceSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            voice_from=settings.twilio_voice_from,
            api_base_url=settings.twilio_api_base_url,
            timeout=settings.provider_timeout_seconds,
            # No status callback yet: a call's callback carries CallSid/CallStatus, which
            # /webhooks/twilio/status (MessageSid/MessageStatus) would answer with a 400.
        )
    return senders
