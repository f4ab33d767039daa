"""API.md §3 actions over every target × kind: exact messages and counters."""

from __future__ import annotations

import pytest

from hojre.interactions.registry import CATALOG_TARGETS, MARK_KINDS, InteractionKind, TargetKind
from hojre.web_v1.interactions import ADDED, DELETED, IS_TRUE, WIRE_TARGET
from hojre.web_v1.messages import NOT_DONE
from tests.conftest import Api
from tests.interactions.conftest import World, counters

pytestmark = pytest.mark.anyio

COUNTER = {
    InteractionKind.like: "liked",
    InteractionKind.dislike: "disliked",
    InteractionKind.favorite: "favorite_count",
    InteractionKind.notification: "notification_count",
    InteractionKind.view: "viewed",
    InteractionKind.comment: "comments_count",
}
TARGETS = [pytest.param(t, id=t.value) for t in CATALOG_TARGETS]
MARKS = [pytest.param(k, id=k.value) for k in MARK_KINDS]


def ok(message: str, data: object = "") -> dict[str, object]:
    return {"status": "success", "message": message, "data": data}


def err(message: str, data: object = "") -> dict[str, object]:
    return {"status": "error", "message": message, "data": data}


def test_messages_are_the_contracts() -> None:
    assert ADDED == {
        InteractionKind.comment: "Comment Added",
        InteractionKind.notification: "Notification Added",
        InteractionKind.like: "Liked",
        InteractionKind.dislike: "Disliked",
        InteractionKind.favorite: "Favorited",
        InteractionKind.view: "Viewed",
    }


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", MARKS)
async def test_add_is_idempotent_and_delete_undoes(
    api: Api, world: World, target: TargetKind, kind: InteractionKind
) -> None:
    wire, target_id = WIRE_TARGET[target], world.ids[target]
    params = {**world.auth, "target": wire, "id": str(target_id)}
    yes, no = IS_TRUE[kind], NOT_DONE[kind]
    assert await api.post("/user/is-true", **params, type=kind.value) == err(no)
    for _ in range(2):  # a retry is a success that changes nothing
        assert await api.post(f"/user/add-{kind}", **params) == ok(ADDED[kind])
        assert (await counters(api.hub, target, target_id))[COUNTER[kind]] == 1
    assert await api.post("/user/is-true", **params, type=kind.value) == ok(yes)
    deleted, missing = DELETED[kind], NOT_DONE[kind]
    assert await api.post(f"/user/delete-{kind}", **params) == ok(deleted)
    assert (await counters(api.hub, target, target_id))[COUNTER[kind]] == 0
    assert await api.post(f"/user/delete-{kind}", **params) == err(missing)
    assert await api.post("/user/is-true", **params, type=kind.value) == err(no)


@pytest.mark.parametrize("target", TARGETS)
async def test_like_and_dislike_exclude_each_other(
    api: Api, world: World, target: TargetKind
) -> None:
    params = {**world.auth, "target": WIRE_TARGET[target], "id": str(world.ids[target])}
    await api.post("/user/add-like", **params)
    assert await api.post("/user/add-dislike", **params) == ok("Disliked")
    c = await counters(api.hub, target, world.ids[target])
    assert (c["liked"], c["disliked"]) == (0, 1)
    assert await api.post("/user/is-true", **params, type="like") == err("Not Liked")
    assert await api.post("/user/add-like", **params) == ok("Liked")
    c = await counters(api.hub, target, world.ids[target])
    assert (c["liked"], c["disliked"]) == (1, 0)
    assert await api.post("/user/delete-dislike", **params) == err("Not dislike")


@pytest.mark.parametrize("target", TARGETS)
async def test_view_counts_once_per_30_minutes(api: Api, world: World, target: TargetKind) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from hojre.core.clock import utcnow
    from hojre.interactions.models import View

    params = {**world.auth, "target": WIRE_TARGET[target], "id": str(world.ids[target])}
    assert await api.post("/user/is-true", **params, type="view") == err("Not view")
    for _ in range(3):
        assert await api.post("/user/add-view", **params) == ok("Viewed")
    assert (await counters(api.hub, target, world.ids[target]))["viewed"] == 1
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(View).values(viewed_at=utcnow() - timedelta(minutes=31)))
    await api.post("/user/add-view", **params)
    assert (await counters(api.hub, target, world.ids[target]))["viewed"] == 2
    assert await api.post("/user/is-true", **params, type="view") == ok("Viewed")


@pytest.mark.parametrize("path", ["/user/add-like", "/user/add-view", "/user/add-comment"])
async def test_invalid_and_unknown_targets(api: Api, world: World, path: str) -> None:
    extra = {"text": "خیلی خوب بود"} if path.endswith("comment") else {}
    assert await api.post(path, **world.auth, **extra, target="shop", id="1") == err(
        "Invalid Target"
    )
    assert await api.post(path, **world.auth, **extra, target="", id="1") == err("Invalid Target")
    for bad_id in ("999999", "abc", "0", "-3"):
        assert await api.post(path, **world.auth, **extra, target="store", id=bad_id) == err(
            "Target Not Found"
        )
    assert await api.post(path, target="store", id="1", **extra) == err("not login")


async def test_is_true_errors(api: Api, world: World) -> None:
    params = {"target": "store", "id": str(world.ids[TargetKind.store])}
    assert await api.post("/user/is-true", **params, type="like") == err("Not Login")
    assert await api.post("/user/is-true", **world.auth, **params, type="love") == err(
        "Invalid Type"
    )
    assert await api.post("/user/is-true", **world.auth, target="user", id="1", type="like") == err(
        "Invalid Target"
    )


async def test_inactive_target_is_not_found(api: Api, world: World) -> None:
    from sqlalchemy import update

    from hojre.catalog.models import Store

    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(Store).values(status="inactive"))
    assert await api.post(
        "/user/add-like", **world.auth, target="store", id=str(world.ids[TargetKind.store])
    ) == err("Target Not Found")


@pytest.mark.parametrize("bad", ["99999999999", "2147483648", "۹۹۹۹۹۹۹۹۹۹۹۹"])
async def test_ids_beyond_32_bits_are_not_found(api: Api, world: World, bad: str) -> None:
    """PostgreSQL refuses such a parameter for an INTEGER column; it must not become a 500."""
    assert await api.post("/user/add-like", **world.auth, target="store", id=bad) == err(
        "Target Not Found"
    )
    assert await api.post("/user/delete-like", **world.auth, target="store", id=bad) == err(
        "Not Liked"
    )
    body = await api.post("/user/is-true", **world.auth, target="store", id=bad, type="like")
    assert body == err("Not Liked")
    assert (await api.get("/store-user-comments", id=bad))["items"] == []


async def test_products_of_an_inactive_store_are_hidden(api: Api, world: World) -> None:
    from sqlalchemy import update

    from hojre.catalog.models import Store

    product = str(world.ids[TargetKind.product])
    assert (await api.get(f"/products/{product}"))["mainData"]["id"] == int(product)
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(Store).values(status="inactive"))
    assert await api.post("/user/add-like", **world.auth, target="product", id=product) == err(
        "Target Not Found"
    )
    assert await api.get(f"/products/{product}") == err("Not Found")
    assert (await api.get("/products"))["items"] == []


async def test_counters_do_not_touch_updated_at(api: Api, world: World) -> None:
    from sqlalchemy import select

    from hojre.catalog.models import Store

    async def updated_at() -> object:
        async with api.hub.db.unit_of_work(write=False) as session:
            return await session.scalar(select(Store.updated_at))

    before = await updated_at()
    store = str(world.ids[TargetKind.store])
    await api.post("/user/add-like", **world.auth, target="store", id=store)
    await api.post("/user/add-comment", **world.auth, target="store", id=store, text="خوب")
    assert await updated_at() == before
