"""One entry point for any statement file: camt.053 XML or a bank's CSV export."""

from __future__ import annotations

import codecs

from api.bank.camt053 import parse_camt053
from api.bank.statement import ParsedStatement
from api.bank.statement_csv import parse_statement_csv


def looks_like_xml(data: bytes, filename: str | None = None) -> bool:
    """XML by content; the filename only decides when the content is empty."""
    start = data.removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if start:
        return start == b"<" or data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    return (filename or "").lower().endswith(".xml")


def parse_statement(
    data: bytes, filename: str | None = None, currency: str = "CLP"
) -> ParsedStatement:
    """camt.053 when the content is XML, otherwise CSV in ``currency`` (unless it has a moneda
    column). Raises ``StatementFormatError`` when the file is neither."""
    if looks_like_xml(data, filename):
        return parse_camt053(data)
    return parse_statement_csv(data, currency=currency)
