"""Bad input from a caller, naming the field that is wrong, and checks every entry point shares."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from dunning_policies.money import to_minor


class InvalidRequest(ValueError):
    """Bad input, with the field that is wrong in the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class InvoiceConflict(InvalidRequest):
    """The invoice number exists with different content."""


def parse_amount(raw: str | Decimal, currency: str, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as error:
        raise InvalidRequest(field, f"{raw!r} is not a number") from error
    if not amount.is_finite() or amount <= 0:
        raise InvalidRequest(field, f"must be a positive amount, got {raw!r}")
    try:
        to_minor(amount, currency)
    except ValueError as error:
        raise InvalidRequest(field, str(error)) from error
    return amount
