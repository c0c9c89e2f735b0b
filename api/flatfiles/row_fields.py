"""Cells that invoice and payment rows read alike: country, currency, amount and tax id."""

from __future__ import annotations

from decimal import Decimal

from api.flatfiles.cells import cell_text
from api.flatfiles.defaults import FileDefaults, defaults_for_country
from api.flatfiles.layout import Layout
from api.flatfiles.places import parse_country
from api.flatfiles.reports import FileNote
from api.flatfiles.row_reader import RowReader
from api.flatfiles.tax_ids import validate_tax_id
from api.flatfiles.values import (
    DecimalStyle,
    currency_of_country,
    infer_decimal_separator,
    parse_amount,
    parse_currency,
)


def decimal_style(layout: Layout, notes: list[FileNote]) -> DecimalStyle:
    """The file's decimal separator, from its amounts; a note when they disagree."""
    position = layout.columns.index["amount"]
    style = infer_decimal_separator(
        cells[position] for _, cells in layout.records if position < len(cells)
    )
    if style.conflicting:
        notes.append(
            FileNote(
                layout.header_line,
                "amounts use both ',' and '.' as decimal separator; an amount like 1.234 is "
                "read by its currency's decimals",
            )
        )
    return style


def row_defaults(country: str, defaults: FileDefaults) -> FileDefaults:
    """The file's defaults, or those of the row's own country when it is another we serve."""
    if country == defaults.country:
        return defaults
    try:
        return defaults_for_country(country, segment=defaults.segment)
    except ValueError:
        return defaults


def read_country(reader: RowReader, defaults: FileDefaults) -> str | None:
    return reader.value(
        "country", lambda cell: parse_country(cell_text(cell)), default=defaults.country
    )


def read_currency(reader: RowReader, country: str, defaults: FileDefaults) -> str | None:
    """The currency cell, or else the currency of the row's country ("$" means that one too)."""
    if country == defaults.country:
        local = defaults.currency
    else:
        local = currency_of_country(country) or defaults.currency
    return reader.value("currency", lambda cell: parse_currency(cell, local), default=local)


def read_amount(reader: RowReader, currency: str | None, style: DecimalStyle) -> Decimal | None:
    if currency is None:  # the currency cell is bad: the amount cannot be checked against it
        return None
    return reader.value("amount", lambda cell: parse_amount(cell, currency, style), required=True)


def read_tax_id(reader: RowReader, country: str | None) -> str | None:
    """The compact tax id, validated for the row's country (not at all if the country is bad)."""
    if country is None:
        return None
    return reader.value("tax_id", lambda cell: validate_tax_id(cell_text(cell), country))
