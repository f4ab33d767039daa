"""The pages of the public lists that rarely change (countries, states, cities, hoods, bazaar
categories), kept in each process and dropped when their table is written by any process.

How a process learns of a write, without a statement per request:

- **The database counts the writes.** Each of these tables has a trigger (migration 0006)
  that, in the writing transaction, bumps its row of ``public_cache_generations``
  (``generation = generation + 1``; a missing row starts at the current unix milliseconds, so
  a table emptied by hand never repeats a generation a process has seen) and, on PostgreSQL,
  ``NOTIFY hojre_public_cache, '<table>'``, which PostgreSQL delivers only once the
  transaction commits. A trigger rather than a function every writer must remember to call:
  the migrations, a future operator panel, the CLI and a hand-written ``psql`` session are all
  covered, and a writer cannot forget it (``tests/web/test_public_cache.py`` writes each table
  each way with no help from the application).
- **Each process watches the counters** with one task and a connection of its own, off the
  request path (:meth:`PublicCache.start`): it reads the five rows every
  :data:`SQLITE_POLL_SECONDS` on SQLite; on PostgreSQL it LISTENs, reads them as soon as a
  notification arrives, and every :data:`POSTGRES_POLL_SECONDS` anyway (with a timeout: the
  read is also the health check of the listening connection). A family whose counter moved
  is dropped.
- **Bounded delay.** After a write commits, every process serves the new list from its next
  request on, at most :data:`SQLITE_POLL_SECONDS` later on SQLite; on PostgreSQL one round
  trip after the notification (a few milliseconds), and at most :data:`POSTGRES_POLL_SECONDS`
  later should a notification be lost (plus :data:`POLL_TIMEOUT_SECONDS` if the listening
  connection itself went silent: then the cache turns off, below).
- **Never stale on failure.** Until the watcher has read the counters, and from the moment its
  connection fails (a poll failing or timing out after :data:`POLL_TIMEOUT_SECONDS`, the
  listening connection closing) until it has read them again on a new one, the cache is empty
  and stores nothing: every request reads the database, as with no cache.
- **A fill never stores what a write has overtaken.** A request that missed takes a ticket
  (:meth:`PublicCache.ticket`) before it reads the database; its page is stored only if its
  family was not dropped, nor the watcher reconnected, in between.

Bounded memory: two least-recently-used maps (pages, and whole replies to exact request lines,
:class:`CachedReply`) of at most ``max_entries`` entries and ``max_bytes`` of JSON each, so a
client looping over page numbers, page sizes, filters or junk parameters evicts old entries
instead of growing the process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

import asyncpg
import orjson
from sqlalchemy import BigInteger, String
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column
from starlette.responses import Response

from hojre.core.db import Base

log = logging.getLogger(__name__)

# The tables whose writes drop their cached pages: each has the trigger of migration 0006.
FAMILIES: Final = ("countries", "states", "cities", "hoods", "bazaar_categories")
CHANNEL: Final = "hojre_public_cache"

SQLITE_POLL_SECONDS: Final = 0.1
POSTGRES_POLL_SECONDS: Final = 1.0
POLL_TIMEOUT_SECONDS: Final = 2.0
# After a failure the watcher tries again after this, doubling up to the maximum.
RETRY_SECONDS: Final = (0.1, 5.0)

_READ = "SELECT family, generation FROM public_cache_generations"


class PublicCacheGeneration(Base):
    """How many times a public list's table has been written (by its trigger)."""

    __tablename__ = "public_cache_generations"

    family: Mapped[str] = mapped_column(String(50), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class CachedPage:
    """One page of a list: its items as JSON, the list's total, and its entity tag."""

    items: orjson.Fragment
    total: int
    etag: str
    size: int  # bytes of JSON, for the memory bound

    @classmethod
    def of(cls, items_json: bytes, total: int) -> CachedPage:
        """The tag is a digest of the content, not of the generation: a database rebuilt or
        restored, or a write that changed nothing on this page, never makes a client's copy
        wrong or needlessly stale. For one URL the body is a function of these two (its links
        come from the URL and the total)."""
        digest = hashlib.blake2b(items_json, digest_size=12)
        digest.update(b"%d" % total)
        etag = '"' + base64.urlsafe_b64encode(digest.digest()).decode() + '"'
        return cls(orjson.Fragment(items_json), total, etag, len(items_json))


@dataclass(frozen=True, slots=True)
class CachedReply:
    """The whole answer to one exact request line, sent again as it is (a Response keeps
    nothing of the request it answered), and its 304."""

    ok: Response
    not_modified: Response
    etag: str
    size: int


Key = tuple[Hashable, ...]  # (family, …): the family first
Ticket = tuple[int, int]
Snapshot = dict[str, int]
V = TypeVar("V", CachedPage, CachedReply)


class Lru(Generic[V]):
    """At most ``max_entries`` values and ``max_bytes`` of their sizes; the least recently
    used go first."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, V] = OrderedDict()
        self.size = 0  # bytes held

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> V | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Key, value: V) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        self._entries[key] = value
        self.size += value.size
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size

    def drop(self, family: str) -> None:
        for key in [k for k in self._entries if k[0] == family]:
            self.size -= self._entries.pop(key).size

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0


class PublicCache:
    """The cached pages and replies of one process, and the task that drops them (see the
    module)."""

    def __init__(
        self,
        url: str,
        *,
        max_entries: int = 1024,
        max_bytes: int = 4 << 20,
        poll_seconds: float | None = None,
    ) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            path = parsed.database or ":memory:"
            # mode=rw: the watcher never creates a database file.
            if path == ":memory:" or path.startswith("file:"):
                self._sqlite_target, self._sqlite_uri = path, path.startswith("file:")
            else:
                self._sqlite_target = Path(path).absolute().as_uri() + "?mode=rw"
                self._sqlite_uri = True
        else:
            self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        default = SQLITE_POLL_SECONDS if self.is_sqlite else POSTGRES_POLL_SECONDS
        self.poll_seconds = default if poll_seconds is None else poll_seconds
        # Pages by what changes them; replies by the exact request they answered.
        self.pages: Lru[CachedPage] = Lru(max_entries, max_bytes)
        self.replies: Lru[CachedReply] = Lru(max_entries, max_bytes)
        # The counters last read; None while the watcher has none it can trust (not live).
        self._known: Snapshot | None = None
        self._session = 0  # one more at each change of liveness
        self._epochs: dict[str, int] = {}  # one more each time a family is dropped
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._broken = False  # the listening connection closed under us

    @property
    def live(self) -> bool:
        """Whether pages are served and stored (the watcher holds a fresh reading)."""
        return self._known is not None

    def ticket(self, family: str) -> Ticket | None:
        """Taken before reading a page from the database; None: do not store it."""
        if self._known is None:
            return None
        return self._session, self._epochs.get(family, 0)

    def keep(self, lru: Lru[V], key: Key, value: V, ticket: Ticket | None) -> None:
        """Keep ``value`` in ``lru`` (pages or replies) unless its family was dropped, or the
        watcher lost and found the counters, since ``ticket`` was taken: what it holds may
        predate that write."""
        if ticket is not None and ticket == self.ticket(str(key[0])):
            lru.put(key, value)

    def _drop(self, family: str) -> None:
        self._epochs[family] = self._epochs.get(family, 0) + 1
        self.pages.drop(family)
        self.replies.drop(family)

    def _restart(self, known: Snapshot | None) -> None:
        """Forget everything and void every ticket, going live on ``known`` or (None) off."""
        self._session += 1
        self._known = known
        self.pages.clear()
        self.replies.clear()

    def _apply(self, snapshot: Snapshot) -> None:
        known = self._known
        if known is None:
            # A page read before this reading may predate a write: start empty.
            self._restart(snapshot)
            return
        for family in known.keys() | snapshot.keys():
            if known.get(family) != snapshot.get(family):
                self._drop(family)
        self._known = snapshot

    # -- the watcher -----------------------------------------------------------------------

    def start(self) -> None:
        """Start watching (once); the cache goes live at the first reading of the counters."""
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._watch(), name="hojre-public-cache")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._restart(None)

    async def _watch(self) -> None:
        retry = RETRY_SECONDS[0]
        failing = False
        while True:
            try:
                async with self._reader() as read:
                    while True:
                        self._wake.clear()  # before reading: a notice during the read wakes
                        self._apply(await read())
                        if failing:
                            log.warning("public list cache: watching again")
                            failing = False
                        retry = RETRY_SECONDS[0]
                        await self._sleep(self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._restart(None)
                if not failing:
                    log.warning("public list cache off until its watcher reconnects: %r", exc)
                    failing = True
            await asyncio.sleep(retry)
            retry = min(retry * 2, RETRY_SECONDS[1])

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _reader(self) -> contextlib.AbstractAsyncContextManager[Callable[[], Awaitable[Snapshot]]]:
        return self._sqlite_reader() if self.is_sqlite else self._postgres_reader()

    @contextlib.asynccontextmanager
    async def _sqlite_reader(self) -> AsyncIterator[Callable[[], Awaitable[Snapshot]]]:
        # No busy wait (this runs on the event loop): a locked read fails, and the cache is
        # off until the next reading succeeds.
        connection = sqlite3.connect(
            self._sqlite_target, uri=self._sqlite_uri, timeout=0, isolation_level=None
        )
        try:
            connection.execute("PRAGMA query_only=ON")

            async def read() -> Snapshot:
                return {str(f): int(g) for f, g in connection.execute(_READ).fetchall()}

            yield read
        finally:
            connection.close()

    @contextlib.asynccontextmanager
    async def _postgres_reader(self) -> AsyncIterator[Callable[[], Awaitable[Snapshot]]]:
        connection: Any = await asyncpg.connect(self._dsn, timeout=POLL_TIMEOUT_SECONDS)
        self._broken = False

        def notified(*_: Any) -> None:
            self._wake.set()

        def closed(*_: Any) -> None:
            self._broken = True
            self._wake.set()

        try:
            connection.add_termination_listener(closed)
            # LISTEN before the first reading: no write between the two goes unnoticed.
            await connection.add_listener(CHANNEL, notified)

            async def read() -> Snapshot:
                if self._broken or connection.is_closed():
                    raise ConnectionError("the listening connection closed")
                rows = await connection.fetch(_READ, timeout=POLL_TIMEOUT_SECONDS)
                return {str(row[0]): int(row[1]) for row in rows}

            yield read
        finally:
            connection.terminate()  # no goodbye: it may be the connection that failed
