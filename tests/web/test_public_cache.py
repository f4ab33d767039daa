"""The public lists' cache (hojre.core.cache, hojre.web_v1.cache): hits run no statement and
open no connection, ETag / If-None-Match give 304, and a write committed anywhere (this
process, another app on the same database, a bare driver connection) changes what is served.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from sqlalchemy import delete, insert, make_url, update
from starlette.requests import Request

from hojre.core.cache import FAMILIES, CachedPage, Lru, PublicCache
from hojre.core.hub import Hub
from hojre.core.pagination import PageRequest
from hojre.core.sql import Query
from hojre.geo import service
from hojre.geo.models import Hood, State
from hojre.geo.seed import geography_rows
from hojre.web_v1.app import ROUTERS
from hojre.web_v1.cache import none_match
from hojre.web_v1.envelopes import listing
from hojre.web_v1.geo import render_state
from tests.conftest import app_client, make_settings
from tests.factories import count_statements

pytestmark = pytest.mark.anyio

ROWS = geography_rows()
TEHRAN_CITY = next(
    int(str(r["id"])) for r in ROWS["cities"] if r["state_id"] == 1 and r["title"] == "تهران"
)
TEHRAN_HOODS = sum(1 for r in ROWS["hoods"] if r["city_id"] == TEHRAN_CITY)

# Every cached list, with the table it reads.
LISTS: list[tuple[str, dict[str, str], str]] = [
    ("/countries", {}, "countries"),
    ("/states", {}, "states"),
    ("/states", {"country": "102"}, "states"),
    ("/cities", {}, "cities"),
    ("/cities", {"state": "1"}, "cities"),
    ("/hoods", {}, "hoods"),
    ("/hoods", {"city": str(TEHRAN_CITY)}, "hoods"),
    ("/bazzar-categories", {}, "bazaar_categories"),
]

_ADD_HOOD = Query(insert(Hood).values(city_id=TEHRAN_CITY, title="محله آزمون").returning(Hood.id))
_REMOVE_HOOD = Query(delete(Hood).where(Hood.title == "محله آزمون"))


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a bounded wait for what runs in the background, not a timing:
    the bound is far above the watcher's delay)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 10 s: {what}")


async def live(hub: Hub) -> PublicCache:
    cache = hub.public_cache
    cache.start()
    await until(lambda: cache.live, "the cache goes live")
    return cache


@pytest.fixture
async def web(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose cache is live (the lifespan, which tests do not run, starts
    it in a server)."""
    await live(hub)
    async with app_client(hub) as client:
        yield client


async def get(client: httpx.AsyncClient, path: str, **params: str) -> httpx.Response:
    response = await client.get("/web" + path, params=params)
    assert response.status_code in (200, 304), response.text
    return response


@contextmanager
def no_connection(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(**_: Any) -> Any:
        raise AssertionError("a cache hit opened a database connection")

    with monkeypatch.context() as patch:
        patch.setattr(hub.db.raw, "connect", refuse)
        yield


@asynccontextmanager
async def driver(url: str) -> AsyncIterator[Callable[[str], Any]]:
    """A bare driver connection (no hojre code): what psql or another program would write
    with. Yields ``run(sql)``, one autocommitted statement returning its rows."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(parsed.database), isolation_level=None)

        async def run_sqlite(sql: str) -> Any:
            return connection.execute(sql).fetchall()

        try:
            yield run_sqlite
        finally:
            connection.close()
    else:
        pg = await asyncpg.connect(
            parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        )

        async def run_pg(sql: str) -> Any:
            return await pg.fetch(sql)

        try:
            yield run_pg
        finally:
            await pg.close()


@pytest.fixture
async def hood_added(hub: Hub) -> AsyncIterator[None]:
    """Clean-up of the test hood (the geography tables are not emptied between tests)."""
    yield
    async with hub.db.raw.connect(write=True) as conn:
        await conn.run(_REMOVE_HOOD)


# -- hits ------------------------------------------------------------------------------------


async def test_a_hit_runs_no_statement_and_opens_no_connection(
    web: httpx.AsyncClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = hub.public_cache
    for path, params, _ in LISTS:
        with count_statements(hub) as sql:
            first = await get(web, path, **params)
        assert len(sql) == 1, (path, params, sql)
        assert re.fullmatch(r'"[A-Za-z0-9_-]{16}"', first.headers["etag"]), first.headers
        replies = len(cache.replies)
        with count_statements(hub) as sql, no_connection(hub, monkeypatch):
            again = await get(web, path, **params)  # the kept reply
            other = await get(web, path, **params, x="1")  # the kept page, its own links
        assert sql == [], (path, params)
        assert len(cache.replies) == replies + 1  # the second URL's reply
        assert again.content == first.content, (path, params)
        with_x = re.sub(rb"([?&])page=", rb"\1x=1&page=", first.content)
        assert other.content == with_x, (path, params)
        for response in (again, other):
            assert response.headers["etag"] == first.headers["etag"], (path, params)
            assert response.headers["cache-control"] == "public, max-age=300"
            assert response.headers["content-type"] == "application/json"
            assert response.headers["x-content-type-options"] == "nosniff"  # the guard's
    assert len(cache.pages) == len(LISTS)
    assert len(cache.replies) == 2 * len(LISTS)


async def test_a_reply_is_kept_only_for_what_cannot_change_it(
    web: httpx.AsyncClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another host has its own links; a token (in the query, in a header) makes the answer
    private and names it: such requests get the kept page, not a kept reply. A GET's body is
    not read."""
    cache = hub.public_cache
    first = await get(web, "/states")
    assert len(cache.replies) == 1
    with count_statements(hub) as sql, no_connection(hub, monkeypatch):
        elsewhere = await web.get("/web/states", headers={"Host": "hojre.example"})
        bearer = await web.get("/web/states", headers={"Authorization": "Bearer x"})
        tokened = await web.get("/web/states", params={"token": "x"})
        with_body = await web.request(
            "GET",
            "/web/states",
            content=b"token=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert sql == []
    assert elsewhere.content == first.content.replace(b"testserver", b"hojre.example")
    assert elsewhere.headers["cache-control"] == "public, max-age=300"
    assert with_body.content == first.content
    assert with_body.headers["cache-control"] == "public, max-age=300"
    for response in (bearer, tokened):
        assert response.headers["cache-control"] == "no-store", response.request.headers
        assert response.json()["items"] == first.json()["items"]
    assert tokened.json()["_links"]["self"]["href"].startswith(
        "http://testserver/web/states?token=x&"
    )
    assert len(cache.replies) == 2  # the other host's; none for the private answers
    assert len(cache.pages) == 1


async def test_a_cached_body_is_the_uncached_one_byte_for_byte(
    web: httpx.AsyncClient, hub: Hub
) -> None:
    """As the list was rendered before the cache (``listing`` with its items), links from the
    request's own URL (its other parameters kept), on a miss and on a hit."""
    query = {"country": "102", "per-page": "7", "page": "2", "token": "", "x": "a b"}
    async with hub.db.raw.connect(write=False) as conn:
        page = await service.list_states(conn, PageRequest(2, 7), country=102)
    request = Request({"type": "http", "scheme": "http", "server": ("testserver", 80),
                       "path": "/web/states", "headers": [(b"host", b"testserver")],
                       "query_string": str(httpx.QueryParams(query)).encode()})  # fmt: skip
    expected = orjson.dumps(listing(request, page, render_state))
    for _ in range(2):
        response = await get(web, "/states", **query)
        assert response.content == expected
        assert response.headers["content-type"] == "application/json"
    assert (len(hub.public_cache.pages), len(hub.public_cache.replies)) == (1, 1)


async def test_a_request_with_a_token_is_served_the_same_page_not_for_shared_caches(
    web: httpx.AsyncClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = await get(web, "/states")
    with count_statements(hub) as sql, no_connection(hub, monkeypatch):
        mine = await get(web, "/states", token="x", username="09121234567")
    assert sql == []
    assert mine.json()["items"] == public.json()["items"]
    assert mine.headers["etag"] == public.headers["etag"]
    assert mine.headers["cache-control"] == "no-store"
    # Its links are its own URL's, token included, as before the cache.
    assert (
        "token=x&username=09121234567&page=1&per-page=300" in mine.json()["_links"]["self"]["href"]
    )


async def test_pages_page_sizes_and_filters_are_entries_of_their_own(
    web: httpx.AsyncClient, hub: Hub
) -> None:
    cache = hub.public_cache.pages
    bodies = {}
    for params in ({}, {"state": "1"}, {"state": "2"}, {"page": "2"}, {"per-page": "10"}):
        bodies[tuple(params.items())] = (await get(web, "/cities", **params)).json()
    assert len(cache) == 5
    assert len({orjson.dumps(b["items"]) for b in bodies.values()}) == 5
    # The same page, however it is written: the normalised page and size are the key.
    for params in (
        {"perPage": "10"}, {"per-page": "۱۰"}, {"page": "1", "per-page": "10"},
        {"page": "0"}, {"page": "abc"}, {"per-page": "5000"}, {"state": "01"},
    ):  # fmt: skip
        with count_statements(hub) as sql:
            await get(web, "/cities", **params)
        assert sql == [], params
    assert len(cache) == 5
    # A filter that is no id matches nothing; all such filters are one entry.
    for junk in ("abc", "-3", "1.5"):
        assert (await get(web, "/cities", state=junk)).json()["items"] == []
    assert len(cache) == 6


# -- If-None-Match ---------------------------------------------------------------------------


async def test_a_matching_if_none_match_is_answered_304_with_the_headers_and_no_body(
    web: httpx.AsyncClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await get(web, "/hoods", city=str(TEHRAN_CITY))
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', f' , "other",{etag} ', "*"):
        with count_statements(hub) as sql, no_connection(hub, monkeypatch):
            response = await web.get(
                "/web/hoods", params={"city": TEHRAN_CITY}, headers={"If-None-Match": header}
            )
        assert response.status_code == 304, header
        assert response.content == b"", header
        assert response.headers["etag"] == etag, header
        assert response.headers["cache-control"] == "public, max-age=300", header
        assert "content-type" not in response.headers, header
        assert sql == [], header
    mine = await web.get(
        "/web/hoods", params={"city": TEHRAN_CITY, "token": "x"}, headers={"If-None-Match": etag}
    )
    assert (mine.status_code, mine.headers["cache-control"]) == (304, "no-store")
    for header in ('"other"', etag[:-2] + '"', etag.strip('"'), f"{etag} junk", "", "W/"):
        response = await web.get(
            "/web/hoods", params={"city": TEHRAN_CITY}, headers={"If-None-Match": header}
        )
        assert response.status_code == 200, header
        assert response.content == first.content, header


async def test_a_kept_reply_sends_each_request_its_own_headers(
    web: httpx.AsyncClient, hub: Hub
) -> None:
    """A middleware may add to the header list it is sent: the kept reply's stays as it was."""
    await get(web, "/states")
    (reply,) = hub.public_cache.replies._entries.values()
    for response in (reply.ok, reply.not_modified):
        kept = list(response.raw_headers)

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-added", b"1"))

        for _ in range(2):
            await response({"type": "http"}, None, send)  # type: ignore[arg-type]
        assert response.raw_headers == kept


def test_if_none_match_parsing() -> None:
    tag = '"abc"'
    assert none_match(tag, tag)
    assert none_match("W/" + tag, tag)
    assert none_match(f'"x", W/"y" ,{tag}', tag)
    assert none_match(f",,{tag},", tag)
    assert none_match(" * ", tag)
    assert not none_match(None, tag)
    assert not none_match("", tag)
    assert not none_match('"abcd"', tag)
    assert not none_match('"x" "abc"', tag)  # not a list: malformed, nothing matches
    assert not none_match('"a,"abc"', tag)
    assert not none_match("abc", tag)
    assert not none_match("*, " + '"x"', tag)  # "*" only alone


# -- writes ----------------------------------------------------------------------------------


async def test_a_write_through_the_app_changes_the_body_and_the_etag(
    web: httpx.AsyncClient, hub: Hub, hood_added: None
) -> None:
    before = await get(web, "/hoods", city=str(TEHRAN_CITY))
    assert before.json()["_meta"]["totalCount"] == TEHRAN_HOODS
    states = await get(web, "/states")
    async with hub.db.raw.connect(write=True) as conn:
        await conn.one(_ADD_HOOD)

    async def current() -> httpx.Response:
        return await get(web, "/hoods", city=str(TEHRAN_CITY))

    latest = [before]

    def changed() -> bool:
        return latest[0].headers["etag"] != before.headers["etag"]

    for _ in range(1000):
        latest[0] = await current()
        if changed():
            break
        await asyncio.sleep(0.01)
    after = latest[0]
    assert changed(), "the write was not seen within 10 s"
    assert after.json()["_meta"]["totalCount"] == TEHRAN_HOODS + 1
    assert after.json()["items"][-1]["title"] == "محله آزمون"
    # The old tag no longer matches; the other families kept their pages.
    stale = await web.get(
        "/web/hoods",
        params={"city": TEHRAN_CITY},
        headers={"If-None-Match": before.headers["etag"]},
    )
    assert (stale.status_code, stale.content) == (200, after.content)
    with count_statements(hub) as sql:
        assert (await get(web, "/states")).content == states.content
    assert sql == []

    # Taken back, the list is what it was, and so is its tag (it is the content's).
    async with hub.db.raw.connect(write=True) as conn:
        assert await conn.run(_REMOVE_HOOD) == 1
    for _ in range(1000):
        latest[0] = await current()
        if latest[0].headers["etag"] == before.headers["etag"]:
            break
        await asyncio.sleep(0.01)
    assert latest[0].content == before.content


async def test_a_write_by_another_app_on_the_same_database_is_seen(
    web: httpx.AsyncClient, hub: Hub, db_url: str, sms_file: Path
) -> None:
    """Another process: a second hub (its own connections, pool and cache) writes."""
    title = str(ROWS["states"][0]["title"])
    state_id = int(str(ROWS["states"][0]["id"]))
    other = Hub.from_settings(make_settings(db_url, sms_file))
    rename = Query(update(State).where(State.id == state_id).values(title=State.title + " (ب)"))
    restore = Query(update(State).where(State.id == state_id).values(title=title))
    try:
        before = (await get(web, "/states")).json()
        await other.public_cache.stop()  # the writer's own cache plays no part
        async with other.db.raw.connect(write=True) as conn:
            assert await conn.run(rename) == 1
        try:
            seen: list[Any] = [before]

            async def refresh() -> None:
                seen[0] = (await get(web, "/states")).json()

            for _ in range(1000):
                await refresh()
                if seen[0] != before:
                    break
                await asyncio.sleep(0.01)
            titles = {item["id"]: item["title"] for item in seen[0]["items"]}
            assert titles[state_id] == title + " (ب)"
        finally:
            async with other.db.raw.connect(write=True) as conn:
                await conn.run(restore)
    finally:
        await other.aclose()


# A row of each family's table, made, changed and removed (all inside a rolled-back transaction).
ROW = {
    "countries": ("(id, code, name) VALUES (999, 'ZZ', 'z')", "name", 999),
    "states": ("(id, country_id, title, english_title, longitude, latitude)"
               " VALUES (999, 102, 'z', 'z', '0', '0')", "title", 999),
    "cities": ("(id, state_id, title) VALUES (99999, 1, 'z')", "title", 99999),
    "hoods": (f"(id, city_id, title) VALUES (99999, {TEHRAN_CITY}, 'z')", "title", 99999),
    "bazaar_categories": ("(id, title, image) VALUES (999, 'z', 'z')", "title", 999),
}  # fmt: skip


async def test_every_write_to_a_family_table_bumps_its_generation_in_the_transaction(
    hub: Hub, db_url: str
) -> None:
    """The triggers, written to with no application code: a writer cannot forget them."""
    assert set(ROW) == set(FAMILIES)
    async with driver(db_url) as run:

        async def generation(family: str) -> int | None:
            rows = await run(
                f"SELECT generation FROM public_cache_generations WHERE family = '{family}'"
            )
            return None if not rows else int(rows[0][0])

        for table, (values, column, key) in ROW.items():
            writes = [
                f"INSERT INTO {table} {values}",
                f"UPDATE {table} SET {column} = 'y' WHERE id = {key}",
                f"DELETE FROM {table} WHERE id = {key}",
            ]
            if not hub.db.is_sqlite:
                writes.append(f"TRUNCATE {table} CASCADE")
            start = await generation(table)
            await run("BEGIN")
            try:
                for statement in writes:
                    before = await generation(table)
                    await run(statement)
                    after = await generation(table)
                    assert after is not None and after != before, statement
                    assert before is None or after == before + 1, statement
            finally:
                await run("ROLLBACK")
            assert await generation(table) == start, table  # rolled back with the writes


def test_every_cached_endpoint_is_tested_here_on_a_watched_table() -> None:
    cached = {f"/web{e.path}" for r in ROUTERS for e in r.endpoints if e.early is not None}
    assert cached == {f"/web{path}" for path, _, _ in LISTS}
    assert {family for _, _, family in LISTS} == set(FAMILIES)


async def test_the_cached_lists_read_only_their_family_tables(
    web: httpx.AsyncClient, hub: Hub
) -> None:
    """A cached list reading a table without the trigger would never be dropped."""
    for path, params, family in LISTS:
        with count_statements(hub) as sql:
            await get(web, path, **params, page="77")  # past the end: the count too
        assert len(sql) == 2, sql
        read = {t for s in sql for t in re.findall(r"\b(?:FROM|JOIN)\s+\"?(\w+)", s)}
        assert read == {family}, (path, params, sql)


async def test_a_page_read_before_a_drop_is_not_stored(hub: Hub, hood_added: None) -> None:
    cache = await live(hub)
    key = ("hoods", 1, 300, TEHRAN_CITY)
    page = CachedPage.of(b"[]", 0)
    ticket = cache.ticket("hoods")
    other = cache.ticket("states")
    async with hub.db.raw.connect(write=True) as conn:
        await conn.one(_ADD_HOOD)
    await until(lambda: cache.ticket("hoods") != ticket, "the watcher drops the family")
    cache.keep(cache.pages, key, page, ticket)
    assert cache.pages.get(key) is None
    # Another family's ticket still holds.
    cache.keep(cache.pages, ("states", 1, 300, None), page, other)
    assert cache.pages.get(("states", 1, 300, None)) is page
    cache.keep(cache.pages, key, page, cache.ticket("hoods"))
    assert cache.pages.get(key) is page
    cache.keep(cache.pages, ("hoods", 2, 300, None), page, None)  # read while not live
    assert cache.pages.get(("hoods", 2, 300, None)) is None


# -- bounds and liveness ---------------------------------------------------------------------


def test_the_maps_are_bounded_in_entries_and_bytes() -> None:
    lru: Lru[CachedPage] = Lru(max_entries=3, max_bytes=100)
    small = CachedPage.of(b"[1]", 1)
    for page in range(1, 6):
        lru.put(("cities", page), small)
    assert len(lru) == 3
    assert [lru.get(("cities", n)) is not None for n in range(1, 6)] == [0, 0, 1, 1, 1]
    lru.get(("cities", 3))  # used: the least recent is now 4
    lru.put(("cities", 6), small)
    assert [lru.get(("cities", n)) is not None for n in (3, 4, 5, 6)] == [1, 0, 1, 1]
    big = CachedPage.of(b"[" + b"1," * 30 + b"1]", 31)
    lru.put(("cities", 7), big)
    lru.put(("cities", 8), big)
    assert len(lru) == 1 and lru.size == big.size == 63
    assert lru.get(("cities", 8)) is big
    lru.put(("hoods", 1), small)
    lru.drop("cities")
    assert (len(lru), lru.size) == (1, 3)


async def test_a_stranger_looping_over_pages_does_not_grow_the_cache(
    web: httpx.AsyncClient, hub: Hub
) -> None:
    cache = hub.public_cache
    cache.pages.max_entries = cache.replies.max_entries = 5
    for page in range(1, 41):
        await get(web, "/cities", page=str(page), **{"per-page": "3"})
    for junk in range(40):  # one page, as many request lines
        await get(web, "/cities", x=str(junk))
    assert (len(cache.pages), len(cache.replies)) == (5, 5)
    with count_statements(hub) as sql:
        await get(web, "/cities", page="40", **{"per-page": "3"})
    assert sql == []


async def test_nothing_is_cached_until_the_watcher_has_read_the_counters(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    assert not hub.public_cache.live
    for _ in range(2):
        with count_statements(hub) as sql:
            response = await get(client, "/states")
        assert len(sql) == 1
    assert (len(hub.public_cache.pages), len(hub.public_cache.replies)) == (0, 0)
    # The tag is the content's, so it is the same with or without the cache.
    cached = await live(hub)
    async with app_client(hub) as web:
        assert (await get(web, "/states")).headers["etag"] == response.headers["etag"]
    assert len(cached.pages) == 1


async def test_postgres_notifies_without_waiting_for_the_poll(
    pg_hub: Hub, pg_url: str, hood_added_pg: None
) -> None:
    pg_hub.public_cache.poll_seconds = 3600  # only a notification can drop the page now
    await live(pg_hub)
    async with app_client(pg_hub) as web:
        before = (await get(web, "/hoods", city=str(TEHRAN_CITY))).json()["_meta"]
        async with driver(pg_url) as run:
            await run(f"INSERT INTO hoods (city_id, title) VALUES ({TEHRAN_CITY}, 'محله آزمون')")
        await until(lambda: len(pg_hub.public_cache.pages) == 0, "the notification drops the page")
        after = (await get(web, "/hoods", city=str(TEHRAN_CITY))).json()["_meta"]
    assert after["totalCount"] == before["totalCount"] + 1


async def test_postgres_cache_is_off_while_its_listener_is_lost(pg_hub: Hub, pg_url: str) -> None:
    cache = await live(pg_hub)
    async with app_client(pg_hub) as web:
        await get(web, "/states")
        assert len(cache.pages) == 1
        async with driver(pg_url) as run:
            killed = await run(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND query LIKE '%public_cache_generations%'"
            )
        assert len(killed) == 1
        await until(lambda: not cache.live, "the lost listener turns the cache off")
        assert (len(cache.pages), len(cache.replies)) == (0, 0)
        await until(lambda: cache.live, "the watcher listens again")
        await get(web, "/states")
        with count_statements(pg_hub) as sql:
            await get(web, "/states")
        assert sql == []


@pytest.fixture
async def hood_added_pg(pg_hub: Hub) -> AsyncIterator[None]:
    yield
    async with pg_hub.db.raw.connect(write=True) as conn:
        await conn.run(_REMOVE_HOOD)
