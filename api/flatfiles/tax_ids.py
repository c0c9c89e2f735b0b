"""Tax ids by country, validated with python-stdnum: RUT (CL), RFC (MX), NIT (CO), RUC (PE),
CUIT (AR). Other countries' ids are only compacted, not validated."""

from __future__ import annotations

import re

from stdnum.ar import cuit
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.mx import rfc
from stdnum.pe import ruc

from api.flatfiles.errors import ValueProblem

_SEPARATORS = re.compile(r"[\s.\-/]+")

TAX_ID_NAMES = {"CL": "RUT", "MX": "RFC", "CO": "NIT", "PE": "RUC", "AR": "CUIT"}


def validate_tax_id(raw: str, country: str) -> str:
    """The compact form ("76.654.335-6" → "766543356"); raises ValueProblem saying which check
    failed, e.g. "RUT check digit is wrong: expected 6"."""
    validator = _VALIDATORS.get(country)
    if validator is None:
        compact = _SEPARATORS.sub("", raw).upper()
        if not compact.isalnum():
            raise ValueProblem("a tax id has only letters and digits")
        return compact
    try:
        return validator(_SEPARATORS.sub("", raw))
    except ValidationError as error:  # a check this module does not describe in words yet
        raise ValueProblem(f"not a valid {TAX_ID_NAMES[country]} ({error})") from None


def _rut(raw: str) -> str:
    number = raw.upper().removeprefix("CL")
    # The common case without stdnum's slower clean-up; any doubt goes through rut.validate.
    body, check = number[:-1], number[-1:]
    if 8 <= len(number) <= 9 and body.isdigit() and check == rut.calc_check_digit(body):
        return number
    number = rut.compact(number)
    try:
        return rut.validate(number)
    except InvalidLength:
        raise ValueProblem("RUT must have 7 or 8 digits and a check digit (0-9 or K)") from None
    except InvalidFormat:
        raise ValueProblem("RUT has something other than digits before the check digit") from None
    except InvalidChecksum:
        expected = rut.calc_check_digit(number[:-1])
        raise ValueProblem(f"RUT check digit is wrong: expected {expected}") from None


def _rfc(raw: str) -> str:
    # stdnum leaves the check digit unverified by default: ~1.5% of RFCs in use fail it.
    try:
        return rfc.validate(raw)
    except InvalidLength:
        raise ValueProblem(
            "RFC must have 12 characters (company) or 13 (person), e.g. MAB9307148T4"
        ) from None
    except InvalidFormat:
        raise ValueProblem(
            "RFC must be 3-4 letters, a YYMMDD date and a 3-character homoclave"
        ) from None
    except InvalidComponent:
        raise ValueProblem("RFC has an impossible date or a forbidden word") from None


def _nit(raw: str) -> str:
    number = nit.compact(raw)
    try:
        return nit.validate(number)
    except InvalidLength:
        raise ValueProblem("NIT must have 8 to 16 digits including the check digit") from None
    except InvalidFormat:
        raise ValueProblem("NIT must have only digits") from None
    except InvalidChecksum:
        expected = nit.calc_check_digit(number[:-1])
        raise ValueProblem(f"NIT check digit is wrong: expected {expected}") from None


def _ruc(raw: str) -> str:
    number = ruc.compact(raw)
    try:
        return ruc.validate(number)
    except InvalidLength:
        raise ValueProblem("RUC must have 11 digits") from None
    except InvalidFormat:
        raise ValueProblem("RUC must have only digits") from None
    except InvalidComponent:
        raise ValueProblem("RUC must start with 10, 15, 17 or 20") from None
    except InvalidChecksum:
        expected = ruc.calc_check_digit(number)
        raise ValueProblem(f"RUC check digit is wrong: expected {expected}") from None


def _cuit(raw: str) -> str:
    number = cuit.compact(raw)
    try:
        return cuit.validate(number)
    except InvalidLength:
        raise ValueProblem("CUIT must have 11 digits") from None
    except InvalidFormat:
        raise ValueProblem("CUIT must have only digits") from None
    except InvalidComponent:
        raise ValueProblem("CUIT starts with an unknown type (20, 23, 27, 30...)") from None
    except InvalidChecksum:
        expected = cuit.calc_check_digit(number[:-1])
        raise ValueProblem(f"CUIT check digit is wrong: expected {expected}") from None


_VALIDATORS = {"CL": _rut, "MX": _rfc, "CO": _nit, "PE": _ruc, "AR": _cuit}
