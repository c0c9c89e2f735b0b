from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.webhooks.errors import MalformedEvent
from api.webhooks.payments import GatewayPayment, GatewayPaymentBody, parse_payment_event

VALID: dict[str, Any] = {
    "id": "evt_01HZX3K9Q2",
    "invoice_number": "F-000123",
    "customer_tax_id": "76.123.456-7",
    "amount": "12345.50",
    "currency": "CLP",
    "paid_at": "2025-03-14T10:15:00-03:00",
    "reference": "transferencia 998877",
}


def _parse(**changes: Any) -> GatewayPayment:
    body = {**VALID, **changes}
    return parse_payment_event(json.dumps({k: v for k, v in body.items() if v is not ...}).encode())


def _field_of_failure(**changes: Any) -> MalformedEvent:
    with pytest.raises(MalformedEvent) as caught:
        _parse(**changes)
    return caught.value


def test_a_valid_payment() -> None:
    assert _parse() == GatewayPayment(
        event_id="evt_01HZX3K9Q2",
        invoice_number="F-000123",
        customer_tax_id="76.123.456-7",
        amount=Decimal("12345.50"),
        currency="CLP",
        paid_at=datetime(2025, 3, 14, 13, 15, tzinfo=UTC),
        reference="transferencia 998877",
    )


def test_the_amount_keeps_its_exact_decimal_text() -> None:
    payment = _parse(amount="0.10")
    assert str(payment.amount) == "0.10"
    assert isinstance(payment.amount, Decimal)


def test_paid_at_is_converted_to_utc() -> None:
    paid_at = _parse(paid_at="2025-03-14T23:30:00-06:00").paid_at
    assert paid_at == datetime(2025, 3, 15, 5, 30, tzinfo=UTC)
    assert paid_at.utcoffset() is not None and paid_at.tzinfo is UTC


def test_the_openapi_example_is_itself_valid() -> None:
    [example] = GatewayPaymentBody.model_json_schema()["examples"]
    assert parse_payment_event(json.dumps(example).encode()).amount == Decimal("12345.50")


def test_the_schema_advertises_amount_as_a_string() -> None:
    amount_schema = GatewayPaymentBody.model_json_schema()["properties"]["amount"]
    assert amount_schema["type"] == "string"
    assert GatewayPaymentBody.model_json_schema()["examples"][0]["currency"] == "CLP"


@pytest.mark.parametrize("amount", [12345.5, 12345, True])
def test_a_json_number_amount_is_refused_because_money_is_never_float(amount: object) -> None:
    error = _field_of_failure(amount=amount)
    assert error.field == "amount"
    assert "float" in error.detail


@pytest.mark.parametrize(
    "amount", ["0", "-10.00", "1e3", "NaN", "Infinity", "12,50", "", "1.2345678"]
)
def test_a_non_positive_or_non_plain_amount_is_refused(amount: str) -> None:
    assert _field_of_failure(amount=amount).field == "amount"


def test_either_the_invoice_or_the_customer_is_enough() -> None:
    assert _parse(invoice_number=...).customer_tax_id == "76.123.456-7"
    assert _parse(customer_tax_id=...).invoice_number == "F-000123"
    assert _parse(customer_tax_id="  ").customer_tax_id is None


def test_neither_invoice_nor_customer_is_refused() -> None:
    error = _field_of_failure(invoice_number=..., customer_tax_id="")
    assert error.field == "customer_tax_id"
    assert "invoice_number or customer_tax_id" in error.detail


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ...}, "id"),
        ({"id": ""}, "id"),
        ({"id": 17}, "id"),
        ({"amount": ...}, "amount"),
        ({"currency": "PESOS"}, "currency"),
        ({"currency": ...}, "currency"),
        ({"paid_at": "2025-03-14T10:15:00"}, "paid_at"),  # no offset
        ({"paid_at": 1741958100}, "paid_at"),
        ({"paid_at": "ayer"}, "paid_at"),
        ({"reference": 998877}, "reference"),
    ],
)
def test_each_problem_names_its_field(changes: dict[str, Any], field: str) -> None:
    assert _field_of_failure(**changes).field == field


def test_currency_case_and_extra_fields_are_forgiven() -> None:
    payment = _parse(currency="mxn", gateway_fee="12.00")
    assert payment.currency == "MXN"


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"evt"', b"\xff"])
def test_a_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedEvent) as caught:
        parse_payment_event(body)
    assert caught.value.field == "body"
