"""The ASGI application: the v1 routes under ``/web``, docs at ``/docs``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hojre import __version__, maintenance
from hojre.core.hub import Hub
from hojre.core.metrics import REGISTRY
from hojre.core.settings import Settings, get_settings
from hojre.web_v1 import (
    accounts,
    catalog,
    geo,
    interactions,
    messaging,
    sellers,
    store_customers,
    store_profile,
    store_register,
    store_side,
    uploads,
)
from hojre.web_v1.endpoint import (
    SERVER_ERROR,
    Dispatch,
    Endpoint,
    V1Router,
    image_fields,
    json_response,
)
from hojre.web_v1.guard import Guard
from hojre.web_v1.images import ImageServer
from hojre.web_v1.live import mount as mount_live
from hojre.web_v1.openapi import ENVELOPE_SCHEMAS, SECURITY_SCHEMES, Reply, responses

log = logging.getLogger("hojre.web")

ROUTERS: tuple[V1Router, ...] = (
    accounts.router,
    geo.router,
    interactions.router,
    catalog.router,
    messaging.router,
    store_side.router,
    store_profile.router,
    sellers.router,
    store_register.router,
    store_customers.router,
    uploads.router,
)
PING = b'{"status":"success","message":"pong","data":""}'

NOT_FOUND = {"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404}


# A multipart body's parts beside its files: headers, boundaries, the text params.
_FORM_SLACK = 64 * 1024


def body_limit(endpoint: Endpoint, settings: Settings) -> int | None:
    """The endpoint's body limit, when not the default: its own, or room for one upload per
    image param (each file is checked against HOJRE_UPLOAD_MAX_BYTES on its own too)."""
    images = len(image_fields(endpoint.params))
    if not images:
        return endpoint.max_body
    room = images * settings.upload_max_bytes + _FORM_SLACK
    return max(room, endpoint.max_body or settings.max_body_bytes)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


class V1App(FastAPI):
    """FastAPI, with the v1 endpoints answered before FastAPI's own middleware and router.

    Every request and WebSocket passes ``front``: the proxy headers, the guard, then Dispatch,
    which runs the endpoints it knows and hands the rest to FastAPI (:meth:`fastapi`: the
    error middleware, the exception handlers, the router, as before). A v1 endpoint answers
    its own errors (the envelope, the 500), and FastAPI's layers cost ``/web/ping`` more than
    the rest of the request (a walk of every route of the included router included): they
    stay for what only they answer (404, 405, HEAD, the docs, /metrics, the WebSocket).
    FastAPI's telemetry middleware, which Hojre does not configure, sees only those, and so
    does any middleware added with ``add_middleware``: what every request needs goes in front.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None or scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # what Starlette sets: request.app, for the hub
        await self.front(scope, receive, send)

    async def fastapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling of a request: its middleware stack and router."""
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, hub: Hub | None = None) -> FastAPI:
    """Build the app. Tests pass their own ``hub``; servers build one from settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = app.state.hub is None
        if own:
            app.state.hub = Hub.from_settings(settings or get_settings())
        current: Hub = app.state.hub
        stop = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        try:
            # Events published by other processes reach this one's sockets through Redis
            # (a no-op without Redis). A hub passed in by a test is closed by its owner.
            await current.events.start()
            current.public_cache.start()  # its watcher; stopped by Hub.aclose
            # What exists now (modules, metadata, compiled routes) lives as long as the
            # process: out of the collector's reach, a full collection stays short instead of
            # pausing every request in flight (the p99 under load).
            gc.freeze()
            if current.settings.run_background_tasks:
                background = [
                    asyncio.create_task(current.outbox.run_sweeper(stop)),
                    asyncio.create_task(maintenance.run(current, stop)),
                ]
            yield
        finally:
            stop.set()
            for task in background:
                await task
            if own:
                await current.aclose()

    # The settings in effect: a test's hub brings its own.
    config = settings or (hub.settings if hub else get_settings())
    docs = config.docs_on  # off by default in production: no public map of every endpoint
    app = V1App(
        title="Hojre v1",
        version=__version__,
        description="The Hojrenama v1 contract. Errors are HTTP 200 envelopes with "
        "`status: error`; parameters come from the query string or the body.",
        lifespan=lifespan,
        redoc_url=None,
        docs_url="/docs" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # "/web/stores/" is an unknown path (the contract's 404 body), not a redirect.
        redirect_slashes=False,
    )
    app.state.hub = hub

    web = APIRouter(prefix="/web")

    @web.get(
        "/ping",
        summary="Health check; touches nothing",
        tags=["service"],
        openapi_extra={"responses": responses(Reply.action)},
    )
    async def ping() -> Response:
        return Response(PING, media_type="application/json")

    for router in ROUTERS:
        router.mount(web, _hub)
    mount_live(web)  # the WebSocket at /web/live
    app.include_router(web)
    dispatch = Dispatch(
        app.fastapi,
        endpoints=[(f"/web{e.path}", e) for router in ROUTERS for e in router.endpoints],
        hub_of=_hub,
        # The route above stays for OpenAPI; this answers it.
        fixed={("GET", "/web/ping"): Response(PING, media_type="application/json")},
    )
    # Bodies are bounded before Dispatch runs any endpoint.
    guard = Guard(
        ImageServer(dispatch, hub_of=_hub),
        settings=config,
        limits={
            f"/web{e.path}": limit
            for r in ROUTERS
            for e in r.endpoints
            if (limit := body_limit(e, config))
        },
    )
    # Outermost: the client's address and scheme as a trusted proxy reports them, for the
    # throttles (hojre.core.net) and the guard's HSTS, under any ASGI server.
    proxied: Any = ProxyHeadersMiddleware  # uvicorn's ASGI types are not Starlette's
    app.front = proxied(guard, trusted_hosts=config.forwarded_allow_ips)

    if config.metrics_token:
        expected = f"Bearer {config.metrics_token}".encode()

        @app.get("/metrics", include_in_schema=False)
        async def metrics(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return json_response(NOT_FOUND, status=404)  # no hint that it exists
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            allowed = exc.headers.get("Allow", "") if exc.headers else ""
            return json_response(
                {
                    "name": "Method Not Allowed",
                    "message": f"Method Not Allowed. This URL can only handle the following "
                    f"request methods: {allowed}.",
                    "code": 0,
                    "status": 405,
                },
                status=405,
                headers=exc.headers,
            )
        if exc.status_code == 404:
            return json_response(NOT_FOUND, status=404)
        return json_response(
            {"name": "Error", "message": str(exc.detail), "code": 0, "status": exc.status_code},
            status=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return json_response(SERVER_ERROR, status=500)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            components.setdefault("schemas", {}).update(ENVELOPE_SCHEMAS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
