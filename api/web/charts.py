"""Inline SVG bar charts for the pages, drawn on the server.

Accessible by construction: each chart is ``role="img"`` with a ``<title>`` and a ``<desc>``
naming every bar and its value, so a screen reader hears the data; the pages put a table with
the same numbers (and their links) beside it. No ``style`` attributes (the CSP forbids them):
colours are SVG presentation attributes and classes of dashboard.css. Geometry is integer
arithmetic on the values as given (minor units or counts), never on formatted money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#0b5cad", "#1e6b34", "#8a4b00", "#6b3fa0", "#b00020", "#00657a", "#4a5565")
"""Colours with at least 4.5:1 contrast on white, so a bar's value label can share its hue."""
TEXT = "#1b2430"
AXIS = "#7a8594"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    """Minor units or a count: what the bar's length is proportional to (never negative)."""
    shown: str
    """The value as the page writes it (``$1.250.000``)."""
    colour: str = PALETTE[0]


def _length(value: int, largest: int, room: int) -> int:
    if largest <= 0 or value <= 0:
        return 0
    # At least a sliver, so a small non-zero value is visibly not zero.
    return max(2, value * room // largest)


def _frame(chart_id: str, title: str, bars: Sequence[Bar], width: int, height: int) -> list[str]:
    description = "; ".join(f"{bar.label}: {bar.shown}" for bar in bars)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def column_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars side by side, labels under them and values above (aging buckets, week)."""
    slot, bar_width, top, plot_height, label_room = 110, 64, 28, 170, 40
    width = max(slot * len(bars), slot)
    height = top + plot_height + label_room
    largest = max((bar.value for bar in bars), default=0)
    base = top + plot_height
    parts = _frame(chart_id, title, bars, width, height)
    parts.append(
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{AXIS}" stroke-width="1"/>'
    )
    for index, bar in enumerate(bars):
        x = index * slot + (slot - bar_width) // 2
        length = _length(bar.value, largest, plot_height)
        centre = index * slot + slot // 2
        parts.append(
            f'<rect class="bar" x="{x}" y="{base - length}" width="{bar_width}" '
            f'height="{length}" fill="{escape(bar.colour)}" rx="3"/>'
        )
        parts.append(
            f'<text x="{centre}" y="{base - length - 8}" text-anchor="middle" '
            f'font-size="13" font-weight="600" fill="{TEXT}">{escape(bar.shown)}</text>'
        )
        parts.append(
            f'<text x="{centre}" y="{base + 22}" text-anchor="middle" font-size="13" '
            f'fill="{TEXT}">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per row: label on the left, value at the bar's end (recovery)."""
    label_room, value_room, row, bar_height, plot_width = 170, 130, 34, 22, 360
    width = label_room + plot_width + value_room
    height = max(row * len(bars), row) + 6
    largest = max((bar.value for bar in bars), default=0)
    parts = _frame(chart_id, title, bars, width, height)
    parts.append(
        f'<line x1="{label_room}" y1="0" x2="{label_room}" y2="{height}" stroke="{AXIS}" '
        'stroke-width="1"/>'
    )
    for index, bar in enumerate(bars):
        y = index * row + 6
        length = _length(bar.value, largest, plot_width)
        middle = y + bar_height // 2 + 5
        parts.append(
            f'<text x="{label_room - 8}" y="{middle}" text-anchor="end" font-size="13" '
            f'fill="{TEXT}">{escape(bar.label)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_room}" y="{y}" width="{length}" '
            f'height="{bar_height}" fill="{escape(bar.colour)}" rx="3"/>'
        )
        parts.append(
            f'<text x="{label_room + length + 8}" y="{middle}" font-size="13" '
            f'font-weight="600" fill="{TEXT}">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
