"""Live-socket kit: a real uvicorn server on the test's event loop, a shop, and socket helpers.

The server runs as a task of the test's own loop, so it shares the ``hub`` fixture (and its
database connections) with the test, which can also publish events and write rows directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hojre.accounts.models import Role
from hojre.accounts.service import create_user
from hojre.catalog.models import Store, StoreSeller
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.web_v1.app import create_app

PASSWORD = "secret1"
_PHONES = itertools.count(1_000_000)


def new_cellphone() -> str:
    return f"0913{next(_PHONES):07d}"


@dataclass(frozen=True)
class Shop:
    store_id: int
    seller_id: int
    seller_phone: str
    customer_id: int
    customer_phone: str


async def make_shop(hub: Hub) -> Shop:
    """A store with one active seller, and a customer (written straight to the database)."""
    seller_phone, customer_phone = new_cellphone(), new_cellphone()
    async with hub.db.unit_of_work(write=True) as session:
        seller = await create_user(
            SessionConn(session), cellphone=seller_phone, password=PASSWORD, role=Role.seller,
            name="حسین", family="کریمی",
        )  # fmt: skip
        customer = await create_user(
            SessionConn(session), cellphone=customer_phone, password=PASSWORD, role=Role.customer,
            name="مریم", family="احمدی",
        )  # fmt: skip
        n = next(_PHONES)
        store = Store(
            title=f"فروشگاه آوا {n}", slug=f"live-store-{n}", logo="img/l.png",
            main_image="img/m.png", location_image="img/x.png", certificate_image="c.png",
            store_front_image="f.png",
        )  # fmt: skip
        session.add(store)
        await session.flush()
        session.add(StoreSeller(store_id=store.id, user_id=seller.id))
        await session.flush()
        return Shop(store.id, seller.id, seller_phone, customer.id, customer_phone)


# -- the server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    base: str  # http://127.0.0.1:<port>

    @property
    def live_url(self) -> str:
        return self.base.replace("http://", "ws://", 1) + "/web/live"


@contextlib.asynccontextmanager
async def serve_in_loop(hub: Hub) -> AsyncIterator[LiveServer]:
    """uvicorn serving ``create_app(hub=hub)`` on a free port of this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(hub.settings, hub=hub), log_config=None, lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before starting")
                await asyncio.sleep(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


@pytest.fixture
async def server(hub: Hub) -> AsyncIterator[LiveServer]:
    async with serve_in_loop(hub) as live:
        yield live


@pytest.fixture(autouse=True)
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Sockets coming and going (and being closed) must never log an error."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# -- sockets ---------------------------------------------------------------------------------


def open_socket(
    url: str, *, username: str, token: str | None = None, bearer: str | None = None
) -> connect:
    """``async with open_socket(...) as ws``: the token in the query, or as a Bearer header."""
    query = f"?username={username}" + (f"&token={token}" if token is not None else "")
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else None
    return connect(
        url + query, additional_headers=headers, proxy=None, open_timeout=5, close_timeout=2
    )


async def next_event(ws: ClientConnection, seconds: float = 5) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), seconds))
    return event


async def wait_for_event(
    ws: ClientConnection, type_: str, seconds: float = 5, **data: Any
) -> dict[str, Any]:
    """The first event of ``type_`` whose ``data`` holds ``data`` (others are skipped)."""
    async with asyncio.timeout(seconds):
        while True:
            event = await next_event(ws, seconds)
            if event["type"] == type_ and all(event["data"].get(k) == v for k, v in data.items()):
                return event


async def assert_silent(ws: ClientConnection, seconds: float = 0.3) -> None:
    """Nothing arrives on ``ws`` for ``seconds``."""
    try:
        message = await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected event: {message!r}")


async def close_code(ws: ClientConnection, seconds: float = 5) -> int | None:
    """Wait for the server to close ``ws`` (skipping events) and return its close code."""
    async with asyncio.timeout(seconds):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


async def eventually(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait until ``condition()`` holds."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")
