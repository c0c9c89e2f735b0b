"""Invoice and payment flat files as Latin American ERPs really export them.

CSV in UTF-8 or Windows-1252 with ``,``, ``;`` or tab, or an .xlsx workbook; headers in Spanish
or English; amounts like "1.234.567,50"; day-first dates; tax ids checked per country. Pure
parsing: the caller imports the rows. Each bad row is reported with its physical line, column,
value and reason, and never stops the other rows; a file-level problem raises FlatFileError.
"""

from api.flatfiles.defaults import FileDefaults, defaults_for_country
from api.flatfiles.errors import FlatFileError, MappingError, MissingColumns, UnreadableFile
from api.flatfiles.headers import CANONICAL_COLUMNS, load_mapping
from api.flatfiles.invoice_rows import InvoiceRow, ParsedInvoiceFile, parse_invoice_file
from api.flatfiles.payment_rows import ParsedPaymentFile, PaymentRow, parse_payment_file
from api.flatfiles.reports import FileNote, RowError

__all__ = [
    "CANONICAL_COLUMNS",
    "FileDefaults",
    "FileNote",
    "FlatFileError",
    "InvoiceRow",
    "MappingError",
    "MissingColumns",
    "ParsedInvoiceFile",
    "ParsedPaymentFile",
    "PaymentRow",
    "RowError",
    "UnreadableFile",
    "defaults_for_country",
    "load_mapping",
    "parse_invoice_file",
    "parse_payment_file",
]
