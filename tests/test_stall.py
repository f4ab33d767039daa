"""PostgreSQL stalls: requests fail fast with the 500 envelope and write nothing, instead of
queueing without bound; once the server answers again, the next requests succeed.

A TCP proxy in front of the test server stands for the stall: told to, it stops forwarding
(the sockets stay open, nothing arrives), as a hung server or a lost network does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import make_url

from hojre.accounts.models import AccessToken, Role, User
from hojre.catalog.models import Store
from hojre.core.hub import Hub
from hojre.core.security import sha256_hex
from hojre.interactions.models import Comment
from tests.conftest import Api, app_client, build_hub, make_settings
from tests.factories import make_store

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

POOL = 4
ACQUIRE = 0.5  # seconds
STATEMENT = 0.5  # the server's limit; the client gives up on a silent server 1 s later
PARALLEL = 3 * POOL
SERVER_ERROR = {"status": "error", "message": "Server Error", "data": ""}


class Link:
    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.writers = [client]
        self.cut = False

    def abort(self) -> None:
        self.cut = True
        for writer in self.writers:
            writer.transport.abort()


class StallingProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until :meth:`stall`; :meth:`resume` cuts the
    connections that saw the stall (as a server restart or a network reset does) and forwards
    new ones again."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.links: set[Link] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def stall(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        for link in list(self.links):
            link.abort()
        self.flowing.set()

    async def close(self) -> None:
        self.resume()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(writer)
        self.links.add(link)
        try:
            await self.flowing.wait()  # a connection opened during a stall is never answered
            if link.cut:
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            link.writers.append(up_writer)
            await asyncio.gather(self._pump(link, reader, up_writer),
                                 self._pump(link, up_reader, writer))  # fmt: skip
        except (ConnectionError, OSError):
            pass
        finally:
            self.links.discard(link)
            link.abort()

    async def _pump(
        self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            await self.flowing.wait()  # stalled: the bytes wait here
            if link.cut:
                return
            writer.write(data)
            await writer.drain()
        link.abort()  # one side closed: so does the other (the server rolls back)


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[tuple[StallingProxy, str]]:
    url = make_url(pg_url)
    stalling = StallingProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await stalling.start()
    try:
        yield stalling, url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        await stalling.close()


@pytest.fixture
async def stalled_hub(proxy: tuple[StallingProxy, str], sms_file: Path) -> AsyncIterator[Hub]:
    settings = make_settings(
        proxy[1], sms_file, db_pool_size=POOL, db_acquire_timeout_seconds=ACQUIRE,
        db_statement_timeout_seconds=STATEMENT,
    )  # fmt: skip
    async for hub in build_hub(settings):
        yield hub


async def store_and_customer(hub: Hub) -> tuple[int, dict[str, str]]:
    """A store, and a customer's login (made directly: no SMS round)."""
    async with hub.db.unit_of_work(write=True) as session:
        store = await make_store(session)
        user = User(cellphone="09131230000", password_hash="!", is_active=True,
                    role=Role.customer)  # fmt: skip
        session.add(user)
        await session.flush()
        token = "stall-" + "t" * 26
        session.add(AccessToken(user_id=user.id, token_hash=sha256_hex(token)))
    return store.id, {"username": user.cellphone, "token": token}


async def comments(pg_url: str) -> tuple[int, int]:
    """Comment rows and the store's counter, read past the proxy."""
    url = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetchval(f"SELECT count(*) FROM {Comment.__tablename__}")
        counted = await connection.fetchval(
            f"SELECT sum(comments_count) FROM {Store.__tablename__}"
        )
    finally:
        await connection.close()
    return int(rows), int(counted)


async def timed(api: Api, path: str, **params: Any) -> tuple[float, int, Any]:
    started = time.monotonic()
    if path.startswith("POST "):
        response = await api.client.post("/web" + path[5:], data=params)
    else:
        response = await api.client.get("/web" + path, params=params)
    return time.monotonic() - started, response.status_code, response.json()


async def test_a_stalled_server_fails_requests_fast_and_the_pool_recovers(
    stalled_hub: Hub, proxy: tuple[StallingProxy, str], pg_url: str
) -> None:
    stalling = proxy[0]
    store_id, auth = await store_and_customer(stalled_hub)
    # The ORM's connections (the factories') would be cut by the stall, and it does not
    # check them before use: it gives them up now, so the teardown finds none dead.
    await stalled_hub.db.engine.dispose()
    comment = {**auth, "target": "store", "id": str(store_id), "text": "Good shop"}
    async with app_client(stalled_hub) as client:
        api = Api(client, stalled_hub)
        warm = await timed(api, "/chats", **auth)  # a connection in the pool
        assert (warm[1], warm[2]["items"], warm[2]["_meta"]["totalCount"]) == (200, [], 0)

        stalling.stall()
        results = await asyncio.gather(
            *(timed(api, "POST /user/add-comment", **comment) for _ in range(PARALLEL // 2)),
            *(timed(api, "/chats", **auth) for _ in range(PARALLEL - PARALLEL // 2)),
        )
        # Without the limits these would wait for as long as the stall lasts. With them: a
        # wait for a connection (which covers opening one), then a statement given up on.
        bound = ACQUIRE + (STATEMENT + 1.0) + 5.0  # the slack of a loaded machine
        assert [(status, body) for _, status, body in results] == [(500, SERVER_ERROR)] * PARALLEL
        assert max(seconds for seconds, _, _ in results) < bound

        stalling.resume()
        assert await comments(pg_url) == (0, 0)  # the writes in flight left nothing
        again = await asyncio.gather(*(timed(api, "/chats", **auth) for _ in range(PARALLEL)))
        assert [(status, body["items"]) for _, status, body in again] == [(200, [])] * PARALLEL
        added = await timed(api, "POST /user/add-comment", **comment)
        assert added[1:] == (200, {"status": "success", "message": "Comment Added",
                                   "data": {"id": added[2]["data"]["id"]}})  # fmt: skip
    assert await comments(pg_url) == (1, 1)


async def test_a_locked_row_fails_a_write_fast_and_rolls_it_back(
    stalled_hub: Hub, pg_url: str
) -> None:
    """A lock held elsewhere: the server's statement_timeout ends the wait, the request's
    earlier statements (the sender counter, the comment row) are rolled back."""
    store_id, auth = await store_and_customer(stalled_hub)
    comment = {**auth, "target": "store", "id": str(store_id), "text": "Good shop"}
    url = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            await holder.execute(f"SELECT 1 FROM {Store.__tablename__} WHERE id = $1 FOR UPDATE",
                                 store_id)  # fmt: skip
            async with app_client(stalled_hub) as client:
                api = Api(client, stalled_hub)
                results = await asyncio.gather(
                    *(timed(api, "POST /user/add-comment", **comment) for _ in range(PARALLEL))
                )
                assert [r[1:] for r in results] == [(500, SERVER_ERROR)] * PARALLEL
                assert max(seconds for seconds, _, _ in results) < ACQUIRE + STATEMENT + 5.0
                rows = await holder.fetchval(f"SELECT count(*) FROM {Comment.__tablename__}")
                assert rows == 0
                counters = await holder.fetchval("SELECT count(*) FROM rate_counters")
                assert counters == 0  # the sender's counter went with the rest
        async with app_client(stalled_hub) as client:
            added = await Api(client, stalled_hub).post("/user/add-comment", **comment)
        assert added["message"] == "Comment Added"
    finally:
        with suppress(Exception):
            await holder.close()
    assert await comments(pg_url) == (1, 1)
