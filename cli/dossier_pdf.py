"""The evidence dossier as an A4 PDF (fpdf2), Spanish headings unless English is asked for."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from ledger.dossier import Dossier

HEADINGS = {
    "es": {
        "title": "Expediente de cobranza",
        "invoice": "Factura",
        "customer": "Cliente",
        "timeline": "Cronología (contactos, bitácora, promesas, disputas, pagos)",
        "chain": "Integridad de la bitácora",
        "intact": "Cadena íntegra: {lines} líneas del cliente verificadas.",
        "broken": "CADENA ROTA en la línea {interaction_id} ({event_key}): {problem}.",
        "generated": "Generado el {at} (UTC)",
        "tax_id": "RUT / RFC",
        "amount": "Monto",
        "due": "Saldo",
        "due_on": "Vence",
        "stage": "Etapa",
    },
    "en": {
        "title": "Collection evidence dossier",
        "invoice": "Invoice",
        "customer": "Customer",
        "timeline": "Timeline (contacts, bitácora, promises, disputes, payments)",
        "chain": "Bitácora integrity",
        "intact": "Chain intact: {lines} lines of the customer verified.",
        "broken": "CHAIN BROKEN at line {interaction_id} ({event_key}): {problem}.",
        "generated": "Generated {at} (UTC)",
        "tax_id": "Tax id",
        "amount": "Amount",
        "due": "Due",
        "due_on": "Due on",
        "stage": "Stage",
    },
}
# Fields worth printing under a timeline entry, in this order.
_DETAIL_FIELDS = (
    "provider",
    "attempts",
    "sent_at",
    "provider_message_id",
    "content_sha256",
    "event_key",
    "row_hash",
    "reference",
    "reason",
    "body",
)


def _latin1(value: Any) -> str:
    # The PDF core fonts cover Latin-1: enough for Spanish; anything else becomes "?".
    return str(value).encode("latin-1", "replace").decode("latin-1")


def render_pdf(dossier: Dossier, *, language: str = "es", compress: bool = True) -> bytes:
    words = HEADINGS.get(language, HEADINGS["es"])
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(_latin1(f"{words['title']} {dossier.invoice['number']}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        9,
        _latin1(f"{words['title']}: {dossier.invoice['number']}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 8)
    generated = dossier.generated_at.strftime("%Y-%m-%d %H:%M")
    pdf.cell(0, 5, _latin1(words["generated"].format(at=generated)), new_x="LMARGIN", new_y="NEXT")

    invoice, customer = dossier.invoice, dossier.customer
    _heading(pdf, words["invoice"])
    _line(pdf, f"{words['amount']}: {_money(invoice['amount_minor'], invoice['currency'])}")
    _line(pdf, f"{words['due']}: {_money(invoice['amount_due_minor'], invoice['currency'])}")
    _line(pdf, f"{words['due_on']}: {invoice['due_on']}   {words['stage']}: {invoice['stage']}")
    _heading(pdf, words["customer"])
    _line(pdf, f"{customer['name']} ({customer['id']})")
    _line(pdf, f"{words['tax_id']}: {customer['tax_id'] or '-'}")

    _heading(pdf, words["timeline"])
    for entry in dossier.timeline:
        pdf.set_font("Helvetica", "B", 9)
        stamp = entry.at.strftime("%Y-%m-%d %H:%M:%S")
        pdf.multi_cell(
            0,
            5,
            _latin1(f"{stamp}  [{entry.source}]  {entry.summary}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Courier", "", 7)
        for name in _DETAIL_FIELDS:
            value = entry.fields.get(name)
            if value not in (None, ""):
                pdf.multi_cell(0, 4, _latin1(f"    {name}: {value}"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, words["chain"])
    chain = dossier.chain
    if chain.get("intact"):
        _line(pdf, words["intact"].format(lines=chain.get("customer_lines", 0)))
    else:
        _line(pdf, words["broken"].format(**chain["first_broken"]))
    return bytes(pdf.output())


def _money(minor: int, currency: str) -> str:
    # Display only: the integer minor units are shown as they are stored, with the currency.
    return f"{minor} {currency} (minor units)"


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _line(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
