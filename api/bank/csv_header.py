"""Finding the header row of a bank's CSV export, and what each of its columns means.

Banks put a preamble (bank name, account, period) above the header and name their columns in
Spanish or English, with or without accents; we recognise the header by its column names.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from api.bank.statement import StatementFormatError

ColumnKind = Literal[
    "date",
    "description",
    "reference",
    "debit",
    "credit",
    "amount",
    "balance",
    "tax_id",
    "name",
    "currency",
]

_ALIASES: dict[ColumnKind, tuple[str, ...]] = {
    "date": ("fecha", "fecha contable", "date", "booking date", "fecha movimiento",
             "fecha operacion", "fecha transaccion"),
    "description": ("descripcion", "glosa", "detalle", "description", "concepto",
                    "descripcion movimiento", "detalle movimiento"),
    "reference": ("documento", "operacion", "referencia", "reference", "ref", "comprobante"),
    "debit": ("cargo", "cargos", "debito", "debitos", "debit", "debits", "retiro", "retiros"),
    "credit": ("abono", "abonos", "credito", "creditos", "credit", "credits", "deposito",
               "depositos"),
    "amount": ("monto", "importe", "amount"),
    "balance": ("saldo", "balance", "saldo contable", "saldo disponible"),
    "tax_id": ("rut", "rut origen", "rut ordenante", "rfc", "rfc ordenante", "tax id"),
    "name": ("nombre", "ordenante", "name", "nombre ordenante", "nombre origen", "razon social"),
    "currency": ("moneda", "currency", "divisa"),
}  # fmt: skip
_KIND_OF_LABEL = {alias: kind for kind, aliases in _ALIASES.items() for alias in aliases}
_NUMBER_PREFIXES = frozenset({"n", "no", "nro", "num", "numero", "number"})
_FILLER_WORDS = frozenset({"de", "del", "la", "el", "of"})
_UNIT_WORDS = frozenset({"clp", "mxn", "usd", "cop", "pen", "ars", "pesos", "mn"})
_DELIMITERS = (";", ",", "\t")
_HEADER_SEARCH_LINES = 50
_ACCOUNT = re.compile(r"\b(?:cuenta|cta|account|clabe)\b\D*?(\d[\d\-. ]*\d)")


@dataclass(frozen=True)
class Column:
    index: int
    label: str  # as the file writes it, for error messages


@dataclass(frozen=True)
class Header:
    line_index: int  # 0-based index into the file's lines
    delimiter: str
    columns: dict[ColumnKind, Column]
    width: int


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def plain_words(text: str) -> list[str]:
    """Lowercase words without accents or punctuation: "Descripción ($)" → ["descripcion"]."""
    return re.findall(r"[a-z0-9]+", _without_accents(text))


def column_kind(label: str) -> ColumnKind | None:
    words = [w for w in plain_words(label) if w not in _FILLER_WORDS]
    if len(words) > 1 and words[0] in _NUMBER_PREFIXES:  # "N° Documento", "Nro. Operación"
        words = words[1:]
    while len(words) > 1 and words[-1] in _UNIT_WORDS:  # "Monto (CLP)"
        words = words[:-1]
    return _KIND_OF_LABEL.get(" ".join(words))


def split_cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _columns(cells: list[str]) -> dict[ColumnKind, Column]:
    columns: dict[ColumnKind, Column] = {}
    for index, cell in enumerate(cells):
        kind = column_kind(cell)
        if kind is not None and kind not in columns:  # the leftmost wins ("Fecha", "Fecha valor")
            columns[kind] = Column(index, cell.strip())
    return columns


def _is_header(columns: dict[ColumnKind, Column]) -> bool:
    return "date" in columns and bool({"amount", "debit", "credit"} & columns.keys())


def find_header(lines: list[str]) -> Header:
    for line_index, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        best: Header | None = None
        for delimiter in _DELIMITERS:
            cells = split_cells(line, delimiter)
            columns = _columns(cells)
            if _is_header(columns) and (best is None or len(columns) > len(best.columns)):
                best = Header(line_index, delimiter, columns, len(cells))
        if best is not None:
            return best
    raise StatementFormatError(
        f"no header row in the first {_HEADER_SEARCH_LINES} lines: expected a date column "
        "(fecha, fecha contable, date) and amounts (cargo/abono, débito/crédito or monto/amount)"
    )


def account_in_preamble(preamble: list[str]) -> str | None:
    """The account number from a line like "Cuenta: 12345678" or "N° de cuenta;00-123-45"."""
    for line in preamble:
        match = _ACCOUNT.search(_without_accents(line))
        if match:
            return match[1].strip()
    return None
