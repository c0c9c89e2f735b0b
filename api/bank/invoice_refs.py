"""Recognising our invoice numbers and customers' tax ids in what a payer typed for the bank.

Payers write "FAC 123", "F-000123", "Factura N° 123" or "folio 123" for invoice 123, and the
description also carries dates, amounts and RUTs ("20/11/2026", "1.234.567", "76.123.456-7").
So the text is cut into words that keep their inner "-", "/" and "." (a date or an amount
stays one word and never yields invoice 20 or 234), a known prefix is dropped, and leading
zeros are ignored when what is left is all digits. A digit run is never searched inside a
longer one: invoice 123 is not in "41234".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_WORD = re.compile(r"[^\W_]+(?:[-/.][^\W_]+)*")
# Longest first, so "FACTURA" is not read as "F" + "ACTURA". Only stripped before a digit.
_PREFIX = re.compile(r"^(?:FACTURA|FACT|FAC|FOLIO|FOL|NRO|NUM|INV|NO|NR|N|F)[-./#:°º]*(?=\d)")
_TAX_ID_NOISE = re.compile(r"[.\-\s]")


def invoice_key(number: str) -> str:
    """Comparable form: "F-000123", "FAC123", "123" → "123"; "INV-2026-0042" → "2026-0042"."""
    text = _PREFIX.sub("", number.strip().upper())
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def invoice_keys_in(text: str) -> Iterator[str]:
    """The invoice keys a free text may name, in the order they appear."""
    for word in _WORD.findall(text):
        yield invoice_key(word)


def compact_tax_id(tax_id: str | None) -> str | None:
    """ "76.123.456-7" and "76123456-7" → "761234567"; RFC "abc-010101 ab1" → "ABC010101AB1"."""
    if tax_id is None:
        return None
    return _TAX_ID_NOISE.sub("", tax_id).upper() or None
