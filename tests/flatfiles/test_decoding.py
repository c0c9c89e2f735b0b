from __future__ import annotations

import codecs

import pytest

from api.flatfiles.decoding import decode_bytes, detect_delimiter
from api.flatfiles.errors import UnreadableFile
from api.flatfiles.table import read_delimited_rows, read_table

SPANISH = "Razón Social;Año;Teléfono;€\nPeñalolén;2026;9 1234 5678;ñ\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SPANISH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + SPANISH.encode("utf-8"), "utf-8-sig"),
        (SPANISH.encode("cp1252"), "cp1252"),
        (SPANISH.encode("utf-16"), "utf-16"),
    ],
)
def test_utf8_with_or_without_bom_cp1252_and_utf16_decode_to_the_same_text(
    data: bytes, encoding: str
) -> None:
    decoded = decode_bytes(data)
    assert decoded.encoding == encoding
    assert decoded.text == SPANISH


def test_latin1_text_reads_as_cp1252_and_bytes_cp1252_lacks_fall_back_to_latin1() -> None:
    decoded = decode_bytes("Muñoz é".encode("latin-1") + b" \x80 \x81 \x9d")
    assert decoded.encoding == "cp1252"
    assert decoded.text == "Muñoz é € \x81 \x9d"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("Folio;RUT;Monto\n1;2;1.234,5\n", ";"),
        ("Folio,RUT,Monto\n1,2,3\n", ","),
        ("Folio\tRUT\tMonto\n1\t2\t3\n", "\t"),
        ('"Monto, total";Folio;RUT\n', ";"),
        ('"Cliente; sucursal",Folio,RUT\n', ","),
        ("Facturas, enero 2026\nFolio;RUT;Monto\n", ";"),
        ("Folio;Monto\n", ";"),
        ("Folio\n1\n", ","),
    ],
)
def test_the_delimiter_comes_from_the_header_line(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_line_numbers_are_physical_even_with_a_quoted_multi_line_cell() -> None:
    text = 'Folio;Dirección\r\n1;"Los Álamos 55\r\nDepto. 3"\r\n\r\n2;" Centro "\r\n'
    rows = read_delimited_rows(text, ";")
    assert rows == [
        (1, ["Folio", "Dirección"]),
        (2, ["1", "Los Álamos 55\r\nDepto. 3"]),
        (4, []),
        (5, ["2", "Centro"]),
    ]


def test_the_content_decides_not_the_name_tab_separated_text_saved_as_xls() -> None:
    table = read_table("Folio\tMonto\r\n1\t1.000\r\n".encode("utf-16"), "Facturas.XLS")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows == [(1, ["Folio", "Monto"]), (2, ["1", "1.000"])]


def test_read_table_reports_encoding_and_delimiter() -> None:
    table = read_table(SPANISH.encode("cp1252"), "facturas.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.rows[1] == (2, ["Peñalolén", "2026", "9 1234 5678", "ñ"])


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", None, "empty"),
        (b"  \r\n", "x.csv", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", None, "old Excel 97"),
        (b"<html><body><table><tr><td>Folio</td></tr></table>", "facturas.xls", "web page"),
        (b'Folio;Monto\n1;"' + b"x" * 140_000, "x.csv", r"line 2: a quote \(\"\) opens a value"),
        (b"PK\x03\x04 not really a zip", None, "not a readable .xlsx"),
        (b"a\x00b\x00c", "x.csv", "binary file, not CSV text"),
        (b"a\x00b\x00c", "x.xlsx", "named .xlsx but is not an Excel workbook"),
    ],
)
def test_unreadable_files_raise_with_a_reason(
    data: bytes, filename: str | None, message: str
) -> None:
    with pytest.raises(UnreadableFile, match=message):
        read_table(data, filename)
