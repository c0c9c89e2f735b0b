"""The demo's book of receivables: 34 invoices of 12 customers in three segments, with due dates
around today, so every stage of the policies shows up at once.

Written once to the data directory and reused, so running the demo again (even on another day)
re-sends the same invoices and nothing changes.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

COLUMNS = (
    "invoice_number",
    "customer_id",
    "customer_name",
    "email",
    "phone",
    "whatsapp",
    "country",
    "timezone",
    "locale",
    "segment",
    "amount",
    "currency",
    "issued_on",
    "due_on",
)


# (id, name, segment, country, time zone, locale, currency)
CUSTOMERS = [
    ("C-1001", "Ferretería Los Andes SpA", "standard", "CL", "America/Santiago", "es_CL", "CLP"),
    (
        "C-1002",
        "Distribuidora Austral Ltda.",
        "preferred",
        "CL",
        "America/Santiago",
        "es_CL",
        "CLP",
    ),
    ("C-1003", "Constructora Pehuén SpA", "high_risk", "CL", "America/Santiago", "es_CL", "CLP"),
    ("C-1004", "Panadería La Espiga", "standard", "CL", "America/Santiago", "es_CL", "CLP"),
    ("C-1005", "Viña Valle Central S.A.", "preferred", "CL", "America/Santiago", "es_CL", "CLP"),
    ("C-1006", "Transportes Atacama Ltda.", "high_risk", "CL", "America/Santiago", "es_CL", "CLP"),
    (
        "C-2001",
        "Abarrotes Don Chema S.A. de C.V.",
        "standard",
        "MX",
        "America/Mexico_City",
        "es_MX",
        "MXN",
    ),
    ("C-2002", "Grupo Industrial Bajío", "preferred", "MX", "America/Mexico_City", "es_MX", "MXN"),
    ("C-2003", "Refaccionaria El Norte", "high_risk", "MX", "America/Monterrey", "es_MX", "MXN"),
    ("C-2004", "Farmacias Santa Lucía", "standard", "MX", "America/Mexico_City", "es_MX", "MXN"),
    ("C-3001", "Andes Trading LLC", "standard", "US", "America/New_York", "en_US", "USD"),
    ("C-3002", "Pacific Imports Inc.", "preferred", "US", "America/Los_Angeles", "en_US", "USD"),
]

# Days from today to each invoice's due date: some ahead, some today, most 5–60 days late.
DUE_OFFSETS = [
    3,
    5,
    2,
    0,
    0,
    -5,
    -8,
    -12,
    -16,
    -20,
    -25,
    -35,
    -45,
    -60,
    4,
    0,
    -3,
    -10,
    -17,
    -30,
    -50,
    7,
    1,
    -6,
    -22,
    -40,
    3,
    -9,
    -19,
    -60,
    2,
    -14,
    -28,
    10,
]
CUSTOMER_OF_INVOICE = [
    0,
    1,
    2,
    2,
    2,
    2,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    0,
    1,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    0,
    3,
    6,
    9,
    1,
    4,
    7,
]
AMOUNTS = {
    "CLP": ["1250000", "480000", "3150000", "89990", "725500", "2400000"],
    "MXN": ["12500.00", "3480.50", "56000.00", "980.75"],
    "USD": ["1250.00", "18400.00", "730.25"],
}


def build_sample_book(today: date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, (offset, customer_index) in enumerate(
        zip(DUE_OFFSETS, CUSTOMER_OF_INVOICE, strict=True)
    ):
        cid, name, segment, country, zone, locale, currency = CUSTOMERS[customer_index]
        due = today + timedelta(days=offset)
        issued = due - timedelta(days=30)
        amounts = AMOUNTS[currency]
        slug = cid.lower().replace("-", "")
        phone = {"CL": "+5691234", "MX": "+52155512", "US": "+1212555"}[
            country
        ] + f"{1000 + customer_index:04d}"
        writer.writerow(
            [
                f"F-{20001 + index}",
                cid,
                name,
                f"pagos@{slug}.example",
                phone,
                phone,
                country,
                zone,
                locale,
                segment,
                amounts[index % len(amounts)],
                currency,
                issued.isoformat(),
                due.isoformat(),
            ]
        )
    return out.getvalue()


def sample_book(data_dir: Path, today: date) -> str:
    path = data_dir / "sample_book.csv"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(build_sample_book(today), encoding="utf-8")
    return path.read_text(encoding="utf-8")
