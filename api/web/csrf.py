"""CSRF protection for every form: a signed double-submit token. A random value lives in an
HttpOnly, SameSite=Lax cookie; every form carries that value signed with the web secret (a
hidden field) and every htmx request carries it as a header (set once on <body>). A POST whose
token does not match its cookie, or whose signature is not ours, is refused: a page on another
site can neither read the cookie nor, having planted one, sign it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from api.web.secrets import signing_keys
from config.settings import Settings

CSRF_COOKIE = "dunning_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfRejected(Exception):
    """A state-changing request without the token its cookie vouches for."""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.context.settings
    return settings


def _sign(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _nonce(request: Request) -> str:
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return str(nonce)


def csrf_token(request: Request) -> str:
    """The token a form of this page carries; ``ensure_csrf_cookie`` stores its cookie."""
    nonce = _nonce(request)
    return f"{nonce}.{_sign(signing_keys(_settings(request))[-1], nonce)}"


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce is not None and request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )


async def verify_csrf(request: Request) -> None:
    """A dependency of every POST from a page. Reads the form once (Starlette caches it for
    the endpoint's own Form parameters)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not cookie or not presented:
        raise CsrfRejected()
    nonce, _, signature = presented.partition(".")
    if not hmac.compare_digest(nonce, cookie):
        raise CsrfRejected()
    if not any(
        hmac.compare_digest(signature, _sign(key, nonce))
        for key in signing_keys(_settings(request))
    ):
        raise CsrfRejected()
