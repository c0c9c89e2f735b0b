"""What the portal asks of an invoice's workflow — a promise, a dispute, a payment claim —
and how the workflow's refusals read to the customer.

The actions are the shared case actions (``api.case_actions``), which the collector's pages
use too: each is an Update whose validator answers at once, so a refusal comes back as
``api.errors.InvalidRequest`` with the workflow's own words, having written nothing, and
silence as ``WorkflowUnavailable``."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date

from api.case_actions import (
    WorkflowUnavailable,
    open_dispute,
    promise_to_pay,
    report_payment_claim,
)
from api.errors import InvalidRequest
from api.web.i18n import translate
from api.web.templating import LOCALES

__all__ = [
    "WorkflowUnavailable",
    "long_date",
    "open_dispute",
    "promise_to_pay",
    "refusal",
    "report_payment_claim",
]

CLOSED = re.compile(
    r"nothing left to pay|has ended|is (paid|cancelled|written_off|credited|closed)\b"
)
REFUSALS = (
    ("already disputed", "portal.refused.already_disputed"),
    ("disputed", "portal.refused.disputed"),
    ("already waits for a payment", "portal.refused.already_claimed"),
    ("payment plan", "portal.refused.plan"),
    ("in the future", "portal.refused.future"),
)
"""Words of the workflow's refusals (its validators speak English, to developers) and what
the customer reads instead, first match wins."""
BETWEEN_DATES = re.compile(r"between (\d{4}-\d{2}-\d{2}) and (\d{4}-\d{2}-\d{2})")


def long_date(lang: str, value: date) -> str:
    return format_date(value, format="long", locale=LOCALES[lang])


def refusal(lang: str, error: Exception, number: str) -> tuple[int, str]:
    """(HTTP status, message in the customer's words) for a refused action."""
    if isinstance(error, WorkflowUnavailable):
        return 503, translate(lang, "portal.unavailable")
    message = str(error)
    if CLOSED.search(message):
        return 422, translate(lang, "portal.refused.closed", number=number)
    for words, key in REFUSALS:
        if words in message:
            return 422, translate(lang, key)
    between = BETWEEN_DATES.search(message)
    if between:
        first, last = (date.fromisoformat(found) for found in between.groups())
        return 422, translate(
            lang, "portal.refused.dates", first=long_date(lang, first), last=long_date(lang, last)
        )
    if isinstance(error, InvalidRequest) and error.field == "amount":
        return 422, translate(lang, "portal.refused.amount")
    return 422, translate(lang, "portal.refused.other")
