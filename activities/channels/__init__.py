"""Outbound channel adapters: one ``ChannelSender`` per provider, chosen by
``activities.channels.registry.build_senders``.

Only the provider-free contract is re-exported here, so importing it (from a workflow's
pass-through imports, say) never drags in the Twilio or SendGrid SDKs.
"""

from activities.channels.base import (
    Channel,
    ChannelSender,
    DeliveryDeferred,
    DeliveryRejected,
    OutboundMessage,
    whatsapp_free_form_allowed,
)

__all__ = [
    "Channel",
    "ChannelSender",
    "DeliveryDeferred",
    "DeliveryRejected",
    "OutboundMessage",
    "whatsapp_free_form_allowed",
]
