"""Customer-facing reminder messages: Jinja2 templates per language and channel, Babel formatting.

Templates live in ``templates/<language>/<template>.<channel>.j2``. Email templates define a
``subject`` and a ``body`` block; SMS, WhatsApp and voice templates are a body only (a voice body
is the script a call reads aloud). Every body is plain text (SMS, WhatsApp, the text part of an
email, a call's script), so nothing is HTML-escaped here; a sender escapes for its own format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import (
    BaseLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
)

from dunning_policies.money import quantize

MessageChannel = Literal["email", "sms", "whatsapp", "voice"]
CHANNELS: tuple[MessageChannel, ...] = ("email", "sms", "whatsapp", "voice")
TEMPLATE_NAMES: tuple[str, ...] = (
    "before_due",
    "due_today",
    "overdue",
    "final_notice",
    "promise_broken",
    "consolidated",
    "instalment_reminder",
    "instalment_due",
)
TONES: tuple[str, ...] = ("friendly", "neutral", "firm", "final")
SUPPORTED_LANGUAGES: tuple[str, ...] = ("es", "en")
DEFAULT_LANGUAGE = "es"

# A bare language ("es", "en") says nothing about number conventions; the currency says where
# the debtor most likely is. CLDR has no en_CL/en_MX, so these are Spanish locales for everyone.
_CURRENCY_LOCALES = {"CLP": "es_CL", "MXN": "es_MX", "COP": "es_CO", "PEN": "es_PE"}
_USD_LOCALES = {"en": "en_US", "es": "es_US"}
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice of a consolidated message."""

    invoice_number: str
    amount_due: Decimal
    due_date: date
    days_overdue: int


@dataclass(frozen=True)
class MessageContext:
    company_name: str
    customer_name: str
    invoice_number: str
    amount_due: Decimal
    original_amount: Decimal
    currency: str
    due_date: date
    days_overdue: int
    """Negative before the due date."""
    portal_url: str
    tone: str
    """One of ``TONES``."""
    locale: str
    """``es_CL``, ``es_MX``, ``en_US``, or a bare ``es`` / ``en``."""
    invoices: tuple[InvoiceLine, ...] = ()
    """A consolidated message's invoices (the ``consolidated`` template lists them)."""
    instalment_number: int | None = None
    """For a payment plan's messages (``instalment_*``): which instalment ``amount_due`` and
    ``due_date`` are; the templates then say "cuota 2" / "instalment 2"."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    """Email only."""
    body: str


class TemplateMissing(LookupError):
    """No template for this message in the debtor's language and channel."""

    def __init__(self, template: str, channel: str, language: str) -> None:
        # All values go to Exception.args so the error pickles across process boundaries.
        super().__init__(template, channel, language)
        self.template = template
        self.channel = channel
        self.language = language

    def __str__(self) -> str:
        return f"no {self.channel} template {self.template!r} in language {self.language!r}"


def language_of(locale: str) -> str:
    """``es_CL`` → ``es``; a language we have no templates for falls back to Spanish."""
    language = re.split(r"[_\-.@]", locale.strip(), maxsplit=1)[0].lower()
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=256)
def _babel_locale(locale: str, currency: str | None = None) -> Locale:
    # Cached: parsing costs more than the formatting it serves, and a few locales recur.
    try:
        parsed = Locale.parse(locale.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        parsed = Locale.parse(language_of(locale))
    if parsed.territory is None and currency is not None:
        code = currency.upper()
        default = (
            _USD_LOCALES.get(parsed.language) if code == "USD" else _CURRENCY_LOCALES.get(code)
        )
        if default is not None:
            return Locale.parse(default)
    return parsed


@lru_cache(maxsize=4096)
def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """As Babel writes it: es_CL CLP → ``$1.250.000``; es_CL USD → ``US$1.250,50``."""
    code = currency.upper()
    return format_currency(quantize(amount, code), code, locale=_babel_locale(locale, code))


@lru_cache(maxsize=4096)
def format_due_date(value: date, locale: str) -> str:
    """Long form: es ``1 de diciembre de 2026``, en ``December 1, 2026``."""
    return format_date(value, format="long", locale=_babel_locale(locale))


def make_environment(loader: BaseLoader | None = None) -> Environment:
    """The environment messages render in; tests may pass their own loader."""
    return Environment(
        loader=loader or PackageLoader("dunning_policies", "templates"),
        undefined=StrictUndefined,  # a missing variable is an error, never a blank
        autoescape=False,  # plain text bodies; an HTML email part must escape on its own
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


_ENVIRONMENT = make_environment()


def _path(template: str, channel: str, language: str) -> str:
    return f"{language}/{template}.{channel}.j2"


def template_exists(
    template: str, channel: MessageChannel, locale: str, *, environment: Environment | None = None
) -> bool:
    try:
        (environment or _ENVIRONMENT).get_template(_path(template, channel, language_of(locale)))
    except TemplateNotFound:
        return False
    return True


def render_message(
    template: str,
    channel: MessageChannel,
    context: MessageContext,
    *,
    environment: Environment | None = None,
) -> RenderedMessage:
    if context.tone not in TONES:
        raise ValueError(f"unknown tone {context.tone!r}; expected one of {TONES}")
    language = language_of(context.locale)
    try:
        compiled = (environment or _ENVIRONMENT).get_template(_path(template, channel, language))
    except TemplateNotFound as error:
        raise TemplateMissing(template, channel, language) from error
    variables = _variables(context)
    if channel == "email":
        subject = " ".join(_block(compiled, "subject", variables).split())
        return RenderedMessage(subject=subject, body=_tidy(_block(compiled, "body", variables)))
    body = compiled.render(variables)
    # An SMS is one paragraph: handsets break lines unpredictably and every character counts.
    # A call's script too: a speech engine pauses at punctuation, never at a line break.
    body = " ".join(body.split()) if channel in ("sms", "voice") else _tidy(body)
    return RenderedMessage(subject=None, body=body)


def whatsapp_content_key(template: str, locale: str) -> str:
    """``overdue`` for ``es_CL`` → ``overdue.es``: how an approved WhatsApp content template is
    named in the settings (one per template and language, as Meta approves them)."""
    return f"{template}.{language_of(locale)}"


WHATSAPP_TEMPLATE_VARIABLES: tuple[str, ...] = (
    "customer name",
    "invoice number (a consolidated message: every number, comma-separated)",
    "amount due (a consolidated message: the total)",
    "due date (a consolidated message: the oldest)",
    "portal link",
)
"""What ``{{1}}``…``{{5}}`` of every approved WhatsApp template stand for, in this order."""


def whatsapp_template_variables(context: MessageContext) -> tuple[str, ...]:
    """The values of an approved WhatsApp template's ``{{1}}``…``{{5}}``, in the order of
    ``WHATSAPP_TEMPLATE_VARIABLES``; amounts and dates as the debtor's locale writes them
    (``$1.250.000``, ``1 de diciembre de 2026``), as in the free-form text."""
    if context.invoices:
        number = ", ".join(line.invoice_number for line in context.invoices)
        amount = sum((line.amount_due for line in context.invoices), Decimal(0))
        due = min(line.due_date for line in context.invoices)
    else:
        number, amount, due = context.invoice_number, context.amount_due, context.due_date
    values = (
        context.customer_name,
        number,
        format_money(amount, context.currency, context.locale),
        format_due_date(due, context.locale),
        context.portal_url,
    )
    # WhatsApp refuses a variable with a line break, a tab or a run of spaces.
    return tuple(" ".join(value.split()) for value in values)


def _variables(context: MessageContext) -> dict[str, Any]:
    """The context's fields, plus the values already formatted for the debtor's locale."""
    return {
        **{field.name: getattr(context, field.name) for field in fields(context)},
        "tone": str(context.tone),
        "amount": format_money(context.amount_due, context.currency, context.locale),
        "original": format_money(context.original_amount, context.currency, context.locale),
        "partially_paid": context.amount_due < context.original_amount,
        "due": format_due_date(context.due_date, context.locale),
        "days_until_due": -context.days_overdue,
        "lines": [
            {
                "number": line.invoice_number,
                "amount": format_money(line.amount_due, context.currency, context.locale),
                "due": format_due_date(line.due_date, context.locale),
                "days_overdue": line.days_overdue,
            }
            for line in context.invoices
        ],
        "total": format_money(
            sum((line.amount_due for line in context.invoices), Decimal(0)),
            context.currency,
            context.locale,
        ),
    }


def _block(template: Template, name: str, variables: dict[str, Any]) -> str:
    if name not in template.blocks:
        raise ValueError(f"template {template.name!r} has no {{% block {name} %}}")
    try:
        return "".join(template.blocks[name](template.new_context(variables)))
    except Exception:
        # Point the traceback at the template line, as Template.render does.
        template.environment.handle_exception()


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line between paragraphs (conditionals leave gaps)."""
    return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.strip().splitlines()))
