"""End to end: what people type comes back as plain text, and profile links are web links.

A security probe found `&lt;script&gt;` in a comment or chat message coming back as `<script>`
(tags were stripped before entities were decoded, which made tags), and profile fields keeping
raw HTML and `javascript:` URLs that other users see as a comment's `userTitle` and `avatar`.
"""

from __future__ import annotations

from typing import Any

import pytest

from hojre.interactions.registry import TargetKind
from tests.conftest import Api
from tests.interactions.conftest import make_targets
from tests.messaging.conftest import Cast, chat_messages, store_message_row

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/avatars/a-1.png",
    "img/avatars/maryam.png",
)


pytestmark = pytest.mark.anyio

CUSTOMER = "09350000001"
SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
NAMES = {"name": "مریم", "family": "احمدی"}  # required on every edit


def invalid(*problems: str) -> dict[str, Any]:
    return {"status": "error", "message": "Server Error", "data": list(problems)}


UPDATED = {"status": "success", "message": "updated successfully", "data": ""}


async def customer(api: Api) -> dict[str, str]:
    data = await api.register_active(CUSTOMER)
    return {"username": CUSTOMER, "token": data["token"]}


async def me(api: Api, auth: dict[str, str]) -> dict[str, Any]:
    (user,) = (await api.get("/users", **auth))["items"]
    assert isinstance(user, dict)
    return user


async def store_comments(api: Api, store_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get("/store-user-comments", id=str(store_id)))["items"]
    return items


# -- comments and messages -------------------------------------------------------------------


async def test_an_escaped_script_in_a_comment_comes_back_without_a_tag(api: Api) -> None:
    ids, _ = await make_targets(api.hub)
    auth = await customer(api)
    store_id = ids[TargetKind.store]
    body = await api.post(
        "/user/add-comment", **auth, target="store", id=str(store_id),
        text=f"{SCRIPT} عالی بود", pros="&amp;lt;b&amp;gt;سریع", cons="<<script>script>گران",
    )  # fmt: skip
    assert body["message"] == "Comment Added", body
    (item,) = await store_comments(api, store_id)
    assert (item["text"], item["pros"], item["cons"]) == ("alert(1) عالی بود", "سریع", "گران")
    assert "<script" not in str(item).lower()
    # What merely uses < > & is kept as typed.
    body = await api.post("/user/add-comment", **auth, target="store", id=str(store_id),
                          text="قیمت < ۲ میلیون & کیفیت > متوسط")  # fmt: skip
    assert body["message"] == "Comment Added", body
    assert (await store_comments(api, store_id))[0]["text"] == "قیمت < ۲ میلیون & کیفیت > متوسط"


async def test_an_escaped_script_in_a_chat_message_comes_back_without_a_tag(api: Api) -> None:
    cast = Cast(api)
    a = await cast.customer()
    shop = await cast.shop()
    started = await a.post("/user/start-chat", store=shop.id)
    chat_id = started["data"]["id"]
    for text in (f"سلام {SCRIPT}", "<scr<script>ipt>alert(1)", "&#x202e;gpj.exe"):
        body = await a.post("/user/send-chat-message", id=chat_id, text=text)
        assert body["message"] == "Message Sent", body
    reply = await shop.seller.post("/user/send-chat-message", id=chat_id, text=f"{SCRIPT}چشم")
    assert reply["message"] == "Message Sent", reply
    items = (await a.get("/main-chats", id=chat_id))["items"]
    assert [i["text"] for i in items] == ["alert(1)چشم", "gpj.exe", "ipt>alert(1)", "سلام alert(1)"]
    assert all("<" not in m.text for m in await chat_messages(api.hub, chat_id))


async def test_store_messages_and_answers_are_plain_text(api: Api) -> None:
    cast = Cast(api)
    a = await cast.customer()
    shop = await cast.shop()
    body = await a.post("/user/submit-store-message", store=shop.id,
                        title="&lt;h1&gt;پرسش", text=SCRIPT + "ارسال دارید؟")  # fmt: skip
    assert body["message"] == "Message Sent", body
    row = await store_message_row(api.hub, body["data"]["id"])
    assert (row.title, row.text) == ("پرسش", "alert(1)ارسال دارید؟")
    assert shop.manager is not None
    answered = await shop.manager.post("/store-manager/answer-store-message",
                                       message=row.id, answer="&lt;b&gt;بله")  # fmt: skip
    assert answered["message"] == "message replied", answered
    assert (await store_message_row(api.hub, row.id)).answer == "بله"


# -- the profile -----------------------------------------------------------------------------


async def test_profile_text_is_plain_and_shows_so_under_a_comment(api: Api) -> None:
    ids, _ = await make_targets(api.hub)
    auth = await customer(api)
    body = await api.post("/user/edit", **auth, name="<b>Maryam</b>",
                          family="&lt;i&gt;Ahmadi&lt;/i&gt;", address=f"{SCRIPT}تهران، تجریش",
                          avatar="img/avatars/maryam.png")  # fmt: skip
    assert body == UPDATED
    user = await me(api, auth)
    assert (user["name"], user["family"]) == ("Maryam", "Ahmadi")
    assert user["address"] == "alert(1)تهران، تجریش"
    store_id = ids[TargetKind.store]
    body = await api.post("/user/add-comment", **auth, target="store", id=str(store_id),
                          text="خوب بود")  # fmt: skip
    assert body["message"] == "Comment Added", body
    (item,) = await store_comments(api, store_id)
    assert item["userTitle"] == "Maryam Ahmadi"
    assert item["avatar"] == "img/avatars/maryam.png"


async def test_length_rules_apply_to_the_cleaned_text(api: Api) -> None:
    auth = await customer(api)
    # 3 characters once the tags are gone: long enough, though "<b>x</b>" is 8.
    assert await api.post("/user/edit", **auth, name="<b>abc</b>", family="احمدی") == UPDATED
    short = await api.post("/user/edit", **auth, name="<b>ab</b>", family="<i></i>")
    assert short == invalid("Name should contain at least 3 characters.", "Family cannot be blank.")


async def test_a_javascript_website_is_refused(api: Api) -> None:
    auth = await customer(api)
    body = await api.post("/user/edit", **auth, **NAMES, website="javascript:alert(1)")
    assert body == {"status": "error", "message": "Server Error",
                    "data": ["Website is not a valid URL."]}  # fmt: skip
    assert (await me(api, auth))["website"] is None  # nothing written


async def test_a_javascript_avatar_is_refused(api: Api) -> None:
    auth = await customer(api)
    body = await api.post("/user/edit", **auth, **NAMES, avatar="javascript:alert(1)")
    assert body == invalid("Avatar is not a valid URL.")
    assert (await me(api, auth))["avatar"] == "img/defaults/avatars/51.png"  # never set


async def test_social_ids_or_web_links(api: Api) -> None:
    auth = await customer(api)
    assert await api.post("/user/edit", **auth, **NAMES, telegram="javascript:x") == invalid(
        "Telegram is not a valid URL."
    )
    assert await api.post("/user/edit", **auth, **NAMES, telegram="my_id") == UPDATED
    assert (await me(api, auth))["telegram"] == "my_id"
    links = {
        "telegramChannell": "https://t.me/maryam_channel",
        "instagram": "@maryam",
        "twitter": "maryam_a",
        "linkedin": "https://www.linkedin.com/in/maryam",
        "facebook": "maryam.ahmadi",
        "googleplus": "",
    }
    assert await api.post("/user/edit", **auth, **NAMES, **links) == UPDATED
    user = await me(api, auth)
    assert {k: user[k] for k in links} == {**links, "googleplus": None}
    # Each refused field is reported, all at once, with the contract's labels.
    bad = await api.post(
        "/user/edit", **auth, **NAMES, telegramChannell="java\tscript:alert(1)",
        twitter="data:text/html,x", linkedin="https://", instagram="JAVASCRIPT:x",
        facebook="ftp://x.ir", googleplus="javascript&colon;alert(1)",
    )  # fmt: skip
    assert bad == invalid(
        "Telegram Channel is not a valid URL.", "Twitter is not a valid URL.",
        "Linkedin is not a valid URL.", "Facebook is not a valid URL.",
        "Instagram is not a valid URL.", "Googleplus is not a valid URL.",
    )  # fmt: skip
    assert (await me(api, auth))["telegram"] == "my_id"


async def test_website_and_avatar_rules(api: Api) -> None:
    auth = await customer(api)
    for field, value in [
        ("website", "https://hojre.ir/store/12?tab=comments&page=2"),
        ("website", "http://سلام.ir"),
        ("avatar", "img/avatars/maryam.png"),
        ("avatar", "img/avatars/a-1.png"),
        ("website", ""),
    ]:
        assert await api.post("/user/edit", **auth, **NAMES, **{field: value}) == UPDATED, value
        assert (await me(api, auth))[field] == (value or None)
    for field, value in [
        ("website", "hojre.ir"),
        ("website", "https://"),
        ("website", "https://hojre.ir/a b"),
        ("website", "https://hojre.ir@evil.example/"),
        ("website", 'https://hojre.ir/"onmouseover="alert(1)'),
        # Markup or entities in a link: refused, not stored other than as typed
        # (html.unescape would read `&para=2` as `¶=2`).
        ("website", "https://hojre.ir/<b>x</b>"),
        ("website", "https://hojre.ir/?a=1&para=2"),
        ("website", "javascript&#58;alert(1)"),
        ("avatar", "/etc/passwd"),
        ("avatar", "//evil.example/a.png"),
        ("avatar", "img/../../etc/passwd"),
        ("avatar", "data:image/svg+xml,<svg onload=alert(1)>"),
    ]:
        label = field.capitalize()
        body = await api.post("/user/edit", **auth, **NAMES, **{field: value})
        assert body == invalid(f"{label} is not a valid URL."), value
    both = await api.post("/user/edit", **auth, **NAMES, website="x", avatar="y:z")
    assert both == invalid("Website is not a valid URL.", "Avatar is not a valid URL.")
    # Too long is reported as too long, not as a bad URL as well.
    long = await api.post("/user/edit", **auth, **NAMES, website="https://x.ir/" + "a" * 250)
    assert long == invalid("Website should contain at most 255 characters.")
