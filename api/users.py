"""People who sign in to the workspace: a password (argon2id) and a TOTP second factor.

A wrong password and a wrong code count towards the same lock-out, kept in the database; the
count starts again only when a whole sign-in (password and code) succeeds, so knowing the
password never buys more guesses at the code."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from math import ceil

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from ledger.db import unit_of_work
from ledger.models import USER_ROLES, User
from ledger.repositories.users import UserRepository

ROLES = USER_ROLES
LANGUAGES = ("es", "en")
MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "Cobranza"
CODE_DIGITS = 6

_hasher = PasswordHasher()


class InvalidUser(ValueError):
    """A user that cannot be made as asked; ``field`` names the culprit, ``reason`` says why
    (a short word the pages translate)."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Lockout:
    failures: int
    """This many wrong passwords or codes in a row lock the account…"""
    minutes: int
    """…for this long."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Lockout:
        return cls(settings.login_failures_before_lockout, settings.lockout_minutes)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str
    role: str
    language: str
    second_factor_enrolled: bool
    locked_until: datetime | None
    disabled: bool

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs: scan ``provisioning_uri`` or type ``totp_secret``."""

    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True)
class NewUser:
    id: str
    email: str
    name: str
    role: str
    totp_secret: str
    provisioning_uri: str


class SignIn(StrEnum):
    PASSED = "passed"
    WRONG = "wrong"
    """Unknown email or wrong password: one answer for both."""
    LOCKED = "locked"
    DISABLED = "disabled"
    """Only said to someone who gave the right password."""


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    account: Account | None = None
    locked_until: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is SignIn.PASSED


def provisioning_uri(email: str, totp_secret: str) -> str:
    return pyotp.TOTP(totp_secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def create_user(
    sessions: sessionmaker[Session],
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    language: str = "es",
) -> NewUser:
    email = _valid_email(email)
    name = name.strip()
    if not name:
        raise InvalidUser("name", "name_missing", "a name is needed")
    if role not in ROLES:
        raise InvalidUser("role", "role_unknown", f"must be one of {', '.join(ROLES)}")
    if language not in LANGUAGES:
        raise InvalidUser("language", "language_unknown", f"must be one of {', '.join(LANGUAGES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(
            "password", "password_short", f"needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    user_id = f"u_{secrets.token_hex(6)}"
    secret = pyotp.random_base32()
    password_hash = _hasher.hash(password)
    try:
        with unit_of_work(sessions) as session:
            users = UserRepository.from_session(session)
            if users.email_taken(email):
                raise _email_taken(email)
            users.add(
                id=user_id,
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                totp_secret=secret,
                language=language,
            )
    except IntegrityError as error:  # the same email made at the same moment elsewhere
        raise _email_taken(email) from error
    return NewUser(user_id, email, name, role, secret, provisioning_uri(email, secret))


def check_password(
    sessions: sessionmaker[Session], email: str, password: str, now: datetime, *, lockout: Lockout
) -> SignInResult:
    """The first step of signing in. Every answer costs one argon2 verification, whether the
    email is known or not, so the time taken tells nothing."""
    with unit_of_work(sessions) as session:
        found = UserRepository.from_session(session).get_by_email(email)
        user = None if found is None else _snapshot(found)
    if user is None:
        _password_matches(_dummy_hash(), password)
        return SignInResult(SignIn.WRONG)
    account, password_hash = user
    if account.locked_at(now):
        _password_matches(_dummy_hash(), password)
        return SignInResult(SignIn.LOCKED, locked_until=account.locked_until)
    right = _password_matches(password_hash, password)
    if account.disabled:
        return SignInResult(SignIn.DISABLED if right else SignIn.WRONG)
    with unit_of_work(sessions) as session:
        users = UserRepository.from_session(session)
        row = users.lock_for_update(account.id)
        if row is None:
            return SignInResult(SignIn.WRONG)
        if _locked(row, now):  # another attempt locked it while this one was hashing
            return SignInResult(SignIn.LOCKED, locked_until=row.locked_until)
        if not right:
            users.count_failure(
                row, at=now, failures_allowed=lockout.failures, lock_for=_minutes(lockout)
            )
            if _locked(row, now):
                return SignInResult(SignIn.LOCKED, locked_until=row.locked_until)
            return SignInResult(SignIn.WRONG)
        if _hasher.check_needs_rehash(row.password_hash):
            users.set_password_hash(row, _hasher.hash(password))
        return SignInResult(SignIn.PASSED, account=_snapshot(row)[0])


def check_code(
    sessions: sessionmaker[Session], user_id: str, code: str, now: datetime, *, lockout: Lockout
) -> bool:
    """The second step: a code from the authenticator, good within one 30-second step either
    way and only once. A wrong or reused code counts as a failure; the first good one completes
    the enrolment."""
    code = "".join(code.split())
    with unit_of_work(sessions) as session:
        users = UserRepository.from_session(session)
        user = users.lock_for_update(user_id)
        if user is None or user.disabled_at is not None or _locked(user, now):
            return False
        step = _matching_step(user.totp_secret, code, now)
        if step is None or (user.last_totp_step is not None and step <= user.last_totp_step):
            users.count_failure(
                user, at=now, failures_allowed=lockout.failures, lock_for=_minutes(lockout)
            )
            return False
        users.accept_code(user, step=step, at=now)
        return True


def find_account(sessions: sessionmaker[Session], user_id: str) -> Account | None:
    with unit_of_work(sessions) as session:
        user = UserRepository.from_session(session).get(user_id)
        return None if user is None else _snapshot(user)[0]


def pending_enrolment(sessions: sessionmaker[Session], user_id: str) -> Enrolment | None:
    """The secret to enrol, while no code has confirmed it; None once enrolled (after that the
    secret is never shown again)."""
    with unit_of_work(sessions) as session:
        user = UserRepository.from_session(session).get(user_id)
        if user is None or user.totp_confirmed_at is not None or user.disabled_at is not None:
            return None
        return Enrolment(user.totp_secret, provisioning_uri(user.email, user.totp_secret))


def reset_second_factor(sessions: sessionmaker[Session], user_id: str) -> Enrolment:
    """A new secret, not yet confirmed: the old authenticator stops working at once and the
    user enrols again at their next sign-in."""
    secret = pyotp.random_base32()
    with unit_of_work(sessions) as session:
        user = UserRepository.from_session(session).replace_second_factor(
            user_id, totp_secret=secret
        )
        return Enrolment(secret, provisioning_uri(user.email, secret))


def unlock(sessions: sessionmaker[Session], user_id: str) -> None:
    with unit_of_work(sessions) as session:
        UserRepository.from_session(session).unlock(user_id)


def disable(sessions: sessionmaker[Session], user_id: str, now: datetime) -> None:
    with unit_of_work(sessions) as session:
        UserRepository.from_session(session).disable(user_id, at=now)


def list_users(sessions: sessionmaker[Session]) -> list[Account]:
    with unit_of_work(sessions) as session:
        return [_snapshot(user)[0] for user in UserRepository.from_session(session).list_users()]


class TooManyAttempts(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many sign-in attempts; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class LoginRateLimit:
    """At most ``per_minute`` sign-in attempts in any 60 seconds for each key (a client
    address, an email, a user): a sliding window of attempt times per key.

    Per process and in memory: behind N API processes an address gets N times the budget, and
    a restart forgets it. The cross-process guard is the lock-out, which lives in the database;
    this limit keeps one process from being a fast oracle and bounds argon2's CPU cost.
    """

    WINDOW_SECONDS = 60.0
    SWEEP_ABOVE = 10_000
    """Keys kept before stale ones are swept (an address spraying emails makes one each)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, *keys: str) -> None:
        """Record one attempt under every key, or raise ``TooManyAttempts`` (recording none:
        refused attempts do not push the wait further out)."""
        now = self._clock()
        with self._lock:
            if len(self._attempts) > self.SWEEP_ABOVE:
                self._sweep(now)
            windows = [self._window(key, now) for key in keys]
            full = [window for window in windows if len(window) >= self.per_minute]
            if full:
                wait = max(window[0] + self.WINDOW_SECONDS - now for window in full)
                raise TooManyAttempts(max(1, ceil(wait)))
            for window in windows:
                window.append(now)

    def _window(self, key: str, now: float) -> deque[float]:
        window = self._attempts.setdefault(key, deque())
        while window and window[0] <= now - self.WINDOW_SECONDS:
            window.popleft()
        return window

    def _sweep(self, now: float) -> None:
        for key in list(self._attempts):
            if not self._window(key, now):
                del self._attempts[key]


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in email):
        raise InvalidUser("email", "email_invalid", f"{email!r} is not an email address")
    return email


def _email_taken(email: str) -> InvalidUser:
    return InvalidUser("email", "email_taken", f"{email} already has an account")


def _snapshot(user: User) -> tuple[Account, str]:
    account = Account(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
        second_factor_enrolled=user.totp_confirmed_at is not None,
        locked_until=user.locked_until,
        disabled=user.disabled_at is not None,
    )
    return account, user.password_hash


def _locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _minutes(lockout: Lockout) -> timedelta:
    return timedelta(minutes=lockout.minutes)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, to spend the same time on an unknown email."""
    return _hasher.hash(secrets.token_urlsafe(24))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=now, valid_window=1)
    except pyotp.exceptions.OTPVerificationError:
        return None
