"""The admin's users page: who may see it, making a user (and their enrolment QR code, shown
once), unlocking, resetting the second factor and disabling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest

from api.users import check_password, find_account, list_users
from ledger.db import unit_of_work
from ledger.repositories.users import UserRepository
from tests.web.sessions import csrf_for, sign_in_as, test_user
from tests.web.test_sign_in import (
    LOCKOUT,
    PASSWORD,
    Workspace,
    _alert,
    give_code,
    give_password,
    workspace,
)

USERS = "/app/admin/users"


@pytest.fixture
async def ws(tmp_path: Path) -> AsyncIterator[Workspace]:
    async with workspace(tmp_path) as made:
        sign_in_as(made.http, made.settings, test_user("admin"), made.sessions)
        yield made


async def _post(ws: Workspace, path: str, **data: str):
    token = await csrf_for(ws.http, USERS)
    return await ws.http.post(path, data={"csrf_token": token, **data})


@pytest.mark.parametrize("role", ["collector", "ops"])
async def test_only_an_admin_sees_the_users_page(tmp_path, role):
    async with workspace(tmp_path) as ws:
        sign_in_as(ws.http, ws.settings, test_user(role), ws.sessions)
        page = await ws.http.get(USERS)
        assert page.status_code == 403
        assert "Sin acceso" in page.text
        refused = await ws.http.post(USERS + "/u_any/unlock", headers={"x-csrf-token": "whatever"})
        assert refused.status_code == 403


async def test_the_page_lists_users_with_their_second_factor_and_lock(ws):
    enrolled = ws.enrolled()
    locked = ws.person("ops", email="diego@andes.cl")
    for _ in range(5):
        check_password(ws.sessions, locked.email, "wrong wrong", datetime.now(UTC), lockout=LOCKOUT)
    page = await ws.http.get(USERS)
    assert page.status_code == 200
    assert 'aria-current="page"' in page.text and '<th scope="col">Segundo factor</th>' in page.text
    row_of = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr id="user-(\w+)">.*?</tr>', page.text, re.S)
    }
    assert "Activado" in row_of[enrolled.id] and "No bloqueado" in row_of[enrolled.id]
    assert "Pendiente" in row_of[locked.id] and "UTC</time>" in row_of[locked.id]
    assert f"/app/admin/users/{locked.id}/unlock" in row_of[locked.id]
    assert f"/app/admin/users/{enrolled.id}/unlock" not in row_of[enrolled.id]


async def test_an_admin_makes_a_user_who_then_signs_in_with_the_qr_shown_once(ws):
    made = await _post(
        ws,
        USERS,
        name="Valentina Muñoz",
        email="Valentina@Andes.cl",
        role="collector",
        language="es",
        password=PASSWORD,
    )
    assert made.status_code == 200
    assert "Se creó la cuenta de Valentina Muñoz (valentina@andes.cl)." in made.text
    assert 'src="data:image/svg+xml' in made.text
    assert 'alt="Código QR para agregar valentina@andes.cl a tu aplicación' in made.text
    [account] = [a for a in list_users(ws.sessions) if a.email == "valentina@andes.cl"]
    assert (account.email, account.role, account.second_factor_enrolled) == (
        "valentina@andes.cl",
        "collector",
        False,
    )
    with unit_of_work(ws.sessions) as session:
        row = UserRepository.from_session(session).get(account.id)
        assert row is not None
        secret, password_hash = row.totp_secret, row.password_hash
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash
    shown = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert shown in made.text
    assert shown not in (await ws.http.get(USERS)).text  # once

    async with ws.browser("10.0.0.5") as browser:
        first = await give_password(browser, "valentina@andes.cl")
        signed = await give_code(browser, first.headers["location"], pyotp.TOTP(secret).now())
        assert (signed.status_code, signed.headers["location"]) == (303, "/app/inbox")


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"email": "camila@andes.cl"}, "ya hay una cuenta con esa dirección", "new-email"),
        ({"email": "no-es-correo"}, "no es una dirección válida", "new-email"),
        ({"password": "corta"}, "al menos 12 caracteres", "new-password"),
        ({"role": "erp"}, "Rol: elige uno", "new-role"),
    ],
)
async def test_a_user_that_cannot_be_made_is_explained_in_place(ws, changes, message, field):
    ws.person()
    values = {
        "name": "Otra Persona",
        "email": "otra@andes.cl",
        "role": "ops",
        "language": "es",
        "password": PASSWORD,
    }
    refused = await _post(ws, USERS, **{**values, **changes})
    assert refused.status_code == 400
    assert message in _alert(refused.text)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text, re.S)
    assert 'value="Otra Persona"' in refused.text  # what was typed stays
    assert "otra@andes.cl" not in [account.email for account in list_users(ws.sessions)]


async def test_an_admin_unlocks_a_locked_out_user(ws):
    person = ws.enrolled()
    for _ in range(5):
        check_password(ws.sessions, person.email, "wrong wrong", datetime.now(UTC), lockout=LOCKOUT)
    unlocked = await _post(ws, f"{USERS}/{person.id}/unlock")
    assert (unlocked.status_code, unlocked.headers["location"]) == (
        303,
        f"{USERS}?done=unlocked&who={person.id}",
    )
    assert (
        "Se desbloqueó la cuenta de Camila Rojas."
        in (await ws.http.get(unlocked.headers["location"])).text
    )
    assert not find_account(ws.sessions, person.id).locked_at(datetime.now(UTC))
    async with ws.browser("10.0.0.5") as browser:
        assert (await give_password(browser, person.email)).status_code == 303


async def test_an_admin_resets_a_second_factor(ws):
    person = ws.enrolled()
    reset = await _post(ws, f"{USERS}/{person.id}/reset-second-factor")
    assert reset.status_code == 200
    assert "Se restableció el segundo factor de Camila Rojas." in reset.text
    assert 'src="data:image/svg+xml' in reset.text
    with unit_of_work(ws.sessions) as session:
        row = UserRepository.from_session(session).get(person.id)
        assert row is not None
        assert row.totp_secret != person.totp_secret and row.totp_confirmed_at is None
        new_secret = row.totp_secret
    async with ws.browser("10.0.0.5") as browser:
        first = await give_password(browser, person.email)
        assert first.headers["location"] == "/app/sign-in/enrol"
        stale = await give_code(browser, "/app/sign-in/enrol", pyotp.TOTP(person.totp_secret).now())
        assert stale.status_code == 401
        signed = await give_code(browser, "/app/sign-in/enrol", pyotp.TOTP(new_secret).now())
        assert signed.status_code == 303


async def test_an_admin_disables_a_user_but_not_themselves(ws):
    person = ws.enrolled()
    disabled = await _post(ws, f"{USERS}/{person.id}/disable")
    assert disabled.status_code == 303
    page = await ws.http.get(disabled.headers["location"])
    assert "Se desactivó la cuenta de Camila Rojas." in page.text
    async with ws.browser("10.0.0.5") as browser:
        refused = await give_password(browser, person.email)
        assert refused.status_code == 403
        assert "desactivada" in _alert(refused.text)

    myself = await _post(ws, f"{USERS}/{test_user('admin').id}/disable")
    assert myself.status_code == 400
    assert "No puedes desactivar tu propia cuenta." in _alert(myself.text)


async def test_an_unknown_user_is_not_found(ws):
    for action in ("unlock", "reset-second-factor", "disable"):
        missing = await _post(ws, f"{USERS}/u_nobody/{action}")
        assert missing.status_code == 404
        assert "Ese usuario no existe." in missing.text


async def test_admin_actions_need_the_csrf_token(ws):
    person = ws.person()
    await ws.http.get(USERS)
    refused = await ws.http.post(f"{USERS}/{person.id}/disable")
    assert refused.status_code == 403
    assert not find_account(ws.sessions, person.id).disabled
