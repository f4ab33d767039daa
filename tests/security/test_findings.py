"""The findings of the black-box probe (issue 10), one test or more each, on both databases.

Elsewhere: bodies without limits (4) in tests/web/test_guard.py, markup in text (6) in
tests/web/test_plain_text_api.py, secrets in logs (7) in tests/test_logging.py, deep and
nested JSON (8) in tests/web/test_params.py, huge page numbers (11) in tests/web/test_paging.py.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from hojre.accounts.models import AccessToken, User
from hojre.accounts.service import create_user, purge_idle_tokens
from hojre.core import security
from hojre.core.clock import utcnow
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.core.metrics import SMS_REFUSED
from hojre.interactions.registry import TargetKind
from hojre.messaging.models import Offer
from tests.conftest import Api, app_client, build_hub, make_settings
from tests.interactions.conftest import make_targets
from tests.messaging.conftest import Cast

pytestmark = pytest.mark.anyio

VICTIM = "09121234567"
OWNER_ADDRESS = "203.0.113.10"
STRANGER_ADDRESS = "198.51.100.66"
TOO_MANY = {"status": "error", "message": "Too Many Attempts", "data": ""}
NOT_LOGIN = {"status": "error", "message": "not login", "data": ""}
INCORRECT = "Username or Password is incorrect"
NOT_ACTIVATED = " Cellphone already registered but not activatad "


def success(message: str, data: object = "") -> dict[str, object]:
    return {"status": "success", "message": message, "data": data}


@asynccontextmanager
async def clients(hub: Hub, *addresses: str) -> AsyncIterator[list[Api]]:
    """One API client per address (throttles key on the client's address)."""
    async with AsyncExitStack() as stack:
        yield [
            Api(await stack.enter_async_context(app_client(hub, client=a)), hub) for a in addresses
        ]


async def sms_to(api: Api, cellphone: str) -> list[dict[str, Any]]:
    await api.hub.outbox.drain()
    return [m for m in api.sms() if m["to"] == cellphone]


async def active_users(hub: Hub, n: int, prefix: str = "0913") -> list[str]:
    """``n`` active customers made straight in the database (no SMS, no throttle)."""
    phones = [f"{prefix}{i:07d}" for i in range(n)]
    async with hub.db.unit_of_work(write=True) as session:
        for phone in phones:
            await create_user(SessionConn(session), cellphone=phone, password="secret1")
    return phones


# -- 1. pre-hijack -----------------------------------------------------------------------------


async def test_1_a_strangers_password_never_survives_the_owners_activation(hub: Hub) -> None:
    async with clients(hub, STRANGER_ADDRESS, OWNER_ADDRESS) as (stranger, owner):
        body = await stranger.post("/user/register", username=VICTIM, password="stranger-pw")
        assert body["message"] == "User intial register is done"
        # The owner's own register is not refused: it replaces the pending registration and
        # sends a code for it (today: "already registered but not activatad", and the code
        # then activated the stranger's password).
        body = await owner.post("/user/register", username=VICTIM, password="owner-pw")
        assert body["message"] == "User intial register is done", body
        code = await owner.last_code(VICTIM)
        assert await owner.post("/user/checkactivationcode", username=VICTIM, code=code) == (
            success("User is Activated")
        )
        # Registered with two passwords before anyone proved to hold the number: neither
        # logs in; the one who activated got a temporary password by SMS.
        for api, password in ((stranger, "stranger-pw"), (owner, "owner-pw")):
            body = await api.post("/user/login", username=VICTIM, password=password)
            assert body["message"] == INCORRECT, password
        temp = (await sms_to(owner, VICTIM))[-1]
        assert temp["kind"] == "temp_password"
        body = await owner.post("/user/login", username=VICTIM, password=temp["code"])
        assert body["message"] == "Login Success"
        # The stranger's password never comes back.
        body = await stranger.post("/user/login", username=VICTIM, password="stranger-pw")
        assert body["message"] == INCORRECT


async def test_1_the_stranger_registering_last_gains_nothing(hub: Hub) -> None:
    """The owner registers, the stranger registers after, the owner types the newest code
    (sent for the stranger's registration): still no stranger's password."""
    async with clients(hub, OWNER_ADDRESS, STRANGER_ADDRESS) as (owner, stranger):
        await owner.post("/user/register", username=VICTIM, password="owner-pw")
        first = await owner.last_code(VICTIM)
        body = await stranger.post("/user/register", username=VICTIM, password="stranger-pw")
        assert body["message"] == "User intial register is done"
        newest = await owner.last_code(VICTIM)
        assert newest != first
        # The first code died with its registration.
        body = await owner.post("/user/checkactivationcode", username=VICTIM, code=first)
        assert body["message"] == "Incorrect Code"
        body = await owner.post("/user/checkactivationcode", username=VICTIM, code=newest)
        assert body["message"] == "User is Activated"
        body = await stranger.post("/user/login", username=VICTIM, password="stranger-pw")
        assert body["message"] == INCORRECT


async def test_1_an_uncontested_registration_keeps_its_password(hub: Hub) -> None:
    async with clients(hub, OWNER_ADDRESS) as (owner,):
        await owner.post("/user/register", username=VICTIM, password="owner-pw")
        # The app retries with the same password: no contest, and within the minute no new
        # code either ("go and enter the code you have").
        body = await owner.post("/user/register", username=VICTIM, password="owner-pw")
        assert body == {
            "status": "error",
            "message": "Cellphone already registered but not activatad",
            "data": -1,
        }
        code = await owner.last_code(VICTIM)
        await owner.post("/user/checkactivationcode", username=VICTIM, code=code)
        body = await owner.post("/user/login", username=VICTIM, password="owner-pw")
        assert body["message"] == "Login Success"
        assert [m["kind"] for m in await sms_to(owner, VICTIM)] == ["activation"]


async def test_1_a_different_password_contests_even_when_no_code_may_go_out(hub: Hub) -> None:
    async with clients(hub, STRANGER_ADDRESS) as (stranger,):
        await stranger.post("/user/register", username=VICTIM, password="stranger-pw")
        code = await stranger.last_code(VICTIM)  # (in the test, the SMS file is readable)
        body = await stranger.post("/user/register", username=VICTIM, password="other-pw")
        assert body["data"] == -1  # within the minute: nothing replaced, but contested
        await stranger.post("/user/checkactivationcode", username=VICTIM, code=code)
        for password in ("stranger-pw", "other-pw"):
            body = await stranger.post("/user/login", username=VICTIM, password=password)
            assert body["message"] == INCORRECT


async def test_1_polling_logins_of_a_pending_number_are_throttled(hub: Hub) -> None:
    async with clients(hub, STRANGER_ADDRESS) as (stranger,):
        await stranger.post("/user/register", username=VICTIM, password="stranger-pw")
        answers = [
            (await stranger.post("/user/login", username=VICTIM, password="stranger-pw"))["message"]
            for _ in range(12)
        ]
    assert answers == [NOT_ACTIVATED] * 10 + ["Too Many Attempts"] * 2


# -- 2. lockout --------------------------------------------------------------------------------


async def test_2_a_strangers_failures_never_lock_the_owner_out(hub: Hub) -> None:
    async with clients(hub, OWNER_ADDRESS, STRANGER_ADDRESS) as (owner, stranger):
        data = await owner.register_active(VICTIM, "owner-pw")
        answers = [
            (await stranger.post("/user/login", username=VICTIM, password=f"guess-{i}"))["message"]
            for i in range(11)
        ]
        assert answers == [INCORRECT] * 10 + ["Too Many Attempts"]
        # The stranger's address is stopped, the right password included...
        body = await stranger.post("/user/login", username=VICTIM, password="owner-pw")
        assert body == TOO_MANY
        # ...and the owner is not: login, their own change-password, the temporary password.
        body = await owner.post("/user/login", username=VICTIM, password="owner-pw")
        assert body["message"] == "Login Success"
        body = await owner.post(
            "/user/change-password", username=VICTIM, token=data["token"],
            oldPassword="owner-pw", newPassword="owner-pw2",
        )  # fmt: skip
        assert body == success("Password Changed")
        assert await owner.post("/user/forget", username=VICTIM) == (
            success("New Password generated and sent ")
        )
        temp = (await sms_to(owner, VICTIM))[-1]["code"]
        body = await owner.post("/user/login", username=VICTIM, password=temp)
        assert body["message"] == "Login Success"


async def test_2_a_number_attacked_from_many_addresses_opens_for_a_clean_client(
    hub: Hub,
) -> None:
    hub.settings.login_number_max_failures = 5
    attackers = [f"198.51.100.{i}" for i in range(1, 8)]
    async with clients(hub, OWNER_ADDRESS, "192.0.2.1", *attackers) as (owner, typo, *bots):
        await owner.register_active(VICTIM, "owner-pw")
        # 7 failures of the number from 7 addresses: past its ceiling of 5, each new address
        # still gets its first try, and no second one.
        for bot in bots:
            body = await bot.post("/user/login", username=VICTIM, password="xxxxxx")
            assert body["message"] == INCORRECT
        assert await bots[0].post("/user/login", username=VICTIM, password="yyyyyy") == TOO_MANY
        # Past the number's ceiling, a client with a recent failure may not try again...
        body = await typo.post("/user/login", username=VICTIM, password="typo-pw")
        assert body["message"] == INCORRECT
        assert await typo.post("/user/login", username=VICTIM, password="owner-pw") == TOO_MANY
        # ...one without may: the owner's right password passes.
        body = await owner.post("/user/login", username=VICTIM, password="owner-pw")
        assert body["message"] == "Login Success"


async def test_2_a_stranger_spends_their_own_forget_sends_not_the_owners(hub: Hub) -> None:
    async with clients(hub, OWNER_ADDRESS, STRANGER_ADDRESS) as (owner, stranger):
        await owner.register_active(VICTIM, "owner-pw")
        answers = [
            (await stranger.post("/user/forget", username=VICTIM))["message"] for _ in range(4)
        ]
        assert answers == ["New Password generated and sent "] * 3 + ["Too Many Attempts"]
        assert await owner.post("/user/forget", username=VICTIM) == (
            success("New Password generated and sent ")
        )
        # The owner's password kept working all along.
        body = await owner.post("/user/login", username=VICTIM, password="owner-pw")
        assert body["message"] == "Login Success"


async def test_2_the_number_has_a_ceiling_of_forget_sends(hub: Hub) -> None:
    hub.settings.forget_number_max_sends = 4
    addresses = [f"198.51.100.{i}" for i in range(1, 7)]
    async with clients(hub, *addresses) as apis:
        await apis[0].register_active(VICTIM, "owner-pw")
        answers = [(await api.post("/user/forget", username=VICTIM))["message"] for api in apis]
    assert answers == ["New Password generated and sent "] * 4 + ["Too Many Attempts"] * 2
    assert len([m for m in await sms_to(apis[0], VICTIM) if m["kind"] == "temp_password"]) == 4


# -- 3. SMS pumping and spraying ---------------------------------------------------------------


async def test_3_one_client_cannot_register_twenty_numbers(hub: Hub) -> None:
    async with clients(hub, STRANGER_ADDRESS) as (stranger,):
        answers = Counter([
            (await stranger.post("/user/register", username=f"0935{i:07d}", password="secret1"))[
                "message"
            ]
            for i in range(20)
        ])  # fmt: skip
    assert answers == Counter({"User intial register is done": 10, "Too Many Attempts": 10})
    await hub.outbox.drain()
    assert len(stranger.sms()) == 10


async def test_3_one_client_cannot_send_forget_to_twenty_numbers(hub: Hub) -> None:
    phones = await active_users(hub, 20)
    async with clients(hub, STRANGER_ADDRESS, OWNER_ADDRESS) as (stranger, other):
        answers = Counter(
            [(await stranger.post("/user/forget", username=phone))["message"] for phone in phones]
        )
        assert answers == Counter({"New Password generated and sent ": 10, "Too Many Attempts": 10})
        # Unknown numbers spend the budget too (enumeration), and other clients keep theirs.
        body = await other.post("/user/forget", username=phones[-1])
        assert body["message"] == "New Password generated and sent "
    await hub.outbox.drain()
    assert len(stranger.sms()) == 11


async def test_3_one_client_cannot_spray_a_password_over_many_numbers(hub: Hub) -> None:
    phones = await active_users(hub, 60)
    async with clients(hub, STRANGER_ADDRESS, OWNER_ADDRESS) as (stranger, owner):
        answers = [
            (await stranger.post("/user/login", username=phone, password="123456"))["message"]
            for phone in phones
        ]
        assert answers == [INCORRECT] * 50 + ["Too Many Attempts"] * 10
        # The owners, elsewhere, are not affected.
        body = await owner.post("/user/login", username=phones[-1], password="secret1")
        assert body["message"] == "Login Success"


async def test_3_the_daily_sms_ceiling_refuses_and_alerts(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.settings.sms_daily_ceiling = 3
    before = SMS_REFUSED.labels("global_daily")._value.get()
    addresses = [f"198.51.100.{i}" for i in range(1, 6)]
    caplog.set_level(logging.WARNING, logger="hojre.sms")
    async with clients(hub, *addresses) as apis:
        answers = [
            (await api.post("/user/register", username=f"0935{i:07d}", password="secret1"))[
                "message"
            ]
            for i, api in enumerate(apis)
        ]
    assert answers == ["User intial register is done"] * 3 + ["Too Many Attempts"] * 2
    await hub.outbox.drain()
    assert len(apis[0].sms()) == 3
    alerts = [r for r in caplog.records if "SMS daily ceiling" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in alerts] == [
        ("ERROR", "SMS daily ceiling of 3 reached: no more SMS today")
    ]
    assert SMS_REFUSED.labels("global_daily")._value.get() == before + 2
    # Refused registrations leave no account behind.
    async with hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 3


# -- 5. password hashing outside any transaction -------------------------------------------------


@pytest.fixture
async def small_pool(db_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    settings = make_settings(
        db_url, tmp_path / "sms.jsonl", db_pool_size=2, login_max_failures=100,
        login_address_max_failures=100,
    )  # fmt: skip
    async for hub in build_hub(settings):
        yield hub


async def test_5_writes_go_on_while_a_burst_of_logins_is_hashing(
    small_pool: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 logins wait inside the password check (held there on purpose) while a customer's
    add-view runs: no write lock (SQLite) and no connection (PostgreSQL, a pool of 2) is held
    while a password is hashed. Before, the add-view waited for every login."""
    hub = small_pool
    inside = threading.Semaphore(0)
    release = threading.Event()
    real = PasswordHasher.verify

    def held(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> Literal[True]:
        inside.release()
        release.wait(30)
        return real(self, stored, password)

    async with clients(hub, OWNER_ADDRESS) as (api,):
        ids, _ = await make_targets(hub)
        data = await api.register_active(VICTIM, "owner-pw")
        monkeypatch.setattr(PasswordHasher, "verify", held)
        logins = [
            asyncio.ensure_future(api.post("/user/login", username=VICTIM, password="owner-pw"))
            for _ in range(40)
        ]
        try:
            assert await asyncio.to_thread(inside.acquire, True, 10)  # one is hashing
            view = await asyncio.wait_for(
                api.post("/user/add-view", username=VICTIM, token=data["token"],
                         target="store", id=str(ids[TargetKind.store])),
                timeout=10,
            )  # fmt: skip
            assert view == success("Viewed")
            assert not any(login.done() for login in logins)
        finally:
            release.set()
        answers = Counter(body["message"] for body in await asyncio.gather(*logins))
    assert answers == Counter({"Login Success": 40})


# -- 9. tokens ---------------------------------------------------------------------------------


async def set_last_use(hub: Hub, token_hash: str | None, ago: timedelta) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        stmt = update(AccessToken).values(last_used_at=utcnow() - ago)
        if token_hash is not None:
            stmt = stmt.where(AccessToken.token_hash == token_hash)
        await session.execute(stmt)


async def token_rows(hub: Hub) -> list[AccessToken]:
    async with hub.db.unit_of_work(write=False) as session:
        return list(await session.scalars(select(AccessToken).order_by(AccessToken.id)))


async def test_9_an_idle_token_expires(api: Api) -> None:
    data = await api.register_active(VICTIM)
    auth = {"username": VICTIM, "token": data["token"]}
    assert (await api.get("/users", **auth))["_meta"]["totalCount"] == 1
    await set_last_use(api.hub, security.sha256_hex(data["token"]), timedelta(days=91))
    assert await api.get("/users", **auth) == NOT_LOGIN
    # Lists that check the login inside their own statement (PostgreSQL) refuse it too.
    assert await api.get("/chats", **auth) == NOT_LOGIN
    assert await api.get("/main-chats", id="1", **auth) == NOT_LOGIN
    assert (await api.post("/user/islogin", **auth))["message"] == "Token is not valid"
    assert (await api.post("/user/newtoken", **auth))["message"] == "Token is not valid"
    # The sweep forgets it.
    async with api.hub.db.raw.connect(write=True) as conn:
        assert await purge_idle_tokens(conn, api.hub) == 1
    assert await token_rows(api.hub) == []


async def test_9_use_moves_the_last_use_once_a_day(api: Api) -> None:
    data = await api.register_active(VICTIM)
    auth = {"username": VICTIM, "token": data["token"]}
    token_hash = security.sha256_hex(data["token"])
    await set_last_use(api.hub, token_hash, timedelta(hours=5))
    [row] = await token_rows(api.hub)
    await api.get("/users", **auth)
    [same] = await token_rows(api.hub)
    assert same.last_used_at == row.last_used_at  # within the day: a read stays a read
    await set_last_use(api.hub, token_hash, timedelta(days=89))
    await api.get("/users", **auth)
    [moved] = await token_rows(api.hub)
    assert utcnow() - moved.last_used_at < timedelta(minutes=1)


async def test_9_a_user_keeps_at_most_ten_tokens(api: Api) -> None:
    first = await api.register_active(VICTIM)
    tokens = [first["token"]]
    for _ in range(59):
        body = await api.post("/user/login", username=VICTIM, password="secret1")
        tokens.append(body["data"]["token"])
    rows = await token_rows(api.hub)
    assert len(rows) == 10
    assert {r.token_hash for r in rows} == {security.sha256_hex(t) for t in tokens[-10:]}
    body = await api.get("/users", username=VICTIM, token=tokens[0])
    assert body["message"] == "not login"
    assert (await api.get("/users", username=VICTIM, token=tokens[-1]))["_meta"]["totalCount"] == 1


async def test_9_logout_ends_one_session(api: Api) -> None:
    one = await api.register_active(VICTIM)
    two = (await api.post("/user/login", username=VICTIM, password="secret1"))["data"]
    assert await api.post("/user/logout", username=VICTIM, token=one["token"]) == (
        success("Logged Out")
    )
    assert (await api.get("/users", username=VICTIM, token=one["token"]))["message"] == "not login"
    assert (await api.get("/users", username=VICTIM, token=two["token"]))["_meta"][
        "totalCount"
    ] == 1
    # A retried logout: that token is gone.
    body = await api.post("/user/logout", username=VICTIM, token=one["token"])
    assert body == {"status": "error", "message": "not login", "data": ""}
    # A Bearer header logs out as well.
    body = await api.post(
        "/user/logout", username=VICTIM, headers={"Authorization": f"Bearer {two['token']}"}
    )
    assert body == success("Logged Out")
    assert await token_rows(api.hub) == []


# -- 10. per-sender limits -----------------------------------------------------------------------


async def repeat(n: int, send: Callable[[int], Any]) -> list[str]:
    return [(await send(i))["message"] for i in range(n)]


async def test_10_comments_per_sender(cast: Cast) -> None:
    cast.hub.settings.comments_per_hour = 3
    shop, customer = await cast.shop(), await cast.customer()
    # A refused comment (validation) is not counted.
    body = await customer.post("/user/add-comment", target="store", id=str(shop.id), text="")
    assert body["data"] == ["Text cannot be blank."]
    answers = await repeat(
        4, lambda i: customer.post("/user/add-comment", target="store", id=str(shop.id),
                                   text=f"نظر {i}")
    )  # fmt: skip
    assert answers == ["Comment Added"] * 3 + ["Too Many Attempts"]
    other = await cast.customer()
    body = await other.post("/user/add-comment", target="store", id=str(shop.id), text="خوب")
    assert body["message"] == "Comment Added"


async def test_10_chat_messages_per_sender(cast: Cast) -> None:
    cast.hub.settings.chat_messages_per_hour = 2
    shop, customer = await cast.shop(), await cast.customer()
    chat = (await customer.post("/user/start-chat", store=str(shop.id)))["data"]["id"]
    answers = await repeat(
        3, lambda i: customer.post("/user/send-chat-message", id=str(chat), text=f"سلام {i}")
    )
    assert answers == ["Message Sent"] * 2 + ["Too Many Attempts"]
    body = await shop.seller.post("/user/send-chat-message", id=str(chat), text="بفرمایید")
    assert body["message"] == "Message Sent"


async def test_10_store_messages_per_sender(cast: Cast) -> None:
    cast.hub.settings.store_messages_per_hour = 2
    shop, customer = await cast.shop(), await cast.customer()
    answers = await repeat(
        3, lambda i: customer.post("/user/submit-store-message", store=str(shop.id),
                                   title=f"پرسش {i}", text="آیا موجود است؟")
    )  # fmt: skip
    assert answers == ["Message Sent"] * 2 + ["Too Many Attempts"]


async def test_10_offers_per_sender(cast: Cast) -> None:
    cast.hub.settings.offers_per_day = 2
    shop, customer = await cast.shop(), await cast.customer()
    await customer.post("/user/add-favorite", target="store", id=str(shop.id))
    answers = await repeat(
        3,
        lambda i: shop.seller.post("/seller/send-offer", user=str(customer.id), text=f"تخفیف {i}"),
    )
    assert answers == ["Offer Sent"] * 2 + ["Too Many Attempts"]
    async with cast.hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Offer)) == 2


# -- the client address -----------------------------------------------------------------------


async def test_the_client_address_comes_from_a_trusted_proxy_only(hub: Hub) -> None:
    """Behind the proxy (127.0.0.1, HOJRE_FORWARDED_ALLOW_IPS) X-Forwarded-For names the
    client; from anyone else it is ignored, so a stranger cannot pose as many clients."""
    async with clients(hub, "127.0.0.1", STRANGER_ADDRESS) as (proxy, stranger):
        await proxy.register_active(VICTIM, "owner-pw")
        for i in range(10):
            # A direct stranger changes the header every time: still one client.
            fake = {"X-Forwarded-For": f"192.0.2.{i}"}
            body = await stranger.post(
                "/user/login", username=VICTIM, password="x" * 6, headers=fake
            )
            assert body["message"] == INCORRECT
        assert await stranger.post("/user/login", username=VICTIM, password="owner-pw") == TOO_MANY
        # Through the proxy, each forwarded client is its own: the address the proxy appended
        # last (a client's own X-Forwarded-For comes before it).
        via = {"X-Forwarded-For": "192.0.2.77"}
        for _ in range(10):
            body = await proxy.post("/user/login", username=VICTIM, password="y" * 6, headers=via)
            assert body["message"] == INCORRECT
        body = await proxy.post("/user/login", username=VICTIM, password="owner-pw", headers=via)
        assert body == TOO_MANY
        owner = {"X-Forwarded-For": f"192.0.2.77, {OWNER_ADDRESS}"}
        body = await proxy.post("/user/login", username=VICTIM, password="owner-pw", headers=owner)
        assert body["message"] == "Login Success"


async def test_1_checking_codes_of_a_contested_number_costs_no_hashing_past_its_tries(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contested activation hashes a temporary password; a code that cannot be tried any
    more (5 tries spent) is refused before any hashing, so guesses cannot burn CPU."""
    async with clients(hub, STRANGER_ADDRESS, OWNER_ADDRESS) as (stranger, owner):
        await stranger.post("/user/register", username=VICTIM, password="stranger-pw")
        await owner.post("/user/register", username=VICTIM, password="owner-pw")
        code = await owner.last_code(VICTIM)
        wrong = "10000" if code != "10000" else "10001"
        hashed = 0
        real = PasswordHasher.hash

        def counted(self: PasswordHasher, password: str | bytes, **kwargs: Any) -> str:
            nonlocal hashed
            hashed += 1
            return real(self, password, **kwargs)

        monkeypatch.setattr(PasswordHasher, "hash", counted)
        for _ in range(25):
            body = await stranger.post("/user/checkactivationcode", username=VICTIM, code=wrong)
            assert body["message"] == "Incorrect Code"
        assert hashed == 5
        body = await owner.post("/user/checkactivationcode", username=VICTIM, code=code)
        assert body["message"] == "Incorrect Code"  # the tries are spent for everyone


async def test_3_codes_asked_for_unknown_numbers_spend_the_address_budget(hub: Hub) -> None:
    async with clients(hub, STRANGER_ADDRESS) as (stranger,):
        answers = [
            (await stranger.post("/user/newactivationcode", username=f"0935{i:07d}"))["message"]
            for i in range(11)
        ]
    assert answers == ["User is not registered"] * 10 + ["Too Many Attempts"]
