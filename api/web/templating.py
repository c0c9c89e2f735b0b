"""Rendering a page: the Jinja2 templates with the request's language, its CSRF token and the
product's money and date formats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.csrf import CSRF_FIELD, CSRF_HEADER, csrf_token, ensure_csrf_cookie
from api.web.i18n import request_language, translate, translate_or
from dunning_policies.messages import format_money
from dunning_policies.money import from_minor

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
LOCALES = {"es": "es_CL", "en": "en_US"}


def _money(locale: str, minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency, locale)


def _amount(locale: str, amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, locale)


def _day(locale: str, value: date | None, style: str = "medium") -> str:
    return "" if value is None else format_date(value, format=style, locale=locale)


def _moment(locale: str, value: datetime | None, zone: str = "UTC", style: str = "short") -> str:
    if value is None:
        return ""
    return format_datetime(value, format=style, tzinfo=ZoneInfo(zone), locale=locale)


def page_context(request: Request, language: str | None = None) -> dict[str, Any]:
    lang = language or request_language(request)
    locale = LOCALES[lang]
    return {
        "request": request,
        "lang": lang,
        "t": partial(translate, lang),
        "t_or": partial(translate_or, lang),
        "csrf_field": CSRF_FIELD,
        "csrf_header": CSRF_HEADER,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "money": partial(_money, locale),
        "amount": partial(_amount, locale),
        "day": partial(_day, locale),
        "moment": partial(_moment, locale),
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    values = {**page_context(request, language), **(context or {})}
    response = TEMPLATES.TemplateResponse(
        request, name, values, status_code=status_code, headers=headers
    )
    ensure_csrf_cookie(request, response)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
