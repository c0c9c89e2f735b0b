"""A debtor's reply that names a payment date becomes a promise; anything else does not."""

from __future__ import annotations

from datetime import date

import pytest

from api.webhooks.promise_reply import parse_promise_reply

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("body", "locale", "expected"),
    [
        ("PAGARÉ 30/11", "es_CL", date(2026, 11, 30)),
        ("pagaré el 30/11", "es_CL", date(2026, 11, 30)),
        ("PAGO EL 30-11-2026", "es_CL", date(2026, 11, 30)),
        ("Pago el 30.11.26", "es_MX", date(2026, 11, 30)),
        ("PROMESA 30/11", "es_CL", date(2026, 11, 30)),
        ("promesa de pago 5/12", "es_MX", date(2026, 12, 5)),
        ("Pagaremos el 5/12, gracias", "es_CL", date(2026, 12, 5)),
        ("¡Pagaré 30/11!", "es_CL", date(2026, 11, 30)),
        ("  voy a pagar el 1/12  ", "es", date(2026, 12, 1)),
        ("I WILL PAY 11/30", "en_US", date(2026, 11, 30)),
        ("I'll pay on 12/5. Thanks", "en_US", date(2026, 12, 5)),
        ("I’ll pay 12/05/2026", "en", date(2026, 12, 5)),
        ("i will pay 5/12", "en_GB", date(2026, 12, 5)),  # day first outside the US
        ("PAGARÉ 20/11", "es_CL", date(2026, 11, 20)),  # today
        # A day already past this year is next year's.
        ("PAGARÉ 15/01", "es_CL", date(2027, 1, 15)),
        ("PAGARÉ 10/11", "es_CL", date(2027, 11, 10)),
        ("PAGARÉ 29/02", "es_CL", date(2028, 2, 29)),  # the next one that exists
    ],
)
def test_a_promise_reply_gives_its_date(body: str, locale: str, expected: date) -> None:
    assert parse_promise_reply(body, locale, TODAY) == expected


@pytest.mark.parametrize(
    ("body", "locale"),
    [
        ("Pago el viernes", "es_CL"),  # no date: a collector reads it
        ("PAGARÉ mañana", "es_CL"),
        ("PAGARÉ", "es_CL"),
        ("30/11", "es_CL"),  # a date alone promises nothing
        ("pagaré 30/11 si me pagan a mí", "es_CL"),  # a sentence, for a person
        ("no pagaré 30/11", "es_CL"),
        ("PAGARÉ 31/11", "es_CL"),  # no such day
        ("PAGARÉ 11/30", "es_CL"),  # month 30: Spanish order is day/month
        ("I WILL PAY 30/11", "en_US"),  # month 30 in the US
        ("PAGO EL 30-11-2025", "es_CL"),  # a past year is no promise
        ("PAGARÉ 32/1", "es_CL"),
        ("STOP", "en_US"),
        ("", "es_CL"),
    ],
)
def test_anything_else_is_not_a_promise(body: str, locale: str) -> None:
    assert parse_promise_reply(body, locale, TODAY) is None


def test_an_unknown_locale_reads_day_first() -> None:
    assert parse_promise_reply("PAGARÉ 5/12", "xx_YY", TODAY) == date(2026, 12, 5)
