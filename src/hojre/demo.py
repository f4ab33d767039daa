"""Demo data for ``make serve``: named accounts of every role and a seeded demo marketplace.

Idempotent: the named accounts are created when missing, the marketplace (see
:mod:`hojre.demo_data.marketplace`) when its flagship bazaar is missing; all of it in one
transaction. The demo password is hashed once and shared by every account created.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import Role, User
from hojre.catalog.models import Bazaar, Mall, Product, Status, Store, StoreSeller
from hojre.core.db import Database
from hojre.core.security import hash_password
from hojre.demo_data import marketplace
from hojre.demo_data.marketplace import BASE_TIME, DEMO_SEED, DemoDataError, NamedUsers
from hojre.interactions.models import Comment, Mark, View
from hojre.media.storage import MediaStore
from hojre.messaging.models import Broadcast, Chat, ChatMessage, Offer, StoreMessage

__all__ = [
    "DEMO_SEED",
    "DEMO_USERS",
    "DemoAccount",
    "DemoDataError",
    "demo_counts",
    "existing_demo",
    "is_empty",
    "load_demo",
]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    id: int
    cellphone: str
    password: str
    role: str
    store: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# (cellphone, role, name, family) — the named example users of the README and the tests.
DEMO_USERS: tuple[tuple[str, Role, str, str], ...] = (
    ("09120000001", Role.customer, "مریم", "احمدی"),
    ("09120000002", Role.customer, "علی", "رضایی"),
    ("09120000003", Role.seller, "حسین", "کریمی"),
    ("09120000004", Role.store_manager, "زهرا", "محمدی"),
    ("09120000005", Role.admin, "مدیر", "سامانه"),
)


NAMED_SINCE: Final = BASE_TIME - timedelta(days=730)


async def load_demo(
    db: Database, password: str, *, media: MediaStore, seed: int = DEMO_SEED
) -> list[DemoAccount]:
    """Create the demo accounts and marketplace where missing (its pictures in ``media``);
    return all the accounts.

    Raises :class:`DemoDataError` when the database cannot take the marketplace.
    """
    async with db.unit_of_work(write=True) as session:
        users = await _named_users(session)
        missing = [entry for entry in DEMO_USERS if entry[0] not in users]
        build = not await marketplace.exists(session)
        # argon2 is slow on purpose: one hash, shared by every account this run creates.
        password_hash = await asyncio.to_thread(hash_password, password) if missing or build else ""
        for cellphone, role, name, family in missing:
            user = User(
                cellphone=cellphone,
                password_hash=password_hash,
                role=int(role),
                is_active=True,
                name=name,
                family=family,
                # Dated before the marketplace's activity, as the generated accounts are.
                created_at=NAMED_SINCE,
                updated_at=NAMED_SINCE,
                activated_at=NAMED_SINCE,
            )
            session.add(user)
            users[cellphone] = user
        await session.flush()
        named = [users[cellphone] for cellphone, *_ in DEMO_USERS]
        if build:
            await marketplace.create(
                session,
                seed=seed,
                password_hash=password_hash,
                named=_marketplace_people(named),
                media=media,
            )
        return await _accounts(session, [*named, *await _staff(session, named)], password)


async def existing_demo(db: Database, password: str) -> list[DemoAccount]:
    """The demo accounts present in the database (nothing is created)."""
    async with db.unit_of_work(write=False) as session:
        users = await _named_users(session)
        present = [users[c] for c, *_ in DEMO_USERS if c in users]
        return await _accounts(session, [*present, *await _staff(session, present)], password)


STAFFED_STORES: Final = 2  # stores of different managers whose staff the accounts list


async def _staff(session: AsyncSession, listed: list[User]) -> list[User]:
    """The managers and active sellers of the first stores (by id) of :data:`STAFFED_STORES`
    different managers, the named ones' store first, so a store owner's walk-through has two
    stores to compare; the users not listed already, managers before their sellers."""
    rows = await session.execute(
        select(Store.id, Store.manager_id)
        .where(Store.manager_id.is_not(None), Store.parent_id.is_(None))
        .order_by(Store.id)
        .limit(STAFFED_STORES * 4)
    )
    stores: dict[int, int] = {}  # manager → their first store
    for store_id, manager_id in rows:
        if manager_id is not None and len(stores) < STAFFED_STORES:
            stores.setdefault(manager_id, store_id)
    sellers = await session.execute(
        select(StoreSeller.store_id, StoreSeller.user_id)
        .where(StoreSeller.store_id.in_(stores.values()), StoreSeller.status == Status.active)
        .order_by(StoreSeller.store_id, StoreSeller.user_id)
    )
    staff_of = {store_id: [manager] for manager, store_id in stores.items()}
    for store_id, user_id in sellers:
        staff_of[store_id].append(user_id)
    seen = {u.id for u in listed}
    order = [u for store_id in sorted(staff_of) for u in staff_of[store_id] if u not in seen]
    found = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(order)))}
    return [found[user_id] for user_id in dict.fromkeys(order)]


async def is_empty(db: Database) -> bool:
    async with db.unit_of_work(write=False) as session:
        return await session.scalar(select(User.id).limit(1)) is None


async def demo_counts(db: Database) -> dict[str, int]:
    """Rows per table of what the demo fills (for the CLI's summary line)."""
    tables = {
        "users": User,
        "bazaars": Bazaar,
        "malls": Mall,
        "stores": Store,
        "products": Product,
        "views": View,
        "marks": Mark,
        "comments": Comment,
        "chats": Chat,
        "chat messages": ChatMessage,
        "store messages": StoreMessage,
        "offers": Offer,
        "broadcasts": Broadcast,
    }
    async with db.unit_of_work(write=False) as session:
        return {
            name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }


async def _named_users(session: AsyncSession) -> dict[str, User]:
    phones = [cellphone for cellphone, *_ in DEMO_USERS]
    found = await session.scalars(select(User).where(User.cellphone.in_(phones)))
    return {user.cellphone: user for user in found}


def _marketplace_people(named: list[User]) -> NamedUsers:
    by_role = {role: [u.id for u in named if u.role == role] for role in Role}
    return NamedUsers(
        customers=tuple(by_role[Role.customer]),
        seller=next(iter(by_role[Role.seller]), None),
        manager=next(iter(by_role[Role.store_manager]), None),
        admin=next(iter(by_role[Role.admin]), None),
    )


async def _accounts(session: AsyncSession, users: list[User], password: str) -> list[DemoAccount]:
    """The accounts as printed, each seller and store manager with their (first) store."""
    ids = [u.id for u in users]
    managed = await session.execute(
        select(Store.manager_id, func.min(Store.id))
        .where(Store.manager_id.in_(ids))
        .group_by(Store.manager_id)
    )
    selling = await session.execute(
        select(StoreSeller.user_id, func.min(StoreSeller.store_id))
        .where(StoreSeller.user_id.in_(ids), StoreSeller.status == Status.active)
        .group_by(StoreSeller.user_id)
    )
    stores: dict[Role, dict[int, int]] = {
        Role.store_manager: {row[0]: row[1] for row in managed if row[0] is not None},
        Role.seller: {row[0]: row[1] for row in selling},
    }
    return [
        DemoAccount(
            id=user.id,
            cellphone=user.cellphone,
            password=password,
            role=Role(user.role).name.replace("_", "-"),
            store=stores.get(Role(user.role), {}).get(user.id),
        )
        for user in users
    ]
