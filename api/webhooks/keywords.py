"""Opt-out and opt-in keywords in an inbound SMS or WhatsApp reply.

Twilio only honours a keyword when it is the whole message: "STOP" blocks the number, "STOP
PLEASE" or "please cancel" does not (Twilio support article 223134027, "Twilio support for
opt-out keywords"). We follow the same rule so our suppression list never disagrees with
Twilio's: a longer sentence goes to a collector as a task instead. On top of Twilio's English
defaults we add the Spanish words our debtors use (see /work/shared/DOMAIN.md), and we forgive
case, accents and surrounding punctuation ("¡Baja!", "CANCELAR.").
"""

from __future__ import annotations

import unicodedata

# Twilio's default opt-out list (Advanced Opt-Out tutorial) plus Spanish.
OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "revoke",
        "baja",
        "alto",
        "cancelar",
        "parar",
    }
)
# Twilio's default opt-in list plus Spanish; "sí" becomes "si" once accents are stripped.
OPT_IN_WORDS = frozenset({"start", "unstop", "yes", "alta", "si"})


def normalize_keyword(body: str) -> str:
    """The body as a keyword candidate: casefolded, accents stripped, outer punctuation and
    whitespace removed. Inner characters are kept, so a sentence stays a sentence."""
    decomposed = unicodedata.normalize("NFKD", body.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    start, end = 0, len(bare)
    while start < end and _is_padding(bare[start]):
        start += 1
    while end > start and _is_padding(bare[end - 1]):
        end -= 1
    return bare[start:end]


def is_opt_out(body: str) -> bool:
    return normalize_keyword(body) in OPT_OUT_WORDS


def is_opt_in(body: str) -> bool:
    return normalize_keyword(body) in OPT_IN_WORDS


def _is_padding(char: str) -> bool:
    # Unicode categories: P* is punctuation (incl. "¡", "¿", "…"), Z* is separators.
    return char.isspace() or unicodedata.category(char)[0] in {"P", "Z"}
