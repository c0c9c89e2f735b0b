"""Bytes to text, and which character separates the columns.

ERPs in Latin America still export Windows-1252 (or Latin-1) by default, sometimes UTF-8 with
a byte order mark, and Excel's "Unicode text" export is UTF-16 with tabs. A Chilean export is
usually ``;``-separated because the decimal separator is a comma.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from itertools import islice

DELIMITERS = (";", "\t", ",")  # in this order of preference on a tie
_HEADER_SEARCH_LINES = 10

# cp1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); those are read as Latin-1,
# which maps every byte, so any file decodes and printable Latin-1 text reads the same.
_LATIN1_FALLBACK = "flatfiles-latin1-fallback"


def _latin1_for_undefined(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FALLBACK, _latin1_for_undefined)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # "utf-8", "utf-8-sig" (with BOM), "utf-16" or "cp1252"


def decode_bytes(data: bytes) -> DecodedText:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is read as cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return DecodedText(
            data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return DecodedText(data.decode("utf-16", errors="replace"), "utf-16")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return DecodedText(data.decode("cp1252", errors=_LATIN1_FALLBACK), "cp1252")


def count_outside_quotes(line: str, char: str) -> int:
    """How many times ``char`` separates fields in ``line`` (a quoted ``"a;b"`` does not count)."""
    count = 0
    quoted = False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def detect_delimiter(text: str) -> str:
    """The delimiter of the header line: ``;``, tab or ``,``, counted outside quotes.

    The header is the first of the first lines with at least two delimiters (title lines such
    as "Facturas enero 2026" come before it in some exports); with none, the line with the
    most. Only header lines are looked at, because data lines hold decimal commas.
    """
    best, best_count = ",", 0
    for line in islice(io.StringIO(text), _HEADER_SEARCH_LINES):
        counts = {char: count_outside_quotes(line, char) for char in DELIMITERS}
        char = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on a tie
        if counts[char] >= 2:
            return char
        if counts[char] > best_count:
            best, best_count = char, counts[char]
    return best
