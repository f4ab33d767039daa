"""Accounts: registration and activation, login and tokens, passwords, profile.

Throttle keys are per cellphone. Each failure that must be remembered is raised as an error with
``keep_writes``, so the counter written before it commits with the request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts import errors
from hojre.accounts.models import AccessToken, ActivationCode, Role, User
from hojre.accounts.schemas import Location
from hojre.core.clock import utcnow
from hojre.core.db import on_commit
from hojre.core.dialect import upsert
from hojre.core.errors import TooManyAttempts, ValidationFailed
from hojre.core.events import to_user
from hojre.core.hub import Hub
from hojre.core.security import (
    dummy_hash,
    hash_password,
    new_activation_code,
    new_temp_password,
    new_token,
    same_hash,
    sha256_hex,
    verify_password,
)
from hojre.core.sql import Conn, Prelude, Query
from hojre.core.text import ascii_digits, normalize_cellphone

MIN_PASSWORD = 6
# Sent to a user's sockets when some of their tokens were revoked.
REVOKED_EVENT = "session.revoked"
MAX_PASSWORD = 128
STAFF_ROLES = frozenset({Role.seller, Role.store_manager})
_CODE = re.compile(r"[1-9][0-9]{4}")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    user: User
    token: str


# -- lookups ---------------------------------------------------------------------------------


async def get_user_by_cellphone(session: AsyncSession, cellphone: str) -> User | None:
    result = await session.execute(select(User).where(User.cellphone == cellphone))
    return result.scalar_one_or_none()


class Actor(Protocol):
    """Who acts: a :class:`Caller` or a :class:`User` (the demo and the CLI act as users)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> int: ...


class Caller(NamedTuple):
    """The authenticated user of a request: their profile, read with the token check."""

    id: int
    cellphone: str
    role: int
    email: str | None
    name: str | None
    family: str | None
    phone: str | None
    address: str | None
    gender: str | None
    country_id: int | None
    state_id: int | None
    city_id: int | None
    hood_id: int | None
    instagram: str | None
    telegram_channel: str | None
    telegram: str | None
    linkedin: str | None
    facebook: str | None
    twitter: str | None
    googleplus: str | None
    website: str | None
    avatar: str | None
    longitude: float | None
    latitude: float | None


_LOGIN = Query(
    select(*(getattr(User, name) for name in Caller._fields))
    .join(AccessToken, AccessToken.user_id == User.id)
    .where(
        AccessToken.token_hash == bindparam("token_hash"), User.cellphone == bindparam("cellphone")
    )
)


async def authenticate(conn: Conn, *, username: str, token: str) -> Caller | None:
    """The user owning ``token``, if ``username`` is theirs. One statement."""
    cellphone = normalize_cellphone(username)
    if cellphone is None or not token:
        return None
    row = await conn.one(_LOGIN, token_hash=sha256_hex(token), cellphone=cellphone)
    return None if row is None else Caller._make(row)


def login_prelude(
    *, username: str, token: str, missing: Callable[[], BaseException]
) -> Prelude | None:
    """The same check, run by the first statement given it as the caller's id (one round
    trip for both on PostgreSQL); None when the credentials cannot match anyone."""
    cellphone = normalize_cellphone(username)
    if cellphone is None or not token:
        return None
    return Prelude(_LOGIN, {"token_hash": sha256_hex(token), "cellphone": cellphone}, missing)


def caller_of(prelude: Prelude) -> Caller:
    return Caller._make(prelude.row)


async def _token_owner(session: AsyncSession, *, username: str, token: str) -> User | None:
    cellphone = normalize_cellphone(username)
    if cellphone is None or not token:
        return None
    result = await session.execute(
        select(User)
        .join(AccessToken, AccessToken.user_id == User.id)
        .where(AccessToken.token_hash == sha256_hex(token), User.cellphone == cellphone)
    )
    return result.scalar_one_or_none()


# -- passwords (argon2 is slow on purpose: keep it off the event loop) -----------------------


async def _hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def _verify(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, stored, password)


def _code_hash(user_id: int, code: str) -> str:
    # Salted with the user id so one table of 90,000 hashes does not fit every row.
    return sha256_hex(f"{user_id}:{code}")


# -- registration and activation -------------------------------------------------------------


async def register(session: AsyncSession, hub: Hub, *, username: str, password: str) -> User:
    if not username.strip() or not password:
        raise errors.BlankCredentials
    cellphone = normalize_cellphone(username)
    if cellphone is None:
        raise errors.CellphoneInvalid
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise errors.CantValidateData
    settings = hub.settings
    attempts = await hub.limiter.hit(
        session, f"register:{cellphone}", window=settings.register_window_seconds
    )
    if attempts > settings.register_max_sends:
        raise TooManyAttempts

    password_hash = await _hash(password)
    # The unique cellphone decides between parallel registrations: exactly one insert wins.
    inserted = await session.execute(
        upsert(session, User)
        .values(
            cellphone=cellphone,
            password_hash=password_hash,
            is_active=False,
            role=Role.customer,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["cellphone"])
        .returning(User.id)
    )
    user_id = inserted.scalar()
    if user_id is None:
        existing = await get_user_by_cellphone(session, cellphone)
        if existing is not None and existing.is_active:
            raise errors.CellphoneTaken
        raise errors.RegisteredNotActivated
    user = await session.get_one(User, user_id)
    await _send_activation_code(session, hub, user)
    return user


async def _send_activation_code(session: AsyncSession, hub: Hub, user: User) -> None:
    settings = hub.settings
    per_minute = await hub.limiter.hit(session, f"code-minute:{user.cellphone}", window=60)
    per_day = await hub.limiter.hit(session, f"code-day:{user.cellphone}", window=86400)
    if (
        per_minute > settings.activation_codes_per_minute
        or per_day > settings.activation_codes_per_day
    ):
        raise TooManyAttempts
    code = new_activation_code()
    now = utcnow()
    values = {
        "code_hash": _code_hash(user.id, code),
        "tries": 0,
        "expires_at": now + timedelta(seconds=settings.activation_code_ttl_seconds),
        "created_at": now,
    }
    await session.execute(
        upsert(session, ActivationCode)
        .values(user_id=user.id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    await hub.outbox.enqueue(
        session,
        to=user.cellphone,
        text=f"Hojrenama activation code: {code}\nکد فعال‌سازی حجره‌نما: {code}",
        kind="activation",
        code=code,
    )


async def new_activation_code_for(session: AsyncSession, hub: Hub, *, username: str) -> None:
    cellphone = normalize_cellphone(username)
    user = await get_user_by_cellphone(session, cellphone) if cellphone else None
    if user is None:
        raise errors.NotRegistered
    if user.is_active:
        raise errors.AlreadyActivated
    await _send_activation_code(session, hub, user)


async def check_activation_code(
    session: AsyncSession, hub: Hub, *, username: str, code: str
) -> User:
    """Activate the user if ``code`` is their live code.

    Each check spends one try with a single ``UPDATE … WHERE tries < max``, so parallel guesses
    cannot exceed the limit; the code is compared only after its try was spent.
    """
    cellphone = normalize_cellphone(username)
    user = await get_user_by_cellphone(session, cellphone) if cellphone else None
    if user is None:
        raise errors.IncorrectCode
    if user.is_active:
        return user  # a retried request after success
    code = ascii_digits(code).strip()
    if _CODE.fullmatch(code) is None:
        raise errors.IncorrectCode
    spent = await session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.user_id == user.id,
            ActivationCode.tries < hub.settings.activation_code_max_tries,
            ActivationCode.expires_at > utcnow(),
        )
        .values(tries=ActivationCode.tries + 1)
        .returning(ActivationCode.code_hash)
    )
    stored = spent.scalar()
    if stored is None or not same_hash(stored, _code_hash(user.id, code)):
        raise errors.IncorrectCode
    await session.execute(delete(ActivationCode).where(ActivationCode.user_id == user.id))
    user.is_active = True
    user.activated_at = utcnow()
    await session.flush()
    return user


# -- login and tokens ------------------------------------------------------------------------


async def _issue_token(session: AsyncSession, user: User) -> str:
    token = new_token()
    session.add(AccessToken(user_id=user.id, token_hash=sha256_hex(token)))
    await session.flush()
    return token


async def login(
    session: AsyncSession,
    hub: Hub,
    *,
    username: str,
    password: str,
    staff_only: bool = False,
) -> IssuedToken:
    """Check the password (or the pending temporary one) and issue a new token.

    Every attempt is counted *before* the password is checked, so parallel guesses cannot get
    past the limit; a success clears the count.
    """
    cellphone = normalize_cellphone(username)
    if cellphone is None or not password:
        raise errors.WrongCredentials
    settings = hub.settings
    key = f"login:{cellphone}"
    if await hub.limiter.hit(session, key, window=settings.login_window_seconds) > (
        settings.login_max_failures
    ):
        raise TooManyAttempts
    user = await get_user_by_cellphone(session, cellphone)
    if user is None:
        await _verify(dummy_hash(), password)  # same time as a wrong password
        raise errors.LoginUserNotFound
    used_temp = False
    if not await _verify(user.password_hash, password):
        temp_valid = (
            user.temp_password_hash is not None
            and user.temp_password_expires_at is not None
            and user.temp_password_expires_at > utcnow()
        )
        if not (temp_valid and await _verify(user.temp_password_hash, password)):
            raise errors.WrongCredentials
        used_temp = True
    if not user.is_active:
        raise errors.LoginNotActivated
    if staff_only and user.role not in STAFF_ROLES:
        raise errors.NotStaff
    await hub.limiter.reset(session, key)
    if used_temp:
        # The temporary password becomes the password; sessions opened with the old one end.
        user.password_hash = user.temp_password_hash or user.password_hash
        user.temp_password_hash = None
        user.temp_password_expires_at = None
        await session.execute(delete(AccessToken).where(AccessToken.user_id == user.id))
        _sessions_revoked(session, hub, user.id)
    token = await _issue_token(session, user)
    return IssuedToken(user=user, token=token)


def _sessions_revoked(session: AsyncSession, hub: Hub, user_id: int) -> None:
    """Tell the user's live sockets to re-check their token (some were just revoked)."""
    hub.events.publish_on_commit(session, [to_user(user_id)], REVOKED_EVENT, {})


async def rotate_token(
    session: AsyncSession, hub: Hub, *, username: str, token: str
) -> IssuedToken:
    """Replace ``token`` by a new one; the old one stops working."""
    user = await _token_owner(session, username=username, token=token)
    if user is None:
        raise errors.TokenInvalid
    removed = await session.execute(
        delete(AccessToken)
        .where(AccessToken.token_hash == sha256_hex(token))
        .returning(AccessToken.id)
    )
    if removed.scalar() is None:  # rotated by a parallel request a moment ago
        raise errors.TokenInvalid
    _sessions_revoked(session, hub, user.id)
    return IssuedToken(user=user, token=await _issue_token(session, user))


async def forget_password(session: AsyncSession, hub: Hub, *, username: str) -> None:
    """Send a temporary password. The current password keeps working until it is used."""
    settings = hub.settings
    cellphone = normalize_cellphone(username)
    if cellphone is None:
        raise errors.ForgetUserNotFound
    sends = await hub.limiter.hit(
        session, f"forget:{cellphone}", window=settings.forget_window_seconds
    )
    if sends > settings.forget_max_sends:
        raise TooManyAttempts
    user = await get_user_by_cellphone(session, cellphone)
    if user is None:
        raise errors.ForgetUserNotFound
    temp = new_temp_password()
    user.temp_password_hash = await _hash(temp)
    user.temp_password_expires_at = utcnow() + timedelta(seconds=settings.temp_password_ttl_seconds)
    await session.flush()
    await hub.outbox.enqueue(
        session,
        to=user.cellphone,
        text=f"Hojrenama temporary password: {temp}\nرمز موقت حجره‌نما: {temp}",
        kind="temp_password",
        code=temp,
    )


async def change_password(
    session: AsyncSession,
    hub: Hub,
    *,
    user: User,
    current_token: str,
    old_password: str,
    new_password: str,
) -> None:
    """Set a new password and end every other session of the user."""
    settings = hub.settings
    problems = []
    if not old_password:
        problems.append("Old Password cannot be blank.")
    if not new_password:
        problems.append("New Password cannot be blank.")
    elif len(new_password) < MIN_PASSWORD:
        problems.append(f"New Password should contain at least {MIN_PASSWORD} characters.")
    elif len(new_password) > MAX_PASSWORD:
        problems.append(f"New Password should contain at most {MAX_PASSWORD} characters.")
    if problems:
        raise ValidationFailed(problems)
    key = f"login:{user.cellphone}"
    if await hub.limiter.hit(session, key, window=settings.login_window_seconds) > (
        settings.login_max_failures
    ):
        raise TooManyAttempts
    if not await _verify(user.password_hash, old_password):
        raise errors.OldPasswordIncorrect
    await hub.limiter.reset(session, key)
    user.password_hash = await _hash(new_password)
    user.temp_password_hash = None
    user.temp_password_expires_at = None
    await session.execute(
        delete(AccessToken).where(
            AccessToken.user_id == user.id, AccessToken.token_hash != sha256_hex(current_token)
        )
    )
    _sessions_revoked(session, hub, user.id)
    await session.flush()


# -- profile and location --------------------------------------------------------------------


def record_location(tx: AsyncSession | Conn, hub: Hub, *, user: Caller, where: Location) -> None:
    """Remember where the user was, after the request commits, in its own short transaction.

    Done apart from the request so a read-only request stays read-only, and only when the
    position moved.
    """
    if user.longitude == where.longitude and user.latitude == where.latitude:
        return
    user_id = user.id

    async def write() -> None:
        async with hub.db.unit_of_work(write=True) as own:
            await own.execute(
                update(User)
                .where(User.id == user_id)
                .values(longitude=where.longitude, latitude=where.latitude, located_at=utcnow())
            )

    on_commit(tx, write)


# -- administration (CLI, demo data, tests) --------------------------------------------------


async def create_user(
    session: AsyncSession,
    *,
    cellphone: str,
    password: str,
    role: Role = Role.customer,
    active: bool = True,
    **profile: object,
) -> User:
    """Create an account directly (no SMS). Raises :class:`errors.CellphoneTaken`."""
    normalized = normalize_cellphone(cellphone)
    if normalized is None:
        raise errors.CellphoneInvalid
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise errors.CantValidateData
    user = User(
        cellphone=normalized,
        password_hash=await _hash(password),
        role=int(role),
        is_active=active,
        activated_at=utcnow() if active else None,
        **profile,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise errors.CellphoneTaken from exc
    return user
