"""Seed #6–#10 and #14–#32: list shapes, newest first, and a constant number of statements."""

from __future__ import annotations

from typing import Any

import pytest

from hojre.core.hub import Hub
from hojre.interactions.registry import CATALOG_TARGETS, MARK_KINDS, InteractionKind, TargetKind
from hojre.web_v1.interactions import LIST_SUFFIX, WIRE_TARGET
from tests.conftest import Api
from tests.factories import count_statements
from tests.interactions.conftest import World, make_targets

pytestmark = pytest.mark.anyio

ACTIVITY_KINDS = [pytest.param(k, id=k.value) for k in (*MARK_KINDS, InteractionKind.view)]
TARGETS = [pytest.param(t, id=t.value) for t in CATALOG_TARGETS]
COMMENT_KEYS = {"id", "user", "commentDate", "text", "pros", "cons", "userTitle", "avatar",
                "score"}  # fmt: skip


async def more_targets(hub: Hub, n: int) -> list[dict[TargetKind, int]]:
    return [(await make_targets(hub, suffix=f"-{i}"))[0] for i in range(n)]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", ACTIVITY_KINDS)
async def test_activity_list_shape_and_order(
    api: Api, world: World, target: TargetKind, kind: InteractionKind
) -> None:
    wire = WIRE_TARGET[target]
    path = f"/{wire}-user-{LIST_SUFFIX[kind]}"
    empty = await api.get(path, **world.auth)
    assert empty["items"] == []
    assert empty["_meta"]["totalCount"] == 0
    ids = [world.ids[target]] + [t[target] for t in await more_targets(api.hub, 2)]
    for target_id in ids:
        await api.post(f"/user/add-{kind}", **world.auth, target=wire, id=str(target_id))
    body = await api.get(path, **world.auth)
    assert body["_meta"]["totalCount"] == 3
    items = body["items"]
    assert [item[wire] for item in items] == ids[::-1]  # newest first
    assert set(items[0]) == {"id", "user", wire, f"{kind}Date", "title", "image"}
    assert items[0]["user"] == world.user_id
    assert isinstance(items[0][f"{kind}Date"], int)
    assert isinstance(items[0]["title"], str) and items[0]["title"]
    assert isinstance(items[0]["image"], str)
    assert await api.get(path) == {"status": "error", "message": "not login", "data": ""}


@pytest.mark.parametrize("kind", ACTIVITY_KINDS)
async def test_activity_list_runs_constant_statements(
    api: Api, world: World, kind: InteractionKind
) -> None:
    """auth + the page with its total, whatever the page size: 2 statements."""
    targets = await more_targets(api.hub, 12)
    for t in targets:
        await api.post(
            f"/user/add-{kind}", **world.auth, target="store", id=str(t[TargetKind.store])
        )
    path = f"/store-user-{LIST_SUFFIX[kind]}"
    counts = []
    for per_page in (1, 12):
        with count_statements(api.hub) as sql:
            body = await api.get(path, **world.auth, per__page=per_page)
        assert len(body["items"]) == per_page
        counts.append(len(sql))
    assert counts == [2, 2]


def comment_auth(world: World) -> dict[str, str]:
    return world.auth


@pytest.mark.parametrize("target", [*TARGETS, pytest.param(TargetKind.user, id="user")])
async def test_comment_lists(api: Api, world: World, target: TargetKind) -> None:
    wire = WIRE_TARGET[target]
    key = "target" if target is TargetKind.user else wire
    target_id = world.ids[target]
    added = []
    for text in ("اولین نظر من", "<b>دومین</b> نظر"):
        body = await api.post("/user/add-comment", **world.auth, target=wire, id=str(target_id),
                              text=text, pros="کیفیت خوب", cons="گران", score="4")  # fmt: skip
        assert body["status"] == "success" and body["message"] == "Comment Added", body
        added.append(body["data"]["id"])
    own = await api.get(f"/{wire}-user-comments", **world.auth)
    public = await api.get(f"/{wire}-user-comments", id=str(target_id))
    for listing in (own, public):
        assert [i["id"] for i in listing["items"]] == added[::-1]
        item: dict[str, Any] = listing["items"][0]
        assert set(item) == COMMENT_KEYS | {key}
        assert item[key] == target_id
        assert item["text"] == "دومین نظر"  # tags dropped
        assert (item["pros"], item["cons"], item["score"]) == ("کیفیت خوب", "گران", 4)
        assert isinstance(item["commentDate"], int)
        assert item["userTitle"] == ""  # the customer has no name yet
        assert item["avatar"] == "img/defaults/avatars/51.png"
    assert (await api.get(f"/{wire}-user-comments"))["message"] == "not login"
    assert (await api.get(f"/{wire}-user-comments", id="999999"))["items"] == []


async def test_comment_list_joins_authors_without_n_plus_one(api: Api, world: World) -> None:
    store = str(world.ids[TargetKind.store])
    for i in range(6):
        data = await api.register_active(f"0912555000{i}")
        auth = {"username": f"0912555000{i}", "token": data["token"]}
        await api.post("/user/edit", **auth, name=f"نام{i}", family="خانواده")
        await api.post("/user/add-comment", **auth, target="store", id=store, text=f"نظر {i}")
    counts = []
    for per_page in (1, 6):
        with count_statements(api.hub) as sql:
            body = await api.get("/store-user-comments", id=store, per__page=per_page)
        assert len(body["items"]) == per_page
        counts.append(len(sql))
    assert counts == [1, 1]  # the page with its total (no login needed with an id)
    assert body["items"][0]["userTitle"] == "نام5 خانواده"
