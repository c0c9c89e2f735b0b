from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.bank.statement import StatementError, StatementFormatError
from api.bank.statement_csv import parse_statement_csv

# A cartola as a Chilean bank exports it: preamble, ";", Windows-1252, cargos/abonos columns.
CHILEAN = (
    "Banco de Chile\r\n"
    "Cartola de Cuenta Corriente\r\n"
    "Cuenta: 00-123-45678-09\r\n"
    "Período: 01/11/2026 al 30/11/2026\r\n"
    "\r\n"
    "Fecha;Descripción;N° Documento;Cargos;Abonos;Saldo;RUT Origen;Nombre Origen\r\n"
    "02/11/2026;Saldo inicial;;;;3.000.000;;\r\n"
    "03/11/2026;Transf. de Ferretería Los Andes FAC 000123;884422;;1.250.000;4.250.000;"
    "76.123.456-7;Ferretería Los Andes Ltda.\r\n"
    "05/11/2026;Pago Proveedor Eléctrico;;89.990;;4.160.010;;\r\n"
    "12-11-2026;Depósito en efectivo;991;;45.000;4.205.010;;\r\n"
    "13/11/2026;Transf. Comercial Ñuble;992;;1.000,50;4.205.010;;\r\n"
    "31/11/2026;Transf. de terceros;993;;10.000;4.215.010;;\r\n"
    "14/11/2026;Transf. de terceros;994;;;4.215.010;;\r\n"
    "30/11/2026;Saldo final;;;;4.205.010;;\r\n"
    "Total;;;89.990;1.295.000;;;\r\n"
).encode("cp1252")

# A Mexican export: ",", UTF-8 with BOM, one signed amount column, "1,234.56", moneda column.
MEXICAN = (
    "\ufeffBBVA México\n"
    "Cuenta,0123456789\n"
    "Fecha,Concepto,Referencia,Importe,Saldo,RFC Ordenante,Ordenante,Moneda\n"
    '2026-11-05,SPEI RECIBIDO FACTURA A-1043,4455,"12,500.00","112,500.00",CAR010101AB1,'
    "Comercial Arandas SA de CV,MXN\n"
    '2026-11-06,COMISION SPEI,,-5.80,"112,494.20",,,MXN\n'
    '2026-11-07,"DEPOSITO DOLARES, CLIENTE ""USA""",,"1,234.56",,,,USD\n'
    "2026-11-08,ABONO,,0.00,,,,MXN\n"
    "2026-11-09,ABONO,,100.00,,,,XYZ\n"
).encode("utf-8")


def test_chilean_cartola_reads_movements_with_their_physical_lines():
    parsed = parse_statement_csv(CHILEAN)
    assert parsed.format == "csv"
    assert parsed.account == "00-123-45678-09"
    assert parsed.currency == "CLP"
    assert [(line.line, line.direction, line.amount) for line in parsed.lines] == [
        (8, "credit", Decimal(1250000)),
        (9, "debit", Decimal(89990)),
        (10, "credit", Decimal(45000)),
    ]
    payment = parsed.lines[0]
    assert payment.booked_on == date(2026, 11, 3)
    assert payment.description == "Transf. de Ferretería Los Andes FAC 000123"
    assert payment.bank_reference == "884422"
    assert payment.counterparty_tax_id == "76.123.456-7"
    assert payment.counterparty_name == "Ferretería Los Andes Ltda."
    assert parsed.lines[1].bank_reference is None and parsed.lines[1].counterparty_tax_id is None


def test_chilean_cartola_reports_bad_rows_and_notes_summary_rows():
    parsed = parse_statement_csv(CHILEAN)
    assert parsed.rejected == [
        StatementError(11, "Abonos", "1.000,50", "CLP amounts have no decimals"),
        StatementError(12, "Fecha", "31/11/2026", "no such day (day is out of range for month)"),
        StatementError(13, "Abonos", "", "no amount in Cargos or Abonos"),
    ]
    assert "not UTF-8; read it as cp1252" in parsed.notes[0]
    assert parsed.notes[1:] == [
        "line 7: summary row skipped (02/11/2026 Saldo inicial 3.000.000)",
        "line 14: summary row skipped (30/11/2026 Saldo final 4.205.010)",
        "line 15: summary row skipped (Total 89.990 1.295.000)",
    ]


def test_mexican_export_with_a_signed_amount_column_and_currency_column():
    parsed = parse_statement_csv(MEXICAN, currency="MXN")
    assert parsed.account == "0123456789"
    assert parsed.notes == []
    spei, fee, dollars = parsed.lines
    assert (spei.line, spei.amount, spei.currency, spei.direction) == (
        4,
        Decimal("12500.00"),
        "MXN",
        "credit",
    )
    assert spei.counterparty_tax_id == "CAR010101AB1"
    assert spei.counterparty_name == "Comercial Arandas SA de CV"
    assert (fee.amount, fee.direction) == (Decimal("5.80"), "debit")
    assert (dollars.amount, dollars.currency) == (Decimal("1234.56"), "USD")
    assert dollars.description == 'DEPOSITO DOLARES, CLIENTE "USA"'
    assert parsed.currency is None, "the lines mix MXN and USD"
    assert [(e.line, e.column, e.value) for e in parsed.rejected] == [
        (7, "Importe", "0.00"),
        (8, "Moneda", "XYZ"),
    ]
    assert parsed.rejected[0].reason == "the amount is zero"
    assert "unknown currency" in parsed.rejected[1].reason


def test_english_headers_without_preamble_and_a_quoted_multiline_description():
    data = (
        b"Date,Description,Reference,Debit,Credit,Balance\n"
        b'2026-11-20,"Wire from\nAcme",R1,,"1,000.00",\n'
        b"2026-11-21,Fee,R2,-3.00,0,\n"
        b"2026-11-22,Broken,R3,,12;5,\n"
    )
    parsed = parse_statement_csv(data, currency="USD")
    assert [(line.line, line.direction, line.amount) for line in parsed.lines] == [
        (2, "credit", Decimal("1000.00")),
        (4, "debit", Decimal("3.00")),
    ]
    assert parsed.lines[0].description == "Wire from\nAcme"
    assert [(e.line, e.column, e.value) for e in parsed.rejected] == [(5, "Credit", "12;5")]


def test_both_columns_filled_and_shifted_rows_are_rejected_not_guessed():
    data = (
        b"fecha;glosa;cargo;abono\n"
        b"20/11/2026;pago;1.000;2.000\n"
        b"21/11/2026;pago; factura 9;;3.000\n"
        b"22/11/2026;pago; factura 9;3.000\n"
    )
    parsed = parse_statement_csv(data)
    assert parsed.lines == []
    assert parsed.rejected == [
        StatementError(2, "abono", "2.000", "both cargo and abono have an amount"),
        StatementError(
            3,
            "column 5",
            "3.000",
            "the row has more values than the header's 4 columns (a ';' inside a value?)",
        ),
        StatementError(4, "cargo", "factura 9", "not an amount"),
    ]


def test_without_a_recognisable_header_the_file_is_refused():
    with pytest.raises(StatementFormatError, match="no header row"):
        parse_statement_csv(b"Banco X\nuno;dos;tres\n1;2;3\n")


def test_an_unknown_currency_parameter_is_refused():
    with pytest.raises(StatementFormatError, match="currency"):
        parse_statement_csv(CHILEAN, currency="PESOS")
