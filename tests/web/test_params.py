"""Reading parameters (API.md §0): query + body, ``Model[field]``, digits, bearer, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.types import Message, Scope

from hojre.core.hub import Hub
from hojre.web_v1.app import create_app
from hojre.web_v1.params import BadRequestBody, collect_params, plain_name
from tests.conftest import Api, app_client, make_settings
from tests.factories import asgi_exchange

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
    sent = await asgi_exchange(app, scope)
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


# -- aliases, precedence and the shape of a body (the security probe) -----------------------

OTHER = "09127654321"


async def two_users(api: Api) -> tuple[str, str]:
    """Tokens of PHONE (A) and OTHER (B)."""
    a = await api.register_active(PHONE)
    b = await api.register_active(OTHER)
    return str(a["token"]), str(b["token"])


async def name_of(api: Api, phone: str, token: str) -> str | None:
    body = await api.get("/users", username=phone, token=token)
    assert body["_meta"]["totalCount"] == 1, body
    name: str | None = body["items"][0]["name"]
    return name


async def test_a_nested_json_object_does_not_override_credentials(
    api: Api, client: httpx.AsyncClient
) -> None:
    tok_a, tok_b = await two_users(api)
    meta = {"username": OTHER, "token": tok_b}
    top = {"username": PHONE, "token": tok_a, "family": "Family"}
    # Before and after the top-level names: an object under an unknown key is never read.
    for n, body in enumerate(({**top, "name": "First", "meta": meta}, {"meta": meta, **top})):
        if n:
            body["name"] = "Second"
        assert await edit(client, json=body) == UPDATED
        assert await name_of(api, PHONE, tok_a) == body["name"]
        assert await name_of(api, OTHER, tok_b) is None  # B never edited


async def test_an_unknown_group_in_a_form_or_query_is_not_read(
    api: Api, client: httpx.AsyncClient
) -> None:
    tok_a, tok_b = await two_users(api)
    data = {"username": PHONE, "token": tok_a, "name": "Alpha", "family": "Family"}
    probe = {"meta[username]": OTHER, "meta[token]": tok_b}
    assert await edit(client, data={**data, **probe}) == UPDATED
    assert await name_of(api, PHONE, tok_a) == "Alpha"
    assert await edit(client, params={**data, **probe, "name": "Beta"}) == UPDATED
    assert await name_of(api, PHONE, tok_a) == "Beta"
    assert await name_of(api, OTHER, tok_b) is None  # B never edited


async def test_a_plain_name_beats_its_model_alias_in_a_form(
    api: Api, client: httpx.AsyncClient
) -> None:
    tok_a, tok_b = await two_users(api)
    plain = {"username": PHONE, "token": tok_a, "family": "Family"}
    alias = {"User[username]": OTHER, "User[token]": tok_b}
    for name, data in (("Alpha", {**plain, **alias}), ("Beta", {**alias, **plain})):
        assert await edit(client, data={**data, "name": name}) == UPDATED
        assert await name_of(api, PHONE, tok_a) == name
    assert await name_of(api, OTHER, tok_b) is None  # B never edited


async def test_a_plain_name_beats_its_model_group_in_json(
    api: Api, client: httpx.AsyncClient
) -> None:
    tok_a, tok_b = await two_users(api)
    plain = {"username": PHONE, "token": tok_a, "family": "Family"}
    group = {"User": {"username": OTHER, "token": tok_b, "name": "FromGroup"}}
    assert await edit(client, json={**plain, **group}) == UPDATED
    assert await name_of(api, PHONE, tok_a) == "FromGroup"  # the group still gives what is missing
    assert await edit(client, json={**group, **plain, "name": "Plain"}) == UPDATED
    assert await name_of(api, PHONE, tok_a) == "Plain"
    assert await name_of(api, OTHER, tok_b) is None  # B never edited


async def test_only_documented_models_are_aliases(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    # The query names the user; a body alias would win over it, one that is no alias does not.
    params = {**auth(token), "name": "FromQuery", "family": "Family"}
    for key in ("Foo[name]", "user[name]", "USER[name]", "meta[name]", "User[name"):
        assert await edit(client, params=params, data={key: "FromBody"}) == UPDATED, key
        assert (await profile(api, token))["name"] == "FromQuery", key
        assert await edit(client, params=params, json={key: "FromBody"}) == UPDATED, key
        assert (await profile(api, token))["name"] == "FromQuery", key
    assert await edit(client, params=params, json={"Foo": {"name": "FromBody"}}) == UPDATED
    assert (await profile(api, token))["name"] == "FromQuery"


def nested(depth: int, opening: bytes = b'{"a":', closing: bytes = b"}") -> bytes:
    """A JSON object ``depth`` levels deep (the outermost object counts)."""
    return opening * depth + b"1" + closing * depth


async def test_deep_json_is_a_bad_body(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bodies = [
        nested(1000),  # orjson reads it; the walk refuses it
        nested(2000),  # orjson refuses it
        b'{"a":' + nested(999, b"[", b"]") + b"}",
        b'{"a":' + nested(1999, b"[", b"]") + b"}",
    ]
    for raw in bodies:
        response = await http.post(
            "/web/user/login", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, raw[:20]
        assert response.json() == BAD_BODY, raw[:20]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


BAD_SHAPES: list[Any] = [
    {"username": PHONE, "User": {"Seller": {"name": "x"}}},  # a group inside a group
    {"User": {"name": ["x"]}},  # a list inside a group
    {"ids": [{"id": 1}]},  # a list of objects
    {"ids": [1, [2]]},  # a list inside a list
    {"meta": {"deeper": {"username": PHONE}}},  # deep, even where nothing would be read
    {"a": {"b": {"c": 1}}},  # three levels are enough
]


async def test_badly_shaped_json_is_a_bad_body(http: httpx.AsyncClient) -> None:
    for body in BAD_SHAPES:
        response = await http.post("/web/user/login", json=body)
        assert response.status_code == 200, body
        assert response.json() == BAD_BODY, body


USER_NOT_FOUND = {"status": "error", "message": " User not found ", "data": ""}


def many(count: int) -> dict[str, str]:
    """``count`` params, login's two among them."""
    return {"username": PHONE, "password": "secret1", **{f"p{i}": "v" for i in range(count - 2)}}


async def test_too_many_json_params(client: httpx.AsyncClient) -> None:
    response = await client.post("/web/user/login", json=many(1000))
    assert response.json() == USER_NOT_FOUND
    response = await client.post("/web/user/login", json=many(1001))
    assert (response.status_code, response.json()) == (200, BAD_BODY)
    # Members of groups, lists and ignored objects count too.
    for body in (
        {"User": many(1001)},
        {"username": PHONE, "ids": list(range(1000))},
        {"username": PHONE, "meta": many(1000)},
    ):
        response = await client.post("/web/user/login", json=body)
        assert (response.status_code, response.json()) == (200, BAD_BODY)


async def test_too_many_form_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/web/user/login", data=many(1000))
    assert response.json() == USER_NOT_FOUND
    response = await client.post("/web/user/login", data=many(1001))
    assert (response.status_code, response.json()) == (200, BAD_BODY)
    files = {"f": ("f.txt", b"x", "text/plain")}
    response = await client.post("/web/user/login", data=many(1000), files=files)
    assert response.json() == USER_NOT_FOUND  # an upload is not a field
    response = await client.post("/web/user/login", data=many(1001), files=files)
    assert (response.status_code, response.json()) == (200, BAD_BODY)


async def test_an_unknown_json_object_is_ignored(
    api: Api, client: httpx.AsyncClient, token: str
) -> None:
    body = {**auth(token), "name": "Top", "family": "Level", "extra": {"name": "Other", "x": 1}}
    assert await edit(client, json=body) == UPDATED
    me = await profile(api, token)
    assert (me["name"], me["family"]) == ("Top", "Level")


async def collect(
    body: bytes = b"",
    content_type: str = "application/json",
    query: bytes = b"",
    max_params: int | None = None,
) -> dict[str, str]:
    """``collect_params`` on a POST built by hand (no app, no database)."""
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/web/x",
        "query_string": query,
        "headers": [(b"content-type", content_type.encode())],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, receive)
    if max_params is None:
        return await collect_params(request)
    return await collect_params(request, max_params=max_params)


async def test_collect_json_values() -> None:
    body = {
        "s": "text",
        "n": 7,
        "f": 1.5,
        "t": True,
        "no": False,
        "null": None,
        "ids": [1, "2", None],
        "meta": {"s": "hidden"},
        "Product": {"title": "Tea", "price": 12, "top": True, "gone": None, "1": "x"},
        "Store[address]": "Shop",
        "Gallery[1]": "g.png",
    }
    assert await collect(orjson.dumps(body)) == {
        "s": "text",
        "n": "7",
        "f": "1.5",
        "t": "1",
        "no": "0",
        "title": "Tea",
        "price": "12",
        "top": "1",
        "address": "Shop",
        "Product[1]": "x",  # as ``Product[1]`` in a form: kept as written
        "Gallery[1]": "g.png",
    }


async def test_collect_precedence() -> None:
    query = b"name=q&family=q&Seller[name]=qa&Product[title]=qa&city=q"
    form = b"Seller[name]=b&Seller[family]=ba&family=b&Store[title]=ba&title=b"
    assert await collect(form, "application/x-www-form-urlencoded", query) == {
        "name": "b",  # the body wins over the query, whatever the spelling
        "family": "b",  # within the body, the plain name wins over the alias
        "title": "b",
        "city": "q",
    }
    assert await collect(query=b"User[city]=alias&city=plain&User[city]=again") == {"city": "plain"}


async def test_collect_max_params() -> None:
    body = orjson.dumps({"a": 1, "b": 2, "c": 3})
    assert await collect(body, max_params=3) == {"a": "1", "b": "2", "c": "3"}
    for body in (b'{"a":1,"b":2,"c":3,"d":4}', b'{"a":1,"User":{"b":2,"c":3,"d":4}}'):
        with pytest.raises(BadRequestBody):
            await collect(body, max_params=3)
    form = b"a=1&b=2&c=3&d=4"
    with pytest.raises(BadRequestBody):
        await collect(form, "application/x-www-form-urlencoded", max_params=3)


async def test_collect_part_size() -> None:
    # Starlette counts a field's name and value together: 1 MiB in all.
    form = b"a=" + b"x" * (1024 * 1024 - 1)
    assert len((await collect(form, "application/x-www-form-urlencoded"))["a"]) == 1024 * 1024 - 1
    with pytest.raises(BadRequestBody):
        await collect(form + b"x", "application/x-www-form-urlencoded")


def test_plain_name() -> None:
    for model in ("User", "Seller", "Store", "Product"):
        assert plain_name(f"{model}[name]") == "name"
    for key in ("name", "Foo[name]", "user[name]", "Gallery[1]", "User[1]", "User[]", "[name]"):
        assert plain_name(key) == key


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


_PLAIN = "aZ09._~-"
# key=value pairs of unreserved characters: a plain query or urlencoded body.
_PLAIN_PAIRS = st.lists(
    st.tuples(
        st.sampled_from(["username", "token", "id", "page", "target", "a", "b-c", "x.y"])
        | st.text(_PLAIN, min_size=1, max_size=5),
        st.text(_PLAIN, max_size=8),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(_PLAIN_PAIRS)
async def test_a_plain_query_reads_as_starlette_parses_it(pairs: list[tuple[str, str]]) -> None:
    """The split of a plain query (no escapes, "+" or brackets) gives what Starlette's parser
    gives, the last of a repeated name winning."""
    query = "&".join(f"{key}={value}" for key, value in pairs)
    scope = {"type": "http", "method": "GET", "path": "/web/users", "headers": [],
             "query_string": query.encode()}  # fmt: skip
    expected = dict(parse_qsl(query, keep_blank_values=True))
    assert await collect_params(Request(scope)) == expected


@settings(max_examples=300, deadline=None)
@given(_PLAIN_PAIRS, st.integers(1, 8))
async def test_a_plain_form_reads_as_the_form_parser_reads_it(
    pairs: list[tuple[str, str]], max_params: int
) -> None:
    """A plain urlencoded body is split, not parsed: the same params as python-multipart's
    parser gives (read here through a body that is not plain: a trailing "&"), and the same
    refusal past ``max_params``."""
    body = "&".join(f"{key}={value}" for key, value in pairs).encode()
    form = "application/x-www-form-urlencoded"
    try:
        expected: dict[str, str] | None = await collect(body + b"&", form, max_params=max_params)
    except BadRequestBody:
        expected = None
    try:
        got: dict[str, str] | None = await collect(body, form, max_params=max_params)
    except BadRequestBody:
        got = None
    assert got == expected
