"""Customer-facing messages: formatting, every template in every channel/language/tone, failures."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import get_args

import pytest
from jinja2 import DictLoader, UndefinedError

from dunning_policies.language import Channel, Tone
from dunning_policies.messages import (
    CHANNELS,
    SUPPORTED_LANGUAGES,
    TEMPLATE_NAMES,
    TONES,
    WHATSAPP_TEMPLATE_VARIABLES,
    InvoiceLine,
    MessageChannel,
    MessageContext,
    TemplateMissing,
    format_due_date,
    format_money,
    language_of,
    make_environment,
    render_message,
    template_exists,
    whatsapp_content_key,
    whatsapp_template_variables,
)

SMS_OPT_OUT = {"es": "Responda BAJA para no recibir más SMS.", "en": "Reply STOP to opt out."}
# A call never reads a link aloud: it names the portal.
SPOKEN_PORTAL = {"es": "nuestro portal de pagos", "en": "our payment portal"}
# Days from the due date at which each template is normally sent.
TYPICAL_DAYS = {
    "before_due": -3,
    "due_today": 0,
    "overdue": 5,
    "final_notice": 18,
    "promise_broken": 12,
    "instalment_reminder": -3,
    "instalment_due": 0,
}


def context(locale: str = "es_CL", currency: str = "CLP", **changes: object) -> MessageContext:
    amounts = {"CLP": Decimal(1_250_000), "MXN": Decimal("12500.00"), "USD": Decimal("1250.50")}
    base = MessageContext(
        company_name="Comercial Andes SpA",
        customer_name="María José Pérez",
        invoice_number="F-2026-0042",
        amount_due=amounts[currency],
        original_amount=amounts[currency],
        currency=currency,
        due_date=date(2026, 12, 1),
        days_overdue=5,
        portal_url="https://pagar.andes.cl/f/F-2026-0042",
        tone="neutral",
        locale=locale,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# One sample debtor per market: Chile, Mexico (Spanish) and the United States (English).
SAMPLES = {
    "es": [context("es_CL", "CLP"), context("es_MX", "MXN"), context("es", "MXN")],
    "en": [context("en_US", "USD"), context("en", "CLP")],
}


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (Decimal(1_250_000), "CLP", "es_CL", "$1.250.000"),
        (Decimal(12_500), "MXN", "es_MX", "$12,500.00"),
        (Decimal("12.5"), "USD", "en_US", "$12.50"),
        # A currency foreign to the locale is labelled as Babel (CLDR) labels it.
        (Decimal("1250.5"), "USD", "es_CL", "US$1.250,50"),
        (Decimal("1250.5"), "MXN", "en_US", "MX$1,250.50"),
        # Babel writes Peruvian soles with a no-break space after the symbol.
        (Decimal("1250.5"), "PEN", "es_PE", "S/\xa01,250.50"),
        (Decimal("1250.5"), "clp", "es-CL", "$1.251"),  # rounds half up, like money.quantize
    ],
)
def test_format_money(amount: Decimal, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


@pytest.mark.parametrize(
    ("currency", "locale", "expected"),
    [
        ("CLP", "es", "$1.250.000"),  # es_CL
        ("MXN", "es", "$1,250,000.00"),  # es_MX, not Chilean separators
        ("COP", "es", "$1.250.000,00"),  # es_CO
        ("PEN", "es", "S/\xa01,250,000.00"),  # es_PE
        ("USD", "es", "$1,250,000.00"),  # es_US
        ("USD", "en", "$1,250,000.00"),  # en_US
        ("EUR", "es", "1.250.000,00\xa0€"),  # no default territory: the language itself
    ],
)
def test_format_money_for_a_bare_language_picks_the_currency_s_country(
    currency: str, locale: str, expected: str
) -> None:
    assert format_money(Decimal(1_250_000), currency, locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("es", "1 de diciembre de 2026"),
        ("es_CL", "1 de diciembre de 2026"),
        ("es_MX", "1 de diciembre de 2026"),
        ("en", "December 1, 2026"),
        ("en_US", "December 1, 2026"),
    ],
)
def test_format_due_date(locale: str, expected: str) -> None:
    assert format_due_date(date(2026, 12, 1), locale) == expected


@pytest.mark.parametrize(
    ("locale", "language"),
    [("es_CL", "es"), ("es_MX", "es"), ("en_US", "en"), ("en-GB", "en"), ("EN", "en"),
     ("es", "es"), ("pt_BR", "es"), ("", "es")],
)  # fmt: skip
def test_language_of(locale: str, language: str) -> None:
    assert language_of(locale) == language


# --- every template renders ------------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("template", [t for t in TEMPLATE_NAMES if t != "consolidated"])
def test_every_template_renders_in_every_tone(
    template: str, channel: MessageChannel, language: str
) -> None:
    for sample in SAMPLES[language]:
        for tone in TONES:
            ctx = replace(sample, tone=tone, days_overdue=TYPICAL_DAYS[template])
            message = render_message(template, channel, ctx)
            amount = format_money(ctx.amount_due, ctx.currency, ctx.locale)
            where = f"{template}.{channel} {ctx.locale} {tone}"
            portal = SPOKEN_PORTAL[language] if channel == "voice" else ctx.portal_url
            for needed in (ctx.company_name, ctx.invoice_number, amount, portal):
                assert needed in message.body, f"{where}: {needed!r} missing"
            assert format_due_date(ctx.due_date, ctx.locale) in message.body, where
            assert "{{" not in message.body and "{%" not in message.body, where
            assert "\n\n\n" not in message.body and "  " not in message.body, where
            already_paid = "Si ya" if language == "es" else "already paid"
            assert already_paid in message.body, where
            if channel == "email":
                assert message.subject and "\n" not in message.subject, where
                assert ctx.portal_url in message.body.splitlines()[-1], where  # contact/opt-out
            else:
                assert message.subject is None, where
            if channel == "sms":
                assert len(message.body) <= 320, f"{where}: {len(message.body)} chars"
                assert message.body.endswith(SMS_OPT_OUT[language]), where
            if channel == "voice":
                assert "://" not in message.body and "\n" not in message.body, where
                assert ctx.customer_name in message.body, where  # who the call is for
                assert len(message.body) <= 1_200, f"{where}: {len(message.body)} chars"


@pytest.mark.parametrize("channel", CHANNELS)
def test_spanish_messages_address_the_debtor_as_usted(channel: MessageChannel) -> None:
    informal = re.compile(r"\b(tu|tus|tienes|puedes|pagaste|paga|ignora)\b", re.IGNORECASE)
    for template in TEMPLATE_NAMES:
        for tone in TONES:
            body = render_message(template, channel, context(tone=tone)).body
            # The SMS opt-out wording is fixed by the carriers' keyword rules, not by us.
            assert not informal.search(body.replace(SMS_OPT_OUT["es"], "")), (template, tone)


@pytest.mark.parametrize("locale", ["es_CL", "en_US"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_tone_changes_the_overdue_text(locale: str, channel: MessageChannel) -> None:
    bodies = {
        tone: render_message("overdue", channel, context(locale, tone=tone)).body for tone in TONES
    }
    assert len(set(bodies.values())) == len(TONES)
    credit = "crédito" if locale.startswith("es") else "credit"
    assert credit in bodies["firm"] and credit not in bodies["friendly"]
    slipped = "se le haya pasado" if locale.startswith("es") else "slipped"
    assert slipped in bodies["friendly"] and slipped not in bodies["firm"]


def test_overdue_wording_follows_the_days_overdue() -> None:
    one = render_message("overdue", "sms", context(days_overdue=1, tone="firm")).body
    many = render_message("overdue", "sms", context(days_overdue=20, tone="firm")).body
    assert "1 día de atraso" in one and "20 días de atraso" in many
    english = render_message("overdue", "sms", context("en_US", "USD", days_overdue=1)).body
    assert "1 day past due" in english
    late = render_message("overdue", "email", context(days_overdue=30)).body
    assert "plan de pagos" in late
    assert "plan de pagos" not in render_message("overdue", "email", context()).body


def test_before_due_says_tomorrow_the_day_before() -> None:
    assert "vence mañana" in render_message("before_due", "sms", context(days_overdue=-1)).body
    english = render_message("before_due", "sms", context("en_US", "USD", days_overdue=-1))
    assert "due tomorrow" in english.body


def test_a_partly_paid_invoice_shows_balance_and_original_total() -> None:
    ctx = context(amount_due=Decimal(450_000))
    body = render_message("overdue", "email", ctx).body
    assert "$450.000" in body and "$1.250.000" in body


@pytest.mark.parametrize("channel", CHANNELS)
def test_final_notice_announces_the_agency_without_legal_threats(channel: MessageChannel) -> None:
    forbidden = {
        "es": r"\b(judicial|tribunal|demanda|juicio|embargo|abogado|DICOM|buró)",
        "en": r"\b(court|lawsuit|sue|legal action|attorney|garnish|arrest|credit bureau)",
    }
    for locale, currency in (("es_CL", "CLP"), ("en_US", "USD")):
        language = language_of(locale)
        for tone in TONES:
            ctx = context(locale, currency, tone=tone, days_overdue=18)
            message = render_message("final_notice", channel, ctx)
            text = f"{message.subject or ''} {message.body}"
            assert not re.search(forbidden[language], text, re.IGNORECASE), (locale, tone)
            assert ("extrajudicial" if language == "es" else "agency") in text


def test_the_policy_tone_enum_is_accepted() -> None:
    as_enum = render_message("overdue", "sms", context(tone=Tone.FIRM))
    assert as_enum == render_message("overdue", "sms", context(tone="firm"))


def test_an_unknown_tone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown tone"):
        render_message("overdue", "sms", context(tone="angry"))


# --- lookup and failures ---------------------------------------------------------------------


def test_template_exists() -> None:
    assert template_exists("overdue", "sms", "es_CL")
    assert template_exists("final_notice", "email", "en")
    assert template_exists("before_due", "whatsapp", "pt_BR")  # falls back to Spanish
    assert not template_exists("no_such_template", "sms", "es_CL")
    assert not template_exists("overdue", "fax", "en_US")  # type: ignore[arg-type]
    assert not template_exists("_tone", "email", "es")  # the macros file is not a message


def test_a_missing_template_raises_template_missing() -> None:
    with pytest.raises(TemplateMissing) as raised:
        render_message("no_such_template", "whatsapp", context("en_US", "USD"))
    error = raised.value
    assert isinstance(error, LookupError)
    assert (error.template, error.channel, error.language) == ("no_such_template", "whatsapp", "en")
    assert all(part in str(error) for part in ("no_such_template", "whatsapp", "'en'"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.template, copy.channel, copy.language) == ("no_such_template", "whatsapp", "en")


def test_a_template_missing_in_one_language_is_not_borrowed_from_another() -> None:
    env = make_environment(DictLoader({"es/overdue.sms.j2": "{{ invoice_number }}"}))
    assert render_message("overdue", "sms", context(), environment=env).body == "F-2026-0042"
    with pytest.raises(TemplateMissing, match="'en'"):
        render_message("overdue", "sms", context("en_US", "USD"), environment=env)


def test_a_variable_the_context_lacks_fails_loudly() -> None:
    env = make_environment(
        DictLoader(
            {
                "es/overdue.sms.j2": "{{ invoice_number }} {{ payment_link }}",
                "es/overdue.email.j2": "{% block subject %}{{ folio }}{% endblock %}"
                "{% block body %}{{ invoice_number }}{% endblock %}",
            }
        )
    )
    with pytest.raises(UndefinedError, match="payment_link"):
        render_message("overdue", "sms", context(), environment=env)
    with pytest.raises(UndefinedError, match="folio"):
        render_message("overdue", "email", context(), environment=env)


def test_an_email_template_without_a_subject_is_an_error() -> None:
    env = make_environment(DictLoader({"es/overdue.email.j2": "{% block body %}x{% endblock %}"}))
    with pytest.raises(ValueError, match="subject"):
        render_message("overdue", "email", context(), environment=env)


# --- voice and WhatsApp templates ------------------------------------------------------------


def test_every_channel_of_the_policy_language_has_templates_and_a_sender_type() -> None:
    from activities.channels.base import Channel as SenderChannel

    channels = {channel.value for channel in Channel}
    assert set(CHANNELS) == set(get_args(MessageChannel)) == channels
    assert set(get_args(SenderChannel)) == channels


@pytest.mark.parametrize("locale", ["es_CL", "en_US"])
def test_a_call_names_the_portal_and_who_it_is_for_without_reading_a_link(locale: str) -> None:
    language = language_of(locale)
    for template in TEMPLATE_NAMES:
        if template == "consolidated":
            continue  # its own tests
        body = render_message(template, "voice", context(locale, tone="firm")).body
        assert SPOKEN_PORTAL[language] in body and "http" not in body, template
        assert "María José Pérez" in body, template


def test_a_call_about_a_partly_paid_invoice_says_the_original_total() -> None:
    body = render_message("overdue", "voice", context(amount_due=Decimal(450_000))).body
    assert "$450.000" in body and "saldo pendiente de un total de $1.250.000" in body


def test_whatsapp_template_variables_are_the_formatted_values_in_order() -> None:
    assert whatsapp_template_variables(context()) == (
        "María José Pérez",
        "F-2026-0042",
        "$1.250.000",
        "1 de diciembre de 2026",
        "https://pagar.andes.cl/f/F-2026-0042",
    )
    english = whatsapp_template_variables(context("en_US", "USD"))
    assert english[2:4] == ("$1,250.50", "December 1, 2026")
    assert len(WHATSAPP_TEMPLATE_VARIABLES) == len(english)


def test_whatsapp_template_variables_are_one_line_each() -> None:
    values = whatsapp_template_variables(context(customer_name="María\nJosé\t  Pérez "))
    assert values[0] == "María José Pérez"


def test_whatsapp_template_variables_of_several_invoices() -> None:
    lines = (
        InvoiceLine("F-2", Decimal(200_000), date(2026, 12, 5), 1),
        InvoiceLine("F-1", Decimal(50_000), date(2026, 11, 20), 16),
    )
    values = whatsapp_template_variables(context(invoices=lines))
    assert values[1:4] == ("F-2, F-1", "$250.000", "20 de noviembre de 2026")


def test_whatsapp_content_key_is_template_and_language() -> None:
    assert whatsapp_content_key("overdue", "es_CL") == "overdue.es"
    assert whatsapp_content_key("consolidated", "en-US") == "consolidated.en"
    assert whatsapp_content_key("overdue", "pt_BR") == "overdue.es"  # Spanish templates


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_consolidated_message_lists_every_invoice_and_the_total(
    channel: MessageChannel, language: str
) -> None:
    sample = SAMPLES[language][0]
    lines = (
        InvoiceLine("F-101", Decimal(120_000), sample.due_date, 22),
        InvoiceLine("F-102", Decimal(80_000), sample.due_date, 3),
        InvoiceLine("F-103", Decimal(5_000), sample.due_date, 0),
    )
    for tone in TONES:
        ctx = replace(sample, tone=tone, invoices=lines)
        message = render_message("consolidated", channel, ctx)
        total = format_money(Decimal(205_000), ctx.currency, ctx.locale)
        assert total in message.body, f"{channel} {tone}: total missing"
        if channel != "voice":
            for line in lines:
                assert line.invoice_number in message.body, f"{channel} {tone}"
        if channel == "email":
            assert message.subject and "3" in message.subject


# --- a payment plan's instalments ------------------------------------------------------------


@pytest.mark.parametrize("template", ["instalment_reminder", "instalment_due"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_an_instalment_message_asks_for_the_instalment_by_its_number(
    template: str, channel: MessageChannel
) -> None:
    # The activity puts the instalment's amount and due date in the context; the invoice's
    # original total must not be presented as a balance.
    spanish = context(amount_due=Decimal(312_500), instalment_number=2, days_overdue=-3)
    body = render_message(template, channel, spanish).body
    assert "cuota 2 de su plan de pagos de la factura F-2026-0042" in body
    assert "$312.500" in body and "$1.250.000" not in body and "saldo pendiente" not in body
    english = context(
        "en_US", "USD", amount_due=Decimal("312.50"), instalment_number=3, days_overdue=0
    )
    body = render_message(template, channel, english).body
    assert "instalment 3 of your payment plan for invoice F-2026-0042" in body
    assert "$312.50" in body and "$1,250.50" not in body


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_instalment_message_without_its_number_still_reads(channel: MessageChannel) -> None:
    body = render_message("instalment_due", channel, context(days_overdue=0)).body
    assert "la cuota de su plan de pagos" in body and "cuota None" not in body
    english = render_message("instalment_due", channel, context("en_US", "USD", days_overdue=0))
    assert "the next instalment of your payment plan" in english.body


def test_the_instalment_reminder_says_how_many_days_are_left() -> None:
    ctx = context(instalment_number=1, days_overdue=-3)
    assert "vence en 3 días" in render_message("instalment_reminder", "sms", ctx).body
    tomorrow = replace(ctx, days_overdue=-1)
    assert "vence mañana" in render_message("instalment_reminder", "sms", tomorrow).body
