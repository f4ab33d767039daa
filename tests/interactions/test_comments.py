"""Seed #11 and delete-comment: plain text, bounds, score average, moderation."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from hojre.accounts.models import User
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.interactions import service
from hojre.interactions.registry import TargetKind
from tests.conftest import Api
from tests.interactions.conftest import World, counters

pytestmark = pytest.mark.anyio


def err(message: str, data: object = "") -> dict[str, object]:
    return {"status": "error", "message": message, "data": data}


async def comment(api: Api, world: World, **params: str) -> dict[str, object]:
    store = str(world.ids[TargetKind.store])
    body: dict[str, object] = await api.post(
        "/user/add-comment", **world.auth, **{"target": "store", "id": store, **params}
    )
    return body


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({}, ["Text cannot be blank."]),
        ({"text": "   <p> </p> "}, ["Text cannot be blank."]),
        ({"text": "a"}, ["Text should contain at least 2 characters."]),
        ({"text": "خ" * 2001}, ["Text should contain at most 2000 characters."]),
        ({"text": "خوب", "pros": "x" * 1001}, ["Pros should contain at most 1000 characters."]),
        ({"text": "خوب", "score": "6"}, ["Score must be between 1 and 5."]),
        ({"text": "خوب", "score": "0"}, ["Score must be between 1 and 5."]),
        ({"text": "خوب", "score": "five"}, ["Score must be an integer."]),
        # Every failure at once, in the documented order (the score read by the route is last).
        (
            {"text": "a", "cons": "x" * 1001, "score": "five"},
            [
                "Text should contain at least 2 characters.",
                "Cons should contain at most 1000 characters.",
                "Score must be an integer.",
            ],
        ),
        (
            {"cons": "x" * 1001, "score": "9"},
            [
                "Text cannot be blank.",
                "Cons should contain at most 1000 characters.",
                "Score must be between 1 and 5.",
            ],
        ),
    ],
)
async def test_comment_validation(
    api: Api, world: World, params: dict[str, str], errors: list[str]
) -> None:
    assert await comment(api, world, **params) == err("Server Error", errors)
    assert (await counters(api.hub, TargetKind.store, world.ids[TargetKind.store]))[
        "comments_count"
    ] == 0


async def test_comment_is_plain_text(api: Api, world: World) -> None:
    body = await comment(
        api, world, text="<script>alert(1)</script>عالی &amp; ارزان\x07", pros="<i>سریع</i>"
    )
    assert body["message"] == "Comment Added"
    listing = await api.get("/store-user-comments", id=str(world.ids[TargetKind.store]))
    item = listing["items"][0]
    assert (item["text"], item["pros"], item["cons"]) == ("alert(1)عالی & ارزان", "سریع", None)


async def test_score_is_the_average_of_visible_comments(api: Api, world: World) -> None:
    store_id = world.ids[TargetKind.store]
    ids = []
    for score in ("5", "۲", ""):  # Persian digits; the last comment has no score
        body = await comment(api, world, text="نظر من", score=score)
        assert isinstance(body["data"], dict)
        ids.append(body["data"]["id"])
    c = await counters(api.hub, TargetKind.store, store_id)
    assert (c["comments_count"], c["score_total"], c["score_count"]) == (3, 7, 2)
    assert await api.post("/user/delete-comment", **world.auth, id=str(ids[0])) == {
        "status": "success", "message": "Comment Deleted", "data": "",
    }  # fmt: skip
    c = await counters(api.hub, TargetKind.store, store_id)
    assert (c["comments_count"], c["score_total"], c["score_count"]) == (2, 2, 1)
    listing = await api.get("/store-user-comments", id=str(store_id))
    assert [i["id"] for i in listing["items"]] == ids[:0:-1]
    # Deleted twice, or someone else's: not found.
    assert await api.post("/user/delete-comment", **world.auth, id=str(ids[0])) == err(
        "Comment Not Found"
    )
    other = await api.register_active("09125550000")
    assert await api.post(
        "/user/delete-comment", username="09125550000", token=other["token"], id=str(ids[1])
    ) == err("Comment Not Found")


async def test_moderation_hides_a_comment(api: Api, world: World) -> None:
    body = await comment(api, world, text="تبلیغ", score="1")
    assert isinstance(body["data"], dict)
    async with api.hub.db.unit_of_work(write=True) as session:
        assert (
            await service.hide_comment(SessionConn(session), comment_id=body["data"]["id"]) is True
        )
        assert (
            await service.hide_comment(SessionConn(session), comment_id=body["data"]["id"]) is False
        )
    c = await counters(api.hub, TargetKind.store, world.ids[TargetKind.store])
    assert (c["comments_count"], c["score_count"]) == (0, 0)
    listing = await api.get("/store-user-comments", **world.auth)
    assert listing["items"] == []


async def _set_role(hub: Hub, user_id: int, role: int) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(update(User).where(User.id == user_id).values(role=role))


async def test_comments_on_users_only_for_sellers_and_managers(api: Api, world: World) -> None:
    seller = str(world.seller_id)
    params = {**world.auth, "target": "user", "text": "فروشنده خوش‌برخورد"}
    assert (await api.post("/user/add-comment", **params, id=seller))["message"] == (
        "Comment Added"
    )
    await _set_role(api.hub, world.seller_id, 6)  # store managers too
    assert (await api.post("/user/add-comment", **params, id=seller))["message"] == (
        "Comment Added"
    )
    await _set_role(api.hub, world.seller_id, 8)  # not customers
    assert await api.post("/user/add-comment", **params, id=seller) == err("Target Not Found")
    # Likes and the other kinds are for catalogue targets only.
    assert await api.post("/user/add-like", **world.auth, target="user", id=seller) == err(
        "Invalid Target"
    )
