"""The hot paths' data layer: statements written once with SQLAlchemy Core, compiled once per
dialect, run straight on the driver (asyncpg, or sqlite3 on the event loop).

Why not the ORM session here: on this workload the session, its unit of work and the async
adapters cost 10–20× the database's own time per request (see bench/README.md). A
:class:`Query` keeps what SQLAlchemy is good at — one portable statement, its types' bind and
result conversions — and drops the rest. Rows come back as named tuples.

SQLite is called on the event loop: its calls take microseconds, and a write transaction that
never awaits anything else holds the write lock only that long. One asyncio lock per process
keeps write transactions from interleaving on the loop. PostgreSQL connections come from
asyncpg's pool, one per event loop, with a bounded wait for a connection and a time limit on
every statement (a stalled server fails requests instead of queueing them); a transaction never
outlives :meth:`RawDb.connect`, so the pool's reset between requests is skipped.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import sqlite3
from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, cast

import asyncpg
import orjson
from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ClauseElement, Executable

from hojre.core.checkpoint import Checkpointer

log = logging.getLogger(__name__)

# Observers of every statement run here (tests count statements with them).
statement_listeners: list[Callable[[str], None]] = []

_ROWCOUNT = re.compile(r"(\d+)$")
_REQUIRED: Any = object()  # a bind parameter without a value of its own


@dataclass(frozen=True, slots=True)
class Compiled:
    text: str
    names: tuple[str, ...]  # bind parameters, in positional order
    defaults: tuple[Any, ...]  # the statement's own values (_REQUIRED: the caller's)
    binds: tuple[Callable[[Any], Any] | None, ...]
    converts: tuple[tuple[int, Callable[[Any], Any]], ...]  # result columns to convert
    row: Any  # a namedtuple class
    # (name, default) per position, and the positions whose values a processor converts:
    # what args() walks on every statement, worked out once.
    _pairs: tuple[tuple[str, Any], ...] = field(init=False)
    _required: frozenset[str] = field(init=False)
    _processed: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False)

    def __post_init__(self) -> None:
        pairs = tuple(zip(self.names, self.defaults, strict=True))
        object.__setattr__(self, "_pairs", pairs)
        required = frozenset(name for name, default in pairs if default is _REQUIRED)
        object.__setattr__(self, "_required", required)
        processed = tuple((i, bind) for i, bind in enumerate(self.binds) if bind is not None)
        object.__setattr__(self, "_processed", processed)

    def args(self, params: dict[str, Any]) -> list[Any]:
        if not self._required <= params.keys():
            missing = min(self._required - params.keys())
            raise TypeError(f"the statement needs a value for {missing!r}")
        get = params.get
        out = [get(name, default) for name, default in self._pairs]
        for index, bind in self._processed:
            value = out[index]
            if value is not None:
                out[index] = bind(value)
        return out

    def make(self, values: Sequence[Any]) -> Any:
        if self.converts:
            values = list(values)
            for index, convert in self.converts:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
        return self.row._make(values)


class Query:
    """One statement, compiled on first use for each dialect and kept.

    Give the statement, or a function building it for a dialect's name when the SQL differs
    (``INSERT … ON CONFLICT`` comes from each dialect's own ``insert``).
    """

    __slots__ = ("_build", "_compiled", "_statements", "writes")

    # Queries made in this process: what asyncpg's statement cache must hold (see
    # statement_cache_size).
    made: ClassVar[int] = 0

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        Query.made += 1
        self._statements: dict[str, Executable] = {}
        self._compiled: dict[str, Compiled] = {}
        if callable(statement):
            self._build: Callable[[str], Executable] | None = statement
            probe = statement("postgresql")
        else:
            self._build = None
            probe = self._statements[""] = statement
        # Statements that need the write transaction: DML, and SELECT … FOR UPDATE.
        self.writes = bool(getattr(probe, "is_dml", False)) or (
            getattr(probe, "_for_update_arg", None) is not None
        )

    def statement(self, dialect: Dialect) -> Executable:
        if self._build is None:
            return self._statements[""]
        found = self._statements.get(dialect.name)
        if found is None:
            found = self._statements[dialect.name] = self._build(dialect.name)
        return found

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement(dialect), dialect)
        return found


def _compile(statement: Executable, dialect: Dialect) -> Compiled:
    compiled: Any = cast(ClauseElement, statement).compile(dialect=dialect)
    # A column default or onupdate computed in Python (``updated_at``) is evaluated by
    # SQLAlchemy's execution, which this layer skips: the column would be written NULL.
    prefetch = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if prefetch:
        missing = ", ".join(sorted(column.key for column in prefetch))
        raise ValueError(f"give the statement a value for {missing} (a Python-side default)")
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    if any(bind.expanding for bind in binds):
        raise ValueError("expanding (IN) parameters are not supported; use a subquery or ANY")
    columns = list(compiled._result_columns)
    keys = [column[0] for column in columns]
    results = tuple(_result_processor(column[3], dialect) for column in columns)
    return Compiled(
        text=compiled.string,
        names=names,
        defaults=tuple(_REQUIRED if bind.required else bind.value for bind in binds),
        binds=tuple(bind.type._cached_bind_processor(dialect) for bind in binds),
        converts=tuple((i, r) for i, r in enumerate(results) if r is not None),
        row=namedtuple("Row", keys, rename=True),
    )


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    fast = getattr(type_, "fast_result_processor", None)
    if fast is not None:  # a type of ours that knows a cheaper way than SQLAlchemy's chain
        processor: Callable[[Any], Any] | None = fast(dialect)
        return processor
    try:
        processor = type_._cached_result_processor(dialect, None)
    except TypeError:
        # asyncpg's numeric types want the column's type code, known only after a round trip;
        # asyncpg already returns float and int, which is what our Float and Integer columns hold.
        return None
    return processor


class Part:
    """Rows that belong to another row (a composite's media, comments, children), read inside
    the owner's statement as one JSON array of arrays (:meth:`column`, then :meth:`parse`):
    one statement for the whole composite. :meth:`parse` gives named tuples of the JSON values,
    datetimes aware UTC (parts hold no other type that JSON would change)."""

    __slots__ = ("_dates", "_order", "_row", "rows")

    def __init__(
        self,
        name: str,
        query: Select[*tuple[Any, ...]],
        order: Callable[[Any], Sequence[ColumnElement[Any]]],
    ) -> None:
        self.rows = query.subquery(name)
        self._order = order
        self._dates = tuple(
            i for i, c in enumerate(self.rows.c) if _python_type(c.type) is datetime
        )
        keys = tuple(c.key for c in self.rows.c)
        self._row: Any = namedtuple("Row", keys, rename=True)  # type: ignore[misc]

    def column(self, dialect: str) -> Any:
        from hojre.core.dialect import json_array

        return json_array(dialect, self.rows, self._order(self.rows.c))

    def parse(self, value: str | bytes | None) -> list[Any]:
        out = []
        for values in orjson.loads(value) if value else ():
            for index in self._dates:
                if values[index] is not None:
                    values[index] = _aware(values[index])
            out.append(self._row._make(values))
        return out


def _python_type(type_: Any) -> Any:
    try:  # a TypeDecorator answers "object"; what it decorates knows
        return getattr(type_, "impl_instance", type_).python_type
    except NotImplementedError:
        return None


def _aware(text: str) -> datetime:
    # PostgreSQL's JSON writes timestamptz with its offset; SQLite's text is naive UTC.
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Conn(Protocol):
    """What a hot-path service runs statements on: one connection, one transaction at most."""

    dialect: Dialect

    async def all(self, query: Query, **params: Any) -> list[Any]: ...

    async def one(self, query: Query, **params: Any) -> Any | None: ...

    async def run(self, query: Query, **params: Any) -> int:
        """Execute; the number of rows the statement changed."""
        ...

    def on_commit(self, callback: Callable[[], Awaitable[None]]) -> None: ...


def _notify(text: str) -> None:
    for listener in statement_listeners:
        listener(text)


@dataclass(slots=True)
class _Hooks:
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def on_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.after_commit.append(callback)


class UniqueViolation(Exception):
    """A statement broke a unique constraint (either database): the database settled a race
    that a check before it could not."""


class ReadOnly(RuntimeError):
    """A writing statement on a read connection: the endpoint must be declared a write."""


class SqliteConn(_Hooks):
    """sqlite3 on the event loop: these coroutines never suspend.

    A write connection begins its transaction (``BEGIN IMMEDIATE``, after the cross-process
    write lock) at its first writing statement, so a write endpoint that finds nothing to
    change never takes SQLite's write lock.
    """

    def __init__(
        self, connection: sqlite3.Connection, dialect: Dialect, lock: _FileLock | None = None
    ) -> None:
        super().__init__()
        self.connection = connection
        self.dialect = dialect
        self._lock = lock  # None: read-only
        self.begun = False

    def _execute(self, query: Query, params: dict[str, Any]) -> tuple[Compiled, sqlite3.Cursor]:
        c = query.compiled(self.dialect)
        if query.writes and not self.begun:
            if self._lock is None:
                raise ReadOnly(c.text)
            self._lock.acquire()
            try:
                self.connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.release()
                raise
            self.begun = True
        if statement_listeners:
            _notify(c.text)
        try:
            return c, self.connection.execute(c.text, c.args(params))
        except sqlite3.IntegrityError as exc:
            if str(exc).startswith("UNIQUE constraint failed"):
                raise UniqueViolation(str(exc)) from exc
            raise

    async def all(self, query: Query, **params: Any) -> list[Any]:
        c, cursor = self._execute(query, params)
        return [c.make(row) for row in cursor.fetchall()]

    async def one(self, query: Query, **params: Any) -> Any | None:
        c, cursor = self._execute(query, params)
        row = cursor.fetchone()
        return None if row is None else c.make(row)

    async def run(self, query: Query, **params: Any) -> int:
        return self._execute(query, params)[1].rowcount

    async def end(self, *, commit: bool) -> None:
        if not self.begun:
            return
        assert self._lock is not None
        self.begun = False
        try:
            self.connection.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self._lock.release()


class PgConn(_Hooks):
    """An asyncpg connection; in write mode the transaction begins at the first writing
    statement (a write endpoint that changes nothing costs no BEGIN/COMMIT round trips)."""

    def __init__(self, connection: asyncpg.Connection, dialect: Dialect, *, write: bool) -> None:
        super().__init__()
        self.connection = connection
        self.dialect = dialect
        self.write = write
        self.transaction: Any = None

    async def _prepare(self, query: Query, params: dict[str, Any]) -> tuple[Compiled, list[Any]]:
        c = query.compiled(self.dialect)
        if query.writes and self.transaction is None:
            if not self.write:
                raise ReadOnly(c.text)
            transaction = self.connection.transaction()
            await transaction.start()
            self.transaction = transaction
        if statement_listeners:
            _notify(c.text)
        return c, c.args(params)

    async def all(self, query: Query, **params: Any) -> list[Any]:
        c, args = await self._prepare(query, params)
        try:
            rows = await self.connection.fetch(c.text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        return [c.make(row) for row in rows]

    async def one(self, query: Query, **params: Any) -> Any | None:
        c, args = await self._prepare(query, params)
        try:
            row = await self.connection.fetchrow(c.text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        return None if row is None else c.make(row)

    async def run(self, query: Query, **params: Any) -> int:
        c, args = await self._prepare(query, params)
        try:
            status = await self.connection.execute(c.text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        match = _ROWCOUNT.search(status)
        return int(match.group(1)) if match else 0

    async def end(self, *, commit: bool) -> None:
        transaction, self.transaction = self.transaction, None
        if transaction is not None:
            await (transaction.commit() if commit else transaction.rollback())


class _FileLock:
    """SQLite writers of all processes queue on an flock, which wakes the next one as soon as
    the lock is released, instead of on SQLite's busy handler, which sleeps 1–100 ms between
    tries (the p99 of writes under load). Held only around a transaction that never awaits."""

    def __init__(self, path: str | None) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None

    def acquire(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    # Reads through a memory map (no read() call and copy per page) and a 64 MiB page cache
    # per connection instead of 2 MiB: a large database reads like a small one.
    "PRAGMA mmap_size=2147418112",
    "PRAGMA cache_size=-65536",
    # No checkpoint inside a commit (by default the one crossing 1000 pages of WAL copies them
    # and waits for two fsyncs, on the event loop, holding the write turn): the process's
    # hojre.core.checkpoint.Checkpointer thread does them.
    "PRAGMA wal_autocheckpoint=0",
)


# SQLite's connections of one process: reader, writer, the writers' lock, the checkpoints.
_Sqlite = tuple[sqlite3.Connection, sqlite3.Connection, _FileLock, Checkpointer | None]


class RawDb:
    """The driver-level connections of one process (one pool per event loop on PostgreSQL)."""

    def __init__(
        self, url: str, dialect: Dialect, *, pool_size: int = 32,
        acquire_timeout: float = 5.0, statement_timeout: float = 10.0,
    ) -> None:  # fmt: skip
        parsed = make_url(url)
        self.dialect = dialect
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._pool_size = pool_size
        self._acquire_timeout = acquire_timeout
        self._statement_timeout = statement_timeout
        self._pools: dict[asyncio.AbstractEventLoop, asyncpg.Pool] = {}
        self._starting: dict[asyncio.AbstractEventLoop, asyncio.Task[asyncpg.Pool]] = {}
        self._sqlite: _Sqlite | None = None
        self._write_lock: asyncio.Lock | None = None
        if self.is_sqlite:
            self._path = parsed.database or ":memory:"
        else:
            self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def write_lock(self) -> asyncio.Lock:
        """On SQLite, this process's writers (these and the ORM's) take turns here first, so a
        writer blocking the loop on SQLite's lock never waits for one of its own process."""
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    # -- SQLite ---------------------------------------------------------------------------------

    def _sqlite_connections(self) -> _Sqlite:
        if self._sqlite is None:
            pair = []
            for _ in range(2):  # one for reads, one for the write transactions
                connection = sqlite3.connect(
                    self._path, timeout=15, isolation_level=None, check_same_thread=False
                )
                for pragma in SQLITE_PRAGMAS:
                    connection.execute(pragma)
                pair.append(connection)
            memory = self._path == ":memory:" or self._path.startswith("file::memory:")
            lock = _FileLock(None if memory else f"{self._path}-write-lock")
            checkpointer = None if memory else Checkpointer(self._path)
            if checkpointer is not None:
                checkpointer.start()
            self._sqlite = (pair[0], pair[1], lock, checkpointer)
        return self._sqlite

    @asynccontextmanager
    async def _sqlite_connect(self, write: bool) -> AsyncIterator[SqliteConn | PgConn]:
        reader, writer, lock, _ = self._sqlite_connections()
        if not write:
            conn = SqliteConn(reader, self.dialect)
            yield conn
            await run_after_commit(conn.after_commit)
            return
        kept: BaseException | None = None
        async with self.write_lock:
            conn = SqliteConn(writer, self.dialect, lock)
            try:
                yield conn
            except BaseException as exc:
                kept = await _end(conn, exc)
            else:
                await _end(conn, None)
        await run_after_commit(conn.after_commit)  # outside the turn: a hook may write
        if kept is not None:
            raise kept

    # -- PostgreSQL -----------------------------------------------------------------------------

    def pool_options(self) -> dict[str, Any]:
        """What :func:`asyncpg.create_pool` is given (the DSN aside)."""
        return {
            # Opened on demand: a worker holds as many connections as it serves requests at
            # once; asyncpg closes those idle for 5 minutes.
            "min_size": 0,
            "max_size": self._pool_size,
            "reset": _no_reset,
            # The server cancels a statement running past the limit itself (a lock wait, a
            # slow plan): the request fails, its connection is rolled back and kept. A server
            # that does not answer at all (stalled, the network gone) is given up on by the
            # client a little later, BEGIN and COMMIT included: that connection is closed.
            "command_timeout": self._statement_timeout + STALL_GRACE_SECONDS,
            "statement_cache_size": statement_cache_size(),
            # The statements are a fixed set: kept prepared for the connection's life instead
            # of prepared again every 5 minutes (asyncpg's default lifetime).
            "max_cached_statement_lifetime": 0,
            # Our statements are prepared once per connection and look rows up by key: plan
            # them once. By default PostgreSQL re-plans every execution whose generic plan it
            # estimates dearer, which for the chat lists cost more than running them.
            # random_page_cost: the usual value for SSDs and cached data (PostgreSQL's default
            # of 4 assumes spinning disks); with 4 a store's 20 latest comments were joined to
            # their authors by reading the whole users table of the small benchmark dataset.
            "server_settings": {
                "plan_cache_mode": "force_generic_plan",
                "random_page_cost": "1.1",
                "statement_timeout": str(round(self._statement_timeout * 1000)),
            },
        }

    async def _start_pool(self) -> asyncpg.Pool:
        """This loop's pool, made by the first request that needs it (the others wait for it)."""
        loop = asyncio.get_running_loop()
        starting = self._starting.get(loop)
        if starting is None:
            starting = self._starting[loop] = loop.create_task(self._create_pool())
        try:
            pool: asyncpg.Pool = await asyncio.shield(starting)
        finally:
            if starting.done():  # made, or failed: the next request tries again
                self._starting.pop(loop, None)
        self._pools[loop] = pool
        return pool

    async def _create_pool(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = await asyncpg.create_pool(self._dsn, **self.pool_options())
        return pool

    @asynccontextmanager
    async def _pg_connect(self, write: bool) -> AsyncIterator[SqliteConn | PgConn]:
        pool = self._pools.get(asyncio.get_running_loop()) or await self._start_pool()
        try:
            # asyncio.timeout, not acquire(timeout=): that one runs the wait in a task of its
            # own (asyncio.wait_for before Python 3.12), on every request.
            async with asyncio.timeout(self._acquire_timeout):
                connection = await pool.acquire()
        except TimeoutError as exc:
            raise AcquireTimeout(
                f"no PostgreSQL connection within {self._acquire_timeout:g} s"
            ) from exc
        conn = PgConn(connection, self.dialect, write=write)
        failure: BaseException | None = None
        try:
            yield conn
        except BaseException as exc:
            failure = exc
        if failure is not None and _broken(connection, failure):
            # A statement cut off (its time limit, a cancelled request) or a lost connection
            # leaves the connection in a state nobody knows, and a ROLLBACK would wait on the
            # same stall: the socket is closed instead, and the server rolls back.
            connection.terminate()  # asyncpg's pool opens a new one in its place
            raise failure
        try:
            kept = await _end(conn, failure)
        except BaseException as raised:
            if raised is failure and not connection.is_in_transaction():
                await pool.release(connection)  # the request's own error, rolled back
            else:  # the COMMIT or the ROLLBACK failed
                connection.terminate()
            raise
        await pool.release(connection)
        await run_after_commit(conn.after_commit)  # the connection back first: a hook may write
        if kept is not None:
            raise kept

    # -- both -----------------------------------------------------------------------------------

    def connect(self, *, write: bool) -> AbstractAsyncContextManager[Conn]:
        """A connection. ``write`` allows writing statements: the first one begins a
        transaction, committed on a clean exit, after which the callbacks given to
        :meth:`Conn.on_commit` run. Without it, each statement stands alone."""
        return self._sqlite_connect(write) if self.is_sqlite else self._pg_connect(write)

    async def close(self) -> None:
        pools, self._pools = self._pools, {}
        for loop, pool in pools.items():
            if loop is not asyncio.get_running_loop():  # a pool of another thread's loop
                if not loop.is_closed():  # (a closed one's sockets close when collected)
                    loop.call_soon_threadsafe(pool.terminate)
                continue
            try:  # connections still in use get as long as a request waits for one
                async with asyncio.timeout(self._acquire_timeout):
                    await pool.close()
            except TimeoutError:  # asyncpg terminated the rest
                log.warning("PostgreSQL connections still in use were closed")
        if self._sqlite is not None:
            reader, writer, lock, checkpointer = self._sqlite
            if checkpointer is not None:  # waits for a checkpoint under way (milliseconds)
                checkpointer.stop()
            reader.close()
            writer.close()
            lock.close()
            self._sqlite = None


# How much longer than the server's statement_timeout the client waits for an answer: the
# server's own cancellation arrives within it on a live server.
STALL_GRACE_SECONDS = 1.0


class AcquireTimeout(TimeoutError):
    """No PostgreSQL connection came free in time (HOJRE_DB_ACQUIRE_TIMEOUT_SECONDS): the
    server stalls or the process serves more than its pool at once."""


def statement_cache_size() -> int:
    """Prepared statements asyncpg keeps per connection: room for every statement we have.

    The app makes 99 :class:`Query` objects (December 2026, counted by :attr:`Query.made` once
    the app is imported), just under asyncpg's default of 100: the next endpoints would make
    the least recently used statement be prepared again (a parse and plan on the server, and a
    round trip) on every turn of a mixed load. Twice the count leaves room for queries made
    after the pool (modules imported late); statements not used are never prepared, so room
    costs nothing.
    """
    return max(256, 2 * Query.made)


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The pool's reset of a released connection: nothing to do.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release, a round trip per request. None of that state is made here:
    no SET, LISTEN, cursor or advisory lock outlives :meth:`RawDb.connect`, and a connection
    left in a transaction is terminated, never released (asyncpg would roll it back first).
    """


def _broken(connection: asyncpg.Connection, failure: BaseException) -> bool:
    """Whether ``failure`` may have left ``connection`` mid-operation or lost."""
    if isinstance(failure, AcquireTimeout):  # another connection's wait: this one is fine
        return bool(connection.is_closed())
    return isinstance(
        failure,
        TimeoutError | asyncio.CancelledError | OSError | asyncpg.InterfaceError
        | asyncpg.PostgresConnectionError,
    ) or bool(connection.is_closed())  # fmt: skip


async def _end(conn: SqliteConn | PgConn, exc: BaseException | None) -> BaseException | None:
    """Commit, or roll back and re-raise ``exc``. A :class:`~hojre.core.errors.HojreError`
    with ``keep_writes`` reports a counted failure (a wrong code's try) that must survive: its
    transaction commits and it is returned, to be raised once the after-commit hooks ran."""
    from hojre.core.errors import HojreError

    if exc is not None and not (isinstance(exc, HojreError) and exc.keep_writes):
        await conn.end(commit=False)
        raise exc
    await conn.end(commit=True)
    return exc


async def run_after_commit(callbacks: list[Callable[[], Awaitable[None]]]) -> None:
    """Run (and forget) the callbacks of a committed transaction, each on its own."""
    pending = callbacks[:]
    callbacks.clear()
    for callback in pending:
        try:
            await callback()
        except Exception:  # the commit stands; a failed side effect is retried by its owner
            log.exception("after-commit callback failed")
