"""Cookies of a signed-in browser, made directly (no users table, no sign-in round trip), for
page tests that are about a page, not about signing in (tests/web/test_sign_in.py is)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from fastapi import Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from api.web.csrf import CSRF_COOKIE
from api.web.session import SESSION_COOKIE, WebUser, start_session
from config.settings import Settings
from ledger.db import unit_of_work
from ledger.models import User


def _request() -> Request:
    return Request({"type": "http", "scheme": "http", "headers": [], "path": "/"})


def session_cookie(settings: Settings, user: WebUser) -> str:
    response = Response()
    start_session(_request(), response, settings, user)
    match = re.search(rf"{SESSION_COOKIE}=([^;]+)", response.headers["set-cookie"])
    assert match, response.headers
    return match.group(1)


def test_user(role: str, *, user_id: str | None = None, language: str = "es") -> WebUser:
    return WebUser(
        id=user_id or f"u-{role}",
        email=f"{role}@example.com",
        name=f"Test {role.title()}",
        role=role,
        language=language,
    )


test_user.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


def sign_in_as(
    http: httpx.AsyncClient, settings: Settings, user: WebUser, sessions: sessionmaker[Session]
) -> None:
    """The user's row (a session is only good while its user is active) and its cookie."""
    with unit_of_work(sessions) as session:
        if session.get(User, user.id) is None:
            session.add(
                User(
                    id=user.id,
                    email=user.email,
                    name=user.name,
                    role=user.role,
                    password_hash="-",
                    totp_secret="-",
                    totp_confirmed_at=datetime.now(UTC),
                    language=user.language,
                )
            )
    http.cookies.set(SESSION_COOKIE, session_cookie(settings, user))


async def csrf_for(http: httpx.AsyncClient, page: str) -> str:
    """GET ``page`` (which sets the CSRF cookie) and return the token its forms carry."""
    response = await http.get(page)
    assert response.status_code == 200, response.text
    assert http.cookies.get(CSRF_COOKIE), "the page set no CSRF cookie"
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)
