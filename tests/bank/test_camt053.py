from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.bank.camt053 import parse_camt053
from api.bank.parse import parse_statement
from api.bank.statement import StatementError, StatementFormatError

# Entry 1: one credit of 2.000.000 CLP that carries two customer transfers (TxDtls with their
# own amounts, camt.053.001.02 style AmtDtls). Entry 2: the bank's monthly fee, a debit.
CAMT_053_001_02 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>EST-20261120</MsgId><CreDtTm>2026-11-20T23:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>EST-20261120-1</Id>
      <CreDtTm>2026-11-20T23:00:00</CreDtTm>
      <Acct><Id><Othr><Id>00-123-45678-09</Id></Othr></Id><Ccy>CLP</Ccy></Acct>
      <Ntry>
        <Amt Ccy="CLP">2000000</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt>
        <ValDt><Dt>2026-11-20</Dt></ValDt>
        <AcctSvcrRef>BCH-7781</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>BCH-7781-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="CLP">1250000</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr>
                <Nm>Ferretería Los Andes Ltda.</Nm>
                <Id><OrgId><Othr><Id>76.123.456-7</Id></Othr></OrgId></Id>
              </Dbtr>
            </RltdPties>
            <RmtInf><Ustrd>Pago FAC 123</Ustrd><Ustrd>noviembre</Ustrd></RmtInf>
          </TxDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>BCH-7781-2</AcctSvcrRef><EndToEndId>E2E-99</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="CLP">750000</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>Comercial Ñuble SpA</Nm></Dbtr></RltdPties>
            <RmtInf><Strd><CdtrRefInf><Ref>F-124</Ref></CdtrRefInf></Strd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CLP">4990</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><DtTm>2026-11-20T10:15:00</DtTm></BookgDt>
        <AcctSvcrRef>BCH-7790</AcctSvcrRef>
        <AddtlNtryInf>Comisión mantención cuenta</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

# Version .08 wraps parties in Pty and puts Amt directly on TxDtls.
CAMT_053_001_08 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-21T08:00:00</CreDtTm></GrpHdr>
    <Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
      <Ntry>
        <Amt Ccy="EUR">100.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-21</Dt></BookgDt>
        <NtryDtls><TxDtls>
          <Amt Ccy="EUR">100.50</Amt>
          <RltdPties><Dbtr><Pty><Nm>Muster GmbH</Nm>
            <Id><OrgId><Othr><Id>DE123456789</Id></Othr></OrgId></Id></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>Invoice INV-2026-0042</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
        <BookgDt><Dt>2026-11-21</Dt></BookgDt>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">abc</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <BookgDt><Dt>2026-11-21</Dt></BookgDt>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">5.00</Amt><CdtDbtInd>XXXX</CdtDbtInd>
        <BookgDt><Dt>2026-11-21</Dt></BookgDt>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def test_an_entry_with_two_transactions_becomes_two_lines_and_the_debit_one():
    parsed = parse_camt053(CAMT_053_001_02.encode())
    assert parsed.format == "camt.053"
    assert parsed.account == "00-123-45678-09"
    assert parsed.currency == "CLP"
    assert parsed.rejected == [] and parsed.notes == []
    first, second, fee = parsed.lines
    assert (first.line, first.amount, first.direction) == (1, Decimal(1250000), "credit")
    assert first.booked_on == date(2026, 11, 20)
    assert first.description == "Pago FAC 123 noviembre"
    assert first.bank_reference == "BCH-7781-1"
    assert first.counterparty_name == "Ferretería Los Andes Ltda."
    assert first.counterparty_tax_id == "76.123.456-7"
    assert (second.line, second.amount) == (1, Decimal(750000))
    assert second.description == "F-124 | E2E-99"
    assert second.counterparty_name == "Comercial Ñuble SpA"
    assert second.counterparty_tax_id is None
    assert (fee.line, fee.amount, fee.direction) == (2, Decimal(4990), "debit")
    assert fee.booked_on == date(2026, 11, 20)
    assert fee.description == "Comisión mantención cuenta"
    assert fee.bank_reference == "BCH-7790"


def test_version_08_parties_iban_pending_entries_and_bad_entries():
    parsed = parse_camt053(CAMT_053_001_08.encode())
    assert parsed.account == "DE89370400440532013000"
    [line] = parsed.lines
    assert (line.amount, line.currency) == (Decimal("100.50"), "EUR")
    assert line.counterparty_name == "Muster GmbH"
    assert line.counterparty_tax_id == "DE123456789"
    assert line.description == "Invoice INV-2026-0042"
    assert parsed.notes == ["entry 2: status PDNG, not booked; skipped"]
    assert parsed.rejected == [
        StatementError(3, "Ntry/Amt", "abc", "not a number"),
        StatementError(4, "Ntry/CdtDbtInd", "XXXX", "must be CRDT (money in) or DBIT (money out)"),
    ]


def test_transactions_that_do_not_add_up_to_the_entry_are_noted():
    data = CAMT_053_001_02.replace(">2000000<", ">2000001<").encode()
    parsed = parse_camt053(data)
    assert len(parsed.lines) == 3
    assert parsed.notes == ["entry 1: its transactions add up to 2000000, the entry says 2000001"]


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]>',
        '<!doctype Document SYSTEM "file:///etc/passwd">',
    ],
)
def test_doctype_and_entity_declarations_are_refused(declaration):
    data = CAMT_053_001_02.replace("?>\n", f"?>\n{declaration}\n", 1).encode()
    with pytest.raises(StatementFormatError, match="declaration; refused"):
        parse_camt053(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Document><x></Document>", "not well-formed"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"/>', "namespace"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"/>', "no BkToCstmrStmt"),
        (CAMT_053_001_02.encode("utf-16"), "not UTF-8"),
    ],
)
def test_what_is_not_a_camt053_statement_is_refused_with_the_reason(data, message):
    with pytest.raises(StatementFormatError, match=message):
        parse_camt053(data)


def test_parse_statement_sniffs_xml_or_csv():
    assert parse_statement(b"\xef\xbb\xbf\n  " + CAMT_053_001_02.encode()).format == "camt.053"
    csv = b"fecha;glosa;abono\n20/11/2026;pago;1.000\n"
    parsed = parse_statement(csv, filename="cartola.xml", currency="CLP")
    assert parsed.format == "csv" and parsed.lines[0].amount == Decimal(1000)
    with pytest.raises(StatementFormatError, match="not well-formed"):
        parse_statement(b"", filename="estado.XML")
