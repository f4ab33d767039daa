"""Reading parameters (API.md §0): query + body, ``Model[field]``, digits, bearer, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest
from starlette.types import Message, Scope

from hojre.core.hub import Hub
from hojre.web_v1.app import create_app
from tests.conftest import Api, app_client, make_settings

pytestmark = pytest.mark.anyio

PHONE = "09121234567"
NOT_LOGIN = {"status": "error", "message": "not login", "data": ""}
UPDATED = {"status": "success", "message": "updated successfully", "data": ""}
BAD_BODY = {"status": "error", "message": "Cant Validate Data", "data": ""}


async def profile(api: Api, token: str) -> dict[str, Any]:
    body = await api.get("/users", username=PHONE, token=token)
    assert body["_meta"]["totalCount"] == 1, body
    item: dict[str, Any] = body["items"][0]
    return item


@pytest.fixture
async def token(api: Api) -> str:
    data = await api.register_active(PHONE)
    return str(data["token"])


def auth(token: str) -> dict[str, str]:
    return {"username": PHONE, "token": token}


async def edit(client: httpx.AsyncClient, **kwargs: Any) -> dict[str, Any]:
    response = await client.post("/web/user/edit", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client for what is answered before any database access (the file is never made)."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path / "sms")
    hub = Hub.from_settings(settings)
    try:
        async with app_client(hub) as client:
            yield client
    finally:
        await hub.aclose()
    assert not (tmp_path / "unused.db").exists()


# -- query and body ---------------------------------------------------------------------------


async def test_model_field_and_plain_names_in_a_form(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    data = {**auth(token), "User[name]": "Maryam", "family": "Karimi"}
    assert await edit(client, data=data) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("Maryam", "Karimi")


async def test_params_only_in_the_query_of_a_post(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    params = {**auth(token), "User[name]": "Query", "User[family]": "Only"}
    assert await edit(client, params=params) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("Query", "Only")


async def test_body_wins_over_query_form(api: Api, client: httpx.AsyncClient, token: str) -> None:
    # The query says one thing, the body another: the body wins, whichever spelling is used.
    params = {**auth(token), "name": "FromQuery", "User[family]": "FromQuery"}
    data = {"User[name]": "FromBody", "family": "BodyFamily"}
    assert await edit(client, params=params, data=data) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("FromBody", "BodyFamily")


async def test_body_wins_over_query_multipart(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    params = {"username": PHONE, "token": "wrong", "name": "FromQuery"}
    data = {"token": token, "User[name]": "Multipart", "User[family]": "Family"}
    # An uploaded file is not a parameter, even when it carries a parameter's name.
    files = {"family": ("family.txt", b"Not a family", "text/plain")}
    response = await client.post("/web/user/edit", params=params, data=data, files=files)
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.json() == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("Multipart", "Family")


async def test_multipart_persian_values(api: Api, client: httpx.AsyncClient, token: str) -> None:
    data = {**auth(token), "User[name]": "مریم", "User[family]": "کریمی"}
    files = {"avatar_upload": ("a.png", b"\x89PNG", "image/png")}
    assert await edit(client, data=data, files=files) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("مریم", "کریمی")


async def test_json_flat_body_wins_over_query(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    params = {**auth(token), "name": "FromQuery", "family": "FromQuery"}
    body = {"name": "JsonName", "User[family]": "JsonFamily", "age": 30}
    assert await edit(client, params=params, json=body) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("JsonName", "JsonFamily")


async def test_json_nested_model(api: Api, client: httpx.AsyncClient, token: str) -> None:
    body = {**auth(token), "User": {"name": "Nested", "family": "Model", "state": 1}}
    assert await edit(client, json=body) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"], me["state"]) == ("Nested", "Model", 1)


async def test_json_credentials_for_login(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/web/user/login", json={"User": {"username": PHONE, "password": "secret1"}}
    )
    body = response.json()
    assert body["message"] == "Login Success"
    assert body["data"]["username"] == PHONE


MALFORMED_JSON = [
    b'{"username": "0912',
    b"not json at all",
    b'["username", "09121234567"]',  # JSON, but not an object of params
    b'"just a string"',
    b"\xff\xfe{}",
]


async def test_malformed_json_is_an_error_envelope(http: httpx.AsyncClient) -> None:
    for raw in MALFORMED_JSON:
        response = await http.post(
            "/web/user/login", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, raw
        assert response.json() == BAD_BODY, raw


async def test_empty_json_body_reads_the_query(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/web/user/login",
        params={"username": PHONE, "password": "secret1"},
        content=b"",
        headers={"content-type": "application/json"},
    )
    # No body at all is not malformed: the query's params are used (here: no such user).
    assert response.json() == {"status": "error", "message": " User not found ", "data": ""}


async def test_raw_utf8_in_an_urlencoded_body(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    # Some clients put Persian text in the body as raw UTF-8 bytes, not percent-encoded.
    raw = f"username={PHONE}&token={token}&User[name]=علی&family=رضایی نژاد".encode()
    response = await client.post(
        "/web/user/edit",
        content=raw,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("علی", "رضایی نژاد")


async def test_percent_encoded_utf8_in_an_urlencoded_body(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    assert await edit(client, data={**auth(token), "name": "علی", "family": "Café"}) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("علی", "Café")


async def raw_request(hub: Hub, method: str, path: str, query: bytes) -> tuple[int, Any]:
    """Call the app with query bytes as sent (httpx would percent-encode them)."""
    app = create_app(hub.settings, hub=hub)
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, orjson.loads(body)


async def test_raw_utf8_in_the_query_string(api: Api, hub: Hub, token: str) -> None:
    query = f"username={PHONE}&token={token}&User[name]=علی&family=رضایی".encode()
    status, body = await raw_request(hub, "POST", "/web/user/edit", query)
    assert (status, body) == (200, UPDATED)
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("علی", "رضایی")


async def test_raw_utf8_query_is_kept_in_list_hrefs(hub: Hub) -> None:
    status, body = await raw_request(hub, "GET", "/web/states", "q=تهران&x=1".encode())
    assert status == 200
    href = body["_links"]["self"]["href"]
    assert href.startswith("http://testserver/web/states?")
    assert parse_qsl(urlsplit(href).query) == [
        ("q", "تهران"),
        ("x", "1"),
        ("page", "1"),
        ("per-page", "300"),
    ]


async def test_invalid_utf8_in_the_query_string(hub: Hub) -> None:
    # Not text at all: still a normal answer (the odd byte is escaped), never a 500.
    for query, keys in ((b"q=\xff&state=1", ["q", "state"]), (b"state=1&q=\xd8", ["state", "q"])):
        status, body = await raw_request(hub, "GET", "/web/cities", query)
        assert status == 200, query
        assert body["_meta"]["currentPage"] == 1
        assert {item["state"] for item in body["items"]} == {1}
        pairs = parse_qsl(urlsplit(body["_links"]["self"]["href"]).query)
        assert [key for key, _ in pairs] == [*keys, "page", "per-page"]
        assert dict(pairs)["state"] == "1"


async def test_json_media_type_is_case_insensitive(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    response = await client.post(
        "/web/user/edit",
        content=orjson.dumps({**auth(token), "name": "Upper", "family": "Case"}),
        headers={"content-type": "Application/JSON; charset=UTF-8"},
    )
    assert response.json() == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("Upper", "Case")


# -- cellphones in any digits -----------------------------------------------------------------


async def test_one_account_whatever_the_digits_or_prefix(api: Api) -> None:
    body = await api.post("/user/register", username="۰۹۱۲۱۲۳۴۵۶۷", password="secret1")
    assert body["status"] == "success", body
    assert body["username"] == PHONE
    code = await api.last_code(PHONE)
    arabic_code = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    body = await api.post("/user/checkactivationcode", username="+989121234567", code=arabic_code)
    assert body == {"status": "success", "message": "User is Activated", "data": ""}

    first = await api.post("/user/login", username=PHONE, password="secret1")
    for username in (
        PHONE,
        "٠٩١٢١٢٣٤٥٦٧",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "+98 912 123 4567",
        "0912-123-4567",
        " ۰۹۱۲ ۱۲۳ ۴۵۶۷ ",
    ):
        body = await api.post("/user/login", username=username, password="secret1")
        assert body["message"] == "Login Success", (username, body)
        assert body["data"]["id"] == first["data"]["id"]
        assert body["data"]["username"] == PHONE
        me = await api.get("/users", username=username, token=body["data"]["token"])
        assert me["items"][0]["cellPhone"] == PHONE

    for username in ("09121234567", "+989121234567", "٠٩١٢١٢٣٤٥٦٧"):
        body = await api.post("/user/register", username=username, password="secret1")
        assert body == {"status": "error", "message": "Cellphone already existed", "data": ""}


async def test_other_scripts_digits_are_not_cellphones(api: Api) -> None:
    for username in ("०९१२१२३४५६७", "0912123456४", "09121234567\u0967"):
        body = await api.post("/user/register", username=username, password="secret1")
        assert body == {"status": "error", "message": "Cellphone is not validated", "data": ""}


# -- authentication ---------------------------------------------------------------------------


async def test_bearer_token(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(
        "/web/users", params={"username": PHONE}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert [item["cellPhone"] for item in body["items"]] == [PHONE]
    assert body["_links"]["self"]["href"] == (
        f"http://testserver/web/users?username={PHONE}&page=1&per-page=300"
    )


NOT_LOGIN_CASES: list[tuple[dict[str, str], dict[str, str]]] = [
    ({"Authorization": "Bearer wrong-token"}, {"username": PHONE}),
    ({"Authorization": "Basic abc"}, {"username": PHONE}),
    ({}, {"username": PHONE}),
    ({}, {"username": PHONE, "token": ""}),
    ({}, {"username": PHONE, "token": "wrong"}),
    ({}, {"username": "09120000000", "token": "{token}"}),  # someone else's number
    ({"Authorization": "Bearer {token}"}, {}),  # username is still required
]


async def test_not_login(client: httpx.AsyncClient, token: str) -> None:
    for headers, params in NOT_LOGIN_CASES:
        response = await client.get(
            "/web/users",
            params={k: v.format(token=token) for k, v in params.items()},
            headers={k: v.format(token=token) for k, v in headers.items()},
        )
        assert response.status_code == 200, (headers, params)
        assert response.json() == NOT_LOGIN, (headers, params)
        assert response.headers["cache-control"] == "no-store"


async def test_not_login_on_post(client: httpx.AsyncClient) -> None:
    body = await edit(client, data={"username": PHONE, "token": "x", "name": "Whatever"})
    assert body == NOT_LOGIN


async def test_login_is_not_cached(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/web/user/login", data={"username": PHONE, "password": "secret1"})
    assert response.json()["message"] == "Login Success"
    assert response.headers["cache-control"] == "no-store"
    response = await client.post("/web/user/login", data={"username": PHONE, "password": "nope12"})
    assert response.json()["message"] == "Username or Password is incorrect"
    assert response.headers["cache-control"] == "no-store"


# -- HTTP-level errors ------------------------------------------------------------------------

NOT_FOUND = {"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/web/nothing-here"), ("POST", "/web/user/nope"), ("GET", "/"), ("GET", "/web")],
)
async def test_unknown_path(http: httpx.AsyncClient, method: str, path: str) -> None:
    response = await http.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/web/user/login", "POST"), ("POST", "/web/cities", "GET")],
)
async def test_wrong_method(http: httpx.AsyncClient, method: str, path: str, allowed: str) -> None:
    response = await http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {
        "name": "Method Not Allowed",
        "message": "Method Not Allowed. This URL can only handle the following request "
        f"methods: {allowed}.",
        "code": 0,
        "status": 405,
    }


# -- ping ---------------------------------------------------------------------------------------

PONG = b'{"status":"success","message":"pong","data":""}'


async def test_ping_never_touches_the_database(tmp_path: Path) -> None:
    # Nothing listens on port 1: any database access would fail (and /web/cities shows it does).
    settings = make_settings(
        "postgresql+asyncpg://nobody@127.0.0.1:1/nowhere", tmp_path / "sms.jsonl"
    )
    hub = Hub.from_settings(settings)
    try:
        async with app_client(hub) as client:
            response = await client.get("/web/ping")
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.content == PONG
            broken = await client.get("/web/cities")
            assert broken.status_code == 500
            assert broken.json() == {"status": "error", "message": "Server Error", "data": ""}
    finally:
        await hub.aclose()


async def test_ping_with_a_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/ping", params={"username": PHONE, "token": "x"})
    assert response.content == PONG


async def test_a_trailing_slash_is_an_unknown_path(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/stores/")
    assert response.status_code == 404
    assert response.json() == {
        "name": "Not Found", "message": "Page not found.", "code": 0, "status": 404,
    }  # fmt: skip
