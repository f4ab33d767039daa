"""What the schemathesis run (test_schemathesis.py) found, pinned as plain regression tests."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from hojre.accounts.models import Role
from hojre.core.hub import Hub
from tests.conftest import Api
from tests.factories import PASSWORD, make_seller, make_store, make_user

pytestmark = pytest.mark.anyio

# Found by schemathesis: any run of digits is a page number, and (page - 1) * 300 of this one
# is past the 64-bit OFFSET both databases take (SQLite: OverflowError, a 500). Lists that page
# through the ORM skipped the query; the ones with their own query did not (all of them now).
HUGE_PAGE = "56879725914472024"


@pytest.mark.parametrize(
    "path",
    [
        "/bazzar-user-comments?id=1",  # anyone's comments on a target (no login needed)
        "/store-user-comments",  # the caller's own
        "/product-user-likes",
        "/mall-user-views",
        "/chats",
        "/main-chats?id={chat}",
        "/store-messages",
        "/offers",
        "/broadcasts",
        "/users",
        "/cities",
    ],
)
async def test_a_huge_page_is_an_empty_page(hub: Hub, api: Api, path: str) -> None:
    me = await api.register_active("09370000002")
    async with hub.db.unit_of_work(write=True) as session:
        store = await make_store(session)
        await make_seller(session, store, await make_user(session, role=Role.seller))
    auth = {"username": me["username"], "token": me["token"]}
    chat = await api.post("/user/start-chat", **auth, store=store.id)
    assert chat["message"] == "Chat Started", chat
    path, _, query = path.format(chat=chat["data"]["id"]).partition("?")
    params = dict(parse_qsl(query)) | auth | {"page": HUGE_PAGE}
    response = await api.client.get(f"/web{path}", params=params)
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [], body
    assert body["_meta"]["currentPage"] == int(HUGE_PAGE)
    assert body["_links"]["self"]["href"].endswith(f"page={HUGE_PAGE}&per-page=300")


@pytest.mark.parametrize("path", ["/store-manager/store-messages", "/store-manager/offers"])
async def test_a_huge_store_side_page_is_an_empty_page(hub: Hub, api: Api, path: str) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        manager = await make_user(session, role=Role.store_manager)
        await make_store(session, manager=manager)
    login = await api.post("/user/store-login", username=manager.cellphone, password=PASSWORD)
    token = login["data"]["token"]
    body = await api.post(path, username=manager.cellphone, token=token, page=HUGE_PAGE)
    assert body["status"] == "success", body
    assert body["data"] == []
    assert body["page"] == int(HUGE_PAGE)


# Found by a probe in the fuzzer's wake (a NUL in each param of each operation): PostgreSQL
# refuses NUL in text, so a profile field holding one was a 500 there (and stored as sent on
# SQLite). Control characters are now dropped from profile text, as from comments.
async def test_control_characters_are_dropped_from_the_profile(api: Api) -> None:
    me = await api.register_active("09370000003")
    auth = {"username": me["username"], "token": me["token"]}
    body = await api.post(
        "/user/edit",
        **auth,
        name="مر\x00یم",
        family="احم\x07دی",
        email="maryam\x00@example.com",
        address="تهران،\x00 تجریش\nکوچه ۲",
        website="https://example.com/\x1b",
    )
    assert body == {"status": "success", "message": "updated successfully", "data": ""}
    (user,) = (await api.get("/users", **auth))["items"]
    assert user["name"] == "مریم"
    assert user["family"] == "احمدی"
    assert user["email"] == "maryam@example.com"
    assert user["address"] == "تهران، تجریش\nکوچه ۲"  # line breaks are kept
    assert user["website"] == "https://example.com/"


# Found by the same probe: a place id past the 32-bit INTEGER columns was a 500 on PostgreSQL,
# and 0 reached the foreign key, answered as "This email address has already been taken.".
@pytest.mark.parametrize("value", ["0", "-0", "2147483648", "-2147483649"])
@pytest.mark.parametrize("place", ["state", "city", "hood"])
async def test_a_place_id_out_of_range_is_invalid(api: Api, place: str, value: str) -> None:
    me = await api.register_active("09370000004")
    body = await api.post(
        "/user/edit",
        username=me["username"],
        token=me["token"],
        name="مریم",
        family="احمدی",
        **{place: value},
    )
    label = place.capitalize()
    assert body == {"status": "error", "message": "Server Error", "data": [f"{label} is invalid."]}
