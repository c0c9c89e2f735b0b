"""What a customer reads when the workflow refuses, and how typed amounts are read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.errors import InvalidRequest
from api.portal.actions import WorkflowUnavailable, refusal
from api.portal.pages import parse_typed_amount


@pytest.mark.parametrize(
    ("error", "status", "expected"),
    [
        (
            InvalidRequest("promised_date", "2027-06-01 must be between 2026-11-24 and 2027-01-23"),
            422,
            "Elige una fecha entre el 24 de noviembre de 2026 y el 23 de enero de 2027.",
        ),
        (
            InvalidRequest("amount", "9999999 must be more than 0 and at most the 1250000 due"),
            422,
            "El monto debe ser mayor que cero y no superar lo pendiente.",
        ),
        (
            InvalidRequest("invoice", "F-1 is closed (paid)"),
            422,
            "La factura F-1 ya no tiene saldo pendiente.",
        ),
        (
            InvalidRequest("invoice", "F-1 is closed: its workflow has ended"),
            422,
            "La factura F-1 ya no tiene saldo pendiente.",
        ),
        (
            InvalidRequest("invoice", "invoice F-1 is already disputed (case D-F-1-1): flete"),
            422,
            "Ya recibimos un reclamo sobre esta factura y lo estamos revisando.",
        ),
        (
            InvalidRequest("promised_date", "the invoice is disputed; resolve the dispute first"),
            422,
            "Esta factura tiene un reclamo abierto; te contactaremos cuando lo resolvamos.",
        ),
        (
            InvalidRequest("invoice", "invoice F-1 already waits for a payment reported on …"),
            422,
            "Ya nos avisaste de un pago de esta factura; lo estamos buscando.",
        ),
        (
            InvalidRequest("paid_on", "2026-12-01 is in the future (today is 2026-11-24)"),
            422,
            "La fecha de pago no puede ser posterior a hoy.",
        ),
        (
            WorkflowUnavailable("no worker"),
            503,
            "No pudimos registrar tu solicitud en este momento. Inténtalo de nuevo en unos "
            "minutos.",
        ),
        (
            InvalidRequest("invoice", "something nobody foresaw"),
            422,
            "No pudimos registrar tu solicitud. Revisa los datos e inténtalo de nuevo.",
        ),
    ],
)
def test_a_refusal_reads_in_the_customers_words(
    error: Exception, status: int, expected: str
) -> None:
    assert refusal("es", error, "F-1") == (status, expected)


def test_a_refusal_in_english() -> None:
    error = InvalidRequest("promised_date", "x must be between 2026-11-24 and 2027-01-23")
    assert refusal("en", error, "F-1") == (
        422,
        "Choose a date between November 24, 2026 and January 23, 2027.",
    )


@pytest.mark.parametrize(
    ("typed", "currency", "expected"),
    [
        ("", "CLP", (True, None)),
        ("  ", "CLP", (True, None)),
        ("600000", "CLP", (True, Decimal("600000"))),
        ("$600.000", "CLP", (True, Decimal("600000"))),
        ("1.250.000", "CLP", (True, Decimal("1250000"))),
        ("12,500.50", "MXN", (True, Decimal("12500.50"))),
        ("12500.5", "MXN", (True, Decimal("12500.5"))),
        ("12500.505", "MXN", (False, None)),
        ("mucho", "CLP", (False, None)),
        ("-5", "CLP", (False, None)),
        ("0", "CLP", (False, None)),
    ],
)
def test_amounts_are_read_the_way_people_type_them(
    typed: str, currency: str, expected: tuple[bool, Decimal | None]
) -> None:
    assert parse_typed_amount(typed, currency) == expected
