"""A store's sellers, managed by its manager (API.md §5: ``addseller``, ``mysellers``,
``edit-seller``, ``deleteseller``, ``active-seller``).

A seller is an account of its own (role 7) that the manager creates with a password: active
at once, no SMS (the manager vouches for the number). A number that has an account already is
refused, never attached: a manager could otherwise take over any customer's account. The
``users.cellphone`` unique constraint decides (``INSERT … ON CONFLICT DO NOTHING``); the
check before it only lets every failed rule be reported at once.

Every statement is filtered by the stores the caller manages (the manager side of
:data:`hojre.catalog.service.STAFF`): a caller who is no store manager is refused before any
statement, a manager of no store (or of not the ``store`` asked for) by the first one, and a
seller who is not one of theirs is "not found". Passwords are hashed with no transaction open
and no connection held (docs/SECURITY.md), so the two writes that may hash open their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql import Executable

from hojre.accounts.models import AccessToken, Role, User
from hojre.accounts.presence import is_online, last_seen
from hojre.accounts.service import MAX_PASSWORD, MIN_PASSWORD, Actor
from hojre.catalog.errors import SellerNotFound
from hojre.catalog.models import Status, Store, StoreSeller
from hojre.catalog.service import STAFF, StoreSide, require_staff, staff_store, staff_store_filter
from hojre.core.checks import TextRules, check_texts
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime, update_sent
from hojre.core.dialect import upsert_for
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.events import SessionsRevoked, to_user
from hojre.core.hub import Hub
from hojre.core.security import hash_password_async
from hojre.core.sql import Conn, Query, UniqueViolation
from hojre.core.text import normalize_cellphone, plain_text
from hojre.media.service import claim_paths

_MANAGER: Final = STAFF[StoreSide.manager]
NAME_MIN: Final = 3  # the profile's (hojre.accounts.profile)
# The columns' sizes, as the profile's.
SELLER_TEXT_FIELDS: Final[dict[str, int]] = {
    "name": 100,
    "family": 100,
    "avatar": 255,
    "email": 255,
}
_RULES = TextRules(SELLER_TEXT_FIELDS, urls=frozenset(), paths=frozenset({"avatar"}))
# The order the problems are reported in: the documented params'.
_ORDER: Final = ("name", "family", "cellphone", "avatar", "password", "email")

_SELLER = bindparam("seller", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())


@dataclass(frozen=True, slots=True)
class SellerFields:
    """A seller's fields as the manager sent them (raw text; None: not sent)."""

    name: str | None = None
    family: str | None = None
    cellphone: str | None = None
    avatar: str | None = None
    password: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    clean: dict[str, Any]  # by column name
    password: str | None  # a new password to hash
    problems: list[FieldProblem]


def _check(sent: SellerFields, *, adding: bool) -> _Checked:
    """The rules that need no statement. Adding, ``name``, ``family``, ``cellphone`` and
    ``password`` are required; editing, a field not sent stays, one sent blank is refused
    (``avatar`` and ``email`` sent blank are cleared), and a password sent blank stays (a
    form sends every field, and the manager does not know the seller's password)."""
    typed = {k: v for k in SELLER_TEXT_FIELDS if (v := getattr(sent, k)) is not None}
    texts = {k: plain_text(v) for k, v in typed.items()}
    problems: list[FieldProblem] = []
    for name in ("name", "family"):
        if adding or name in texts:
            value = texts.get(name, "")
            if not value:
                problems.append(FieldProblem(name, Rule.required))
            elif len(value) < NAME_MIN:
                problems.append(FieldProblem(name, Rule.too_short, NAME_MIN))
    found, clean = check_texts(_RULES, texts, typed)
    problems.extend(found)
    if adding or sent.cellphone is not None:
        raw = (sent.cellphone or "").strip()
        cellphone = normalize_cellphone(raw)
        if not raw:
            problems.append(FieldProblem("cellphone", Rule.required))
        elif cellphone is None:
            problems.append(FieldProblem("cellphone", Rule.invalid))
        else:
            clean["cellphone"] = cellphone
    password = sent.password or None
    if adding and password is None:
        problems.append(FieldProblem("password", Rule.required))
    elif password is not None and len(password) < MIN_PASSWORD:
        problems.append(FieldProblem("password", Rule.too_short, MIN_PASSWORD))
    elif password is not None and len(password) > MAX_PASSWORD:
        problems.append(FieldProblem("password", Rule.too_long, MAX_PASSWORD))
    return _Checked(clean, password, problems)


def _taken(clean: dict[str, Any], row: Any) -> list[FieldProblem]:
    return [
        FieldProblem(name, Rule.taken)
        for name, flag in (("cellphone", row.phone_taken), ("email", row.email_taken))
        if name in clean and flag
    ]


def _refuse(problems: list[FieldProblem]) -> None:
    if problems:
        problems.sort(key=lambda p: _ORDER.index(p.field))
        raise ValidationFailed(problems)


def _violated(exc: UniqueViolation) -> FieldProblem:
    """Which unique column a parallel write took first (both databases name it)."""
    return FieldProblem("email" if "email" in str(exc) else "cellphone", Rule.taken)


def _first_store(picked: bool) -> ScalarSelect[int]:
    """The caller's store: ``store``, or their first by id (None: not one of theirs)."""
    return (
        select(Store.id)
        .where(staff_store_filter(StoreSide.manager, picked=picked))
        .order_by(Store.id)
        .limit(1)
        .scalar_subquery()
    )


def _is_taken(column: Any, value: Any, *others: ColumnElement[bool]) -> Any:
    return exists().where(column == value, *others)


_CELLPHONE = bindparam("cellphone", type_=String)
_EMAIL = bindparam("email", type_=String)


# -- addseller --------------------------------------------------------------------------------


@cache
def _before_add(picked: bool) -> Query:
    """The store, and whether the number and the email have owners: one statement."""
    return Query(
        select(
            _first_store(picked).label("store"),
            _is_taken(User.cellphone, _CELLPHONE).label("phone_taken"),
            _is_taken(User.email, _EMAIL).label("email_taken"),
        )
    )


_NEW_COLUMNS: Final = ("name", "family", "avatar", "email")


def _new_seller(dialect: str) -> Executable:
    return (
        upsert_for(dialect, User)
        .values(cellphone=_CELLPHONE, password_hash=bindparam("password_hash"),
                role=int(Role.seller), is_active=True, activated_at=_NOW, created_at=_NOW,
                updated_at=_NOW, **{name: bindparam(name, type_=String) for name in _NEW_COLUMNS})
        .on_conflict_do_nothing(index_elements=["cellphone"])
        .returning(User.id)
    )  # fmt: skip


_NEW_SELLER = Query(_new_seller)
_SELLER_OF = Query(
    insert(StoreSeller).values(store_id=bindparam("store_id", type_=Integer), user_id=_SELLER,
                               status=Status.active, created_at=_NOW)
)  # fmt: skip


async def add_seller(
    hub: Hub, *, caller: Actor, sent: SellerFields, store_id: int | None = None
) -> int:
    """Create a seller's account and make it an active seller of one of the caller's stores
    (``store_id``, or their first by id); the new user's id. Three statements in one
    transaction (the store and the owners, the user, the seller); the password hashed
    before it, only when every rule that needs no statement holds."""
    require_staff(caller, StoreSide.manager)
    checked = _check(sent, adding=True)
    password_hash = None
    if not checked.problems and checked.password is not None:
        password_hash = await hash_password_async(checked.password)
    clean = checked.clean
    picked = {} if store_id is None else {"store": store_id}
    async with hub.db.raw.connect(write=True) as conn:
        row = await conn.one(
            _before_add(store_id is not None), caller=caller.id, cellphone=clean.get("cellphone"),
            email=clean.get("email"), **picked,
        )  # fmt: skip
        if row is None or row.store is None:
            raise _MANAGER.refusal
        problems = checked.problems + _taken(clean, row)
        await claim_paths(conn, clean, _RULES.paths, problems)
        _refuse(problems)
        assert password_hash is not None
        now = utcnow()
        try:
            made = await conn.one(
                _NEW_SELLER, cellphone=clean["cellphone"], password_hash=password_hash, now=now,
                **{name: clean.get(name) for name in _NEW_COLUMNS},
            )  # fmt: skip
        except UniqueViolation as exc:  # a parallel write took the email first
            raise ValidationFailed([_violated(exc)]) from exc
        if made is None:  # a parallel write took the number first
            raise ValidationFailed([FieldProblem("cellphone", Rule.taken)])
        user_id = int(made[0])
        await conn.run(_SELLER_OF, store_id=row.store, seller=user_id, now=now)
    return user_id


# -- mysellers --------------------------------------------------------------------------------


class SellerListItem(NamedTuple):
    id: int
    name: str | None
    family: str | None
    avatar: str | None
    status: str
    online: bool


@cache
def _sellers(picked: bool) -> Query:
    """The store's sellers (any status) with when each was last seen, oldest first: one
    statement, and one row with no seller for a store that has none (no row: not theirs)."""
    store = select(_first_store(picked).label("id")).subquery("picked")
    token_use = (
        select(func.max(AccessToken.last_used_at))
        .where(AccessToken.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    # Two flat outer joins, each an index search: SQLite answered a join nested in the outer
    # join by scanning every store's sellers (35 req/s on the benchmark's big dataset). A row
    # of another role's user comes back without a user and is dropped.
    joined = store.outerjoin(StoreSeller, StoreSeller.store_id == store.c.id).outerjoin(
        User, and_(User.id == StoreSeller.user_id, User.role == int(Role.seller))
    )
    return Query(
        select(store.c.id, User.id.label("user_id"), User.name, User.family, User.avatar,
               StoreSeller.status, User.seen_at, token_use.label("token_used_at"))
        .select_from(joined)
        .where(store.c.id.is_not(None))
        .order_by(StoreSeller.id)
    )  # fmt: skip


async def list_sellers(
    conn: Conn, *, caller: Actor, online_seconds: float, store_id: int | None = None
) -> list[SellerListItem]:
    """Every seller of one of the caller's stores, dismissed ones too (their ids re-activate
    them), oldest first; online when seen in the last ``online_seconds``. One statement."""
    require_staff(caller, StoreSide.manager)
    picked = {} if store_id is None else {"store": store_id}
    rows = await conn.all(_sellers(store_id is not None), caller=caller.id, **picked)
    if not rows:
        raise _MANAGER.refusal
    return [
        SellerListItem(r.user_id, r.name, r.family, r.avatar, r.status,
                       is_online(last_seen(r.seen_at, r.token_used_at), online_seconds))
        for r in rows
        if r.user_id is not None
    ]  # fmt: skip


# -- edit-seller ------------------------------------------------------------------------------

# A seller (role 7) of any of the caller's stores, whatever their status there.
_MINE = exists().where(
    StoreSeller.user_id == _SELLER,
    StoreSeller.store_id.in_(_MANAGER.stores),
    StoreSeller.user_id.in_(select(User.id).where(User.id == _SELLER, User.role == Role.seller)),
)
_BEFORE_EDIT = Query(
    select(
        _MANAGER.stores.exists().label("manages"),
        _MINE.label("mine"),
        _is_taken(User.cellphone, _CELLPHONE, User.id != _SELLER).label("phone_taken"),
        _is_taken(User.email, _EMAIL, User.id != _SELLER).label("email_taken"),
    )
)
_REVOKE = Query(delete(AccessToken).where(AccessToken.user_id == _SELLER))


async def edit_seller(hub: Hub, *, caller: Actor, seller_id: int, sent: SellerFields) -> None:
    """Change the sent fields of one of the caller's sellers, each under add's rules.

    A new password or number ends every session of the seller (their tokens are revoked,
    their live sockets close): the manager set the credentials, the seller logs in with
    them. At most three statements in one transaction (the checks, the write, the tokens),
    the password hashed before it when every rule that needs no statement holds."""
    require_staff(caller, StoreSide.manager)
    checked = _check(sent, adding=False)
    clean = checked.clean
    if not checked.problems and checked.password is not None:
        clean |= {"password_hash": await hash_password_async(checked.password),
                  "temp_password_hash": None, "temp_password_expires_at": None}  # fmt: skip
    async with hub.db.raw.connect(write=True) as conn:
        row = await conn.one(
            _BEFORE_EDIT, caller=caller.id, seller=seller_id, cellphone=clean.get("cellphone"),
            email=clean.get("email"),
        )  # fmt: skip
        assert row is not None  # a SELECT without FROM: one row
        if not row.manages:
            raise _MANAGER.refusal
        if not row.mine:
            raise SellerNotFound
        problems = checked.problems + _taken(clean, row)
        await claim_paths(conn, clean, _RULES.paths, problems)
        _refuse(problems)
        if not clean:
            return
        try:
            await conn.run(
                update_sent(User, frozenset(clean), "seller"), seller=seller_id, now=utcnow(),
                **clean,
            )  # fmt: skip
        except UniqueViolation as exc:  # a parallel write took the number or the email
            raise ValidationFailed([_violated(exc)]) from exc
        credentials = "password_hash" in clean or "cellphone" in clean
        if credentials and await conn.run(_REVOKE, seller=seller_id):
            hub.events.publish_on_commit(conn, [to_user(seller_id)], SessionsRevoked())


# -- deleteseller, active-seller --------------------------------------------------------------


@cache
def _set_status(picked: bool) -> Query:
    """The seller's row in the caller's store (``store``, or their first by id)."""
    return Query(
        update(StoreSeller)
        .where(
            StoreSeller.user_id == _SELLER,
            StoreSeller.store_id == _first_store(picked),
            StoreSeller.user_id.in_(
                select(User.id).where(User.id == _SELLER, User.role == Role.seller)
            ),
        )
        .values(status=bindparam("status", type_=String))
    )


async def set_seller_status(
    conn: Conn, *, caller: Actor, seller_id: int, active: bool, store_id: int | None = None
) -> None:
    """Dismiss (``active`` False) or re-activate a seller of one of the caller's stores
    (``store_id``, or their first by id). Dismissed, the seller keeps their account and their
    history (chats, offers, messages), and the store side refuses them ("You are not seller").
    One statement (two when refused: whose store it is)."""
    require_staff(caller, StoreSide.manager)
    picked = {} if store_id is None else {"store": store_id}
    status = Status.active if active else Status.inactive
    if await conn.run(
        _set_status(store_id is not None), caller=caller.id, seller=seller_id, status=status,
        **picked,
    ):  # fmt: skip
        return
    await staff_store(
        conn, caller=caller, side=StoreSide.manager, store_id=store_id, columns=("id",)
    )
    raise SellerNotFound
