"""What every HTTP request passes before any endpoint: a bounded body and safe headers."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hojre.core.settings import Env, Settings

Header = tuple[bytes, bytes]

# Tokens travel in URLs (the contract's ``token`` parameter): no Referer may carry them.
_SECURITY: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# More digits than this is over any limit, and int() of it stays cheap (no 4300-digit parse).
_MAX_DIGITS = 18


class BodyTooLarge(Exception):
    """The request body grew past its limit while streaming in (answered 413 by the guard)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def _yii_error(name: str, message: str, status: int) -> bytes:
    """The error shape the contract already answers 404 and 405 with."""
    return orjson.dumps({"name": name, "message": message, "code": 0, "status": status})


class Guard:
    """ASGI middleware: refuses bodies over their limit and adds the security headers.

    A plain ASGI class, not BaseHTTPMiddleware (which buffers responses and costs a task per
    request): it runs on every request, ``/web/ping`` included.

    The limit is the request path's entry in ``limits`` (endpoints' ``max_body``) or
    ``settings.max_body_bytes``. A declared ``Content-Length`` over it is answered 413 before a
    byte is read; a body without one (chunked) is counted as it arrives and ``receive`` raises
    :class:`BodyTooLarge` past the limit. The v1 runner reads the whole body before it opens a
    transaction, so a refused request has done nothing.
    """

    def __init__(
        self, app: ASGIApp, *, settings: Settings, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        self.limits = dict(limits or {})
        self.plain = _SECURITY
        # Only over TLS: sent over plain HTTP it would be ignored, and in development it would
        # pin localhost to https in the developer's browser.
        self.tls = self.plain
        if settings.env is Env.production:
            hsts = f"max-age={settings.hsts_seconds}; includeSubDomains".encode()
            self.tls = (*self.plain, (b"strict-transport-security", hsts))
        self.names = frozenset(name for name, _ in self.tls)
        self.too_large = {
            limit: _yii_error(
                "Request Entity Too Large", f"The request body is larger than {limit} bytes.", 413
            )
            for limit in {self.default, *self.limits.values()}
        }
        self.bad_length = _yii_error(
            "Bad Request", "The Content-Length header is not a valid length.", 400
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the WebSocket and the lifespan pass untouched
            await self.app(scope, receive, send)
            return
        ours = self.tls if scope.get("scheme") == "https" else self.plain
        limit = self.limits.get(scope["path"], self.default) if self.limits else self.default

        declared: bytes | None = None
        for name, value in scope["headers"]:
            # Servers lowercase request header names; the length test spares a lower() on most.
            if len(name) == 14 and name.lower() == b"content-length":
                if declared is not None and value != declared:  # two different lengths
                    await self._reject(send, ours, 400, self.bad_length)
                    return
                declared = value

        if declared is not None:
            digits = declared.strip()
            if not digits.isdigit():  # bytes.isdigit: ASCII digits only, and False when empty
                await self._reject(send, ours, 400, self.bad_length)
                return
            if len(digits) > _MAX_DIGITS or int(digits) > limit:
                await self._reject(send, ours, 413, self.too_large[limit])
                return

            # The server delivers no more than the declared length: nothing to count.
            async def send_secured(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = self._secured(message, ours)
                await send(message)

            await self.app(scope, receive, send_secured)
            return

        received = 0
        over = started = replaced = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:  # asked again after the refusal: still refused
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
                if over:
                    # The app swallowed the refusal (the form parser's errors become "Cant
                    # Validate Data"): its answer is about a body it never got whole.
                    replaced = True
                    await self._reject(send, ours, 413, self.too_large[limit])
                    return
                message = self._secured(message, ours)
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # Whatever failed after the body was cut off failed because of it (BodyTooLarge
            # itself, or an error it turned into on the way out).
            if not over:
                raise
        # Once started, an answer cannot be taken back: left incomplete, the server closes the
        # connection.
        if over and not started:
            await self._reject(send, ours, 413, self.too_large[limit])

    def _secured(self, message: Message, ours: tuple[Header, ...]) -> Message:
        headers = message.get("headers", ())
        # ASGI response header names are lowercase, so bytes compare as they are.
        for name, _ in headers:
            if name in self.names:  # the response set one itself: keep its own
                have = {name for name, _ in headers}
                ours = tuple(header for header in ours if header[0] not in have)
                break
        # New lists: the one sent is the response's own (Response.raw_headers), not ours to grow.
        return {**message, "headers": [*headers, *ours]}

    @staticmethod
    async def _reject(send: Send, ours: tuple[Header, ...], status: int, body: bytes) -> None:
        # Connection: close, as the rest of the body is left unread on the connection.
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *ours,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
