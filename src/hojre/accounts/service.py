"""Accounts: registration and activation, login and tokens, passwords.

The threats these answer, and why each step is where it is, are in docs/SECURITY.md. Three
rules shape the code:

- Passwords are hashed and checked outside any transaction and with no connection held
  (:func:`hojre.core.security.verify_password_async`): on SQLite a transaction holds the
  database's write lock, and on PostgreSQL a held connection is one less for everyone else.
  So the endpoints that hash run in phases, each a short transaction of its own on
  ``hub.db.raw``: count the attempt (committed before the check, so parallel guesses cannot
  pass a limit), check the password, then write the outcome.
- Failed logins are counted per (number, client address), so a stranger's guesses never lock
  the owner out; see :func:`login` for the per-number and per-address ceilings.
- A password chosen by someone who never proved to hold the number never survives activation:
  an activation code activates the password of the registration it was sent for, and a
  number registered with more than one password before activation ("contested") gets no
  registration password at all (see :func:`register`, :func:`check_activation_code`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    BindParameter,
    Integer,
    String,
    bindparam,
    delete,
    exists,
    false,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.sql import Executable

from hojre.accounts import errors
from hojre.accounts.models import AccessToken, ActivationCode, Role, User
from hojre.accounts.schemas import Location
from hojre.catalog.models import Status, StoreSeller
from hojre.core.clock import ago, utcnow
from hojre.core.db import UTCDateTime
from hojre.core.dialect import upsert_for
from hojre.core.errors import FieldProblem, Rule, ValidationFailed, throttled
from hojre.core.events import SessionsRevoked, to_user
from hojre.core.hub import Hub
from hojre.core.ratelimit import Window, check, over
from hojre.core.security import (
    UNUSABLE_PASSWORD,
    hash_password_async,
    new_activation_code,
    new_temp_password,
    new_token,
    same_hash,
    sha256_hex,
    verify_password_async,
)
from hojre.core.sql import Conn, Query
from hojre.core.text import normalize_cellphone

MIN_PASSWORD = 6
MAX_PASSWORD = 128
STAFF_ROLES = frozenset({Role.seller, Role.store_manager})
CODE = re.compile(r"[1-9][0-9]{4}")
# last_used_at moves at most this often: a token's idle expiry is exact to a day, and reads
# stay reads on every other request.
TOKEN_TOUCH = timedelta(days=1)
TOKEN_TOUCH_SECONDS = TOKEN_TOUCH.total_seconds()

_NOW = bindparam("now", type_=UTCDateTime())
_USER_ID: BindParameter[int] = bindparam("user_id", type_=Integer)
_CELLPHONE = bindparam("cellphone", type_=String)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    cellphone: str
    token: str


# -- who is calling --------------------------------------------------------------------------


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
    # The last request noted (hojre.accounts.presence.note_seen); None: never.
    seen_at: datetime | None
    # The token this request came with: its row and when it was last used.
    token_id: int
    token_used_at: datetime


_PROFILE = Caller._fields[: Caller._fields.index("token_id")]

_LOGIN = Query(
    select(
        *(getattr(User, name) for name in _PROFILE),
        AccessToken.id.label("token_id"),
        AccessToken.last_used_at.label("token_used_at"),
    )
    .join(AccessToken, AccessToken.user_id == User.id)
    .where(AccessToken.token_hash == bindparam("token_hash"), User.cellphone == _CELLPHONE)
)


def _login_params(cellphone: str | None, token: str) -> dict[str, Any] | None:
    if cellphone is None or not token:
        return None
    return {"token_hash": sha256_hex(token), "cellphone": cellphone}


def _fresh(caller: Caller, idle_days: int) -> bool:
    # Judged here, on the row's last use, not in the statement: a datetime parameter costs
    # every request a conversion (a tenth of /web/users on SQLite), a comparison nothing.
    return caller.token_used_at > ago(idle_days * 86400)


async def authenticate(
    conn: Conn, *, cellphone: str | None, token: str, idle_days: int
) -> Caller | None:
    """The user owning ``token``, if ``cellphone`` (normalised: ``normalize_cellphone``; None
    for a username that is not a number) is theirs and the token was used in the last
    ``idle_days``. One statement."""
    params = _login_params(cellphone, token)
    if params is None:
        return None
    row = await conn.one(_LOGIN, **params)
    if row is None:
        return None
    caller = Caller._make(row)
    return caller if _fresh(caller, idle_days) else None


_TOUCH_TOKEN = Query(
    update(AccessToken)
    .where(AccessToken.id == bindparam("token_id"), AccessToken.last_used_at < bindparam(
        "before", type_=UTCDateTime()))
    .values(last_used_at=_NOW)
)  # fmt: skip


def note_token_use(tx: Conn, hub: Hub, *, user: Caller) -> None:
    """Move the token's last use to now, at most once a day, after the request (its own
    short transaction, so a read stays a read)."""
    if user.token_used_at > ago(TOKEN_TOUCH_SECONDS):
        return
    now = utcnow()
    token_id = user.token_id

    async def write() -> None:
        async with hub.db.raw.connect(write=True) as own:
            await own.run(_TOUCH_TOKEN, token_id=token_id, before=now - TOKEN_TOUCH, now=now)

    tx.on_commit(write)


# Where the user is is not an edit of the profile: updated_at stays.
_LOCATION = Query(
    update(User)
    .where(User.id == _USER_ID)
    .values(longitude=bindparam("x"), latitude=bindparam("y"), located_at=_NOW,
            updated_at=User.updated_at)
)  # fmt: skip


def record_location(
    tx: Conn, hub: Hub, *, user: Caller, where: Location,
    also: Callable[[Conn], Awaitable[None]] | None = None,
) -> None:  # fmt: skip
    """Remember where the user was, after the request commits, in its own short transaction
    (with ``also``, what else the place means, as the store visits of hojre.customers).

    Done apart from the request so a read-only request stays read-only, and only when the
    position moved.
    """
    if user.longitude == where.longitude and user.latitude == where.latitude:
        return
    user_id = user.id

    async def write() -> None:
        async with hub.db.raw.connect(write=True) as own:
            await own.run(
                _LOCATION, user_id=user_id, x=where.longitude, y=where.latitude, now=utcnow()
            )
            if also is not None:
                await also(own)

    tx.on_commit(write)


# -- accounts by number ----------------------------------------------------------------------


class Account(NamedTuple):
    id: int
    cellphone: str
    password_hash: str
    is_active: bool
    role: int
    temp_password_hash: str | None
    temp_password_expires_at: datetime | None
    # The pending registration's code, if any: its tries and end.
    has_code: bool
    code_tries: int | None
    code_expires_at: datetime | None
    contested: bool


_ACCOUNT = Query(
    select(
        User.id, User.cellphone, User.password_hash, User.is_active, User.role,
        User.temp_password_hash, User.temp_password_expires_at,
        (ActivationCode.user_id.is_not(None)).label("has_code"),
        ActivationCode.tries, ActivationCode.expires_at, ActivationCode.contested,
    )
    .outerjoin(ActivationCode, ActivationCode.user_id == User.id)
    .where(User.cellphone == _CELLPHONE)
)  # fmt: skip


async def _account(conn: Conn, cellphone: str) -> Account | None:
    row = await conn.one(_ACCOUNT, cellphone=cellphone)
    if row is None:
        return None
    return Account._make((*row[:-4], bool(row.has_code), *row[-3:-1], bool(row.contested)))


# -- registration and activation -------------------------------------------------------------


class Registered(NamedTuple):
    id: int
    cellphone: str


def _code_hash(user_id: int, code: str) -> str:
    # Salted with the user id so one table of 90,000 hashes does not fit every row.
    return sha256_hex(f"{user_id}:{code}")


def _new_user(dialect: str) -> Executable:
    return (
        upsert_for(dialect, User)
        .values(cellphone=_CELLPHONE, password_hash=bindparam("password_hash"), is_active=False,
                role=int(Role.customer), created_at=_NOW, updated_at=_NOW)
        .on_conflict_do_nothing(index_elements=["cellphone"])
        .returning(User.id)
    )  # fmt: skip


_NEW_USER = Query(_new_user)
# Compare-and-set: only the pending password this request judged, of a user still pending.
_REPLACE_PENDING = Query(
    update(User)
    .where(User.id == _USER_ID, User.password_hash == bindparam("seen"), User.is_active == false())
    .values(password_hash=bindparam("password_hash"), updated_at=_NOW)
)
_CONTEST = Query(
    update(ActivationCode).where(ActivationCode.user_id == _USER_ID).values(contested=true())
)


def _new_code(dialect: str) -> Executable:
    values = {
        "code_hash": bindparam("code_hash"),
        "tries": 0,
        "expires_at": bindparam("expires_at", type_=UTCDateTime()),
        "created_at": _NOW,
    }
    return (
        upsert_for(dialect, ActivationCode)
        .values(user_id=_USER_ID, contested=False, **values)
        # A contested registration stays contested until it is activated.
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )


_NEW_CODE = Query(_new_code)


class _RaceLost(Exception):
    """What this request judged changed under it: judge again."""


@dataclass(frozen=True, slots=True)
class Client:
    """Who asks, as throttles see it (hojre.core.net.client_key)."""

    address: str


def address_budget(hub: Hub, client: Client) -> Window:
    """The client address's budget of SMS-sending requests (sent or not: an unknown number
    spends it too, so numbers cannot be enumerated through it)."""
    s = hub.settings
    return Window(f"sms-from:{client.address}", s.sms_address_window_seconds,
                  s.sms_address_max_requests, "sms_per_address")  # fmt: skip


def code_budgets(hub: Hub, client: Client, cellphone: str) -> list[Window]:
    """What an activation code spends: the number's codes asked for by this client (one a
    minute, a few a day: a stranger spends their own, never the owner's), and the number's
    codes from everyone (a day's ceiling against SMS bombing)."""
    s = hub.settings
    return [
        Window(f"code-minute:{cellphone}:{client.address}", 60,
               s.activation_codes_per_minute, "codes_per_minute"),
        Window(f"code-day:{cellphone}:{client.address}", 86400,
               s.activation_codes_per_day, "codes_per_day"),
        Window(f"code-day:{cellphone}", 86400,
               s.activation_codes_number_per_day, "codes_per_number"),
    ]  # fmt: skip


# What a registration writes besides the account, in the account's transaction once its code
# and SMS are queued (so either fails: neither is kept): the store of /web/user/store-register.
AlsoWrite = Callable[[Conn, Registered], Awaitable[None]]


async def register(
    hub: Hub, *, cellphone: str, password: str, client: Client, also: AlsoWrite | None = None
) -> Registered:
    """A customer registration, pending until its code comes back.

    A number that is pending already is registered again, not refused: the new password
    replaces the pending one and a new code (the old one dies) is sent for it, so a code only
    ever activates the password of the registration it was sent for. Registered again with a
    *different* password, the number is contested: whoever activates it gets no registration
    password (:func:`check_activation_code`). When no new code may be sent yet (one a minute),
    nothing is replaced and the answer is "already registered but not activated" (go and enter
    the code you have); a different password still contests the number.

    ``also`` runs in the transaction that writes the account and queues its code, on either
    path (new or again), after the code: what it raises rolls all of it back.
    """
    s = hub.settings
    raw = hub.db.raw
    windows = [
        Window(f"register:{cellphone}:{client.address}", s.register_window_seconds,
               s.register_max_sends, "registers_per_client"),
        address_budget(hub, client),
    ]  # fmt: skip
    codes = code_budgets(hub, client, cellphone)
    async with raw.connect(write=True) as conn:
        counts = await hub.limiter.hit(conn, windows)
        refused = over(windows, counts) is not None
        # The code budgets only decide whether a new code may go out (a refused request
        # spends none of them).
        may_send = not refused and over(codes, await hub.limiter.hit(conn, codes)) is None
    check(windows, counts)

    for _ in range(3):
        async with raw.connect(write=False) as conn:
            pending = await _account(conn, cellphone)
        try:
            if pending is None:
                return await _register_new(hub, cellphone, password, may_send, also)
            if pending.is_active:
                raise errors.CellphoneTaken
            return await _register_again(hub, pending, password, may_send, also)
        except _RaceLost:
            continue
    # Three registrations of this number raced this one: treat it as contested.
    raise errors.RegisteredNotActivated


async def _register_new(
    hub: Hub, cellphone: str, password: str, may_send: bool, also: AlsoWrite | None
) -> Registered:
    password_hash = await hash_password_async(password)
    async with hub.db.raw.connect(write=True) as conn:
        row = await conn.one(
            _NEW_USER, cellphone=cellphone, password_hash=password_hash, now=utcnow()
        )
        if row is None:  # a parallel registration of the number won the insert
            raise _RaceLost
        if not may_send:  # no code may go out: no registration either (rolled back)
            raise throttled("codes_per_minute")
        user_id = int(row[0])
        await _send_code(conn, hub, user_id, cellphone)
        if also is not None:
            await also(conn, Registered(user_id, cellphone))
    return Registered(user_id, cellphone)


async def _register_again(
    hub: Hub, pending: Account, password: str, may_send: bool, also: AlsoWrite | None
) -> Registered:
    same = await verify_password_async(pending.password_hash, password)
    new_hash = None if same or not may_send else await hash_password_async(password)
    async with hub.db.raw.connect(write=True) as conn:
        if not same:
            await conn.run(_CONTEST, user_id=pending.id)
        if not may_send:
            raise errors.RegisteredNotActivated  # keeps its writes: the contest stands
        if new_hash is not None:
            replaced = await conn.run(
                _REPLACE_PENDING, user_id=pending.id, seen=pending.password_hash,
                password_hash=new_hash, now=utcnow(),
            )  # fmt: skip
            if not replaced:
                raise _RaceLost
        await _send_code(conn, hub, pending.id, pending.cellphone)
        if also is not None:
            await also(conn, Registered(pending.id, pending.cellphone))
    return Registered(pending.id, pending.cellphone)


async def _send_code(conn: Conn, hub: Hub, user_id: int, cellphone: str) -> None:
    """A new code for the pending registration (replacing any other); the caller spent the
    number's code budget already."""
    code = new_activation_code()
    now = utcnow()
    await conn.run(
        _NEW_CODE, user_id=user_id, code_hash=_code_hash(user_id, code), now=now,
        expires_at=now + timedelta(seconds=hub.settings.activation_code_ttl_seconds),
    )  # fmt: skip
    await _sms(conn, hub, cellphone, "activation", code,
               f"Hojrenama activation code: {code}", f"کد فعال‌سازی حجره‌نما: {code}")  # fmt: skip


async def _sms(
    conn: Conn, hub: Hub, to: str, kind: str, secret: str, english: str, persian: str
) -> None:
    """An SMS carrying ``secret`` (a code, a temporary password), in both languages, in the
    outbox of this transaction."""
    await hub.outbox.enqueue(conn, to=to, text=f"{english}\n{persian}", kind=kind, code=secret)


async def new_activation_code_for(hub: Hub, *, cellphone: str, client: Client) -> None:
    """Send the pending registration a new code (the old one dies)."""
    budget = [address_budget(hub, client)]
    async with hub.db.raw.connect(write=True) as conn:
        counts = await hub.limiter.hit(conn, budget)
        account = await _account(conn, cellphone)
    check(budget, counts)
    if account is None:
        raise errors.NotRegistered
    if account.is_active:
        raise errors.AlreadyActivated
    codes = code_budgets(hub, client, cellphone)
    async with hub.db.raw.connect(write=True) as conn:
        # Counted with the code they pay for: a refused one rolls back with it.
        check(codes, await hub.limiter.hit(conn, codes))
        await _send_code(conn, hub, account.id, cellphone)


_SPEND_TRY = Query(
    update(ActivationCode)
    .where(
        ActivationCode.user_id == _USER_ID,
        ActivationCode.tries < bindparam("max_tries"),
        ActivationCode.expires_at > _NOW,
    )
    .values(tries=ActivationCode.tries + 1)
    .returning(ActivationCode.code_hash, ActivationCode.contested)
)
_ACTIVATE = Query(
    update(User)
    .where(User.id == _USER_ID, User.is_active == false())
    .values(is_active=True, activated_at=_NOW, updated_at=_NOW)
)
# A contested registration: no password chosen before activation survives it; the one who
# proved to hold the number gets a temporary password by SMS instead.
_ACTIVATE_CONTESTED = Query(
    update(User)
    .where(User.id == _USER_ID, User.is_active == false())
    .values(is_active=True, activated_at=_NOW, updated_at=_NOW,
            password_hash=UNUSABLE_PASSWORD, temp_password_hash=bindparam("temp_hash"),
            temp_password_expires_at=bindparam("temp_expires_at", type_=UTCDateTime()))
)  # fmt: skip
_DELETE_CODE = Query(delete(ActivationCode).where(ActivationCode.user_id == _USER_ID))


async def check_activation_code(hub: Hub, *, cellphone: str, code: str) -> None:
    """Activate the pending registration if ``code`` is its live code.

    Each check spends one try with a single ``UPDATE … WHERE tries < max``, so parallel guesses
    cannot exceed the limit; the code is compared only after its try was spent.
    """
    for _ in range(2):
        async with hub.db.raw.connect(write=False) as conn:
            account = await _account(conn, cellphone)
        if account is None:
            raise errors.IncorrectCode
        if account.is_active:
            return  # a retried request after success
        if CODE.fullmatch(code) is None or not _code_usable(hub, account):
            raise errors.IncorrectCode
        temp = temp_hash = None
        if account.contested:  # hashed now, outside the transaction
            temp = new_temp_password()
            temp_hash = await hash_password_async(temp)
        try:
            await _activate(hub, account, code, temp, temp_hash)
        except _RaceLost:  # contested after we looked: look again
            continue
        return
    raise errors.IncorrectCode


def _code_usable(hub: Hub, account: Account) -> bool:
    """Whether the code may still be tried (checked again by the spending UPDATE); what
    cannot be tried costs no password hashing."""
    return (
        account.code_tries is not None
        and account.code_tries < hub.settings.activation_code_max_tries
        and account.code_expires_at is not None
        and account.code_expires_at > utcnow()
    )


async def _activate(
    hub: Hub, account: Account, code: str, temp: str | None, temp_hash: str | None
) -> None:
    s = hub.settings
    async with hub.db.raw.connect(write=True) as conn:
        now = utcnow()
        spent = await conn.one(
            _SPEND_TRY, user_id=account.id, max_tries=s.activation_code_max_tries, now=now
        )
        if spent is None or not same_hash(spent.code_hash, _code_hash(account.id, code)):
            raise errors.IncorrectCode  # keeps the spent try
        if spent.contested and temp_hash is None:
            raise _RaceLost  # rolls the try back too
        if spent.contested:
            assert temp is not None
            await conn.run(
                _ACTIVATE_CONTESTED, user_id=account.id, now=now, temp_hash=temp_hash,
                temp_expires_at=now + timedelta(seconds=s.temp_password_ttl_seconds),
            )  # fmt: skip
            await _sms(
                conn, hub, account.cellphone, "temp_password", temp,
                "Hojrenama: your number was registered more than once with different "
                f"passwords, so none of them works. Log in with: {temp}",
                "حجره‌نما: شماره شما چند بار با رمزهای گوناگون ثبت‌نام شده بود و هیچ‌کدام "
                f"پذیرفته نیست. با این رمز وارد شوید: {temp}",
            )  # fmt: skip
        else:
            await conn.run(_ACTIVATE, user_id=account.id, now=now)
        await conn.run(_DELETE_CODE, user_id=account.id)


# -- login and tokens ------------------------------------------------------------------------


_ISSUE_TOKEN = Query(
    insert(AccessToken)
    .values(user_id=_USER_ID, token_hash=bindparam("token_hash"), created_at=_NOW,
            last_used_at=_NOW)
    .returning(AccessToken.id)
)  # fmt: skip
_newest = (
    select(AccessToken.id)
    .where(AccessToken.user_id == _USER_ID)
    .order_by(AccessToken.id.desc())
    .limit(bindparam("keep"))
)
# Tokens beyond the newest N of the user, and idle ones: a device that logs in again and
# again leaves no pile of valid tokens behind.
_PRUNE_TOKENS = Query(
    delete(AccessToken).where(
        AccessToken.user_id == _USER_ID,
        (AccessToken.last_used_at <= bindparam("idle_after", type_=UTCDateTime()))
        | AccessToken.id.not_in(_newest.scalar_subquery()),
    )
)
_PROMOTE_TEMP = Query(
    update(User)
    .where(User.id == _USER_ID, User.temp_password_hash == bindparam("seen"))
    .values(password_hash=User.temp_password_hash, temp_password_hash=None,
            temp_password_expires_at=None, updated_at=_NOW)
)  # fmt: skip
_DELETE_TOKENS = Query(delete(AccessToken).where(AccessToken.user_id == _USER_ID))
_DELETE_OTHER_TOKENS = Query(
    delete(AccessToken).where(
        AccessToken.user_id == _USER_ID, AccessToken.token_hash != bindparam("keep_hash")
    )
)
_DELETE_TOKEN = Query(
    delete(AccessToken).where(
        AccessToken.user_id == _USER_ID, AccessToken.token_hash == bindparam("token_hash")
    )
)
_PURGE_TOKENS = Query(
    delete(AccessToken).where(
        AccessToken.last_used_at <= bindparam("idle_after", type_=UTCDateTime())
    )
)


async def _issue_token(conn: Conn, hub: Hub, user_id: int) -> str:
    token = new_token()
    now = utcnow()
    await conn.one(_ISSUE_TOKEN, user_id=user_id, token_hash=sha256_hex(token), now=now)
    pruned = await conn.run(
        _PRUNE_TOKENS, user_id=user_id, keep=hub.settings.tokens_per_user,
        idle_after=now - timedelta(days=hub.settings.token_idle_days),
    )  # fmt: skip
    if pruned:
        _sessions_revoked(conn, hub, user_id)
    return token


def _sessions_revoked(tx: Conn, hub: Hub, user_id: int) -> None:
    """Tell the user's live sockets to re-check their token (some were just revoked)."""
    hub.events.publish_on_commit(tx, [to_user(user_id)], SessionsRevoked())


# Whether a seller was a seller of some store and is one of none now (store-login).
_SELLER_ROWS = Query(
    select(
        exists().where(StoreSeller.user_id == _USER_ID).label("sold"),
        exists()
        .where(StoreSeller.user_id == _USER_ID, StoreSeller.status == Status.active)
        .label("sells"),
    )
)


async def _dismissed(conn: Conn, user_id: int) -> bool:
    """Dismissed by every store they sold for (one not yet given a store may log in)."""
    row = await conn.one(_SELLER_ROWS, user_id=user_id)
    return row is not None and bool(row.sold) and not row.sells


def login_windows(hub: Hub, client: Client, cellphone: str) -> list[Window]:
    seconds = hub.settings.login_window_seconds
    return [
        Window(f"login:{cellphone}:{client.address}", seconds),
        Window(f"login:{cellphone}", seconds),
        Window(f"login-from:{client.address}", seconds),
    ]


async def login(
    hub: Hub, *, cellphone: str, password: str, client: Client, staff_only: bool = False
) -> IssuedToken:
    """Check the password (or the pending temporary one) and issue a new token.

    The attempt is counted, and committed, before the password is checked, so parallel guesses
    cannot get past a limit; a correct password takes its attempt back. Three windows:
    this client on this number (``HOJRE_LOGIN_MAX_FAILURES``); this number from everyone
    (past ``HOJRE_LOGIN_NUMBER_MAX_FAILURES`` only a client with no recent failure may try,
    so a number attacked from many addresses still opens for its owner); this address over
    every number (password spraying, ``HOJRE_LOGIN_ADDRESS_MAX_FAILURES``). Every answer but
    success counts, " not activated " included (it tells a poller the password is right).
    """
    s = hub.settings
    windows = login_windows(hub, client, cellphone)
    async with hub.db.raw.connect(write=True) as conn:
        mine, everyone, address = await hub.limiter.hit(conn, windows)
        account = await _account(conn, cellphone)
    if mine > s.login_max_failures:
        raise throttled("login_per_client")
    if address > s.login_address_max_failures:
        raise throttled("login_per_address")
    if everyone > s.login_number_max_failures and mine > 1:
        raise throttled("login_per_number")

    if account is None:
        await verify_password_async(None, password)  # the time of a wrong password
        raise errors.LoginUserNotFound
    used_temp = False
    if not await verify_password_async(account.password_hash, password):
        temp_valid = (
            account.temp_password_hash is not None
            and account.temp_password_expires_at is not None
            and account.temp_password_expires_at > utcnow()
        )
        if not (temp_valid and await verify_password_async(account.temp_password_hash, password)):
            raise errors.WrongCredentials
        used_temp = True
    if not account.is_active:
        raise errors.LoginNotActivated

    async with hub.db.raw.connect(write=True) as conn:
        # Not a guess: the attempt is given back (and this client's failures forgotten).
        await hub.limiter.reset(conn, [windows[0].key])
        await hub.limiter.undo(conn, [windows[1].key, windows[2].key])
        if staff_only and account.role not in STAFF_ROLES:
            raise errors.NotStaff  # keeps its writes: the attempt given back
        if staff_only and account.role == Role.seller and await _dismissed(conn, account.id):
            raise errors.NotStaff  # dismissed by every store (hojre.catalog.sellers)
        if used_temp:
            # The temporary password becomes the password; sessions opened with the old one
            # end. Only the request that promoted it ends them (parallel logins with it).
            promoted = await conn.run(
                _PROMOTE_TEMP, user_id=account.id, seen=account.temp_password_hash, now=utcnow()
            )
            if promoted:
                await conn.run(_DELETE_TOKENS, user_id=account.id)
                _sessions_revoked(conn, hub, account.id)
        token = await _issue_token(conn, hub, account.id)
    return IssuedToken(account.id, account.cellphone, token)


async def rotate_token(conn: Conn, hub: Hub, *, cellphone: str | None, token: str) -> IssuedToken:
    """Replace ``token`` by a new one; the old one stops working."""
    user = await authenticate(
        conn, cellphone=cellphone, token=token, idle_days=hub.settings.token_idle_days
    )
    if user is None:
        raise errors.TokenInvalid
    if not await conn.run(_DELETE_TOKEN, user_id=user.id, token_hash=sha256_hex(token)):
        raise errors.TokenInvalid  # rotated by a parallel request a moment ago
    _sessions_revoked(conn, hub, user.id)
    return IssuedToken(user.id, user.cellphone, await _issue_token(conn, hub, user.id))


async def logout(conn: Conn, hub: Hub, *, user: Caller, token: str) -> None:
    """End the session of ``token`` (its live sockets close)."""
    if await conn.run(_DELETE_TOKEN, user_id=user.id, token_hash=sha256_hex(token)):
        _sessions_revoked(conn, hub, user.id)


async def purge_idle_tokens(conn: Conn, hub: Hub) -> int:
    """Delete the tokens nobody used for ``HOJRE_TOKEN_IDLE_DAYS`` (they no longer log in)."""
    idle_after = utcnow() - timedelta(days=hub.settings.token_idle_days)
    return await conn.run(_PURGE_TOKENS, idle_after=idle_after)


# -- passwords -------------------------------------------------------------------------------


_SET_TEMP = Query(
    update(User)
    .where(User.id == _USER_ID)
    .values(temp_password_hash=bindparam("temp_hash"),
            temp_password_expires_at=bindparam("expires_at", type_=UTCDateTime()),
            updated_at=_NOW)
)  # fmt: skip


async def forget_password(hub: Hub, *, cellphone: str, client: Client) -> None:
    """Send a temporary password. The current password keeps working until it is used.

    Budgets: this client on this number, this number from everyone (a day), and the client's
    SMS budget, so a stranger spends their own sends, not the owner's. A registration not yet
    activated is not an account: "User Not Found" (registering again is the way on).
    """
    s = hub.settings
    windows = [
        Window(f"forget:{cellphone}:{client.address}", s.forget_window_seconds,
               s.forget_max_sends, "forget_per_client"),
        Window(f"forget:{cellphone}", s.forget_number_window_seconds,
               s.forget_number_max_sends, "forget_per_number"),
        address_budget(hub, client),
    ]  # fmt: skip
    async with hub.db.raw.connect(write=True) as conn:
        counts = await hub.limiter.hit(conn, windows)
        account = await _account(conn, cellphone)
    check(windows, counts)
    if account is None or not account.is_active:
        raise errors.ForgetUserNotFound
    temp = new_temp_password()
    temp_hash = await hash_password_async(temp)
    async with hub.db.raw.connect(write=True) as conn:
        await conn.run(
            _SET_TEMP, user_id=account.id, temp_hash=temp_hash, now=utcnow(),
            expires_at=utcnow() + timedelta(seconds=s.temp_password_ttl_seconds),
        )  # fmt: skip
        await _sms(conn, hub, cellphone, "temp_password", temp,
                   f"Hojrenama temporary password: {temp}",
                   f"رمز موقت حجره‌نما: {temp}")  # fmt: skip


_PASSWORD_OF = Query(select(User.password_hash).where(User.id == _USER_ID))
_SET_PASSWORD = Query(
    update(User)
    .where(User.id == _USER_ID)
    .values(password_hash=bindparam("password_hash"), temp_password_hash=None,
            temp_password_expires_at=None, updated_at=_NOW)
)  # fmt: skip


def check_new_password(old_password: str, new_password: str) -> None:
    problems: list[FieldProblem] = []
    if not old_password:
        problems.append(FieldProblem("old_password", Rule.required))
    if not new_password:
        problems.append(FieldProblem("new_password", Rule.required))
    elif len(new_password) < MIN_PASSWORD:
        problems.append(FieldProblem("new_password", Rule.too_short, MIN_PASSWORD))
    elif len(new_password) > MAX_PASSWORD:
        problems.append(FieldProblem("new_password", Rule.too_long, MAX_PASSWORD))
    if problems:
        raise ValidationFailed(problems)


async def change_password(
    hub: Hub, *, user: Caller, current_token: str, old_password: str, new_password: str
) -> None:
    """Set a new password and end every other session of the user.

    Wrong old passwords are counted per account (the caller holds its token): strangers'
    login failures never stop it.
    """
    check_new_password(old_password, new_password)
    s = hub.settings
    key = f"password-change:{user.id}"
    window = [Window(key, s.login_window_seconds, s.login_max_failures, "password_change")]
    async with hub.db.raw.connect(write=True) as conn:
        counts = await hub.limiter.hit(conn, window)
        row = await conn.one(_PASSWORD_OF, user_id=user.id)
    check(window, counts)
    if row is None or not await verify_password_async(row[0], old_password):
        raise errors.OldPasswordIncorrect
    new_hash = await hash_password_async(new_password)
    async with hub.db.raw.connect(write=True) as conn:
        await hub.limiter.reset(conn, [key])
        await conn.run(_SET_PASSWORD, user_id=user.id, password_hash=new_hash, now=utcnow())
        await conn.run(_DELETE_OTHER_TOKENS, user_id=user.id, keep_hash=sha256_hex(current_token))
        _sessions_revoked(conn, hub, user.id)


# -- administration (CLI, demo data, tests) --------------------------------------------------


class NewUser(NamedTuple):
    id: int
    cellphone: str
    role: int


# Every column an administrator may fill: a parameter each, NULL when not given.
_ADMIN_PROFILE = (
    "name", "family", "email", "phone", "address", "avatar", "gender", "country_id",
    "state_id", "city_id", "hood_id",
)  # fmt: skip


def _admin_user(dialect: str) -> Executable:
    return (
        upsert_for(dialect, User)
        .values(cellphone=_CELLPHONE, password_hash=bindparam("password_hash"),
                role=bindparam("role", type_=Integer), is_active=bindparam("active"),
                activated_at=bindparam("activated_at", type_=UTCDateTime()),
                created_at=_NOW, updated_at=_NOW,
                **{name: bindparam(name, None) for name in _ADMIN_PROFILE})
        .on_conflict_do_nothing(index_elements=["cellphone"])
        .returning(User.id)
    )  # fmt: skip


_ADMIN_USER = Query(_admin_user)


async def create_user(
    conn: Conn,
    *,
    cellphone: str,
    password: str,
    role: Role = Role.customer,
    active: bool = True,
    **profile: object,
) -> NewUser:
    """Create an account directly (no SMS): the CLI, the demo data, tests. ``profile``: any
    of ``name``, ``family``, ``email``, ``phone``, ``address``, ``avatar``, ``gender`` and the
    place ids. Raises :class:`errors.CellphoneTaken`. Hashes before its first statement, so
    a caller that has not written yet holds no write lock while it does."""
    normalized = normalize_cellphone(cellphone)
    if normalized is None:
        raise errors.CellphoneInvalid
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise errors.CantValidateData
    unknown = set(profile) - set(_ADMIN_PROFILE)
    if unknown:
        raise TypeError(f"not a profile field: {sorted(unknown)}")
    password_hash = await hash_password_async(password)
    now = utcnow()
    row = await conn.one(
        _ADMIN_USER, cellphone=normalized, password_hash=password_hash, role=int(role),
        active=active, activated_at=now if active else None, now=now, **profile,
    )  # fmt: skip
    if row is None:
        raise errors.CellphoneTaken
    return NewUser(int(row[0]), normalized, int(role))
