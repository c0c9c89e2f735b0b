from __future__ import annotations

import pytest

from api.flatfiles.errors import ValueProblem
from api.flatfiles.tax_ids import validate_tax_id


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("12.345.678-5", "CL", "123456785"),
        ("12345678-5", "CL", "123456785"),
        (" 123456785 ", "CL", "123456785"),
        ("10.000.013-k", "CL", "10000013K"),
        ("1.000.005-K", "CL", "1000005K"),
        ("MAB-930714-8T4", "MX", "MAB9307148T4"),
        ("gode 561231 gr8", "MX", "GODE561231GR8"),
        ("XAXX010101000", "MX", "XAXX010101000"),  # the RFC for "público en general"
        ("213.123.432-1", "CO", "2131234321"),
        ("20512333797", "PE", "20512333797"),
        ("20-26756539-3", "AR", "20267565393"),
        ("12-3456789", "US", "123456789"),  # no validator: only compacted
    ],
)
def test_valid_tax_ids_come_back_compact(raw: str, country: str, expected: str) -> None:
    assert validate_tax_id(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("12.345.678-9", "CL", "RUT check digit is wrong: expected 5"),
        ("10.000.013-1", "CL", "RUT check digit is wrong: expected K"),
        ("1234", "CL", "RUT must have 7 or 8 digits"),
        ("12.345.6X8-5", "CL", "RUT has something other than digits"),
        ("MAB9307148T", "MX", "RFC must have 12 characters"),
        ("MAB9313148T4", "MX", "RFC has an impossible date"),
        ("123930714ABC", "MX", "RFC must be 3-4 letters"),
        ("213.123.432-5", "CO", "NIT check digit is wrong: expected 1"),
        ("1234567", "CO", "NIT must have 8 to 16 digits"),
        ("20512333798", "PE", "RUC check digit is wrong: expected 7"),
        ("30512333797", "PE", "RUC must start with 10, 15, 17 or 20"),
        ("2051233379", "PE", "RUC must have 11 digits"),
        ("20-26756539-0", "AR", "CUIT check digit is wrong: expected 3"),
        ("12#34", "US", "only letters and digits"),
    ],
)
def test_invalid_tax_ids_say_which_check_failed(raw: str, country: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as problem:
        validate_tax_id(raw, country)
    assert reason in str(problem.value)
