"""Signing in (password, then a code from an authenticator app, enrolled by QR code the first
time), signing out, and the admin's users page."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.users import (
    LANGUAGES,
    MIN_PASSWORD_LENGTH,
    ROLES,
    Account,
    Enrolment,
    InvalidUser,
    Lockout,
    LoginRateLimit,
    SignIn,
    TooManyAttempts,
    check_code,
    check_password,
    create_user,
    disable,
    find_account,
    list_users,
    pending_enrolment,
    reset_second_factor,
    unlock,
)
from api.web.csrf import verify_csrf
from api.web.i18n import LANGUAGE_COOKIE, request_language, supported, translate
from api.web.session import (
    PENDING_COOKIE,
    WebUser,
    end_session,
    password_passed,
    remember_password_passed,
    session_user,
    signed_in,
    start_session,
)
from api.web.templating import render
from ledger.repositories.base import RecordNotFound

router = APIRouter(include_in_schema=False)

SIGN_IN = "/app/sign-in"
CODE = "/app/sign-in/code"
ENROL = "/app/sign-in/enrol"
HOME = "/app/inbox"


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _limiter(request: Request) -> LoginRateLimit:
    """One per app, made on first use (so each test's app starts with a clean slate)."""
    limiter: LoginRateLimit | None = getattr(request.app.state, "login_rate_limit", None)
    if limiter is None:
        limiter = LoginRateLimit(_context(request).settings.login_attempts_per_minute)
        request.app.state.login_rate_limit = limiter
    return limiter


def _lockout(request: Request) -> Lockout:
    return Lockout.from_settings(_context(request).settings)


def _address(request: Request) -> str:
    # The peer as uvicorn reports it; behind a proxy run uvicorn with --proxy-headers and
    # --forwarded-allow-ips so this is the browser's address, not the proxy's.
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site (no open
    redirect: "//evil.example", "https://evil.example" and "/\\evil.example" all fall back)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return HOME
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(SIGN_IN):
        return HOME
    return target


def _with_next(path: str, next_path: str) -> str:
    return path if next_path == HOME else f"{path}?{urlencode({'next': next_path})}"


def _now() -> datetime:
    return datetime.now(UTC)


def _language_for(request: Request, account: Account | None) -> str:
    """The language switch's choice, else the account's own, else the browser's."""
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    if account is not None and supported(account.language):
        return account.language
    return request_language(request)


def _web_user(account: Account) -> WebUser:
    return WebUser(account.id, account.email, account.name, account.role, account.language)


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI for an <img> (the CSP allows data: images)."""
    qr = segno.make(uri, error="m")
    return str(qr.svg_data_uri(scale=6, border=3, dark="#000", light="#fff"))


def grouped_secret(secret: str) -> str:
    """The base32 secret in groups of four, easier to type (authenticator apps ignore spaces)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrolment_view(enrolment: Enrolment) -> dict[str, str]:
    return {
        "qr": qr_data_uri(enrolment.provisioning_uri),
        "secret": grouped_secret(enrolment.totp_secret),
    }


def _locked_message(language: str, until: datetime | None) -> str:
    shown = until.astimezone(UTC).strftime("%H:%M") if until else "—"
    return translate(language, "auth.error.locked", time=shown)


# ---- Step one: email and password ------------------------------------------------------------


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> Response:
    return render(
        request,
        "auth/sign_in.html",
        {"next": next_path, "email": email, "error": error},
        status_code=status_code,
        headers=headers,
        language=language,
    )


@router.get(SIGN_IN)
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    next_path = safe_next(next)
    if session_user(request, _context(request).settings) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _sign_in_page(request, next_path=next_path)


@router.post(SIGN_IN, dependencies=[Depends(verify_csrf)])
async def sign_in(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    next_path = safe_next(next)
    email = email.strip().lower()
    lang = request_language(request)
    try:
        _limiter(request).admit(f"address:{_address(request)}", f"email:{email}")
    except TooManyAttempts as refused:
        return _too_many(request, refused, next_path=next_path, email=email)
    context = _context(request)
    result = await run_in_threadpool(
        check_password, context.sessions, email, password, _now(), lockout=_lockout(request)
    )
    if result.outcome is SignIn.LOCKED:
        error, status_code = _locked_message(lang, result.locked_until), 423
    elif result.outcome is SignIn.DISABLED:
        error, status_code = translate(lang, "auth.error.disabled"), 403
    elif result.account is None:
        error, status_code = translate(lang, "auth.error.wrong"), 401
    else:
        step = CODE if result.account.second_factor_enrolled else ENROL
        response = RedirectResponse(_with_next(step, next_path), status_code=303)
        remember_password_passed(request, response, context.settings, result.account.id)
        return response
    return _sign_in_page(
        request, next_path=next_path, email=email, error=error, status_code=status_code
    )


def _too_many(
    request: Request, refused: TooManyAttempts, *, next_path: str, email: str = ""
) -> Response:
    lang = request_language(request)
    return _sign_in_page(
        request,
        next_path=next_path,
        email=email,
        error=translate(lang, "auth.error.too_many", seconds=refused.retry_after_seconds),
        status_code=429,
        headers={"Retry-After": str(refused.retry_after_seconds)},
    )


# ---- Step two: the code, and the first time the enrolment ------------------------------------


async def _pending_account(request: Request) -> Account | None:
    """The account whose password was given in the last few minutes, if it may still sign in."""
    context = _context(request)
    user_id = password_passed(request, context.settings)
    if user_id is None:
        return None
    account = await run_in_threadpool(find_account, context.sessions, user_id)
    if account is None or account.disabled:
        return None
    return account


def _code_page(
    request: Request,
    account: Account,
    *,
    next_path: str,
    enrolment: Enrolment | None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    values: dict[str, Any] = {"next": next_path, "error": error, "email": account.email}
    if enrolment is not None:
        values["enrolment"] = enrolment_view(enrolment)
    return render(
        request,
        "auth/enrol.html" if enrolment is not None else "auth/code.html",
        values,
        status_code=status_code,
        headers=headers,
        language=_language_for(request, account),
    )


def _start_again(request: Request, next_path: str) -> Response:
    lang = request_language(request)
    response = _sign_in_page(
        request,
        next_path=next_path,
        error=translate(lang, "auth.error.step_expired"),
        status_code=401,
    )
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@router.get(CODE)
async def code_form(request: Request, next: str | None = None) -> Response:
    next_path = safe_next(next)
    account = await _pending_account(request)
    if account is None:
        return RedirectResponse(_with_next(SIGN_IN, next_path), status_code=303)
    if not account.second_factor_enrolled:
        return RedirectResponse(_with_next(ENROL, next_path), status_code=303)
    return _code_page(request, account, next_path=next_path, enrolment=None)


@router.get(ENROL)
async def enrol_form(request: Request, next: str | None = None) -> Response:
    next_path = safe_next(next)
    account = await _pending_account(request)
    if account is None:
        return RedirectResponse(_with_next(SIGN_IN, next_path), status_code=303)
    enrolment = await run_in_threadpool(pending_enrolment, _context(request).sessions, account.id)
    if enrolment is None:  # enrolled already: the secret is never shown again
        return RedirectResponse(_with_next(CODE, next_path), status_code=303)
    return _code_page(request, account, next_path=next_path, enrolment=enrolment)


@router.post(CODE, dependencies=[Depends(verify_csrf)])
async def submit_code(request: Request, code: str = Form(""), next: str = Form("")) -> Response:
    return await _second_step(request, code, safe_next(next))


@router.post(ENROL, dependencies=[Depends(verify_csrf)])
async def submit_enrolment(
    request: Request, code: str = Form(""), next: str = Form("")
) -> Response:
    return await _second_step(request, code, safe_next(next))


async def _second_step(request: Request, code: str, next_path: str) -> Response:
    context = _context(request)
    account = await _pending_account(request)
    if account is None:
        return _start_again(request, next_path)
    enrolment = await run_in_threadpool(pending_enrolment, context.sessions, account.id)
    lang = _language_for(request, account)
    try:
        _limiter(request).admit(f"address:{_address(request)}", f"user:{account.id}")
    except TooManyAttempts as refused:
        seconds = refused.retry_after_seconds
        return _code_page(
            request,
            account,
            next_path=next_path,
            enrolment=enrolment,
            error=translate(lang, "auth.error.too_many", seconds=seconds),
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    now = _now()
    accepted = await run_in_threadpool(
        check_code, context.sessions, account.id, code, now, lockout=_lockout(request)
    )
    if accepted:
        signed = RedirectResponse(next_path, status_code=303)
        start_session(request, signed, context.settings, _web_user(account))
        return signed
    after = await run_in_threadpool(find_account, context.sessions, account.id)
    if after is None or after.disabled:
        return _start_again(request, next_path)
    if after.locked_at(now):
        response = _sign_in_page(
            request,
            next_path=next_path,
            error=_locked_message(lang, after.locked_until),
            status_code=423,
            language=lang,
        )
        response.delete_cookie(PENDING_COOKIE, path="/")
        return response
    return _code_page(
        request,
        account,
        next_path=next_path,
        enrolment=enrolment,
        error=translate(lang, "auth.error.code"),
        status_code=401,
    )


@router.post("/app/sign-out", dependencies=[Depends(verify_csrf)])
async def sign_out() -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303)
    end_session(response)
    return response


# ---- The admin's users page ------------------------------------------------------------------

ADMIN_USERS = "/app/admin/users"
ADMIN = Depends(signed_in("admin"))
DONE_NOTICES = ("unlocked", "disabled")


async def _users_page(
    request: Request,
    admin: WebUser,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
    form: dict[str, str] | None = None,
    enrolment: Enrolment | None = None,
    enrolment_email: str | None = None,
    status_code: int = 200,
) -> Response:
    accounts = await run_in_threadpool(list_users, _context(request).sessions)
    return render(
        request,
        "admin/users.html",
        {
            "section": "users",
            "accounts": accounts,
            "now": _now(),
            "me": admin.id,
            "roles": ROLES,
            "languages": LANGUAGES,
            "min_password": MIN_PASSWORD_LENGTH,
            "notice": notice,
            "error": error,
            "error_field": error_field,
            "form": form or {"role": "collector", "language": "es"},
            "enrolment": None if enrolment is None else enrolment_view(enrolment),
            "enrolment_email": enrolment_email,
        },
        status_code=status_code,
    )


def _not_found(request: Request) -> Response:
    lang = request_language(request)
    return render(
        request,
        "error.html",
        {
            "title": translate(lang, "error.not_found.title"),
            "message": translate(lang, "admin.users.not_found"),
            "back": ADMIN_USERS,
        },
        status_code=404,
    )


@router.get(ADMIN_USERS)
async def users_page(
    request: Request, admin: WebUser = ADMIN, done: str | None = None, who: str | None = None
) -> Response:
    notice = None
    if done in DONE_NOTICES and who:
        account = await run_in_threadpool(find_account, _context(request).sessions, who)
        if account is not None:
            notice = translate(request_language(request), f"admin.users.{done}", name=account.name)
    return await _users_page(request, admin, notice=notice)


@router.post(ADMIN_USERS, dependencies=[Depends(verify_csrf)])
async def add_user(
    request: Request,
    admin: WebUser = ADMIN,
    name: str = Form(""),
    email: str = Form(""),
    role: str = Form("collector"),
    language: str = Form("es"),
    password: str = Form(""),
) -> Response:
    lang = request_language(request)
    try:
        made = await run_in_threadpool(
            partial(
                create_user,
                _context(request).sessions,
                email=email,
                name=name,
                role=role,
                password=password,
                language=language,
            )
        )
    except InvalidUser as problem:
        return await _users_page(
            request,
            admin,
            error=translate(lang, f"admin.error.{problem.reason}", minimum=MIN_PASSWORD_LENGTH),
            error_field=problem.field,
            form={"name": name, "email": email, "role": role, "language": language},
            status_code=400,
        )
    return await _users_page(
        request,
        admin,
        notice=translate(lang, "admin.users.created", name=made.name, email=made.email),
        enrolment=Enrolment(made.totp_secret, made.provisioning_uri),
        enrolment_email=made.email,
    )


@router.post(ADMIN_USERS + "/{user_id}/unlock", dependencies=[Depends(verify_csrf)])
async def unlock_user(request: Request, user_id: str, admin: WebUser = ADMIN) -> Response:
    try:
        await run_in_threadpool(unlock, _context(request).sessions, user_id)
    except RecordNotFound:
        return _not_found(request)
    return RedirectResponse(f"{ADMIN_USERS}?done=unlocked&who={user_id}", status_code=303)


@router.post(ADMIN_USERS + "/{user_id}/reset-second-factor", dependencies=[Depends(verify_csrf)])
async def reset_user_second_factor(
    request: Request, user_id: str, admin: WebUser = ADMIN
) -> Response:
    sessions = _context(request).sessions
    try:
        enrolment = await run_in_threadpool(reset_second_factor, sessions, user_id)
    except RecordNotFound:
        return _not_found(request)
    account = await run_in_threadpool(find_account, sessions, user_id)
    name = account.name if account else user_id
    notice = translate(request_language(request), "admin.users.reset_done", name=name)
    return await _users_page(
        request,
        admin,
        notice=notice,
        enrolment=enrolment,
        enrolment_email=account.email if account else None,
    )


@router.post(ADMIN_USERS + "/{user_id}/disable", dependencies=[Depends(verify_csrf)])
async def disable_user(request: Request, user_id: str, admin: WebUser = ADMIN) -> Response:
    if user_id == admin.id:
        error = translate(request_language(request), "admin.users.cannot_disable_self")
        return await _users_page(request, admin, error=error, status_code=400)
    try:
        await run_in_threadpool(disable, _context(request).sessions, user_id, _now())
    except RecordNotFound:
        return _not_found(request)
    return RedirectResponse(f"{ADMIN_USERS}?done=disabled&who={user_id}", status_code=303)
