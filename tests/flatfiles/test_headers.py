from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.flatfiles.errors import MappingError
from api.flatfiles.headers import (
    INVOICE_ALIASES,
    PAYMENT_ALIASES,
    load_mapping,
    map_columns,
    normalize_header,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("N° Documento", "numero documento"),
        ("Nº Factura", "numero factura"),
        ("No. Factura", "numero factura"),
        ("Nro. Doc", "numero doc"),
        ("Núm. Folio", "numero folio"),
        ("# Factura", "numero factura"),
        ("Número", "numero"),
        ("FECHA_EMISIÓN:", "fecha emision"),
        ("Fecha.Vencimiento", "fecha vencimiento"),
        ("Monto Total (CLP)", "monto total"),
        ("E-Mail", "e mail"),
        ("  Razón   Social ", "razon social"),
        ("Nombre", "nombre"),
        ("Teléfono", "telefono"),
    ],
)
def test_headers_are_normalized(header: str, expected: str) -> None:
    assert normalize_header(header) == expected


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Folio", "invoice_number"),
        ("N° Documento", "invoice_number"),
        ("Número Factura", "invoice_number"),
        ("Invoice Number", "invoice_number"),
        ("RUT", "tax_id"),
        ("R.F.C.", "tax_id"),
        ("NIT", "tax_id"),
        ("Código Cliente", "customer_id"),
        ("Customer ID", "customer_id"),
        ("Razón Social", "customer_name"),
        ("RAZON SOCIAL", "customer_name"),
        ("Customer Name", "customer_name"),
        ("Monto Total", "amount"),
        ("Importe", "amount"),
        ("Amount", "amount"),
        ("Moneda", "currency"),
        ("Divisa", "currency"),
        ("Fecha de Emisión", "issued_on"),
        ("Issue Date", "issued_on"),
        ("Fecha Vencimiento", "due_on"),
        ("Due Date", "due_on"),
        ("Correo Electrónico", "email"),
        ("e-mail", "email"),
        ("Teléfono", "phone"),
        ("Celular", "phone"),
        ("WhatsApp", "whatsapp"),
        ("País", "country"),
        ("Zona Horaria", "timezone"),
        ("Idioma", "locale"),
        ("Segmento", "segment"),
    ],
)
def test_spanish_and_english_aliases(header: str, canonical: str) -> None:
    assert INVOICE_ALIASES[normalize_header(header)] == canonical


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Fecha de Pago", "paid_on"),
        ("Fecha", "paid_on"),
        ("Payment Date", "paid_on"),
        ("N° Operación", "reference"),
        ("Glosa", "reference"),
        ("Descripción", "reference"),
    ],
)
def test_payment_only_aliases(header: str, canonical: str) -> None:
    assert PAYMENT_ALIASES[normalize_header(header)] == canonical
    assert normalize_header(header) not in INVOICE_ALIASES


def test_map_columns_keeps_file_titles_and_lists_extra_and_repeated_columns() -> None:
    header = ["Folio", "Razón Social", "Vendedor", "Cliente", "Monto", "", "Total"]
    columns = map_columns(header, INVOICE_ALIASES)
    assert columns.index == {"invoice_number": 0, "customer_name": 1, "amount": 4}
    assert columns.title["customer_name"] == "Razón Social"
    assert columns.ignored == ["Vendedor"]
    assert columns.duplicates == [("Cliente", "customer_name"), ("Total", "amount")]


def test_a_mapping_overrides_and_extends_the_aliases() -> None:
    header = ["Doc SII", "Cliente", "Nombre Fantasía", "Monto"]
    mapping = {
        "doc sii": "invoice_number",
        "CLIENTE": "customer_id",
        "Nombre Fantasía": "customer_name",
    }
    columns = map_columns(header, INVOICE_ALIASES, mapping)
    assert columns.index == {
        "invoice_number": 0,
        "customer_id": 1,
        "customer_name": 2,
        "amount": 3,
    }
    assert columns.ignored == []


def test_a_mapping_beats_an_alias_further_left() -> None:
    columns = map_columns(["Total", "Total Neto"], INVOICE_ALIASES, {"Total Neto": "amount"})
    assert columns.index == {"amount": 1}
    assert columns.duplicates == [("Total", "amount")]


def test_a_mapping_to_an_unknown_column_is_refused() -> None:
    with pytest.raises(MappingError, match="unknown columns 'monto'; known columns: amount"):
        map_columns(["Total"], INVOICE_ALIASES, {"Total": "monto"})


def test_load_mapping_from_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "softland.json"
    as_json.write_text(json.dumps({"Nro. Doc": "invoice_number", "Vence": "due_on"}), "utf-8")
    flat_toml = tmp_path / "flat.toml"
    flat_toml.write_text('"Nro. Doc" = "invoice_number"\nVence = "due_on"\n', "utf-8")
    table_toml = tmp_path / "table.toml"
    table_toml.write_text('[columns]\n"Nro. Doc" = "invoice_number"\nVence = "due_on"\n', "utf-8")
    expected = {"Nro. Doc": "invoice_number", "Vence": "due_on"}
    assert load_mapping(as_json) == expected
    assert load_mapping(flat_toml) == expected
    assert load_mapping(str(table_toml)) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", '{"Vence": "vencimiento"}', "unknown columns 'vencimiento'"),
        ("bad.toml", "Vence = 3\n", "pairs of file header = canonical column"),
        ("bad.json", "[1, 2]", "pairs of file header = canonical column"),
        ("bad.json", "{not json", "cannot read the column mapping"),
        ("bad.yaml", "Vence: due_on", "must be a .json or .toml file"),
    ],
)
def test_load_mapping_errors_are_clear(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)
