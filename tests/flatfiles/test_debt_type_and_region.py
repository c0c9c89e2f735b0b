"""The debt type and region columns: which of the law's contact rules and holidays a customer
gets, in the words ERPs use for them."""

from __future__ import annotations

import pytest

from api.flatfiles import FileDefaults, ParsedInvoiceFile, parse_invoice_file
from api.flatfiles.errors import ValueProblem
from api.flatfiles.places import parse_debt_type, parse_subdivision
from dunning_policies.jurisdictions import DebtType

HEADER = "Folio;RUT;Razón Social;Monto;Vencimiento;Emisión;Correo;País;Tipo de Deuda;Región"
ROW = (
    "F-{n};{tax_id};Juana Pérez;150.000;01-12-2026;01-11-2026;j@example.cl;"
    "{country};{debt};{region}"
)
TAX_IDS = {"CL": "12.345.678-5", "MX": "GODE561231GR8", "US": "12-3456789"}


def parse(*rows: tuple[str, str, str], header: str = HEADER) -> ParsedInvoiceFile:
    lines = [header] + [
        ROW.format(n=n, tax_id=TAX_IDS[country], country=country, debt=debt, region=region)
        for n, (country, debt, region) in enumerate(rows, start=1)
    ]
    return parse_invoice_file("\r\n".join(lines).encode("utf-8"), defaults=FileDefaults())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("consumidor", DebtType.CONSUMER),
        ("Consumer", DebtType.CONSUMER),
        ("persona", DebtType.CONSUMER),
        ("Persona Natural", DebtType.CONSUMER),
        ("persona física", DebtType.CONSUMER),
        ("EMPRESA", DebtType.BUSINESS),
        ("business", DebtType.BUSINESS),
        ("Persona Jurídica", DebtType.BUSINESS),
        ("persona moral", DebtType.BUSINESS),
    ],
)
def test_debt_types_in_spanish_and_english(raw: str, expected: DebtType) -> None:
    assert parse_debt_type(raw) is expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("RM", "CL", "RM"),
        ("rm", "CL", "RM"),
        ("CL-RM", "CL", "RM"),
        ("Región Metropolitana de Santiago", "CL", "RM"),
        ("Magallanes", "CL", "MA"),
        ("ny", "US", "NY"),
        ("Cataluña", "ES", "CT"),
        # Mexico's holidays do not vary by state: kept as written, the national calendar applies.
        ("CDMX", "MX", "CDMX"),
    ],
)
def test_regions_by_code_or_name(raw: str, country: str, expected: str) -> None:
    assert parse_subdivision(raw, country) == expected


def test_an_unknown_region_names_the_known_codes() -> None:
    with pytest.raises(
        ValueProblem, match="'Santiago' is not a subdivision of CL; known codes: AI"
    ):
        parse_subdivision("Santiago", "CL")


def test_rows_carry_the_debt_type_and_region_to_the_customer() -> None:
    parsed = parse(("CL", "empresa", "RM"), ("MX", "persona física", ""), ("CL", "", ""))
    assert parsed.rejected == []
    assert [(r.customer.debt_type, r.customer.subdivision) for r in parsed.rows] == [
        (DebtType.BUSINESS, "RM"),
        (DebtType.CONSUMER, None),
        (None, None),  # issuance asks the RUT, else consumer
    ]


def test_english_headers_are_understood_too() -> None:
    header = (
        "Invoice;Tax ID;Customer;Amount;Due date;Issue date;Email;Country;Debt type;Subdivision"
    )
    parsed = parse(("US", "business", "CA"), header=header)
    assert parsed.rejected == []
    [row] = parsed.rows
    assert (row.customer.debt_type, row.customer.subdivision) == (DebtType.BUSINESS, "CA")


def test_bad_debt_types_and_regions_reject_the_row_with_their_reason() -> None:
    parsed = parse(("CL", "pyme grande", "Santiago"), ("CL", "consumidor", "RM"))
    assert [row.line for row in parsed.rows] == [3]
    errors = {(e.line, e.column, e.value): e.reason for e in parsed.rejected}
    assert errors == {
        (2, "Tipo de Deuda", "pyme grande"): (
            "not a debt type: write consumidor (consumer, persona) or empresa (business)"
        ),
        (2, "Región", "Santiago"): (
            "'Santiago' is not a subdivision of CL; known codes: AI, AN, AP, AR, AT, BI, CO, "
            "LI, LL, LR, MA, ML, NB, RM, TA, VS"
        ),
    }
