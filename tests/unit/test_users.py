"""The users service on a real ledger (SQLite and PostgreSQL): passwords, codes, lock-out
and the rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from api.users import (
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
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import User
from ledger.repositories.base import RecordNotFound
from ledger.repositories.users import UserRepository
from tests.ledger_support import BACKENDS, postgres_schema_url, sqlite_url

PASSWORD = "lluvia en Valparaíso 2026"
LOCKOUT = Lockout(failures=5, minutes=15)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A ledger of its own per test, on SQLite and on PostgreSQL (the lock-out's row lock)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_url(tmp_path)
        else:
            url = stack.enter_context(postgres_schema_url())
        engine = create_ledger_engine(url)
        stack.callback(engine.dispose)
        yield make_session_factory(engine)


def _row(sessions: sessionmaker[Session], user_id: str) -> User:
    with unit_of_work(sessions) as session:
        user = UserRepository.from_session(session).get(user_id)
        assert user is not None
        return user


def _make(sessions: sessionmaker[Session], email: str = "Camila.Rojas@Andes.CL", role="collector"):
    return create_user(sessions, email=email, name="Camila Rojas", role=role, password=PASSWORD)


def _code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def test_a_new_user_keeps_an_argon2_hash_never_the_password(sessions):
    made = _make(sessions)
    row = _row(sessions, made.id)
    assert made.email == row.email == "camila.rojas@andes.cl"
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert PasswordHasher().verify(row.password_hash, PASSWORD)
    assert row.totp_secret == made.totp_secret and len(made.totp_secret) >= 16
    assert row.totp_confirmed_at is None and row.failed_attempts == 0
    assert made.provisioning_uri.startswith("otpauth://totp/Cobranza:camila.rojas%40andes.cl?")
    assert "issuer=Cobranza" in made.provisioning_uri


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"email": "CAMILA.rojas@andes.cl"}, "email", "email_taken"),
        ({"email": "camila at andes"}, "email", "email_invalid"),
        ({"password": "eleven chars"[:11]}, "password", "password_short"),
        ({"role": "erp"}, "role", "role_unknown"),
        ({"name": "  "}, "name", "name_missing"),
        ({"language": "pt"}, "language", "language_unknown"),
    ],
)
def test_a_user_that_cannot_be_made_names_the_field(sessions, changes, field, reason):
    _make(sessions)
    values = {
        "email": "otra@andes.cl",
        "name": "Otra",
        "role": "ops",
        "password": PASSWORD,
        "language": "es",
    }
    with pytest.raises(InvalidUser) as raised:
        create_user(sessions, **{**values, **changes})
    assert (raised.value.field, raised.value.reason) == (field, reason)
    assert str(raised.value).startswith(f"{field}: ")
    assert len(list_users(sessions)) == 1


def test_the_right_password_passes_and_a_wrong_one_or_an_unknown_email_do_not(sessions):
    made = _make(sessions)
    passed = check_password(sessions, "  CAMILA.rojas@andes.cl ", PASSWORD, NOON, lockout=LOCKOUT)
    assert passed.outcome is SignIn.PASSED and passed.account is not None
    assert passed.account.id == made.id and not passed.account.second_factor_enrolled
    wrong = check_password(sessions, made.email, PASSWORD + "x", NOON, lockout=LOCKOUT)
    unknown = check_password(sessions, "nadie@andes.cl", PASSWORD, NOON, lockout=LOCKOUT)
    assert wrong.outcome is unknown.outcome is SignIn.WRONG
    assert wrong.account is None and unknown.account is None
    assert _row(sessions, made.id).failed_attempts == 1


def test_five_failures_lock_the_account_even_against_the_right_password(sessions):
    made = _make(sessions)
    outcomes = [
        check_password(sessions, made.email, "not it at all", NOON, lockout=LOCKOUT).outcome
        for _ in range(5)
    ]
    assert outcomes == [SignIn.WRONG] * 4 + [SignIn.LOCKED]
    later = NOON + timedelta(minutes=14)
    locked = check_password(sessions, made.email, PASSWORD, later, lockout=LOCKOUT)
    assert locked.outcome is SignIn.LOCKED
    assert locked.locked_until == NOON + timedelta(minutes=15)
    assert not check_code(
        sessions, made.id, _code_at(made.totp_secret, later), later, lockout=LOCKOUT
    )
    after = NOON + timedelta(minutes=15, seconds=1)
    assert check_password(sessions, made.email, PASSWORD, after, lockout=LOCKOUT).passed


def test_an_admin_unlocks_at_once(sessions):
    made = _make(sessions)
    for _ in range(5):
        check_password(sessions, made.email, "not it at all", NOON, lockout=LOCKOUT)
    assert find_account(sessions, made.id).locked_at(NOON)
    unlock(sessions, made.id)
    assert check_password(sessions, made.email, PASSWORD, NOON, lockout=LOCKOUT).passed
    with pytest.raises(RecordNotFound):
        unlock(sessions, "u_nobody")


def test_a_right_password_does_not_forgive_wrong_codes_but_a_whole_sign_in_does(sessions):
    made = _make(sessions)
    for _ in range(4):
        check_password(sessions, made.email, PASSWORD, NOON, lockout=LOCKOUT)
        assert not check_code(sessions, made.id, "000000", NOON, lockout=LOCKOUT)
    assert _row(sessions, made.id).failed_attempts == 4
    assert check_password(sessions, made.email, PASSWORD, NOON, lockout=LOCKOUT).passed
    assert check_code(sessions, made.id, _code_at(made.totp_secret, NOON), NOON, lockout=LOCKOUT)
    assert _row(sessions, made.id).failed_attempts == 0


def test_wrong_codes_count_towards_the_same_lock_out(sessions):
    made = _make(sessions)
    for _ in range(3):
        check_password(sessions, made.email, "not it at all", NOON, lockout=LOCKOUT)
    assert not check_code(sessions, made.id, "123456", NOON, lockout=LOCKOUT)
    assert not check_code(sessions, made.id, "abcdef", NOON, lockout=LOCKOUT)
    assert find_account(sessions, made.id).locked_until == NOON + timedelta(minutes=15)


def test_a_code_is_good_once_and_the_first_one_completes_the_enrolment(sessions):
    made = _make(sessions)
    assert pending_enrolment(sessions, made.id) is not None
    code = _code_at(made.totp_secret, NOON)
    assert check_code(sessions, made.id, code[:3] + " " + code[3:], NOON, lockout=LOCKOUT)
    row = _row(sessions, made.id)
    assert row.totp_confirmed_at == NOON
    assert pending_enrolment(sessions, made.id) is None
    assert not check_code(sessions, made.id, code, NOON + timedelta(seconds=5), lockout=LOCKOUT)
    # The previous step's code is within the window but older than the one used: refused.
    previous = _code_at(made.totp_secret, NOON - timedelta(seconds=30))
    assert not check_code(sessions, made.id, previous, NOON, lockout=LOCKOUT)
    later = NOON + timedelta(seconds=30)
    assert check_code(sessions, made.id, _code_at(made.totp_secret, later), later, lockout=LOCKOUT)


def test_a_code_one_step_either_side_is_accepted_two_steps_is_not(sessions):
    made = _make(sessions)
    secret = made.totp_secret
    stale = _code_at(secret, NOON - timedelta(seconds=60))
    assert not check_code(sessions, made.id, stale, NOON, lockout=LOCKOUT)
    early = _code_at(secret, NOON + timedelta(seconds=30))
    assert check_code(sessions, made.id, early, NOON, lockout=LOCKOUT)


def test_resetting_the_second_factor_makes_a_new_secret_to_enrol(sessions):
    made = _make(sessions)
    assert check_code(sessions, made.id, _code_at(made.totp_secret, NOON), NOON, lockout=LOCKOUT)
    enrolment = reset_second_factor(sessions, made.id)
    assert enrolment.totp_secret != made.totp_secret
    row = _row(sessions, made.id)
    assert row.totp_confirmed_at is None and row.last_totp_step is None
    later = NOON + timedelta(minutes=1)
    assert not check_code(
        sessions, made.id, _code_at(made.totp_secret, later), later, lockout=LOCKOUT
    )
    assert pending_enrolment(sessions, made.id) == enrolment


def test_a_disabled_user_is_refused_and_told_so_only_with_the_right_password(sessions):
    made = _make(sessions)
    disable(sessions, made.id, NOON)
    right = check_password(sessions, made.email, PASSWORD, NOON, lockout=LOCKOUT)
    wrong = check_password(sessions, made.email, "not it at all", NOON, lockout=LOCKOUT)
    assert (right.outcome, wrong.outcome) == (SignIn.DISABLED, SignIn.WRONG)
    assert not check_code(
        sessions, made.id, _code_at(made.totp_secret, NOON), NOON, lockout=LOCKOUT
    )
    assert [account.disabled for account in list_users(sessions)] == [True]


def test_an_outdated_hash_is_replaced_on_the_next_right_password(sessions):
    made = _make(sessions)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with unit_of_work(sessions) as session:
        UserRepository.from_session(session).set_password_hash(_row_in(session, made.id), weak)
    assert check_password(sessions, made.email, PASSWORD, NOON, lockout=LOCKOUT).passed
    renewed = _row(sessions, made.id).password_hash
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)


def _row_in(session: Session, user_id: str) -> User:
    user = UserRepository.from_session(session).get(user_id)
    assert user is not None
    return user


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_is_a_sliding_window_per_key():
    clock = FakeClock()
    limit = LoginRateLimit(3, clock=clock)
    for second in (0, 10, 20):
        clock.now = 1000.0 + second
        limit.admit("address:10.0.0.1", "email:a@andes.cl")
    clock.now = 1030.0
    with pytest.raises(TooManyAttempts) as refused:
        limit.admit("address:10.0.0.2", "email:a@andes.cl")
    assert refused.value.retry_after_seconds == 30
    limit.admit("address:10.0.0.2", "email:b@andes.cl")  # another email from elsewhere: fine
    with pytest.raises(TooManyAttempts):
        limit.admit("address:10.0.0.1", "email:c@andes.cl")
    clock.now = 1060.5  # the first attempt left the window; refused ones never entered it
    limit.admit("address:10.0.0.1", "email:a@andes.cl")
    with pytest.raises(TooManyAttempts):
        limit.admit("address:10.0.0.1", "email:a@andes.cl")


def test_the_rate_limit_forgets_stale_keys(monkeypatch):
    clock = FakeClock()
    limit = LoginRateLimit(1, clock=clock)
    monkeypatch.setattr(LoginRateLimit, "SWEEP_ABOVE", 10)
    for n in range(11):
        limit.admit(f"email:{n}@andes.cl")
    clock.now += 61
    limit.admit("email:new@andes.cl")
    assert list(limit._attempts) == ["email:new@andes.cl"]
