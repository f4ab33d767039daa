"""People and stores for the messaging tests, logged in through the v1 API.

``cast.customer()`` makes a logged-in customer, ``cast.shop()`` a store with active sellers and
a manager; a ``Person`` calls the API with their own credentials (``await a.get("/chats")``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from hojre.accounts.models import Role
from hojre.accounts.service import create_user
from hojre.catalog.models import Status, Store, StoreSeller
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.messaging.models import Chat, ChatMessage, Offer, StoreMessage
from hojre.messaging.service import create_broadcast
from tests.conftest import Api

PASSWORD = "secret1"
# 0936…: a range no other test helper hands out.
_PHONES = itertools.count(1)
_SLUGS = itertools.count(1)

NOT_LOGIN = {"status": "error", "message": "not login", "data": ""}


def err(message: str, data: Any = "") -> dict[str, Any]:
    return {"status": "error", "message": message, "data": data}


def invalid(*problems: str) -> dict[str, Any]:
    """The validation envelope (API.md §0)."""
    return {"status": "error", "message": "Server Error", "data": list(problems)}


@dataclass
class Person:
    """A logged-in user; ``get``/``post`` call the API with their credentials."""

    api: Api
    id: int
    cellphone: str
    role: Role
    name: str
    family: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"username": self.cellphone, "token": self.token}

    @property
    def full_name(self) -> str:
        return f"{self.name} {self.family}"

    async def get(self, path: str, **params: Any) -> Any:
        return await self.api.get(path, **self.auth, **params)

    async def post(self, path: str, **params: Any) -> Any:
        return await self.api.post(path, **self.auth, **params)


@dataclass
class Shop:
    id: int
    title: str
    logo: str
    sellers: list[Person] = field(default_factory=list)
    manager: Person | None = None

    @property
    def seller(self) -> Person:
        return self.sellers[0]


class Cast:
    """Makes users straight in the database and logs them in through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.hub: Hub = api.hub

    async def _user(self, role: Role, name: str, family: str, avatar: str | None) -> Person:
        cellphone = f"0936{next(_PHONES):07d}"
        async with self.hub.db.unit_of_work(write=True) as session:
            user = await create_user(
                SessionConn(session), cellphone=cellphone, password=PASSWORD, role=role, name=name,
                family=family, avatar=avatar,
            )  # fmt: skip
            user_id = user.id
        path = "/user/login" if role is Role.customer else "/user/store-login"
        body = await self.api.post(path, username=cellphone, password=PASSWORD)
        assert body["message"] == "Login Success", body
        return Person(self.api, user_id, cellphone, role, name, family, body["data"]["token"])

    async def customer(self, name: str = "مریم", family: str = "احمدی") -> Person:
        return await self._user(Role.customer, name, family, "img/avatars/customer.png")

    async def seller(self, name: str = "حسین", family: str = "کریمی") -> Person:
        return await self._user(Role.seller, name, family, "img/avatars/seller.png")

    async def manager(self, name: str = "رضا", family: str = "رضایی") -> Person:
        return await self._user(Role.store_manager, name, family, None)

    async def shop(
        self, *, sellers: int = 1, manager: bool | Person = True, title: str = "فروشگاه آوا",
        staff: tuple[Person, ...] = (),
    ) -> Shop:  # fmt: skip
        """A store with ``sellers`` new active sellers (and ``staff``, existing ones) and a
        manager: a new one, ``manager`` itself (another store of theirs), or none."""
        people = [*staff, *[await self.seller(family=f"کریمی{i}") for i in range(sellers)]]
        boss = manager if isinstance(manager, Person) else await self.manager() if manager else None
        n = next(_SLUGS)
        async with self.hub.db.unit_of_work(write=True) as session:
            store = Store(
                title=f"{title} {n}", slug=f"msg-store-{n}", manager_id=boss.id if boss else None,
                logo=f"img/logo-{n}.png", main_image="img/m.png", certificate_image="img/c.png",
                store_front_image="img/f.png", location_image="img/x.png",
            )  # fmt: skip
            session.add(store)
            await session.flush()
            for person in people:
                session.add(StoreSeller(store_id=store.id, user_id=person.id))
            shop = Shop(store.id, store.title, store.logo, people, boss)
        return shop

    async def add_seller(self, shop: Shop, status: Status = Status.active) -> Person:
        person = await self.seller(family=f"کریمی{len(shop.sellers)}")
        async with self.hub.db.unit_of_work(write=True) as session:
            session.add(StoreSeller(store_id=shop.id, user_id=person.id, status=status))
        if status is Status.active:
            shop.sellers.append(person)
        return person

    async def broadcast(self, title: str, role: Role | None, *, show: bool = True) -> int:
        async with self.hub.db.raw.connect(write=True) as conn:
            b = await create_broadcast(conn, self.hub.events, title=title, text=title + "!",
                                       role=role, show=show)  # fmt: skip
        return b.id


@pytest.fixture
async def cast(api: Api) -> Cast:
    return Cast(api)


# -- reading the database behind the API -----------------------------------------------------


async def chat_row(hub: Hub, chat_id: int) -> Chat:
    async with hub.db.unit_of_work(write=False) as session:
        chat = await session.get(Chat, chat_id)
    assert chat is not None
    return chat


async def chat_messages(hub: Hub, chat_id: int) -> list[ChatMessage]:
    async with hub.db.unit_of_work(write=False) as session:
        rows = await session.scalars(
            select(ChatMessage).where(ChatMessage.chat_id == chat_id).order_by(ChatMessage.id)
        )
        return list(rows)


async def store_message_row(hub: Hub, message_id: int) -> StoreMessage:
    async with hub.db.unit_of_work(write=False) as session:
        row = await session.get(StoreMessage, message_id)
    assert row is not None
    return row


async def offer_row(hub: Hub, offer_id: int) -> Offer:
    async with hub.db.unit_of_work(write=False) as session:
        row = await session.get(Offer, offer_id)
    assert row is not None
    return row


async def count_rows(hub: Hub, model: type[Chat | ChatMessage | StoreMessage | Offer]) -> int:
    async with hub.db.unit_of_work(write=False) as session:
        return len(list(await session.scalars(select(model.id))))
