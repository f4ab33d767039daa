"""``/web/live``: the WebSocket pushing live events to a logged-in user (API.md §4, designed here).

Protocol:

- Login as everywhere else: ``username`` and ``token`` query parameters, or ``username`` in the
  query and ``Authorization: Bearer <token>``.
- A failed login is **accepted, then closed with code 4401** ("not login"). Closing before the
  handshake would reach browsers only as an anonymous 1006, so the code is sent after ``accept``.
- On success the first message is ``{"type": "hello", "data": {"user": <id>}}``; from then on the
  socket is subscribed and receives every event for the user, their role and everyone, as JSON
  text ``{"type": …, "data": …}`` (``chat.message``, ``chat.status``, ``chat.seen``,
  ``offer.new``, ``store_message.new``, ``store_message.answer``, ``broadcast.new``).
- The token is checked again when the user's tokens were revoked somewhere (the internal
  :class:`~hojre.core.events.SessionsRevoked` event, never forwarded) and every
  :data:`RECHECK_SECONDS`; once it no longer authenticates the socket is closed with 4401.
- The client may send the text ``ping`` and gets ``pong``; anything else it sends is ignored.
- Events are best effort (a socket that falls far behind loses some); the lists stay the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, assert_never

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from hojre.accounts.service import Caller, authenticate
from hojre.core.events import (
    BroadcastNew,
    ChatMessageSent,
    ChatSeen,
    ChatStatusChanged,
    Event,
    OfferNew,
    SessionsRevoked,
    StoreMessageAnswered,
    StoreMessageNew,
)
from hojre.core.hub import Hub
from hojre.core.text import full_name, normalize_cellphone

log = logging.getLogger("hojre.live")

PATH = "/live"
# Close code for "not logged in" (4000-4999 are the application's own codes).
NOT_LOGGED_IN = 4401
# Close code when the server fails unexpectedly (RFC 6455 "internal error").
SERVER_ERROR = 1011
# How often a socket re-checks its token even when no revocation event arrived (seconds).
RECHECK_SECONDS: float = 60.0


def render(event: Event) -> dict[str, Any]:
    """The event as the socket sends it: the wire ``type`` and ``data`` keys (API.md §4)."""
    match event:
        case ChatStatusChanged():
            return {"type": "chat.status", "data": {
                "id": event.chat_id, "status": event.status, "store": event.store_id,
                "user": event.customer_id, "seller": event.seller_id,
            }}  # fmt: skip
        case ChatSeen():
            return {"type": "chat.seen",
                    "data": {"chat": event.chat_id, "messages": event.message_ids}}  # fmt: skip
        case ChatMessageSent():
            return {"type": "chat.message", "data": {
                "id": event.message_id, "chat": event.chat_id, "senderId": event.sender_id,
                "text": event.text, "sender": full_name(event.sender_name, event.sender_family),
                "sentDate": event.sent_at, "status": event.status,
            }}  # fmt: skip
        case StoreMessageNew():
            return {"type": "store_message.new", "data": {
                "id": event.message_id, "store": event.store_id, "title": event.title,
            }}  # fmt: skip
        case StoreMessageAnswered():
            return {"type": "store_message.answer", "data": {
                "id": event.message_id, "store": event.store_id, "answer": event.answer,
            }}  # fmt: skip
        case OfferNew():
            return {"type": "offer.new", "data": {
                "id": event.offer_id, "store": event.store_id, "text": event.text,
            }}  # fmt: skip
        case BroadcastNew():
            return {"type": "broadcast.new", "data": {
                "id": event.broadcast_id, "title": event.title, "role": event.role,
            }}  # fmt: skip
        case SessionsRevoked():
            raise ValueError("internal event: never sent to a client")
        case _:
            assert_never(event)


def credentials(websocket: WebSocket) -> tuple[str, str]:
    """``(username, token)``: the token from the query, else from a Bearer header."""
    token = websocket.query_params.get("token", "")
    if not token:
        scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
    return websocket.query_params.get("username", ""), token


async def login(hub: Hub, username: str, token: str) -> Caller | None:
    """The token's user, read on a connection of its own."""
    async with hub.db.raw.connect(write=False) as conn:
        return await authenticate(
            conn, cellphone=normalize_cellphone(username), token=token,
            idle_days=hub.settings.token_idle_days,
        )  # fmt: skip


class LiveSocket:
    """One authenticated socket: forwards its queue, answers pings, watches its token."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        *,
        username: str,
        token: str,
        queue: asyncio.Queue[Event],
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self.username = username
        self.token = token
        self.queue = queue
        self._send_lock = asyncio.Lock()  # the forwarder and the pong share one socket

    async def send(self, body: dict[str, Any]) -> None:
        await self.send_text(orjson.dumps(body).decode())

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def run(self) -> int | None:
        """Serve until the client leaves (``None``) or the socket must close (its code)."""
        reader = asyncio.create_task(self._read())
        forwarder = asyncio.create_task(self._forward())
        try:
            done, _ = await asyncio.wait({reader, forwarder}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, forwarder):
                task.cancel()
            await asyncio.gather(reader, forwarder, return_exceptions=True)
        if reader in done:
            reader.result()  # the client left (or reading failed: raise it)
            return None
        return forwarder.result()

    async def _read(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "ping":
                await self.send_text("pong")

    async def _forward(self) -> int:
        loop = asyncio.get_running_loop()
        recheck_at = loop.time() + RECHECK_SECONDS
        while True:
            try:
                event: Event | None = await asyncio.wait_for(
                    self.queue.get(), timeout=max(recheck_at - loop.time(), 0)
                )
            except TimeoutError:
                event = None
            if event is None or isinstance(event, SessionsRevoked):
                if not await self._token_still_valid():
                    return NOT_LOGGED_IN
                recheck_at = loop.time() + RECHECK_SECONDS
                continue
            await self.send(render(event))

    async def _token_still_valid(self) -> bool:
        try:
            return await login(self.hub, self.username, self.token) is not None
        except Exception:  # the database is away: keep the socket, ask again next time
            log.warning("could not re-check a live socket's token", exc_info=True)
            return True


async def live(websocket: WebSocket) -> None:
    """Live events for the logged-in caller (see the module documentation for the protocol)."""
    hub: Hub = websocket.app.state.hub
    username, token = credentials(websocket)
    try:
        user = await login(hub, username, token)
    except Exception:
        log.exception("live socket login failed")
        await websocket.accept()
        await _close(websocket, SERVER_ERROR)
        return
    await websocket.accept()
    if user is None:
        await _close(websocket, NOT_LOGGED_IN)
        return
    with hub.events.subscribe(user.id, user.role) as queue:
        socket = LiveSocket(websocket, hub, username=username, token=token, queue=queue)
        try:
            await socket.send({"type": "hello", "data": {"user": user.id}})
            code = await socket.run()
        except WebSocketDisconnect:  # the client left while we were sending
            return
        except Exception:
            log.exception("live socket failed")
            code = SERVER_ERROR
    if code is not None:
        await _close(websocket, code)


async def _close(websocket: WebSocket, code: int) -> None:
    # The client may have left already.
    with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
        await websocket.close(code=code)


def mount(router: APIRouter) -> None:
    """Add ``/live`` to ``router`` (the app mounts it under ``/web``)."""
    router.add_api_websocket_route(PATH, live, name="live")
