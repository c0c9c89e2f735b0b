"""Provider webhooks and signed payment callbacks: verify the raw request, then parse it.

Pure functions, no I/O. A route calls ``verify_*`` with the raw request pieces (a forged,
missing or replayed signature raises ``SignatureRejected``: answer 403, record nothing), then
the matching ``parse_*`` (unreadable content raises ``MalformedEvent``: answer 400).
"""

from api.webhooks.errors import MalformedEvent, SignatureRejected

__all__ = ["MalformedEvent", "SignatureRejected"]
