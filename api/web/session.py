"""Who is signed in: a signed, expiring cookie holding the user's id and role. The cookie is
HttpOnly and SameSite=Lax; nothing in it is secret, but nothing in it can be forged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.web.secrets import signing_keys
from config.settings import Settings
from ledger.models import User

SESSION_COOKIE = "dunning_session"
SIGNED_IN_SALT = "dunning.session"
PENDING_SALT = "dunning.second-factor"
PENDING_COOKIE = "dunning_pending"
"""Between the password and the code: who has given a right password, for a few minutes."""
PENDING_SECONDS = 300


@dataclass(frozen=True)
class WebUser:
    id: str
    email: str
    name: str
    role: str
    language: str


class SignInRequired(Exception):
    """No session, or one that expired or was tampered with: the page redirects to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowed(Exception):
    """Signed in, but the role may not see this page."""

    def __init__(self, user: WebUser, allowed: frozenset[str]) -> None:
        super().__init__(user.role)
        self.user = user
        self.allowed = allowed


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_keys(settings), salt=salt)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, settings: Settings, user: WebUser) -> None:
    token = _serializer(settings, SIGNED_IN_SALT).dumps(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "language": user.language,
        }
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PENDING_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(PENDING_COOKIE, path="/")


def session_user(request: Request, settings: Settings) -> WebUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        data: dict[str, Any] = _serializer(settings, SIGNED_IN_SALT).loads(
            token, max_age=int(settings.session_hours * 3600)
        )
        return WebUser(**data)
    except (BadSignature, TypeError):
        return None


def remember_password_passed(
    request: Request, response: Response, settings: Settings, user_id: str
) -> None:
    token = _serializer(settings, PENDING_SALT).dumps({"id": user_id})
    response.set_cookie(
        PENDING_COOKIE,
        token,
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def password_passed(request: Request, settings: Settings) -> str | None:
    """The id of the user who gave a right password in the last few minutes, if any."""
    token = request.cookies.get(PENDING_COOKIE)
    if not token:
        return None
    try:
        data: dict[str, Any] = _serializer(settings, PENDING_SALT).loads(
            token, max_age=PENDING_SECONDS
        )
    except BadSignature:
        return None
    user_id = data.get("id")
    return user_id if isinstance(user_id, str) else None


def path_of(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _still_active(request: Request, user: WebUser) -> WebUser | None:
    """The cookie's user as the users table has them now: a disabled user, or one whose
    second factor was reset, is signed out at their next request, not at the cookie's end;
    a changed role applies at once."""
    sessions: sessionmaker[Session] = request.app.state.context.sessions
    with sessions() as session:
        row = session.get(User, user.id)
        if row is None or row.disabled_at is not None:
            return None
        if row.totp_confirmed_at is None:
            return None  # reset: enrol again first
        return WebUser(row.id, row.email, row.name, row.role, row.language)


def signed_in(*roles: str) -> Callable[[Request], Awaitable[WebUser]]:
    """A page dependency: the signed-in user, if their role is one of ``roles`` (admin always
    is). No roles: any signed-in user."""
    allowed = frozenset(roles) | {"admin"} if roles else frozenset()

    async def check(request: Request) -> WebUser:
        settings: Settings = request.app.state.context.settings
        user = session_user(request, settings)
        if user is None:
            raise SignInRequired(path_of(request))
        current = await run_in_threadpool(_still_active, request, user)
        if current is None:
            raise SignInRequired(path_of(request))
        user = current
        if allowed and user.role not in allowed:
            raise NotAllowed(user, allowed)
        request.state.user = user
        return user

    return check
