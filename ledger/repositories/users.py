"""People who sign in to the pages: their password hash, second factor and lock-out state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from ledger.models import USER_ROLES, User
from ledger.repositories.base import Repository


class UserRepository(Repository[User]):
    model = User

    def add(
        self,
        *,
        id: str,
        email: str,
        name: str,
        role: str,
        password_hash: str,
        totp_secret: str,
        language: str,
    ) -> User:
        if role not in USER_ROLES:
            raise ValueError(f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
        user = User(
            id=id,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            totp_secret=totp_secret,
            language=language,
            failed_attempts=0,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def get(self, user_id: str) -> User | None:
        return self._get(user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalars(select(User).where(User.email == email.strip().lower())).first()

    def email_taken(self, email: str) -> bool:
        return self.get_by_email(email) is not None

    def lock_for_update(self, user_id: str) -> User | None:
        """The row, re-read and locked until the unit of work ends (PostgreSQL; SQLite's
        BEGIN IMMEDIATE already serialises writers), so two sign-in attempts at once cannot
        both read the same failure count."""
        return self.session.scalars(
            select(User)
            .where(User.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()

    def count_failure(
        self, user: User, *, at: datetime, failures_allowed: int, lock_for: timedelta
    ) -> User:
        """One more wrong password or code; the one that reaches ``failures_allowed`` locks the
        account until ``at + lock_for`` and starts the count again for after the lock."""
        user.failed_attempts = (user.failed_attempts or 0) + 1
        if user.failed_attempts >= failures_allowed:
            user.locked_until = at + lock_for
            user.failed_attempts = 0
        return user

    def clear_failures(self, user: User) -> User:
        user.failed_attempts = 0
        user.locked_until = None
        return user

    def accept_code(self, user: User, *, step: int, at: datetime) -> User:
        user.last_totp_step = step
        if user.totp_confirmed_at is None:
            user.totp_confirmed_at = at
        return self.clear_failures(user)

    def replace_second_factor(self, user_id: str, *, totp_secret: str) -> User:
        user = self._get_or_raise(user_id)
        user.totp_secret = totp_secret
        user.totp_confirmed_at = None
        user.last_totp_step = None
        return user

    def set_password_hash(self, user: User, password_hash: str) -> User:
        user.password_hash = password_hash
        return user

    def unlock(self, user_id: str) -> User:
        return self.clear_failures(self._get_or_raise(user_id))

    def disable(self, user_id: str, *, at: datetime) -> User:
        user = self._get_or_raise(user_id)
        user.disabled_at = user.disabled_at or at
        return user

    def list_users(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.name, User.email)).all()
