"""The request guard: bounded bodies (413 before or while reading), security headers, docs off."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from hojre.core.hub import Hub
from hojre.core.settings import Env, Settings
from hojre.interactions.models import Comment
from hojre.interactions.registry import TargetKind
from hojre.web_v1 import accounts
from hojre.web_v1.app import NOT_FOUND, create_app
from hojre.web_v1.guard import BodyTooLarge, Guard
from tests.conftest import Api, make_settings
from tests.interactions.conftest import make_targets
from tests.web.conftest import unused_db

pytestmark = pytest.mark.anyio

LIMIT: int = Settings.model_fields["max_body_bytes"].default
CHUNK = 64 * 1024
TOO_LARGE = (
    b'{"name":"Request Entity Too Large","message":"The request body is larger than '
    + str(LIMIT).encode()
    + b' bytes.","code":0,"status":413}'
)
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
            "x-frame-options": "DENY"}  # fmt: skip
HSTS = "max-age=31536000; includeSubDomains"
BAD_BODY = {"status": "error", "message": "Cant Validate Data", "data": ""}
CUSTOMER = "09121234567"


class Body:
    """A streamed request body that records how much of it the server pulled."""

    def __init__(self, total: int, *, head: bytes = b"", chunk: int = CHUNK) -> None:
        self.data = head
        self.total = total
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            if self.data:
                part, self.data = self.data[: self.chunk], self.data[self.chunk :]
            else:
                part = b"x" * min(self.chunk, self.total - sent)  # a fresh object each time
            self.pulled += 1
            sent += len(part)
            yield part


def production(tmp_path: Path, **overrides: Any) -> Settings:
    # model_construct: production settings refuse SQLite and the file SMS backend.
    values: dict[str, Any] = {"env": Env.production, "database_url": unused_db(tmp_path),
                              "run_background_tasks": False, **overrides}  # fmt: skip
    return Settings.model_construct(**values)


def client_of(settings: Settings, base_url: str = "http://testserver") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


def assert_secured(response: httpx.Response, *, hsts: bool = False) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get_list(name) == [value], (name, response.headers)
    assert response.headers.get_list("strict-transport-security") == ([HSTS] if hsts else [])


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.content == TOO_LARGE
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    assert_secured(response)


# -- a direct ASGI call (what httpx would not send) -------------------------------------------


async def call(
    app: Any, *, path: str = "/web/user/login", headers: Iterable[tuple[bytes, bytes]] = (),
    chunks: Iterable[bytes] = (), scheme: str = "http",
) -> list[Message]:  # fmt: skip
    pending = list(chunks)
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": scheme, "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent


def answer(sent: list[Message]) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    headers: dict[bytes, list[bytes]] = {}
    for name, value in starts[0]["headers"]:
        headers.setdefault(name, []).append(value)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return starts[0]["status"], headers, body


def echo_app(*, headers: Iterable[tuple[bytes, bytes]] = ()) -> Any:
    """A tiny ASGI app: reads the whole body and answers its length."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        size = 0
        more = True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": [*headers]})
        await send({"type": "http.response.body", "body": str(size).encode()})

    return app


def guard(app: Any, settings: Settings | None = None, **limits: int) -> Guard:
    return Guard(
        # model_construct: the defaults, whatever HOJRE_* the environment holds.
        app,
        settings=settings or Settings.model_construct(),
        limits={f"/{k}": v for k, v in limits.items()},
    )


# -- a declared Content-Length ----------------------------------------------------------------


@pytest.mark.parametrize("size", [LIMIT + 1, 200 * 1024 * 1024])
async def test_declared_length_over_the_limit_is_413_unread(
    http: httpx.AsyncClient, size: int
) -> None:
    body = Body(size)
    response = await http.post(
        "/web/user/login", content=body,
        headers={"content-length": str(size), "content-type": "application/json"},
    )  # fmt: skip
    assert_too_large(response)
    assert body.pulled <= 1  # answered from the header alone


@pytest.mark.parametrize(
    "lengths",
    [[b"abc"], [b"-1"], [b""], [b"1e3"], [b"0x10"], [b"\xd9\xa1\xd9\xa2"], [b"10", b"11"]],
)
async def test_malformed_length_is_400(lengths: list[bytes]) -> None:
    app = guard(echo_app())
    sent = await call(app, headers=[(b"content-length", v) for v in lengths], chunks=[b"x" * 10])
    status, headers, body = answer(sent)
    assert status == 400
    assert orjson.loads(body) == {
        "name": "Bad Request", "message": "The Content-Length header is not a valid length.",
        "code": 0, "status": 400,
    }  # fmt: skip
    assert headers[b"content-type"] == [b"application/json"]
    assert headers[b"connection"] == [b"close"]
    assert headers[b"x-frame-options"] == [b"DENY"]


async def test_length_edge_cases() -> None:
    app = guard(echo_app())
    # A thousand digits is over any limit, and no parse of it is attempted.
    status, _, body = answer(await call(app, headers=[(b"content-length", b"9" * 5000)]))
    assert (status, body) == (413, TOO_LARGE)
    # Repeated equal lengths, spaces and an upper-case name are one length.
    same = [(b"Content-Length", b" 10 "), (b"content-length", b" 10 ")]
    assert answer(await call(app, headers=same, chunks=[b"x" * 10]))[::2] == (200, b"10")
    exact = [(b"content-length", str(LIMIT).encode())]
    assert answer(await call(app, headers=exact, chunks=[b"x" * LIMIT]))[::2] == (
        200, str(LIMIT).encode(),
    )  # fmt: skip


# -- a body without a length (chunked) --------------------------------------------------------


async def test_chunked_200_mb_json_is_cut_off(http: httpx.AsyncClient) -> None:
    body = Body(200 * 1024 * 1024, head=b'{"username": "09121234567", "pad": "')
    tracemalloc.start()
    try:
        response = await http.post(
            "/web/user/login", content=body, headers={"content-type": "application/json"}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    # Pulled just past the limit (17 chunks of 64 KiB for 1 MiB), then no more.
    assert body.pulled <= LIMIT // CHUNK + 2, body.pulled
    assert peak < 16 * 1024 * 1024, peak  # about the limit's worth, not 200 MB


async def test_chunked_exactly_the_limit_passes_one_more_byte_does_not() -> None:
    app = guard(echo_app())
    status, _, body = answer(await call(app, chunks=[b"x" * (LIMIT - 1), b"x"]))
    assert (status, body) == (200, str(LIMIT).encode())
    status, _, body = answer(await call(app, chunks=[b"x" * LIMIT, b"x"]))
    assert (status, body) == (413, TOO_LARGE)


async def test_refusal_swallowed_by_the_app_is_still_413() -> None:
    async def swallowing(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except BodyTooLarge:
            pass
        with pytest.raises(BodyTooLarge):  # asked again: still refused
            await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"all fine"})

    status, _, body = answer(await call(guard(swallowing), chunks=[b"x" * (LIMIT + 1)]))
    assert (status, body) == (413, TOO_LARGE)


async def test_refusal_after_the_response_started_just_stops() -> None:
    async def early(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()

    sent = await call(guard(early), chunks=[b"x" * (LIMIT + 1)])
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert sent[0]["status"] == 200


async def test_limits_per_path() -> None:
    app = guard(echo_app(), small=2048)
    status, _, body = answer(await call(app, path="/small", chunks=[b"x" * 2049]))
    assert status == 413
    assert b"larger than 2048 bytes." in body
    declared = [(b"content-length", b"2049")]
    assert answer(await call(app, path="/small", headers=declared))[0] == 413
    assert answer(await call(app, path="/other", chunks=[b"x" * 2049]))[0] == 200


async def test_app_limits_come_from_the_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One endpoint declares its own limit; the rest keep the default.
    endpoints = [
        dataclasses.replace(e, max_body=2048) if e.path == "/user/login" else e
        for e in accounts.router.endpoints
    ]
    monkeypatch.setattr(accounts.router, "endpoints", endpoints)
    async with client_of(make_settings(unused_db(tmp_path), tmp_path / "sms")) as client:
        response = await client.post(
            "/web/user/login", content=b"{" + b" " * 3000 + b"}",
            headers={"content-type": "application/json"},
        )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["message"] == "The request body is larger than 2048 bytes."


async def test_other_scopes_pass_untouched() -> None:
    seen: list[tuple[Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((receive, send))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError(message)

    for kind in ("websocket", "lifespan"):
        await guard(app)({"type": kind, "path": "/web/live", "headers": []}, receive, send)
    assert seen == [(receive, send), (receive, send)]


# -- nothing of a refused request is done -----------------------------------------------------


@pytest.fixture
async def commenter(api: Api) -> dict[str, Any]:
    ids, _ = await make_targets(api.hub)
    data = await api.register_active(CUSTOMER)
    return {"username": CUSTOMER, "token": data["token"], "target": "store",
            "id": str(ids[TargetKind.store]), "text": "خیلی خوب بود"}  # fmt: skip


async def comments(hub: Hub) -> int:
    async with hub.db.unit_of_work(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Comment)) or 0)


async def multipart(
    client: httpx.AsyncClient, params: dict[str, Any], size: int, *, chunked: bool
) -> httpx.Response:
    files = {"attachment": ("big.bin", b"\0" * size, "application/octet-stream")}
    request = client.build_request("POST", "/web/user/add-comment", data=params, files=files)
    if not chunked:
        assert "content-length" in request.headers
        return await client.send(request)
    body = Body(len(request.read()), head=request.read())
    headers = {"content-type": request.headers["content-type"]}
    return await client.post("/web/user/add-comment", content=body, headers=headers)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_a_2_mb_multipart_part_adds_no_comment(
    client: httpx.AsyncClient, hub: Hub, commenter: dict[str, Any], chunked: bool
) -> None:
    response = await multipart(client, commenter, 2 * 1024 * 1024, chunked=chunked)
    assert_too_large(response)
    assert await comments(hub) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_a_multipart_just_under_the_limit_is_a_comment(
    client: httpx.AsyncClient, hub: Hub, commenter: dict[str, Any], chunked: bool
) -> None:
    response = await multipart(client, commenter, LIMIT - 4096, chunked=chunked)
    assert response.status_code == 200
    assert response.json()["status"] == "success", response.json()
    assert_secured(response)
    assert await comments(hub) == 1


async def test_json_of_exactly_the_limit_works(
    client: httpx.AsyncClient, hub: Hub, commenter: dict[str, Any]
) -> None:
    bare = orjson.dumps({**commenter, "pad": ""})
    body = orjson.dumps({**commenter, "pad": "x" * (LIMIT - len(bare))})
    assert len(body) == LIMIT
    headers = {"content-type": "application/json"}
    response = await client.post("/web/user/add-comment", content=Body(LIMIT, head=body),
                                 headers=headers)  # fmt: skip
    assert response.json()["status"] == "success", response.json()
    over = body[:-2] + b'x"}'
    response = await client.post("/web/user/add-comment", content=over, headers=headers)
    assert_too_large(response)
    assert await comments(hub) == 1


# -- security headers -------------------------------------------------------------------------


async def test_security_headers_on_every_kind_of_answer(http: httpx.AsyncClient) -> None:
    ping = await http.get("/web/ping")
    assert ping.status_code == 200
    assert_secured(ping)
    envelope = await http.post(
        "/web/user/login", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert (envelope.status_code, envelope.json()) == (200, BAD_BODY)
    assert_secured(envelope)
    missing = await http.get("/web/nowhere")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert_secured(missing)
    wrong = await http.get("/web/user/login")
    assert wrong.status_code == 405
    assert_secured(wrong)
    refused = await http.post(
        "/web/user/login", content=Body(LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert_too_large(refused)


async def test_v1_requests_never_reach_fastapi_s_own_stack(tmp_path: Path) -> None:
    hub = Hub.from_settings(make_settings(unused_db(tmp_path), tmp_path / "sms"))
    app = create_app(hub.settings, hub=hub)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            ping = await client.get("/web/ping", params={"token": "x"})
            assert ping.content == b'{"status":"success","message":"pong","data":""}'
            assert dict(ping.headers) == {
                "content-length": "47", "content-type": "application/json", **SECURITY,
            }  # fmt: skip
            envelope = await client.post(
                "/web/user/login", content=b"{bad", headers={"content-type": "application/json"}
            )
            assert envelope.json() == BAD_BODY
            # Proxy headers, guard and Dispatch answered both: FastAPI never built its stack.
            assert app.middleware_stack is None
            # What Dispatch does not know goes on to FastAPI, as before.
            head = await client.head("/web/ping")
            assert (head.status_code, head.headers["allow"]) == (405, "GET")
            assert_secured(head)
            assert app.middleware_stack is not None
    finally:
        await hub.aclose()
    assert "/web/ping" in app.openapi()["paths"]  # the route stays, for the docs


async def test_hsts_only_over_https_in_production(tmp_path: Path) -> None:
    async with client_of(production(tmp_path), "https://testserver") as client:
        assert_secured(await client.get("/web/ping"), hsts=True)
        assert_secured(await client.get("/web/nowhere"), hsts=True)
    async with client_of(production(tmp_path)) as client:
        assert_secured(await client.get("/web/ping"))
    development = make_settings(unused_db(tmp_path), tmp_path / "sms")
    async with client_of(development, "https://testserver") as client:
        assert_secured(await client.get("/web/ping"))
    tls = answer(await call(guard(echo_app(), production(tmp_path, hsts_seconds=600)),
                            scheme="https"))  # fmt: skip
    assert tls[1][b"strict-transport-security"] == [b"max-age=600; includeSubDomains"]


async def test_a_header_the_response_set_is_not_repeated(tmp_path: Path) -> None:
    own = [(b"x-frame-options", b"SAMEORIGIN"), (b"strict-transport-security", b"max-age=1")]
    app = guard(echo_app(headers=own), production(tmp_path))
    _, headers, _ = answer(await call(app, scheme="https"))
    assert headers[b"x-frame-options"] == [b"SAMEORIGIN"]
    assert headers[b"strict-transport-security"] == [b"max-age=1"]
    assert headers[b"referrer-policy"] == [b"no-referrer"]
    assert headers[b"x-content-type-options"] == [b"nosniff"]


# -- docs -------------------------------------------------------------------------------------


def test_docs_default_off_in_production_on_in_development(tmp_path: Path) -> None:
    assert production(tmp_path).docs_on is False
    assert make_settings(unused_db(tmp_path), tmp_path / "sms").docs_on is True
    assert production(tmp_path, docs_enabled=True).docs_on is True


@pytest.mark.parametrize("where", ["production", "switched off"])
async def test_docs_off_are_unknown_paths(tmp_path: Path, where: str) -> None:
    if where == "production":
        settings = production(tmp_path)
    else:
        settings = make_settings(unused_db(tmp_path), tmp_path / "sms", docs_enabled=False)
    async with client_of(settings) as client:
        for path in ("/docs", "/openapi.json"):
            response = await client.get(path)
            assert (response.status_code, response.json()) == (404, NOT_FOUND), path
        assert (await client.get("/web/ping")).status_code == 200


async def test_docs_switched_on_in_production(tmp_path: Path) -> None:
    async with client_of(production(tmp_path, docs_enabled=True)) as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Hojre v1"
