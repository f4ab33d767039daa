"""Declaring v1 endpoints: one decorator per route, one wrapper doing the contract's plumbing.

Every endpoint goes through :func:`_run`: read params (query + body), authenticate when asked,
open the request's unit of work, call the handler, render the envelope with orjson, translate
:class:`HojreError` into the error envelope (HTTP 200) and anything else into a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hojre.accounts import presence
from hojre.accounts import service as accounts
from hojre.accounts.schemas import Location
from hojre.accounts.service import Caller, Client
from hojre.core.errors import FieldProblem, HojreError, NotLoggedIn, ValidationFailed
from hojre.core.hub import Hub
from hojre.core.net import client_key
from hojre.core.ratelimit import Window, check
from hojre.core.settings import Settings
from hojre.core.sql import Conn, Query
from hojre.core.text import ascii_digits, normalize_cellphone
from hojre.customers import service as customers
from hojre.media.service import Stored
from hojre.web_v1.envelopes import error
from hojre.web_v1.guard import BodyTooLarge
from hojre.web_v1.messages import render as render_refusal
from hojre.web_v1.openapi import Reply
from hojre.web_v1.params import collect_params

log = logging.getLogger("hojre.web")

P = TypeVar("P", bound="V1Params")


class V1Params(BaseModel):
    """Base of each endpoint's parameters: raw text as sent (``None`` when absent).

    Fields are documented in OpenAPI; the handler converts and validates them with the
    contract's own messages, so this model never rejects anything itself.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    # Lists read ``page`` and ``per-page`` from the raw params; this documents them.
    paged: ClassVar[bool] = False


@cache
def wire_names(params: type[V1Params]) -> tuple[tuple[str, str], ...]:
    """Each field's name and the param it is read from (its alias: ``Gallery[1]``)."""
    return tuple((name, info.alias or name) for name, info in params.model_fields.items())


@cache
def image_fields(params: type[V1Params]) -> dict[str, str]:
    """The params that take an image file as well as a path: wire name → domain field name
    (``mainImage`` → ``main_image``, as validation messages label it)."""
    found: dict[str, str] = {}
    for name, info in params.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(_IMAGE):
            found[info.alias or name] = _CAMEL.sub(r"_\1", name).lower()
    return found


_IMAGE = "x-image"
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


class NoParams(V1Params):
    pass


class SenderLimit(StrEnum):
    """What one account may send in a while: offers, store messages, comments, chat messages
    (HOJRE_*_PER_HOUR / _PER_DAY); past it, "Too Many Attempts"."""

    comments = "comments"
    chat_messages = "chat_messages"
    store_messages = "store_messages"
    offers = "offers"

    def window(self, settings: Settings, sender: int) -> Window:
        most, seconds = {
            SenderLimit.comments: (settings.comments_per_hour, 3600),
            SenderLimit.chat_messages: (settings.chat_messages_per_hour, 3600),
            SenderLimit.store_messages: (settings.store_messages_per_hour, 3600),
            SenderLimit.offers: (settings.offers_per_day, 86400),
        }[self]
        return Window(f"sent-{self.value}:{sender}", seconds, most, f"{self.value}_per_sender")


class _NoConn:
    """The connection of an endpoint that opens its own transactions: none to use."""

    dialect: Any = None

    def _refuse(self) -> Any:
        raise RuntimeError("this endpoint opens its own transactions (hub.db.raw.connect)")

    async def all(self, query: Query, **params: Any) -> list[Any]:
        return self._refuse()  # type: ignore[no-any-return]

    async def one(self, query: Query, **params: Any) -> Any | None:
        return self._refuse()

    async def run(self, query: Query, **params: Any) -> int:
        return self._refuse()  # type: ignore[no-any-return]

    def on_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._refuse()


NO_CONN: Conn = _NoConn()


@dataclass(slots=True)
class Call(Generic[P]):
    request: Request
    params: P
    raw: Mapping[str, str]
    # The request's connection (hojre.core.sql): a write transaction for endpoints that
    # write, else reads only.
    conn: Conn
    hub: Hub
    username: str
    token: str
    user: Caller | None = None
    located: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # The image files of the request, stored as uploads, by param (see _take_files).
    uploaded: dict[str, Stored] = field(default_factory=dict)

    not_logged_in: type[HojreError] = NotLoggedIn

    @property
    def client(self) -> Client:
        """The client as throttles key it (the address; a trusted proxy's X-Forwarded-For)."""
        return Client(client_key(self.request.scope))

    @property
    def me(self) -> Caller:
        if self.user is None:  # only reachable in an endpoint declared without auth
            raise self.not_logged_in
        return self.user

    async def login(self) -> Caller:
        """Authenticate the caller (once); endpoints with ``auth=True`` have done it already.

        Also remembers the caller's location from ``x``/``y``.
        """
        if self.user is None:
            self.user = await accounts.authenticate(
                self.conn,
                cellphone=normalize_cellphone(self.username),
                token=self.token,
                idle_days=self.hub.settings.token_idle_days,
            )
            if self.user is None:
                raise self.not_logged_in
        if not self.located:  # once, wherever the login ran
            self.located = True
            accounts.note_token_use(self.conn, self.hub, user=self.user)
            presence.note_seen(self.conn, self.hub, user=self.user)
            where = parse_location(self.raw)
            if where is not None:
                visits = customers.visits_at(self.hub, user_id=self.user.id, where=where)
                accounts.record_location(
                    self.conn, self.hub, user=self.user, where=where, also=visits
                )
        return self.user

    async def login_apart(self, *, optional: bool = False) -> None:
        """Log in on a read connection of its own, before work that must hold none (hashing
        a password, decoding an image). ``optional``: a failed login leaves the caller
        anonymous instead of refusing the request."""
        async with self.hub.db.raw.connect(write=False) as conn:
            self.conn = conn
            try:
                await self.login()
            except HojreError:
                if not optional:
                    raise
                self.user = None
            finally:
                self.conn = NO_CONN


# A handler's Response is sent as it is (a cached public list, a 304: hojre.web_v1.cache).
Handler = Callable[[Call[Any]], Awaitable[Mapping[str, Any] | Response]]


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


SERVER_ERROR = {"status": "error", "message": "Server Error", "data": ""}


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def parse_location(raw: Mapping[str, str]) -> Location | None:
    if "x" not in raw or "y" not in raw:  # most requests: no exception raised and caught
        return None
    try:
        x = float(ascii_digits(raw.get("x", "")))
        y = float(ascii_digits(raw.get("y", "")))
    except ValueError:
        return None
    if -180 <= x <= 180 and -90 <= y <= 90:
        return Location(longitude=x, latitude=y)
    return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    params: type[V1Params]
    handler: Handler
    auth: bool = False
    summary: str = ""
    # "not login" is the customer endpoints' message; a few documented endpoints differ.
    not_logged_in: type[HojreError] = NotLoggedIn
    cacheable: bool = False
    # Writes take SQLite's write lock up front; POSTs write, and a few GETs do too
    # (reading a chat marks its messages seen).
    write: bool | None = None
    # What a success answers, for OpenAPI; None: the shape's (POST action, paged GET list).
    response: Reply | None = None
    # The request body's limit in bytes; None: the default (HOJRE_MAX_BODY_BYTES).
    max_body: int | None = None
    # The handler opens its own short transactions (``hub.db.raw.connect``) and gets no
    # connection: it hashes passwords, which must run with no transaction open and no
    # connection held (docs/SECURITY.md). With ``auth``, the login is read before it.
    own_transactions: bool = False
    # Counted per caller before the handler runs (an authenticated endpoint).
    sender_limit: SenderLimit | None = None
    # Answers a request before anything else is read, or None (a public list's kept reply,
    # hojre.web_v1.cache.replay): no parameter parsed, no connection.
    early: Callable[[Request, Hub], Response | None] | None = None
    # Answers a refusal instead of the error envelope (the upload endpoints' own replies).
    refusal: Callable[[HojreError], Response] | None = None

    @property
    def writes(self) -> bool:
        return self.method == "POST" if self.write is None else self.write


class V1Router:
    """Collects endpoints, then mounts each as a FastAPI route with its OpenAPI description."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def _register(
        self, method: str, path: str, params: type[V1Params], **options: Any
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            options.setdefault("summary", handler.__doc__ or "")
            self.endpoints.append(Endpoint(method, path, params, handler, **options))
            return handler

        return decorate

    def get(
        self, path: str, params: type[V1Params] = NoParams, **options: Any
    ) -> Callable[[Handler], Handler]:
        """Options: ``auth``, ``summary``, ``cacheable``, ``not_logged_in``, ``write``,
        ``response``, ``max_body``, ``own_transactions``,
        ``sender_limit``, ``refusal`` (see Endpoint)."""
        return self._register("GET", path, params, **options)

    def post(
        self, path: str, params: type[V1Params] = NoParams, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self._register("POST", path, params, **options)

    def mount(self, router: APIRouter, hub_of: Callable[[Request], Hub]) -> None:
        from hojre.web_v1.openapi import describe

        for endpoint in self.endpoints:
            router.add_api_route(
                endpoint.path,
                _make_route(endpoint, hub_of),
                methods=[endpoint.method],
                summary=endpoint.summary,
                tags=[self.tag],
                openapi_extra=describe(endpoint),
                response_class=Response,
            )


_SLASHES = re.compile("/{2,}")


class Dispatch:
    """ASGI middleware: finds a v1 endpoint by a dict lookup and runs it.

    FastAPI's router tries its ~200 routes one regex at a time (a third of a list request's
    time for the routes mounted last); the routes stay mounted for OpenAPI and for everything
    this table does not know (404, 405, HEAD, the docs, the WebSocket), which they answer as
    before. ``/prefix/{name}`` paths are found by their prefix. ``fixed`` answers are sent as
    they are (``/web/ping``: the ceiling every endpoint is measured against).
    """

    def __init__(
        self, app: ASGIApp, *, endpoints: Iterable[tuple[str, Endpoint]],
        hub_of: Callable[[Request], Hub], fixed: Mapping[tuple[str, str], Response] | None = None,
    ) -> None:  # fmt: skip
        self.app = app
        self.hub_of = hub_of
        self.fixed = dict(fixed or {})
        self.exact: dict[tuple[str, str], Endpoint] = {}
        self.by_prefix: dict[tuple[str, str], tuple[str, Endpoint]] = {}
        for path, endpoint in endpoints:
            head, _, last = path.rpartition("/")
            if "{" not in path:
                self.exact[endpoint.method, path] = endpoint
            elif "{" not in head and last.startswith("{") and last.endswith("}"):
                self.by_prefix[endpoint.method, head + "/"] = (last[1:-1], endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = scope["method"], scope["path"]
            answer = self.fixed.get(key)
            if answer is not None:
                await self._send_fixed(answer, send)
                return
            method, path = key
            endpoint = self.exact.get(key)
            if endpoint is None:
                endpoint = self._by_prefix(scope, method, path)
                # The seller document writes `/web//broadcasts`: repeated slashes name the same
                # path (API.md §5). Tried only on a miss, so found paths pay nothing for it.
                if endpoint is None and "//" in path:
                    path = _SLASHES.sub("/", path)
                    endpoint = self.exact.get((method, path)) or self._by_prefix(
                        scope, method, path
                    )
            if endpoint is not None:
                request = Request(scope, receive)
                response = await _run(endpoint, request, self.hub_of(request))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _by_prefix(self, scope: Scope, method: str, path: str) -> Endpoint | None:
        """A ``/prefix/{name}`` endpoint, its ``name`` put in the scope's path params."""
        head, _, last = path.rpartition("/")
        found = self.by_prefix.get((method, head + "/")) if last else None
        if found is None:
            return None
        name, endpoint = found
        scope["path_params"] = {name: last}
        return endpoint

    @staticmethod
    async def _send_fixed(answer: Response, send: Send) -> None:
        # One Response answers every request: each gets its own header list, as a middleware
        # may edit in place the one it is sent (Response.__call__ would send the shared one).
        status, headers = answer.status_code, [*answer.raw_headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


def _make_route(endpoint: Endpoint, hub_of: Callable[[Request], Hub]) -> Callable[..., Any]:
    async def route(request: Request) -> Response:
        return await _run(endpoint, request, hub_of(request))

    route.__name__ = endpoint.handler.__name__
    return route


async def _run(endpoint: Endpoint, request: Request, hub: Hub) -> Response:
    if endpoint.early is not None:
        answer = endpoint.early(request, hub)
        if answer is not None:
            return answer
    headers: dict[str, str] = {}
    try:
        files: dict[str, UploadFile] = {}
        raw = await collect_params(request, max_params=hub.settings.max_params, files=files)
        token = raw.get("token") or bearer_token(request)
        username = raw.get("username", "")
        if token or endpoint.auth or endpoint.method == "POST":
            headers["Cache-Control"] = "no-store"
        elif endpoint.cacheable:
            headers["Cache-Control"] = "public, max-age=300"
        call: Call[Any] = Call(
            request=request,
            params=None,
            raw=raw,
            conn=NO_CONN,
            hub=hub,
            username=username,
            token=token,
            headers=headers,
            not_logged_in=endpoint.not_logged_in,
        )
        if files:
            await _take_files(endpoint, call, files, raw)
        call.params = endpoint.params.model_construct(
            None, **{name: raw[wire] for name, wire in wire_names(endpoint.params) if wire in raw}
        )
        if endpoint.own_transactions:
            if endpoint.auth:
                await call.login_apart()
            body = await endpoint.handler(call)
        else:
            async with hub.db.raw.connect(write=endpoint.writes) as conn:
                call.conn = conn
                body = await _handle(endpoint, call)
    except HojreError as exc:
        if endpoint.refusal is not None:
            return endpoint.refusal(exc)
        return json_response(error(*render_refusal(exc)), headers=headers)
    except BodyTooLarge:
        raise  # answered by the guard (hojre.web_v1.guard), which counted the bytes
    except Exception:
        log.exception("unhandled error in %s %s", endpoint.method, endpoint.path)
        return json_response(SERVER_ERROR, status=500, headers=headers)
    if isinstance(body, Response):
        return body
    return json_response(body, headers=headers)


async def _take_files(
    endpoint: Endpoint, call: Call[Any], files: Mapping[str, UploadFile], raw: dict[str, str]
) -> None:
    """Store each image file sent in an image param as an upload, and read the param as its
    path (the file beats a path sent under the same name; ``call.uploaded`` has what was
    stored). Done before the request's own transaction, as a call to an upload endpoint
    would be: the caller is logged in first (an upload is theirs, and no stranger's file is
    decoded; where no login is needed, a failed one uploads anonymously), every file is
    checked, and their problems are reported together. Files in other params are ignored."""
    wanted = [(wire, field, files[wire]) for wire, field in image_fields(endpoint.params).items()
              if wire in files]  # fmt: skip
    if not wanted:
        return
    if endpoint.auth or call.token:
        await call.login_apart(optional=not endpoint.auth)
    owner = call.user.id if call.user is not None else None
    problems: list[FieldProblem] = []
    for wire, field_name, upload in wanted:
        try:
            stored = await call.hub.media.take(
                upload.file, size=upload.size, field=field_name, owner=owner,
                address=str(call.client),
            )  # fmt: skip
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            continue
        raw[wire] = stored.key
        call.uploaded[wire] = stored
    if problems:
        raise ValidationFailed(problems)


async def _count_sender(endpoint: Endpoint, call: Call[Any]) -> None:
    """One more of what the caller sends, in the request's transaction (a failed request
    takes it back with everything else)."""
    assert endpoint.sender_limit is not None
    window = [endpoint.sender_limit.window(call.hub.settings, call.me.id)]
    check(window, await call.hub.limiter.hit(call.conn, window))


async def _handle(endpoint: Endpoint, call: Call[Any]) -> Mapping[str, Any] | Response:
    if endpoint.auth:
        await call.login()
        if endpoint.sender_limit is not None:
            await _count_sender(endpoint, call)
    return await endpoint.handler(call)


def param(
    description: str,
    *,
    required: bool = False,
    alias: str | None = None,
    image: bool = False,
    **schema: Any,
) -> Any:
    """Declare one v1 parameter (raw text) with what OpenAPI should say of it. ``image``: the
    param also takes the image file itself (multipart), stored as an upload first."""
    extra: dict[str, Any] = dict(schema)
    if required:
        extra["x-required"] = True
    if image:
        extra[_IMAGE] = True
    return Field(default=None, alias=alias, description=description, json_schema_extra=extra)
