"""Stored amounts are integer minor units: the exponent is ISO 4217's and never moves with the
display data of a Babel release."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dunning_policies.money import currency_exponent, from_minor, to_minor


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("CLP", 0), ("MXN", 2), ("COP", 2), ("PEN", 2), ("USD", 2), ("CLF", 4), ("HUF", 2)],
)
def test_the_exponent_is_iso_4217s(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_colombian_centavos_round_trip_through_minor_units() -> None:
    assert to_minor(Decimal("1250000.50"), "COP") == 125_000_050
    assert from_minor(125_000_050, "COP") == Decimal("1250000.50")


def test_an_amount_finer_than_the_currency_is_refused() -> None:
    with pytest.raises(ValueError):
        to_minor(Decimal("10.5"), "CLP")
