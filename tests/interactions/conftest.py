"""One target of each kind (and a seller to comment on), and a logged-in customer."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from hojre.accounts.models import Role
from hojre.accounts.service import create_user
from hojre.catalog.models import Bazaar, Mall, Product, Store
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.interactions.registry import TARGETS, TargetKind
from tests.conftest import Api

CUSTOMER = "09121234567"
_PHONES = itertools.count(9_000_000)


@dataclass
class World:
    ids: dict[TargetKind, int]
    seller_id: int
    auth: dict[str, str]
    user_id: int


async def make_targets(hub: Hub, suffix: str = "") -> tuple[dict[TargetKind, int], int]:
    async with hub.db.unit_of_work(write=True) as session:
        seller = await create_user(
            SessionConn(session), cellphone=f"0912{next(_PHONES):07d}", password="secret1",
            role=Role.seller, name="حسین", family="کریمی",
        )  # fmt: skip
        images = {"logo": "img/l.png", "main_image": "img/m.png", "location_image": "img/x.png"}
        bazaar = Bazaar(title="بازار بزرگ" + suffix, slug="bazaar" + suffix, **images)
        session.add(bazaar)
        await session.flush()
        mall = Mall(title="مجتمع تجاری" + suffix, slug="mall" + suffix, bazaar_id=bazaar.id,
                    **images)  # fmt: skip
        session.add(mall)
        await session.flush()
        store = Store(
            title="فروشگاه آوا" + suffix, slug="store" + suffix, mall_id=mall.id,
            certificate_image="c.png", store_front_image="f.png", **images,
        )  # fmt: skip
        session.add(store)
        await session.flush()
        product = Product(store_id=store.id, title="گوشی" + suffix, slug="product" + suffix,
                          price=12_500_000, main_image="img/p.png")  # fmt: skip
        session.add(product)
        await session.flush()
        return {
            TargetKind.bazaar: bazaar.id,
            TargetKind.mall: mall.id,
            TargetKind.store: store.id,
            TargetKind.product: product.id,
            TargetKind.user: seller.id,
        }, seller.id


@pytest.fixture
async def world(api: Api) -> World:
    ids, seller_id = await make_targets(api.hub)
    data = await api.register_active(CUSTOMER)
    auth = {"username": CUSTOMER, "token": data["token"]}
    return World(ids=ids, seller_id=seller_id, auth=auth, user_id=data["id"])


async def counters(hub: Hub, target: TargetKind, target_id: int) -> dict[str, int]:
    model = TARGETS[target].model
    async with hub.db.unit_of_work(write=False) as session:
        row = await session.scalar(select(model).where(model.id == target_id))
    assert row is not None
    names = ("viewed", "liked", "disliked", "comments_count", "favorite_count",
             "notification_count", "score_total", "score_count")  # fmt: skip
    return {name: getattr(row, name) for name in names}
