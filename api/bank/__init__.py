"""Bank statements (CSV exports and ISO 20022 camt.053) and matching their lines to open invoices.

Pure code: bytes in, typed lines and match proposals out. Nothing here touches the ledger,
Temporal or the network; the payments import decides what to record.
"""

from api.bank.camt053 import parse_camt053
from api.bank.matching import LineMatch, OpenInvoice, match_statement
from api.bank.parse import parse_statement
from api.bank.statement import (
    ParsedStatement,
    StatementError,
    StatementFormatError,
    StatementLine,
)
from api.bank.statement_csv import parse_statement_csv

__all__ = [
    "LineMatch",
    "OpenInvoice",
    "ParsedStatement",
    "StatementError",
    "StatementFormatError",
    "StatementLine",
    "match_statement",
    "parse_camt053",
    "parse_statement",
    "parse_statement_csv",
]
