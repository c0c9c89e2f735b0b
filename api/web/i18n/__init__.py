"""The pages' words in Spanish and English. Each area keeps its own catalogue module (one
owner each); a key missing in either language fails the catalogue test, not a user's page."""

from __future__ import annotations

from functools import cache

from fastapi import Request

from api.web.i18n import auth, common, customer, dashboard, inbox, policies, portal

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
LANGUAGE_COOKIE = "dunning_lang"

Catalogue = dict[str, dict[str, str]]
AREAS: tuple[Catalogue, ...] = (
    common.MESSAGES,
    auth.MESSAGES,
    inbox.MESSAGES,
    customer.MESSAGES,
    dashboard.MESSAGES,
    policies.MESSAGES,
    portal.MESSAGES,
)


@cache
def catalogue() -> Catalogue:
    merged: Catalogue = {}
    for area in AREAS:
        for key, texts in area.items():
            if key in merged and merged[key] != texts:
                raise ValueError(f"message {key!r} is defined twice, differently")
            merged[key] = texts
    return merged


def translate(language: str, key: str, /, **values: object) -> str:
    text = catalogue()[key][language]
    return text.format(**values) if values else text


def translate_or(language: str, key: str, fallback: str, /) -> str:
    """For labels of open-ended values (an event kind a newer workflow records): the
    translation when there is one, else the value made readable."""
    texts = catalogue().get(key)
    return texts[language] if texts else fallback.replace("_", " ")


def supported(language: str | None) -> str | None:
    if not language:
        return None
    short = language.strip().lower()[:2]
    return short if short in LANGUAGES else None


def request_language(request: Request) -> str:
    """The chosen language (the switch's cookie), else the signed-in user's, else the
    browser's first supported one, else Spanish."""
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    user = getattr(request.state, "user", None)
    if user is not None and supported(user.language):
        return str(user.language)
    for part in request.headers.get("accept-language", "").split(","):
        found = supported(part.split(";")[0])
        if found:
            return found
    return DEFAULT_LANGUAGE
