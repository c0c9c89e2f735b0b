"""The two ways a webhook request can fail before anything is recorded."""

from __future__ import annotations


class SignatureRejected(Exception):
    """The request is not provably from the provider: forged, unsigned, or replayed.

    The route answers 403 and records nothing. ``reason`` is safe to log: it never contains a
    secret, an expected signature or the request body.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedEvent(ValueError):
    """The request is authentic (or needs no signature) but its content cannot be understood.

    ``field`` names the offending field, e.g. ``"MessageStatus"``, ``"events[2].timestamp"``,
    ``"amount"``, or ``"body"`` when the whole body is unreadable.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail
