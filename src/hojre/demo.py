"""Demo data for ``make serve``: named accounts of every role (idempotent)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select

from hojre.accounts import service as accounts
from hojre.accounts.models import Role, User
from hojre.core.db import Database


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


async def load_demo(db: Database, password: str) -> list[DemoAccount]:
    """Create the demo accounts that are missing; return all of them."""
    accounts_out: list[DemoAccount] = []
    async with db.unit_of_work(write=True) as session:
        for cellphone, role, name, family in DEMO_USERS:
            user = await session.scalar(select(User).where(User.cellphone == cellphone))
            if user is None:
                user = await accounts.create_user(
                    session,
                    cellphone=cellphone,
                    password=password,
                    role=role,
                    name=name,
                    family=family,
                )
            accounts_out.append(
                DemoAccount(
                    id=user.id,
                    cellphone=cellphone,
                    password=password,
                    role=Role(user.role).name.replace("_", "-"),
                )
            )
    return accounts_out


async def existing_demo(db: Database, password: str) -> list[DemoAccount]:
    """The demo accounts present in the database (nothing is created)."""
    phones = [cellphone for cellphone, *_ in DEMO_USERS]
    async with db.unit_of_work(write=False) as session:
        users = (await session.scalars(select(User).where(User.cellphone.in_(phones)))).all()
    by_phone = {u.cellphone: u for u in users}
    return [
        DemoAccount(
            id=u.id,
            cellphone=u.cellphone,
            password=password,
            role=Role(u.role).name.replace("_", "-"),
        )
        for u in (by_phone.get(p) for p in phones)
        if u is not None
    ]


async def is_empty(db: Database) -> bool:
    async with db.unit_of_work(write=False) as session:
        return await session.scalar(select(User.id).limit(1)) is None
