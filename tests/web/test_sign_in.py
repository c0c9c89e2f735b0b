"""Signing in through the pages: password, then a code from the authenticator (enrolled by QR
code the first time), with lock-out, the rate limit, CSRF and safe redirects. The app runs in
process over httpx on a fresh SQLite ledger; no Temporal is needed for these pages."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pyotp
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.app import create_app
from api.users import Lockout, NewUser, check_code, create_user, disable
from api.web.auth_pages import safe_next
from api.web.csrf import CSRF_COOKIE
from api.web.secrets import signing_keys
from api.web.session import PENDING_COOKIE, SESSION_COOKIE, SIGNED_IN_SALT
from config.settings import Settings, get_settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.repositories.users import UserRepository
from tests.ledger_support import sqlite_url
from tests.web.sessions import csrf_for, session_cookie, sign_in_as, test_user

PASSWORD = "mate con leche 1987"
LOCKOUT = Lockout(failures=5, minutes=15)


@dataclass
class Workspace:
    settings: Settings
    sessions: sessionmaker[Session]
    http: httpx.AsyncClient
    app: Any

    def browser(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        """Another browser, from another address, on the same app."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def person(self, role: str = "collector", *, email: str = "camila@andes.cl") -> NewUser:
        return create_user(
            self.sessions, email=email, name="Camila Rojas", role=role, password=PASSWORD
        )

    def enrolled(self, role: str = "collector", *, email: str = "camila@andes.cl") -> NewUser:
        """A person whose authenticator was enrolled a minute ago."""
        made = self.person(role, email=email)
        before = datetime.now(UTC) - timedelta(minutes=1)
        code = pyotp.TOTP(made.totp_secret).at(before)
        assert check_code(self.sessions, made.id, code, before, lockout=LOCKOUT)
        return made


@asynccontextmanager
async def workspace(tmp_path: Path, **settings: Any) -> AsyncIterator[Workspace]:
    url = sqlite_url(tmp_path)
    configured = Settings(
        database_url=url, data_dir=tmp_path, web_secret=SecretStr("test-web-secret"), **settings
    )
    engine = create_ledger_engine(url)
    sessions = make_session_factory(engine)
    app = create_app(configured, sessions, client=None)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Workspace(configured, sessions, http, app)
    finally:
        engine.dispose()


@pytest.fixture
async def ws(tmp_path: Path) -> AsyncIterator[Workspace]:
    async with workspace(tmp_path) as made:
        yield made


async def give_password(
    http: httpx.AsyncClient,
    email: str,
    password: str = PASSWORD,
    *,
    next_path: str = "",
    page: str = "/app/sign-in",
) -> httpx.Response:
    token = await csrf_for(http, page)
    return await http.post(
        "/app/sign-in",
        data={"csrf_token": token, "email": email, "password": password, "next": next_path},
    )


async def give_code(http: httpx.AsyncClient, step_page: str, code: str) -> httpx.Response:
    page = await http.get(step_page)
    assert page.status_code == 200, page.text
    token = _field(page.text, "csrf_token")
    next_path = _field(page.text, "next")
    path = step_page.partition("?")[0]
    return await http.post(path, data={"csrf_token": token, "code": code, "next": next_path})


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field"
    return match.group(1).replace("&#x2F;", "/").replace("&amp;", "&")


def _alert(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>([^<]+)<', html)
    assert match, "no alert on the page"
    return match.group(1)


async def test_password_then_code_signs_in_and_goes_where_the_person_was_going(ws):
    made = ws.enrolled()
    wanted = "/app/customers/C-1?tab=timeline"
    bounced = await ws.http.get("/app/admin/users")
    assert bounced.status_code == 303
    assert bounced.headers["location"] == "/app/sign-in?next=/app/admin/users"

    first = await give_password(ws.http, "Camila@Andes.cl", next_path=wanted)
    assert first.status_code == 303
    assert (
        first.headers["location"]
        == "/app/sign-in/code?next=%2Fapp%2Fcustomers%2FC-1%3Ftab%3Dtimeline"
    )
    assert ws.http.cookies.get(PENDING_COOKIE) and not ws.http.cookies.get(SESSION_COOKIE)

    code_page = await ws.http.get(first.headers["location"])
    assert 'autocomplete="one-time-code"' in code_page.text
    assert 'inputmode="numeric"' in code_page.text
    assert "camila@andes.cl" in code_page.text and 'lang="es"' in code_page.text

    signed = await give_code(ws.http, first.headers["location"], pyotp.TOTP(made.totp_secret).now())
    assert signed.status_code == 303
    assert signed.headers["location"] == wanted
    assert ws.http.cookies.get(SESSION_COOKIE)
    again = await ws.http.get("/app/sign-in")  # signed in: the form sends you on
    assert (again.status_code, again.headers["location"]) == (303, "/app/inbox")


async def test_the_first_sign_in_enrols_the_authenticator_by_qr_code(ws):
    made = ws.person("admin")
    first = await give_password(ws.http, made.email)
    assert first.headers["location"] == "/app/sign-in/enrol"
    enrol = await ws.http.get("/app/sign-in/enrol")
    assert enrol.status_code == 200
    assert 'src="data:image/svg+xml' in enrol.text
    grouped = " ".join(made.totp_secret[i : i + 4] for i in range(0, len(made.totp_secret), 4))
    assert grouped in enrol.text
    assert "style=" not in enrol.text  # the CSP forbids inline styles
    assert (await ws.http.get("/app/sign-in/code")).headers["location"] == "/app/sign-in/enrol"

    wrong = await give_code(ws.http, "/app/sign-in/enrol", "000000")
    assert wrong.status_code == 401
    assert "El código no es correcto" in _alert(wrong.text)
    assert 'src="data:image/svg+xml' in wrong.text  # the QR code is still there to scan

    signed = await give_code(ws.http, "/app/sign-in/enrol", pyotp.TOTP(made.totp_secret).now())
    assert (signed.status_code, signed.headers["location"]) == (303, "/app/inbox")
    assert (await ws.http.get("/app/admin/users")).status_code == 200
    with unit_of_work(ws.sessions) as session:
        assert UserRepository.from_session(session).get(made.id).totp_confirmed_at is not None

    # Enrolled: a second sign-in asks for the code, and the secret is never shown again.
    other = ws.browser("10.0.0.9")
    async with other:
        again = await give_password(other, made.email)
        assert again.headers["location"] == "/app/sign-in/code"
        shown = await other.get("/app/sign-in/enrol")
        assert (shown.status_code, shown.headers["location"]) == (303, "/app/sign-in/code")


async def test_a_code_cannot_be_used_twice(ws):
    made = ws.enrolled()
    code = pyotp.TOTP(made.totp_secret).now()
    await give_password(ws.http, made.email)
    assert (await give_code(ws.http, "/app/sign-in/code", code)).status_code == 303

    thief = ws.browser("10.0.0.66")
    async with thief:
        await give_password(thief, made.email)
        replayed = await give_code(thief, "/app/sign-in/code", code)
        assert replayed.status_code == 401
        assert "ya se usó" in _alert(replayed.text)
        assert not thief.cookies.get(SESSION_COOKIE)


async def test_the_code_step_needs_a_recent_password(ws):
    assert (await ws.http.get("/app/sign-in/code")).headers["location"] == "/app/sign-in"
    token = await csrf_for(ws.http, "/app/sign-in")
    refused = await ws.http.post("/app/sign-in/code", data={"csrf_token": token, "code": "1"})
    assert refused.status_code == 401
    assert "Ingrésala otra vez" in _alert(refused.text)


async def test_five_wrong_passwords_lock_the_account_until_a_time_it_names(ws):
    made = ws.enrolled()
    for _ in range(4):
        wrong = await give_password(ws.http, made.email, "not the password")
        assert wrong.status_code == 401
        assert _alert(wrong.text) == "El correo o la contraseña no son correctos."
    unknown = await give_password(ws.http, "nadie@andes.cl", "not the password")
    assert _alert(unknown.text) == "El correo o la contraseña no son correctos."

    fifth = await give_password(ws.http, made.email, "not the password")
    with unit_of_work(ws.sessions) as session:
        locked_until = UserRepository.from_session(session).get(made.id).locked_until
    assert locked_until is not None
    assert timedelta(minutes=14) < locked_until - datetime.now(UTC) <= timedelta(minutes=15)
    until = locked_until.strftime("%H:%M")
    assert fifth.status_code == 423
    assert f"bloqueada por demasiados intentos fallidos hasta las {until}" in _alert(fifth.text)

    right = await give_password(ws.http, made.email)
    assert right.status_code == 423
    assert until in _alert(right.text)
    assert not ws.http.cookies.get(PENDING_COOKIE)


async def test_wrong_codes_lock_the_account_too(ws):
    made = ws.enrolled()
    await give_password(ws.http, made.email)
    for _ in range(4):
        assert (await give_code(ws.http, "/app/sign-in/code", "000000")).status_code == 401
    page = await ws.http.get("/app/sign-in/code")
    token = _field(page.text, "csrf_token")
    locked = await ws.http.post("/app/sign-in/code", data={"csrf_token": token, "code": "000000"})
    assert locked.status_code == 423
    assert "bloqueada" in _alert(locked.text)


async def test_messages_follow_the_chosen_language(ws):
    made = ws.enrolled()
    ws.http.headers["accept-language"] = "en-US,en;q=0.9"
    wrong = await give_password(ws.http, made.email, "not the password")
    assert _alert(wrong.text) == "The email or the password is not right."
    assert 'lang="en"' in wrong.text


async def test_too_many_attempts_get_429_with_retry_after(tmp_path):
    async with workspace(tmp_path, login_attempts_per_minute=3) as ws:
        made = ws.enrolled()
        for _ in range(3):
            assert (await give_password(ws.http, made.email, "nope nope")).status_code == 401
        refused = await give_password(ws.http, "someone.else@andes.cl", "nope nope")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "Demasiados intentos" in _alert(refused.text)
        # The same email from another address is refused too: the limit is per email as well.
        async with ws.browser("10.0.0.7") as elsewhere:
            assert (await give_password(elsewhere, made.email)).status_code == 429
            assert (await give_password(elsewhere, "otra@andes.cl", "x")).status_code == 401


async def test_a_tampered_session_cookie_sends_you_to_sign_in(ws):
    cookie = session_cookie(ws.settings, test_user("admin"))
    signed, _, signature = cookie.rpartition(".")
    forged = f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    ws.http.cookies.set(SESSION_COOKIE, forged)
    response = await ws.http.get("/app/admin/users")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/app/sign-in?next=")

    sign_in_as(ws.http, ws.settings, test_user("admin"), ws.sessions)
    assert (await ws.http.get("/app/admin/users")).status_code == 200


async def test_a_disabled_user_is_signed_out_at_the_next_request(ws):
    collector = test_user("collector")
    sign_in_as(ws.http, ws.settings, collector, ws.sessions)
    assert (await ws.http.get("/app/inbox")).status_code == 200
    disable(ws.sessions, collector.id, datetime.now(UTC))
    response = await ws.http.get("/app/inbox")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/app/sign-in?next=")


async def test_an_expired_session_sends_you_to_sign_in(ws):
    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - int(ws.settings.session_hours * 3600) - 60

    user = test_user("admin")
    old = URLSafeTimedSerializer(
        signing_keys(ws.settings), salt=SIGNED_IN_SALT, signer=Yesterday
    ).dumps(user.__dict__)
    ws.http.cookies.set(SESSION_COOKIE, old)
    response = await ws.http.get("/app/admin/users")
    assert response.status_code == 303
    assert unquote(response.headers["location"]) == "/app/sign-in?next=/app/admin/users"


async def test_signing_in_without_the_csrf_token_is_refused(ws):
    made = ws.enrolled()
    await ws.http.get("/app/sign-in")
    assert ws.http.cookies.get(CSRF_COOKIE)
    response = await ws.http.post("/app/sign-in", data={"email": made.email, "password": PASSWORD})
    assert response.status_code == 403
    assert not ws.http.cookies.get(PENDING_COOKIE)
    forged = await ws.http.post(
        "/app/sign-in",
        data={"email": made.email, "password": PASSWORD, "csrf_token": "made.up"},
    )
    assert forged.status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/app/sign-in?next=//evil.example",
        "",
    ],
)
def test_next_is_only_ever_a_path_of_this_site(target):
    assert safe_next(target) == "/app/inbox"


def test_next_keeps_a_local_path_with_its_query():
    assert safe_next("/app/customers/C-1?tab=timeline") == "/app/customers/C-1?tab=timeline"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example"])
async def test_signing_in_never_redirects_to_another_site(ws, target):
    made = ws.enrolled()
    form = await ws.http.get("/app/sign-in", params={"next": target})
    assert _field(form.text, "next") == "/app/inbox"
    first = await give_password(ws.http, made.email, next_path=target)
    assert first.headers["location"] == "/app/sign-in/code"
    signed = await give_code(
        ws.http, "/app/sign-in/code?next=" + target, pyotp.TOTP(made.totp_secret).now()
    )
    assert signed.headers["location"] == "/app/inbox"


async def test_signing_out_ends_the_session(ws):
    made = ws.enrolled("admin")
    await give_password(ws.http, made.email)
    await give_code(ws.http, "/app/sign-in/code", pyotp.TOTP(made.totp_secret).now())
    token = await csrf_for(ws.http, "/app/admin/users")
    out = await ws.http.post("/app/sign-out", data={"csrf_token": token})
    assert (out.status_code, out.headers["location"]) == (303, "/app/sign-in")
    assert not ws.http.cookies.get(SESSION_COOKIE)
    assert (await ws.http.get("/app/admin/users")).status_code == 303


async def test_a_user_made_on_the_command_line_can_sign_in(ws, monkeypatch):
    from starter import app as command_line

    monkeypatch.setenv("DUNNING_DATABASE_URL", ws.settings.database_url)
    monkeypatch.setenv("DUNNING_DATA_DIR", str(ws.settings.data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            command_line,
            [
                "users",
                "create",
                "--email",
                "Diego@Andes.cl",
                "--name",
                "Diego Soto",
                "--role",
                "ops",
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
        )
        listed = CliRunner().invoke(command_line, ["users", "list", "--json"])
        short = CliRunner().invoke(
            command_line,
            [
                "users",
                "create",
                "--email",
                "x@andes.cl",
                "--name",
                "X",
                "--role",
                "ops",
                "--password-stdin",
            ],
            input="short\n",
        )
        prompted = CliRunner().invoke(
            command_line,
            ["users", "create", "--email", "ana@andes.cl", "--name", "Ana", "--role", "admin"],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        unknown = CliRunner().invoke(command_line, ["users", "unlock", "u_nobody"])
        made_id = re.search(r"user (u_[0-9a-f]{12}) \(ops\)", result.output)
        assert made_id, result.output
        reset = CliRunner().invoke(command_line, ["users", "reset-2fa", made_id.group(1)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert re.search(r"user u_[0-9a-f]{12} \(ops\) for Diego Soto <diego@andes.cl>", result.output)
    assert "Scan this QR code" in result.output
    assert "▀" in result.output or "█" in result.output  # the QR code, drawn in the terminal
    uri = re.search(r"otpauth://totp/\S+", result.output)
    assert uri, result.output
    first_secret = pyotp.parse_uri(uri.group(0)).secret
    assert reset.exit_code == 0 and "second factor reset" in reset.output
    new_uri = re.search(r"otpauth://totp/\S+", reset.output)
    assert new_uri, reset.output
    secret = pyotp.parse_uri(new_uri.group(0)).secret
    assert secret != first_secret
    [diego] = json.loads(listed.output)
    assert (diego["email"], diego["role"], diego["second_factor_enrolled"]) == (
        "diego@andes.cl",
        "ops",
        False,
    )
    assert short.exit_code == 1 and "--password" in short.output
    assert prompted.exit_code == 0 and "(admin) for Ana <ana@andes.cl>" in prompted.output
    assert unknown.exit_code == 1 and "no user with id 'u_nobody'" in unknown.output

    first = await give_password(ws.http, "diego@andes.cl")
    assert first.headers["location"] == "/app/sign-in/enrol"
    signed = await give_code(ws.http, "/app/sign-in/enrol", pyotp.TOTP(secret).now())
    assert (signed.status_code, signed.headers["location"]) == (303, "/app/inbox")


def test_every_word_of_these_pages_is_in_both_languages_with_the_same_placeholders():
    from string import Formatter

    from api.web.i18n import auth, catalogue

    templates = Path(__file__).parents[2] / "api" / "web" / "templates"
    used = {
        key
        for folder in ("auth", "admin")
        for page in (templates / folder).glob("*.html")
        for key in re.findall(r"""t\(\s*["']([a-z_.]*[a-z_])["']""", page.read_text())
    }
    assert used - catalogue().keys() == set()
    for key, texts in auth.MESSAGES.items():
        assert key.startswith(("auth.", "admin.")), key
        assert set(texts) == {"es", "en"}, key
        fields = [{f for _, f, _, _ in Formatter().parse(texts[lang]) if f} for lang in texts]
        assert fields[0] == fields[1], key
