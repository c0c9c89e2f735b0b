"""Header cells, in Spanish or English as ERPs write them, to our canonical column names."""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from api.flatfiles.errors import MappingError

INVOICE_COLUMNS = (
    "invoice_number",
    "tax_id",
    "customer_id",
    "customer_name",
    "amount",
    "currency",
    "issued_on",
    "due_on",
    "email",
    "phone",
    "whatsapp",
    "country",
    "timezone",
    "locale",
    "segment",
    "debt_type",
    "subdivision",
)
PAYMENT_COLUMNS = (
    "invoice_number",
    "tax_id",
    "customer_id",
    "amount",
    "currency",
    "paid_on",
    "reference",
    "country",
)
CANONICAL_COLUMNS = frozenset(INVOICE_COLUMNS + PAYMENT_COLUMNS)

# Header spellings by canonical column, "|"-separated; matched after ``normalize_header``, so
# case, accents, punctuation and the ways of writing "n°" do not matter.
_COMMON_ALIASES = {
    "invoice_number": "folio | n° folio | folio sii | número | n° factura | n° documento | "
    "documento | factura | n° doc | invoice number | invoice | number | invoice no",
    "tax_id": "rut | rut cliente | rfc | rfc cliente | nit | ruc | cuit | tax id",
    "customer_id": "código cliente | cod cliente | id cliente | n° cliente | customer id | "
    "customer code",
    "customer_name": "razón social | cliente | nombre | nombre cliente | customer name | customer",
    "amount": "monto total | total | monto | importe | importe total | amount",
    "currency": "moneda | divisa | currency",
    "issued_on": "fecha emisión | fecha de emisión | emisión | fecha factura | issue date | "
    "issued on",
    "due_on": "fecha vencimiento | fecha de vencimiento | vencimiento | due date | due on",
    "email": "email | e-mail | correo | correo electrónico | mail",
    "phone": "teléfono | fono | celular | móvil | phone | mobile",
    "whatsapp": "whatsapp",
    "country": "país | country",
    "timezone": "zona horaria | timezone | time zone",
    "locale": "idioma | locale | language",
    "segment": "segmento | segment",
    "debt_type": "tipo deuda | tipo de deuda | tipo deudor | tipo de deudor | tipo cliente | "
    "tipo de cliente | tipo persona | debt type | debtor type | customer type",
    "subdivision": "región | region | subdivisión | subdivision",
}
_PAYMENT_ALIASES = {
    "paid_on": "fecha pago | fecha de pago | fecha | payment date | paid on",
    "reference": "referencia | glosa | n° operación | reference | description | descripción",
    "amount": "monto pagado | monto pago | abono | amount paid",
}

_NUMBER_MARK = re.compile(r"(?<![a-z0-9])(?:n\s*°|nro\b\.?|num\b\.?|no\.|n\.|#)\s*")
_PARENTHESES = re.compile(r"\([^)]*\)")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_INITIALISM = re.compile(r"\b[a-z](?: [a-z]\b)+")  # "R.F.C." → "r f c" → "rfc"


def normalize_header(header: str) -> str:
    """ "N° Documento" → "numero documento"; "Fecha_Emisión:" → "fecha emision"; "R.U.T." → "rut".

    Case, accents, punctuation and a "(CLP)"-style suffix are dropped; the many ways of writing
    "number" (n°, nº, no., nro, núm, #) all become "numero".
    """
    # "º" (ordinal) would decompose to a plain "o"; make it the degree sign "°" first.
    text = _PARENTHESES.sub(" ", header.casefold()).replace("º", "°")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _NUMBER_MARK.sub("numero ", text)
    text = _SEPARATORS.sub(" ", text).strip()
    return _INITIALISM.sub(lambda match: match[0].replace(" ", ""), text)


def _alias_table(*tables: Mapping[str, str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for table in tables:
        for canonical, names in table.items():
            aliases[normalize_header(canonical)] = canonical
            for name in names.split("|"):
                aliases[normalize_header(name)] = canonical
    return aliases


INVOICE_ALIASES = _alias_table(_COMMON_ALIASES)
PAYMENT_ALIASES = _alias_table(_COMMON_ALIASES, _PAYMENT_ALIASES)


@dataclass(frozen=True)
class ColumnMap:
    """Which cell index holds each canonical column, and how the file titles it."""

    index: dict[str, int]
    title: dict[str, str]
    ignored: list[str]  # headers of columns nobody asked for, in file order
    duplicates: list[tuple[str, str]]  # (header, canonical) that lost to an earlier column

    def has(self, canonical: str) -> bool:
        return canonical in self.index


def map_columns(
    header: Sequence[str],
    aliases: Mapping[str, str],
    mapping: Mapping[str, str] | None = None,
) -> ColumnMap:
    """Maps each header cell; an explicit ``mapping`` entry beats an alias, and the first of
    two columns with the same meaning wins."""
    explicit = validate_mapping(mapping or {})
    keys = [normalize_header(cell) for cell in header]
    index: dict[str, int] = {}
    duplicates: list[tuple[str, str]] = []
    ignored: list[str] = []
    # Two passes: every explicit mapping first, so it beats an alias further left in the file.
    for explicit_pass in (True, False):
        for position, (cell, key) in enumerate(zip(header, keys, strict=True)):
            if not key or (key in explicit) != explicit_pass:
                continue
            canonical = explicit[key] if explicit_pass else aliases.get(key)
            if canonical is None:
                ignored.append(cell)
            elif canonical in index:
                duplicates.append((cell, canonical))
            else:
                index[canonical] = position
    title = {canonical: header[position] for canonical, position in index.items()}
    return ColumnMap(index, title, ignored, duplicates)


def validate_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """``{file header: canonical column}`` keyed by normalized header; unknown names raise."""
    unknown = sorted({str(value) for value in mapping.values()} - CANONICAL_COLUMNS)
    if unknown:
        raise MappingError(
            f"the column mapping names unknown columns {', '.join(map(repr, unknown))}; "
            f"known columns: {', '.join(sorted(CANONICAL_COLUMNS))}"
        )
    return {normalize_header(str(header)): canonical for header, canonical in mapping.items()}


def load_mapping(path: str | Path) -> dict[str, str]:
    """Reads ``{"Nro. Doc": "invoice_number", ...}`` from a .json or .toml file.

    In TOML the pairs may sit at the top level or under a ``[columns]`` table.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            loaded: object = json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".toml":
            loaded = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            raise MappingError(f"{path}: a column mapping must be a .json or .toml file")
    except (OSError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, MappingError):
            raise
        raise MappingError(f"{path}: cannot read the column mapping ({error})") from error
    if isinstance(loaded, dict) and isinstance(loaded.get("columns"), dict):
        loaded = loaded["columns"]
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in loaded.items()
    ):
        raise MappingError(
            f"{path}: a column mapping is pairs of file header = canonical column, all text"
        )
    try:
        validate_mapping(loaded)
    except MappingError as error:
        raise MappingError(f"{path}: {error}") from error
    return dict(loaded)
