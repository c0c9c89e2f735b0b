"""A Chilean invoice export as an ERP writes it, with known bad rows: for tests and benchmarks.

Semicolons, Windows-1252, "Razón Social" with ñ and é, CLP amounts like "1.234.567", USD ones
like "12.345,67", RUTs with real check digits, day-first dates around ``today``, an address
column the importer ignores (sometimes on two lines, quoted), then a blank line and a totals
row. Every bad row has exactly one defect, of one of ten kinds.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cl import rut

HEADER = (
    "Folio",
    "RUT",
    "Razón Social",
    "Monto Total",
    "Moneda",
    "Fecha Emisión",
    "Fecha Vencimiento",
    "Correo",
    "Teléfono",
    "Dirección",
)


@dataclass(frozen=True)
class BadKind:
    column: str  # the header the rejection must name
    reason: str  # a fragment the rejection reason must contain


BAD_KINDS = {
    "bad_rut": BadKind("RUT", "RUT check digit is wrong: expected"),
    "due_before_issue": BadKind("Fecha Vencimiento", "before the issue date"),
    "negative_amount": BadKind("Monto Total", "positive amount"),
    "non_numeric_amount": BadKind("Monto Total", "not a number"),
    "unknown_currency": BadKind("Moneda", "currency"),
    "duplicate_number": BadKind("Folio", "repeats line"),
    "no_contact": BadKind("Correo", "needs an email, phone or WhatsApp"),
    "bad_date": BadKind("Fecha Emisión", "DD-MM-YYYY"),
    "missing_name": BadKind("Razón Social", "required"),
    "bad_email": BadKind("Correo", "not an email address"),
}

_NAMES = (
    "Ferretería Ñuñoa",
    "Panadería La Espiga",
    "Comercial Peñalolén",
    "Café Valparaíso",
    "Distribuidora Ñandú",
    "Librería Cervantes",
    "Farmacia Ñuble",
    "Importadora Andrés Bello",
)
_NEGATIVE = ("-15.000", "(15.000)", "15.000-", "0")
_NOT_NUMBERS = ("N/A", "a convenir", "--", "12O.000")
_BAD_CURRENCIES = ("ZZZ", "XYZ", "CLPP")
_BAD_DATES = ("31-02-2026", "15-13-2026", "mañana", "2026-02-30")
_BAD_EMAILS = ("pagos.empresa.cl", "pagos@empresa", "pagos @empresa.cl")


@dataclass(frozen=True)
class ChileanFile:
    data: bytes
    bad_rows: dict[int, str]  # physical line → kind (a key of BAD_KINDS)
    good_rows: int
    total_line: int  # the trailing "Totales" row


def chilean_invoice_file(
    rows: int = 10_000, bad_per_kind: int = 30, seed: int = 20261201, today: date | None = None
) -> tuple[bytes, dict[int, str]]:
    """The file's bytes and ``{line: column its rejection must name}`` for every bad row."""
    built = build_chilean_invoice_file(rows, bad_per_kind, seed, today)
    return built.data, {line: BAD_KINDS[kind].column for line, kind in built.bad_rows.items()}


def build_chilean_invoice_file(
    rows: int = 10_000,
    bad_per_kind: int = 30,
    seed: int = 20261201,
    today: date | None = None,
    first_folio: int = 100_000,
) -> ChileanFile:
    today = today or date.today()
    rng = random.Random(seed)
    kinds = [kind for kind in BAD_KINDS for _ in range(bad_per_kind)]
    if len(kinds) >= rows:
        raise ValueError(f"{rows} rows cannot hold {len(kinds)} bad ones and a good one")
    # Row 0 is always good, so a duplicate always has an earlier good row to repeat.
    bad_at = dict(zip(rng.sample(range(1, rows), len(kinds)), kinds, strict=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    line = 2
    bad_rows: dict[int, str] = {}
    good_numbers: list[str] = []
    total = 0
    for index in range(rows):
        row = _good_row(rng, index, today, first_folio)
        kind = bad_at.get(index)
        if kind is None:
            good_numbers.append(row["Folio"])
            total += int(row["Monto Total"].replace(".", "")) if row["Moneda"] == "CLP" else 0
        else:
            _spoil(row, kind, rng, good_numbers)
            bad_rows[line] = kind
        writer.writerow([row[column] for column in HEADER])
        line += 1 + row["Dirección"].count("\n")
    writer.writerow([""] * len(HEADER))
    writer.writerow(["Totales", "", "", _thousands(total)] + [""] * (len(HEADER) - 4))
    return ChileanFile(
        buffer.getvalue().encode("cp1252"), bad_rows, rows - len(kinds), total_line=line + 1
    )


def _thousands(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def valid_rut(rng: random.Random) -> str:
    body = str(rng.randint(1_000_000, 99_999_999))
    return rut.format(body + rut.calc_check_digit(body))


def _good_row(rng: random.Random, index: int, today: date, first_folio: int) -> dict[str, str]:
    issued = today - timedelta(days=rng.randint(0, 90))
    due = issued + timedelta(days=rng.choice((0, 15, 30, 45, 60)))
    date_format = "%d-%m-%Y" if index % 3 else "%d/%m/%Y"
    if index % 20 == 7:
        currency = "USD"
        amount = f"{_thousands(rng.randint(10, 99_999))},{rng.randint(0, 99):02d}"
    else:
        currency, amount = "CLP", _thousands(rng.randint(1_000, 50_000_000))
    contact = index % 4  # email and phone, email only, phone only, both again
    address = f"Av. Irarrázaval {index}, Ñuñoa"
    if index % 250 == 3:
        address = f"Los Álamos {index}\nDepto. {index % 90}, Peñalolén"
    return {
        "Folio": str(first_folio + index),
        "RUT": valid_rut(rng),
        "Razón Social": f"{rng.choice(_NAMES)} {index}",
        "Monto Total": amount,
        "Moneda": currency,
        "Fecha Emisión": issued.strftime(date_format),
        "Fecha Vencimiento": due.strftime(date_format),
        "Correo": "" if contact == 2 else f"pagos{index}@cliente{index}.cl",
        "Teléfono": ""
        if contact == 1
        else f"9 {rng.randint(1000, 9999)} {rng.randint(0, 9999):04d}",
        "Dirección": address,
    }


def _spoil(row: dict[str, str], kind: str, rng: random.Random, good_numbers: list[str]) -> None:
    if kind == "bad_rut":
        body = rut.compact(row["RUT"])[:-1]
        right = rut.calc_check_digit(body)
        row["RUT"] = rut.format(body + rng.choice([d for d in "0123456789K" if d != right]))
    elif kind == "due_before_issue":
        issued = _read_date(row["Fecha Emisión"])
        row["Fecha Vencimiento"] = (issued - timedelta(days=rng.randint(1, 30))).strftime(
            "%d-%m-%Y"
        )
    elif kind == "negative_amount":
        row["Monto Total"], row["Moneda"] = rng.choice(_NEGATIVE), "CLP"
    elif kind == "non_numeric_amount":
        row["Monto Total"] = rng.choice(_NOT_NUMBERS)
    elif kind == "unknown_currency":
        row["Moneda"] = rng.choice(_BAD_CURRENCIES)
    elif kind == "duplicate_number":
        row["Folio"] = rng.choice(good_numbers)
    elif kind == "no_contact":
        row["Correo"] = row["Teléfono"] = ""
    elif kind == "bad_date":
        row["Fecha Emisión"] = rng.choice(_BAD_DATES)
    elif kind == "missing_name":
        row["Razón Social"] = ""
    elif kind == "bad_email":
        row["Correo"] = rng.choice(_BAD_EMAILS)
    else:
        raise ValueError(f"unknown kind of bad row {kind!r}")


def _read_date(text: str) -> date:
    day, month, year = (int(part) for part in text.replace("/", "-").split("-"))
    return date(year, month, day)
