"""Replay protection shared by every signed webhook that carries a timestamp."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.webhooks.errors import SignatureRejected

DEFAULT_TOLERANCE = timedelta(minutes=5)


def require_fresh(signed_at: int, *, now: datetime, tolerance: timedelta) -> None:
    """Raise ``SignatureRejected`` when a (validly signed) timestamp is too far from ``now``.

    Checked after the signature, so "stale" always means an authentic request that is too old
    (a replay or a sender clock far off), never a forgery. Both directions count: a timestamp in
    the future would let a captured request be replayed for longer.
    """
    require_aware(now)
    skew = now.timestamp() - signed_at
    if abs(skew) > tolerance.total_seconds():
        direction = "old" if skew > 0 else "in the future"
        raise SignatureRejected(
            f"replayed or stale timestamp: {abs(skew):.0f} s {direction}, "
            f"tolerance {tolerance.total_seconds():.0f} s"
        )


def require_aware(now: datetime) -> None:
    """A naive ``now`` is a bug in the caller, so it fails loudly instead of as a 403."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
