"""The console outbox: the default channel when no provider credentials are set, so the whole
product runs (and demos) without any account."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.console import Console

from activities.channels.base import OutboundMessage, synthetic_message_id
from dunning_policies.messages import whatsapp_content_key

_PREVIEW_CHARS = 80


def _stderr_writer() -> Callable[[str], None]:
    console = Console(stderr=True, highlight=False)

    def write(line: str) -> None:
        # Message text is user content: never let rich interpret "[...]" in it as markup.
        console.print(line, markup=False, soft_wrap=True)

    return write


class ConsoleSender:
    provider = "console"
    # Writes one line to a local stream: quick enough for the event loop.
    blocking = False

    def __init__(
        self,
        write: Callable[[str], None] | None = None,
        whatsapp_content_sids: Mapping[str, str] | None = None,
    ) -> None:
        self._write = write or _stderr_writer()
        self._content_sids = dict(whatsapp_content_sids or {})

    def send(self, message: OutboundMessage) -> str:
        message_id = synthetic_message_id("console", message.idempotency_key)
        self._write(
            f"[outbox] {message.channel} → {message.recipient} · {_headline(message)}"
            f" ({message.template}, {message.locale}, {message_id}{self._whatsapp_path(message)})"
        )
        return message_id

    def _whatsapp_path(self, message: OutboundMessage) -> str:
        """How a real provider would send it; the console itself delivers either way."""
        if message.channel != "whatsapp":
            return ""
        if message.free_form_allowed:
            return ", free form: the debtor wrote in the last 24 h"
        key = whatsapp_content_key(message.template, message.locale)
        content_sid = self._content_sids.get(key)
        if content_sid:
            return f", approved template {key} {content_sid}"
        return f", no approved template {key}: Twilio would reject it"


def _headline(message: OutboundMessage) -> str:
    if message.subject:
        return message.subject
    first_line = next((line.strip() for line in message.body.splitlines() if line.strip()), "")
    if len(first_line) > _PREVIEW_CHARS:
        return first_line[: _PREVIEW_CHARS - 1] + "…"
    return first_line
