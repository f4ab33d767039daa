"""API.md §1, every row: exact messages, shapes and the rules behind them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hojre.accounts.models import AccessToken, ActivationCode, User
from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.core.security import sha256_hex
from tests.conftest import Api
from tests.factories import count_statements

pytestmark = pytest.mark.anyio

PHONE = "09121234567"
USER_FIELDS = {
    "id", "cellPhone", "email", "name", "family", "phone", "address", "city", "state", "role",
    "country", "hood", "instagram", "telegramChannell", "telegram", "linkedin", "facebook",
    "twitter", "googleplus", "website", "avatar", "gender",
}  # fmt: skip


def err(message: str, data: object = "") -> dict[str, object]:
    return {"status": "error", "message": message, "data": data}


def success(message: str, data: object = "") -> dict[str, object]:
    return {"status": "success", "message": message, "data": data}


async def user_row(hub: Hub, cellphone: str = PHONE) -> User:
    async with hub.db.unit_of_work(write=False) as session:
        user = await session.scalar(select(User).where(User.cellphone == cellphone))
        assert user is not None
        return user


# -- register ----------------------------------------------------------------------------------


async def test_register_answers_id_and_username_at_top_level_and_sends_a_code(api: Api) -> None:
    body = await api.post("/user/register", username=PHONE, password="secret1", x="51.4", y="35.7")
    assert set(body) == {"status", "message", "id", "username"}
    assert body["status"] == "success"
    assert body["message"] == "User intial register is done"
    assert isinstance(body["id"], int)
    assert body["username"] == PHONE
    code = await api.last_code(PHONE)
    assert re.fullmatch(r"[1-9][0-9]{4}", code)
    user = await user_row(api.hub)
    assert user.is_active is False
    assert user.role == 8
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "secret1", "Username or Password cannot be blank."),
        (PHONE, "", "Username or Password cannot be blank."),
        ("   ", "secret1", "Username or Password cannot be blank."),
        ("0812345678", "secret1", "Cellphone is not validated"),
        ("02112345678", "secret1", "Cellphone is not validated"),
        ("0912345678x", "secret1", "Cellphone is not validated"),
        (PHONE, "12345", "Cant Validate Data"),
    ],
)
async def test_register_rejects(api: Api, username: str, password: str, message: str) -> None:
    assert await api.post("/user/register", username=username, password=password) == err(message)
    assert api.sms() == []


async def test_register_twice_before_and_after_activation(api: Api) -> None:
    await api.post("/user/register", username=PHONE, password="secret1")
    again = await api.post("/user/register", username=PHONE, password="other-password")
    assert again == err("Cellphone already registered but not activatad", -1)
    code = await api.last_code(PHONE)
    await api.post("/user/checkactivationcode", username=PHONE, code=code)
    assert await api.post("/user/register", username=PHONE, password="secret1") == err(
        "Cellphone already existed"
    )


async def test_persian_and_arabic_digits_are_the_same_account(api: Api) -> None:
    body = await api.post("/user/register", username="۰۹۱۲۱۲۳۴۵۶۷", password="secret1")
    assert body["username"] == PHONE
    code = await api.last_code(PHONE)
    persian_code = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    activated = await api.post(
        "/user/checkactivationcode", username="٠٩١٢١٢٣٤٥٦٧", code=persian_code
    )
    assert activated == success("User is Activated")
    for spelling in (PHONE, "+989121234567", "00989121234567", "0912 123 4567", "0912-123-4567"):
        login = await api.post("/user/login", username=spelling, password="secret1")
        assert login["message"] == "Login Success", spelling
        assert login["data"]["username"] == PHONE


# -- activation codes --------------------------------------------------------------------------


async def test_activation_code_is_stored_hashed(api: Api) -> None:
    await api.post("/user/register", username=PHONE, password="secret1")
    code = await api.last_code(PHONE)
    async with api.hub.db.unit_of_work(write=False) as session:
        row = await session.scalar(select(ActivationCode))
    assert row is not None
    assert code not in row.code_hash
    assert len(row.code_hash) == 64


async def test_wrong_code_then_right_code(api: Api) -> None:
    await api.post("/user/register", username=PHONE, password="secret1")
    code = await api.last_code(PHONE)
    wrong = "10000" if code != "10000" else "10001"
    for bad in (wrong, "1234", "123456", "abcde", "", "01234"):
        assert await api.post("/user/checkactivationcode", username=PHONE, code=bad) == err(
            "Incorrect Code"
        )
    assert await api.post("/user/checkactivationcode", username=PHONE, code=code) == success(
        "User is Activated"
    )
    # A retried request after success is still a success.
    assert await api.post("/user/checkactivationcode", username=PHONE, code=code) == success(
        "User is Activated"
    )


async def test_five_wrong_tries_burn_the_code_until_a_new_one(api: Api) -> None:
    await api.post("/user/register", username=PHONE, password="secret1")
    code = await api.last_code(PHONE)
    wrong = "10000" if code != "10000" else "10001"
    for _ in range(5):
        await api.post("/user/checkactivationcode", username=PHONE, code=wrong)
    assert await api.post("/user/checkactivationcode", username=PHONE, code=code) == err(
        "Incorrect Code"
    )
    api.hub.settings.activation_codes_per_minute = 5
    assert await api.post("/user/newactivationcode", username=PHONE) == success(
        "New Activation Code Generated"
    )
    fresh = await api.last_code(PHONE)
    assert await api.post("/user/checkactivationcode", username=PHONE, code=fresh) == success(
        "User is Activated"
    )


async def test_expired_code_is_incorrect(api: Api) -> None:
    await api.post("/user/register", username=PHONE, password="secret1")
    code = await api.last_code(PHONE)
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(ActivationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await api.post("/user/checkactivationcode", username=PHONE, code=code) == err(
        "Incorrect Code"
    )


async def test_unknown_user_code_is_incorrect(api: Api) -> None:
    assert await api.post("/user/checkactivationcode", username=PHONE, code="12345") == err(
        "Incorrect Code"
    )


async def test_new_activation_code_rules(api: Api) -> None:
    assert await api.post("/user/newactivationcode", username=PHONE) == err(
        "User is not registered"
    )
    await api.post("/user/register", username=PHONE, password="secret1")
    first = await api.last_code(PHONE)
    # One code a minute: the register's code was this minute's.
    assert await api.post("/user/newactivationcode", username=PHONE) == err("Too Many Attempts")
    api.hub.settings.activation_codes_per_minute = 100
    for _ in range(4):  # 5 a day, the first one included
        assert await api.post("/user/newactivationcode", username=PHONE) == success(
            "New Activation Code Generated"
        )
    assert await api.post("/user/newactivationcode", username=PHONE) == err("Too Many Attempts")
    latest = await api.last_code(PHONE)
    assert len([m for m in api.sms() if m["to"] == PHONE]) == 5
    if first != latest:  # a replaced code no longer works
        assert await api.post("/user/checkactivationcode", username=PHONE, code=first) == err(
            "Incorrect Code"
        )
    await api.post("/user/checkactivationcode", username=PHONE, code=latest)
    assert await api.post("/user/newactivationcode", username=PHONE) == err("User is Activated")


# -- login, tokens -----------------------------------------------------------------------------


async def test_login_success_shape_and_token_stored_hashed(api: Api) -> None:
    data = await api.register_active(PHONE)
    assert set(data) == {"id", "username", "token"}
    assert data["username"] == PHONE
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", data["token"])
    async with api.hub.db.unit_of_work(write=False) as session:
        hashes = list(await session.scalars(select(AccessToken.token_hash)))
    assert hashes == [sha256_hex(data["token"])]


async def test_login_errors(api: Api) -> None:
    assert await api.post("/user/login", username=PHONE, password="secret1") == err(
        " User not found "
    )
    await api.post("/user/register", username=PHONE, password="secret1")
    assert await api.post("/user/login", username=PHONE, password="secret1") == err(
        " Cellphone already registered but not activatad ", -1
    )
    assert await api.post("/user/login", username=PHONE, password="wrong-pass") == err(
        "Username or Password is incorrect"
    )
    assert await api.post("/user/login", username="", password="") == err(
        "Username or Password is incorrect"
    )


async def test_login_throttled_after_ten_failures(api: Api) -> None:
    await api.register_active(PHONE)
    for _ in range(9):  # the register_active login succeeded and reset the count
        assert (await api.post("/user/login", username=PHONE, password="nope-nope"))[
            "message"
        ] == "Username or Password is incorrect"
    assert (await api.post("/user/login", username=PHONE, password="secret1"))[
        "message"
    ] == "Login Success"  # success clears the count
    for _ in range(10):
        await api.post("/user/login", username=PHONE, password="nope-nope")
    assert await api.post("/user/login", username=PHONE, password="secret1") == err(
        "Too Many Attempts"
    )


async def test_one_token_per_device(api: Api) -> None:
    first = await api.register_active(PHONE)
    second = (await api.post("/user/login", username=PHONE, password="secret1"))["data"]
    assert first["token"] != second["token"]
    for token in (first["token"], second["token"]):
        assert await api.post("/user/islogin", username=PHONE, token=token) == success(
            "Token is true"
        )


async def test_store_login(api: Api) -> None:
    await api.register_active(PHONE)
    assert await api.post("/user/store-login", username=PHONE, password="secret1") == err(
        "You are not seller or store manager"
    )
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(User).values(role=7))
    body = await api.post("/user/store-login", username=PHONE, password="secret1")
    assert body["message"] == "Login Success"
    assert set(body["data"]) == {"id", "username", "token"}
    assert await api.post("/user/store-login", username=PHONE, password="wrong-pass") == err(
        "Username or Password is incorrect"
    )


async def test_islogin(api: Api) -> None:
    data = await api.register_active(PHONE)
    other = await api.register_active("09127654321")
    assert await api.post("/user/islogin", username=PHONE, token="x" * 32) == err(
        "Token is not valid"
    )
    # Another user's token with my username is not mine.
    assert await api.post("/user/islogin", username=PHONE, token=other["token"]) == err(
        "Token is not valid"
    )
    bearer = {"Authorization": f"Bearer {data['token']}"}
    assert await api.post("/user/islogin", username=PHONE, headers=bearer) == success(
        "Token is true"
    )


async def test_newtoken_rotates(api: Api) -> None:
    data = await api.register_active(PHONE)
    body = await api.post("/user/newtoken", username=PHONE, token=data["token"])
    assert body["status"] == "success"
    assert body["message"] == "Token Updated"
    assert set(body["data"]) == {"id", "username", "token"}
    new = body["data"]["token"]
    assert new != data["token"]
    assert await api.post("/user/islogin", username=PHONE, token=data["token"]) == err(
        "Token is not valid"
    )
    assert await api.post("/user/islogin", username=PHONE, token=new) == success("Token is true")
    assert await api.post("/user/newtoken", username=PHONE, token=data["token"]) == err(
        "Token is not valid"
    )


# -- forget ------------------------------------------------------------------------------------


async def test_forget_sends_a_temporary_password_that_replaces_the_old_on_use(api: Api) -> None:
    assert await api.post("/user/forget", username=PHONE) == err("User Not Found")
    first = await api.register_active(PHONE)
    assert await api.post("/user/forget", username=PHONE) == success(
        "New Password generated and sent "
    )
    temp = await api.last_code(PHONE)
    assert re.fullmatch(r"[0-9]{8}", temp)
    # A stranger asking for a new password does not lock the owner out.
    kept = await api.post("/user/login", username=PHONE, password="secret1")
    assert kept["message"] == "Login Success"
    used = await api.post("/user/login", username=PHONE, password=temp)
    assert used["message"] == "Login Success"
    # Now the temporary password is the password; older sessions end.
    assert await api.post("/user/login", username=PHONE, password="secret1") == err(
        "Username or Password is incorrect"
    )
    for token in (first["token"], kept["data"]["token"]):
        assert (await api.post("/user/islogin", username=PHONE, token=token))[
            "message"
        ] == "Token is not valid"
    assert (await api.post("/user/islogin", username=PHONE, token=used["data"]["token"]))[
        "message"
    ] == "Token is true"


async def test_expired_temporary_password_is_refused(api: Api) -> None:
    await api.register_active(PHONE)
    await api.post("/user/forget", username=PHONE)
    temp = await api.last_code(PHONE)
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(User).values(temp_password_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await api.post("/user/login", username=PHONE, password=temp) == err(
        "Username or Password is incorrect"
    )


async def test_forget_is_throttled(api: Api) -> None:
    await api.register_active(PHONE)
    for _ in range(3):
        assert (await api.post("/user/forget", username=PHONE))["status"] == "success"
    assert await api.post("/user/forget", username=PHONE) == err("Too Many Attempts")


# -- profile -----------------------------------------------------------------------------------


async def test_users_lists_the_caller(api: Api) -> None:
    data = await api.register_active(PHONE)
    body = await api.get("/users", username=PHONE, token=data["token"])
    assert body["_meta"] == {"totalCount": 1, "pageCount": 1, "currentPage": 1, "perPage": 300}
    (item,) = body["items"]
    assert set(item) == USER_FIELDS
    assert item["id"] == data["id"]
    assert item["cellPhone"] == PHONE
    assert item["role"] == 8
    assert await api.get("/users", username=PHONE, token="nope") == err("not login")
    assert await api.get("/users") == err("not login")


# The location is kept by lists and the rest alike.
@pytest.mark.parametrize("path", ["/users", "/chats"])
async def test_location_from_x_and_y_is_remembered(api: Api, path: str) -> None:
    data = await api.register_active(PHONE)
    body = await api.get(path, username=PHONE, token=data["token"], x="51.389", y="35.6892")
    assert "status" not in body or body["status"] == "success", body
    user = await user_row(api.hub)
    assert (user.longitude, user.latitude) == (51.389, 35.6892)
    assert user.located_at is not None
    await api.get(path, username=PHONE, token=data["token"], x="999", y="abc")
    assert (await user_row(api.hub)).longitude == 51.389


async def tehran_ids(hub: Hub) -> tuple[int, int, int, int]:
    """(Tehran state, Tehran city, one Tehran hood, a city of another state)."""
    from hojre.geo.models import City, Hood

    async with hub.db.unit_of_work(write=False) as session:
        city = await session.scalar(select(City).where(City.state_id == 1, City.title == "تهران"))
        assert city is not None
        hood = await session.scalar(select(Hood.id).where(Hood.city_id == city.id).limit(1))
        other = await session.scalar(select(City.id).where(City.state_id == 2).limit(1))
    assert hood is not None and other is not None
    return 1, city.id, hood, other


async def test_edit_profile(api: Api) -> None:
    data = await api.register_active(PHONE)
    state, city, hood, _ = await tehran_ids(api.hub)
    auth = {"username": PHONE, "token": data["token"]}
    body = await api.post(
        "/user/edit",
        **auth,
        name="مریم",
        family="احمدی",
        email="Maryam@Example.com",
        phone="۰۲۱۸۸۷۷۶۶۵۵",
        state=str(state),
        city=str(city),
        hood=str(hood),
        address="خیابان ولیعصر، پلاک ۱۲",
        age="۳۰",
        gender="female",
        telegramChannell="@maryam_channel",
        website="https://example.com",
    )
    assert body == success("updated successfully")
    item = (await api.get("/users", **auth))["items"][0]
    assert item["name"] == "مریم"
    assert item["email"] == "maryam@example.com"
    assert item["phone"] == "02188776655"
    assert (item["state"], item["city"], item["hood"], item["country"]) == (state, city, hood, 102)
    assert item["gender"] == "female"
    assert item["telegramChannell"] == "@maryam_channel"
    assert (await user_row(api.hub)).age == 30
    # Fields not sent stay; an empty value clears.
    await api.post("/user/edit", **auth, name="مریم", family="احمدی", website="")
    item = (await api.get("/users", **auth))["items"][0]
    assert item["website"] is None
    assert item["email"] == "maryam@example.com"


async def test_edit_profile_reports_every_failed_rule(api: Api) -> None:
    data = await api.register_active(PHONE)
    auth = {"username": PHONE, "token": data["token"]}
    body = await api.post(
        "/user/edit", **auth, name="ab", family="cd", address="abc", gender="x",
        phone="123", age="old", state="9999",
    )  # fmt: skip
    assert body == err(
        "Server Error",
        [
            "Name should contain at least 3 characters.",
            "Family should contain at least 3 characters.",
            "Address should contain at least 5 characters.",
            "Phone is not valid",
            "Age must be an integer.",
            "Gender is invalid.",
            "State is invalid.",
        ],
    )
    assert await api.post("/user/edit", **auth) == err(
        "Server Error", ["Name cannot be blank.", "Family cannot be blank."]
    )


async def test_edit_profile_places_must_belong_together(api: Api) -> None:
    data = await api.register_active(PHONE)
    state, city, hood, other_city = await tehran_ids(api.hub)
    auth = {"username": PHONE, "token": data["token"], "name": "مریم", "family": "احمدی"}
    assert await api.post("/user/edit", **auth, state=str(state), city=str(other_city)) == err(
        "Server Error", ["City is invalid."]
    )
    assert await api.post("/user/edit", **auth, state="2", city=str(city)) == err(
        "Server Error", ["City is invalid."]
    )
    assert await api.post("/user/edit", **auth, hood=str(hood)) == err(
        "Server Error", ["Hood is invalid."]
    )
    assert await api.post("/user/edit", **auth, state="abc") == err(
        "Server Error", ["State is invalid."]
    )


async def test_email_taken(api: Api) -> None:
    first = await api.register_active(PHONE)
    second = await api.register_active("09127654321")
    names = {"name": "مریم", "family": "احمدی"}
    await api.post("/user/edit", username=PHONE, token=first["token"], email="a@b.ir", **names)
    body = await api.post(
        "/user/edit", username="09127654321", token=second["token"], email="A@B.ir", **names
    )
    assert body == err("Server Error", ["This email address has already been taken."])


async def test_edit_runs_a_constant_number_of_statements(api: Api) -> None:
    """The login, the email's owner, the places (one statement for all three), the write."""
    data = await api.register_active(PHONE)
    edit = {"username": PHONE, "token": data["token"], "name": "مریم", "family": "احمدی"}
    with count_statements(api.hub) as sql:
        assert (await api.post("/user/edit", **edit))["message"] == "updated successfully"
    assert len(sql) == 2, sql
    full = {**edit, "email": "m@b.ir", "state": "1", "city": "15", "hood": "1", "age": "30"}
    with count_statements(api.hub) as sql:
        assert (await api.post("/user/edit", **full))["message"] == "updated successfully"
    assert len(sql) == 4, sql


async def test_edit_requires_login(api: Api) -> None:
    assert await api.post("/user/edit", name="مریم", family="احمدی") == err("not login")


# -- change password ---------------------------------------------------------------------------


async def test_change_password_revokes_every_other_token(api: Api) -> None:
    first = await api.register_active(PHONE)
    second = (await api.post("/user/login", username=PHONE, password="secret1"))["data"]
    body = await api.post(
        "/user/change-password", username=PHONE, token=first["token"],
        oldPassword="secret1", newPassword="better-secret",
    )  # fmt: skip
    assert body == success("Password Changed")
    assert (await api.post("/user/islogin", username=PHONE, token=first["token"]))[
        "message"
    ] == "Token is true"
    assert (await api.post("/user/islogin", username=PHONE, token=second["token"]))[
        "message"
    ] == "Token is not valid"
    assert (await api.post("/user/login", username=PHONE, password="better-secret"))[
        "message"
    ] == "Login Success"
    assert (await api.post("/user/login", username=PHONE, password="secret1"))[
        "message"
    ] == "Username or Password is incorrect"


async def test_change_password_errors(api: Api) -> None:
    data = await api.register_active(PHONE)
    auth = {"username": PHONE, "token": data["token"]}
    assert await api.post(
        "/user/change-password", **auth, oldPassword="wrong-one", newPassword="better-secret"
    ) == err("Old Password is incorrect")
    assert await api.post(
        "/user/change-password", **auth, oldPassword="secret1", newPassword="short"
    ) == err("Server Error", ["New Password should contain at least 6 characters."])
    assert await api.post(
        "/user/change-password", oldPassword="secret1", newPassword="better-secret"
    ) == err("not login")
