from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from activities.channels.sendgrid_email import IDEMPOTENCY_ARG
from api.webhooks.errors import MalformedEvent
from api.webhooks.sendgrid import EmailEvent, parse_events

MESSAGE = "euo2iKxdSayPF4YE4--I7A.recvd-5f54b5d587-pczjm-1-67BADEEA-6.0"
X_MESSAGE_ID = "euo2iKxdSayPF4YE4--I7A"
EMAIL = "pagos@deudor.cl"


def _event(event: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": EMAIL,
        "timestamp": 1741958100 + n,
        "event": event,
        "sg_event_id": f"evt-{n}",
        "sg_message_id": MESSAGE,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        IDEMPOTENCY_ARG: "inv-42:step-1:email",
        **extra,
    }


BATCH = [
    _event("processed", 0),
    _event("deferred", 1, response="400 try again later", attempt="5"),
    _event("delivered", 2, response="250 OK"),
    _event("open", 3, useragent="Mozilla/5.0", sg_machine_open=False),
    _event("click", 4, url="https://pagar.example.cl/inv-42"),
    _event("bounce", 5, type="bounce", reason="550 5.1.1 user unknown", status="5.1.1"),
    _event("bounce", 6, type="blocked", reason="554 blocked by policy", status="5.7.1"),
    _event("dropped", 7, reason="Bounced Address"),
    _event("dropped", 8, reason="Invalid"),
    _event("dropped", 9, reason="Unsubscribed Address"),
    _event("dropped", 10, reason="Spam Content"),
    _event("spamreport", 11),
    _event("unsubscribe", 12),
    _event("group_unsubscribe", 13, asm_group_id=1),
    _event("group_resubscribe", 14, asm_group_id=1),
]

# kind, hard_bounce, address_invalid, opt_out, reason
EXPECTED = [
    ("processed", False, False, False, None),
    ("deferred", False, False, False, "400 try again later"),
    ("delivered", False, False, False, None),
    ("open", False, False, False, None),
    ("click", False, False, False, None),
    ("bounce", True, True, False, "550 5.1.1 user unknown"),
    ("bounce", False, False, False, "554 blocked by policy"),
    ("dropped", False, True, False, "Bounced Address"),
    ("dropped", False, True, False, "Invalid"),
    ("dropped", False, False, True, "Unsubscribed Address"),
    ("dropped", False, False, False, "Spam Content"),
    ("spamreport", False, False, True, None),
    ("unsubscribe", False, False, True, None),
    ("group_unsubscribe", False, False, True, None),
    ("other", False, False, False, None),
]


def test_a_batch_with_every_kind() -> None:
    events = parse_events(json.dumps(BATCH).encode())
    assert [(e.kind, e.hard_bounce, e.address_invalid, e.opt_out, e.reason) for e in events] == (
        EXPECTED
    )
    assert [e.event_id for e in events] == [f"evt-{n}" for n in range(len(BATCH))]
    assert events[-1].raw_event == "group_resubscribe"


def test_an_event_points_back_to_our_outbox_row() -> None:
    [event] = parse_events(json.dumps([_event("delivered", 0)]).encode())
    assert event == EmailEvent(
        event_id="evt-0",
        provider_message_id=X_MESSAGE_ID,
        idempotency_key="inv-42:step-1:email",
        email=EMAIL,
        kind="delivered",
        raw_event="delivered",
        hard_bounce=False,
        address_invalid=False,
        opt_out=False,
        reason=None,
        occurred_at=datetime(2025, 3, 14, 13, 15, tzinfo=UTC),
    )


def test_an_event_without_our_custom_arg_or_message_id() -> None:
    raw = _event("dropped", 0, reason="Invalid")
    del raw[IDEMPOTENCY_ARG], raw["sg_message_id"]
    [event] = parse_events(json.dumps([raw]).encode())
    assert (event.idempotency_key, event.provider_message_id) == (None, None)


def test_an_old_style_drop_with_the_cause_in_type_and_no_event_id() -> None:
    raw = {"email": "not an email", "timestamp": 1386636115, "event": "dropped", "type": "Invalid"}
    [event] = parse_events(json.dumps([raw]).encode())
    assert event.address_invalid is True
    assert event.reason == "Invalid"
    # No sg_event_id: a stable digest still lets a retried batch be deduplicated.
    assert event.event_id.startswith("sha256:")
    [again] = parse_events(json.dumps([dict(reversed(raw.items()))]).encode())
    assert again.event_id == event.event_id
    [other] = parse_events(json.dumps([{**raw, "timestamp": 1386636116}]).encode())
    assert other.event_id != event.event_id


def test_an_empty_batch_is_no_events() -> None:
    assert parse_events(b"[]") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"\xff\xfe\x00", "body"),
        (b'{"event": "delivered"}', "body"),
        (b"[1]", "events[0]"),
        (
            json.dumps([_event("open", 0), {"event": "open", "timestamp": 1}]).encode(),
            "events[1].email",
        ),
    ],
)
def test_an_unreadable_body_is_malformed(body: bytes, field: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        parse_events(body)
    assert caught.value.field == field


@pytest.mark.parametrize("timestamp", [None, "1741958100", 1741958100.5, True, 10**20])
def test_a_bad_timestamp_is_malformed(timestamp: object) -> None:
    raw = _event("open", 0, timestamp=timestamp)
    with pytest.raises(MalformedEvent) as caught:
        parse_events(json.dumps([raw]).encode())
    assert caught.value.field == "events[0].timestamp"


def test_a_missing_event_name_is_malformed() -> None:
    raw = _event("open", 0)
    del raw["event"]
    with pytest.raises(MalformedEvent, match=r"events\[0\]\.event"):
        parse_events(json.dumps([raw]).encode())
