"""``GET /img/<path>``: the uploaded images, the shipped defaults, and their thumbnails.

An ASGI layer in front of the v1 dispatch, not a route: it answers only paths that are images
of ours in form (:data:`hojre.core.text.IMAGE_PATH`: ASCII segments, no dot segments, an
image extension), so no client-supplied text ever reaches the media store that
could name anything else; a path with any percent-escape is refused before it is decoded
(``%2e%2e``, ``%2f``: our paths never need one). Everything else is the contract's 404.

Uploads never change under their random names: they are cached for a year (``immutable``).
The defaults are the project's own drawings and may change with a release: a day. Both carry a
content ``ETag`` and answer ``If-None-Match`` with 304. ``?w=`` asks for a thumbnail of a width
from :data:`~hojre.media.service.THUMB_WIDTHS`, made once and kept in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from hojre.core.hub import Hub
from hojre.core.text import IMAGE_PATH
from hojre.media.service import THUMB_WIDTHS

log = logging.getLogger("hojre.web")

PREFIX = "/img/"
_UPLOAD_CACHE = b"public, max-age=31536000, immutable"
_SHIPPED_CACHE = b"public, max-age=86400"
_NOT_FOUND = b'{"name":"Not Found","message":"Page not found.","code":0,"status":404}'
_SERVER_ERROR = b'{"status":"error","message":"Server Error","data":""}'
# An image is never a document: even a browser that sniffed one could run nothing in it.
_SANDBOX = (b"content-security-policy", b"default-src 'none'; sandbox")


class ImageServer:
    def __init__(self, app: ASGIApp, *, hub_of: Callable[[Request], Hub]) -> None:
        self.app = app
        self.hub_of = hub_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)  # the router's 405/404, as for any path
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        key = scope["path"][1:]
        width = _width(scope.get("query_string", b""))
        if b"%" in raw_path or IMAGE_PATH.fullmatch(key) is None or width == -1:
            await _send(send, scope, 404, _NOT_FOUND, [(b"content-type", b"application/json")])
            return
        hub = self.hub_of(Request(scope))
        try:
            image = await hub.media.image(key, width)
        except Exception:
            log.exception("reading image %s failed", key)
            await _send(send, scope, 500, _SERVER_ERROR, [(b"content-type", b"application/json")])
            return
        if image is None:
            await _send(send, scope, 404, _NOT_FOUND, [(b"content-type", b"application/json")])
            return
        etag = image.etag.encode()
        headers = [
            (b"etag", etag),
            (b"cache-control", _SHIPPED_CACHE if image.shipped else _UPLOAD_CACHE),
            _SANDBOX,
        ]
        if _matches(scope, etag):
            await _send(send, scope, 304, b"", headers)
            return
        headers.append((b"content-type", image.content_type.encode()))
        await _send(send, scope, 200, image.data, headers)


def _width(query: bytes) -> int | None:
    """The thumbnail width asked for: None (the original), or -1 (not one we make)."""
    if not query:
        return None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "w":
            return (
                int(value)
                if value.isascii() and value.isdigit() and int(value) in THUMB_WIDTHS
                else -1
            )
    return None  # other params (a client's cache-buster) change nothing


def _matches(scope: Scope, etag: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return value.strip() == b"*" or etag in (v.strip() for v in value.split(b","))
    return False


async def _send(
    send: Send, scope: Scope, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    if status != 304:  # a 304's length would be the image's, which it does not send
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    # HEAD: the headers GET would send, without the body.
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
