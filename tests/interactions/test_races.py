"""Counters under parallel requests, on PostgreSQL (SQLite serialises writers and hides races)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hojre.accounts.models import AccessToken, Role, User
from hojre.core.hub import Hub
from hojre.core.security import sha256_hex
from hojre.interactions.models import Mark
from hojre.interactions.registry import TargetKind
from tests.conftest import Api, app_client
from tests.interactions.conftest import counters, make_targets

pytestmark = pytest.mark.anyio

PARALLEL = 50


@pytest.fixture
async def pg_api(pg_hub: Hub) -> AsyncIterator[Api]:
    async with app_client(pg_hub) as client:
        yield Api(client, pg_hub)


async def customers(hub: Hub, n: int) -> list[dict[str, str]]:
    """n active customers with a known token each (made directly: argon2 × 50 is slow)."""
    auths = []
    async with hub.db.unit_of_work(write=True) as session:
        for i in range(n):
            user = User(cellphone=f"0913{i:07d}", password_hash="!", is_active=True,
                        role=Role.customer)  # fmt: skip
            session.add(user)
            await session.flush()
            token = f"token-{i:027d}"
            session.add(AccessToken(user_id=user.id, token_hash=sha256_hex(token)))
            auths.append({"username": user.cellphone, "token": token})
    return auths


async def test_parallel_likes_by_one_user_make_one_row(pg_api: Api) -> None:
    ids, _ = await make_targets(pg_api.hub)
    (auth,) = await customers(pg_api.hub, 1)
    store = str(ids[TargetKind.store])
    results = await asyncio.gather(
        *(pg_api.post("/user/add-like", **auth, target="store", id=store) for _ in range(PARALLEL))
    )
    assert {r["message"] for r in results} == {"Liked"}
    assert (await counters(pg_api.hub, TargetKind.store, ids[TargetKind.store]))["liked"] == 1
    async with pg_api.hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Mark)) == 1


async def test_parallel_likes_by_many_users_count_each(pg_api: Api) -> None:
    ids, _ = await make_targets(pg_api.hub)
    auths = await customers(pg_api.hub, PARALLEL)
    store = str(ids[TargetKind.store])
    results = await asyncio.gather(
        *(pg_api.post("/user/add-like", **auth, target="store", id=store) for auth in auths)
    )
    assert {r["message"] for r in results} == {"Liked"}
    assert (await counters(pg_api.hub, TargetKind.store, ids[TargetKind.store]))["liked"] == 50


async def test_parallel_mix_keeps_counters_equal_to_rows(pg_api: Api) -> None:
    ids, _ = await make_targets(pg_api.hub)
    auths = await customers(pg_api.hub, 5)
    rng = random.Random(7)
    paths = ["/user/add-like", "/user/add-dislike", "/user/delete-like", "/user/delete-dislike",
             "/user/add-favorite", "/user/delete-favorite"]  # fmt: skip
    calls = [
        pg_api.post(rng.choice(paths), **rng.choice(auths), target="product",
                    id=str(ids[TargetKind.product]))
        for _ in range(200)
    ]  # fmt: skip
    results = await asyncio.gather(*calls)
    assert all(r["status"] in ("success", "error") for r in results)
    assert not any(r["message"] == "Server Error" for r in results)
    c = await counters(pg_api.hub, TargetKind.product, ids[TargetKind.product])
    async with pg_api.hub.db.unit_of_work(write=False) as session:
        rows = dict(
            (await session.execute(select(Mark.kind, func.count()).group_by(Mark.kind))).all()
        )
        # Like and dislike exclude each other per user, whatever the interleaving.
        per_user = (
            await session.execute(
                select(Mark.user_id, func.count()).where(Mark.slot == "vote").group_by(Mark.user_id)
            )
        ).all()
    assert c["liked"] == rows.get("like", 0)
    assert c["disliked"] == rows.get("dislike", 0)
    assert c["favorite_count"] == rows.get("favorite", 0)
    assert all(n == 1 for _, n in per_user)


async def test_parallel_views_count_once(pg_api: Api) -> None:
    ids, _ = await make_targets(pg_api.hub)
    (auth,) = await customers(pg_api.hub, 1)
    mall = str(ids[TargetKind.mall])
    await asyncio.gather(
        *(pg_api.post("/user/add-view", **auth, target="mall", id=mall) for _ in range(PARALLEL))
    )
    assert (await counters(pg_api.hub, TargetKind.mall, ids[TargetKind.mall]))["viewed"] == 1


async def test_parallel_comments_and_deletes(pg_api: Api) -> None:
    ids, _ = await make_targets(pg_api.hub)
    auths = await customers(pg_api.hub, 10)
    bazaar = str(ids[TargetKind.bazaar])
    added = await asyncio.gather(
        *(pg_api.post("/user/add-comment", **a, target="bazzar", id=bazaar, text="عالی",
                      score=str(1 + i % 5)) for i, a in enumerate(auths))
    )  # fmt: skip
    # Each author deletes their comment twice in parallel: one wins.
    await asyncio.gather(
        *(pg_api.post("/user/delete-comment", **a, id=str(body["data"]["id"]))
          for a, body in list(zip(auths, added, strict=True))[:5] for _ in range(2))
    )  # fmt: skip
    c = await counters(pg_api.hub, TargetKind.bazaar, ids[TargetKind.bazaar])
    remaining = [1 + i % 5 for i in range(5, 10)]
    assert (c["comments_count"], c["score_count"], c["score_total"]) == (
        5, 5, sum(remaining),
    )  # fmt: skip
