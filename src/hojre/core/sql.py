"""The hot paths' data layer: statements written once with SQLAlchemy Core, compiled once per
dialect, run straight on the driver (asyncpg, or sqlite3 on the event loop).

Why not the ORM session here: on this workload the session, its unit of work and the async
adapters cost 10–20× the database's own time per request (see bench/README.md). A
:class:`Query` keeps what SQLAlchemy is good at — one portable statement, its types' bind and
result conversions — and drops the rest. Rows come back as named tuples.

SQLite is called on the event loop: its calls take microseconds, and a write transaction that
never awaits anything else holds the write lock only that long. One asyncio lock per process
keeps write transactions from interleaving on the loop. PostgreSQL connections come from a
small pool of our own (:class:`Pool`): a transaction never outlives :meth:`RawDb.connect`, so
there is nothing to reset between requests.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import sqlite3
from collections import deque, namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import asyncpg
import orjson
from sqlalchemy import BindParameter, ColumnElement, Select, func, literal_column, select
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.visitors import iterate, replacement_traverse

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

    def args(self, params: dict[str, Any]) -> list[Any]:
        out = []
        for name, default, bind in zip(self.names, self.defaults, self.binds, strict=True):
            value = params.get(name, default)
            if value is _REQUIRED:
                raise TypeError(f"the statement needs a value for {name!r}")
            out.append(bind(value) if bind is not None and value is not None else value)
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

    __slots__ = ("_after", "_build", "_compiled", "_statements", "writes")

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        self._statements: dict[str, Executable] = {}
        self._compiled: dict[str, Compiled] = {}
        self._after: dict[tuple[Query, str], Query] = {}
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

    def after(self, first: Query, param: str) -> Query:
        """This SELECT and ``first`` (one row at most) as one statement: ``first``'s row with
        this statement's rows as an array of records, ``param`` standing for ``first``'s first
        column; no row when ``first`` has none. PostgreSQL only (``ARRAY(subquery)``)."""
        found = self._after.get((first, param))
        if found is None:
            found = self._after[first, param] = Query(
                lambda name: _after(first.statement_for(name), self.statement_for(name), param)
            )
        return found

    def statement_for(self, name: str) -> Select[Any]:
        """The SELECT for a dialect's name (what :meth:`after` combines)."""
        statement = self._statements.get("") if self._build is None else self._build(name)
        if not isinstance(statement, Select):
            raise TypeError("only a SELECT can be combined")
        return statement


def _after(first: Select[Any], then: Select[Any], param: str) -> Select[Any]:
    head = first.cte("prelude")
    key = select(next(iter(head.c))).scalar_subquery()
    replaced = False

    def swap(element: Any, **_: Any) -> Any:
        nonlocal replaced
        if isinstance(element, BindParameter) and element.key == param:
            replaced = True
            return key
        return None

    body = cast(Select[Any], replacement_traverse(then, {}, swap))
    if not replaced:
        raise ValueError(f"the statement has no parameter {param!r}")
    shared = _bind_keys(first) & (_bind_keys(then) - {param})
    if shared:  # one name would be one parameter of the combined statement
        raise ValueError(f"both statements have parameters named {sorted(shared)}")
    rows = body.subquery("prelude_rows")
    # ARRAY(subquery) keeps the subquery's order; its rows come back as asyncpg records.
    array = func.array(select(literal_column(rows.name)).select_from(rows).scalar_subquery())
    return select(head, array.label("prelude_rows"))


def _bind_keys(statement: Select[Any]) -> set[str]:
    return {e.key for e in iterate(statement) if isinstance(e, BindParameter)}


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


_PENDING: Any = object()


class Prelude:
    """A one-row statement that other statements depend on, run with the first of them: the
    request's login, whose first column (the caller's id) is their ``user``.

    Given as a parameter's value, it is checked by the first statement it is given to: on
    PostgreSQL inside that statement when it is a SELECT (one round trip for both, see
    :meth:`Query.after`), else just before it. No row: ``missing`` is raised and the statement
    does not run. Later statements get the first column's value; :attr:`row` is the row.
    """

    __slots__ = ("missing", "params", "query", "row")

    def __init__(
        self, query: Query, params: dict[str, Any], missing: Callable[[], BaseException]
    ) -> None:
        self.query = query
        self.params = params
        self.missing = missing
        self.row: Any = _PENDING

    @property
    def ran(self) -> bool:
        return self.row is not _PENDING

    def found(self, row: Any | None) -> Any:
        if row is None:
            raise self.missing()
        self.row = row
        return row

    async def check(self, conn: Conn) -> Any:
        """The row, running the statement on its own if no other statement has yet."""
        return self.row if self.ran else self.found(await conn.one(self.query, **self.params))


def _pending(params: dict[str, Any]) -> tuple[str, Prelude] | None:
    """The prelude among ``params`` still to run; those that have run give their value."""
    found = None
    for name, value in params.items():
        if type(value) is Prelude:
            if value.row is _PENDING:
                found = name, value
            else:
                params[name] = value.row[0]
    return found


async def resolve(conn: Conn, params: dict[str, Any]) -> None:
    """Run a prelude among ``params`` on its own, if one is pending, and give its value."""
    pending = _pending(params)
    if pending is not None:
        name, prelude = pending
        params[name] = (await prelude.check(conn))[0]


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
        await resolve(self, params)  # a statement less would save little here
        c, cursor = self._execute(query, params)
        return [c.make(row) for row in cursor.fetchall()]

    async def one(self, query: Query, **params: Any) -> Any | None:
        await resolve(self, params)
        c, cursor = self._execute(query, params)
        row = cursor.fetchone()
        return None if row is None else c.make(row)

    async def run(self, query: Query, **params: Any) -> int:
        await resolve(self, params)
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
        pending = _pending(params)
        if pending is not None:
            if not query.writes:
                return await self._after(query, params, *pending)
            await resolve(self, params)
        c, args = await self._prepare(query, params)
        try:
            rows = await self.connection.fetch(c.text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        return [c.make(row) for row in rows]

    async def one(self, query: Query, **params: Any) -> Any | None:
        pending = _pending(params)
        if pending is not None:
            if not query.writes:
                rows = await self._after(query, params, *pending)
                return rows[0] if rows else None
            await resolve(self, params)
        c, args = await self._prepare(query, params)
        try:
            row = await self.connection.fetchrow(c.text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        return None if row is None else c.make(row)

    async def _after(
        self, query: Query, params: dict[str, Any], name: str, prelude: Prelude
    ) -> list[Any]:
        """``query`` and the pending ``prelude`` in one round trip."""
        del params[name]
        c, args = await self._prepare(query.after(prelude.query, name), prelude.params | params)
        row = await self.connection.fetchrow(c.text, *args)
        prelude.found(None if row is None else prelude.query.compiled(self.dialect).make(row[:-1]))
        inner = query.compiled(self.dialect)
        return [inner.make(record) for record in row[-1]]

    async def run(self, query: Query, **params: Any) -> int:
        await resolve(self, params)
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


class Pool:
    """The asyncpg connections of one event loop: idle ones on a stack (the warmest first),
    more opened on demand up to ``size``, callers waiting in turn beyond it.

    asyncpg's own pool wraps each connection in a holder and a proxy, queues it and resets it
    on release: a fifth of a short request's Python time in the benchmark's profile. Here a
    transaction never outlives :meth:`RawDb.connect`, so a connection goes back as it is; one
    that failed in a way that may have left it mid-operation is closed instead (see
    :meth:`RawDb.connect`), and a closed one (the server restarted) is dropped and replaced.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self.size = size
        self._idle: list[asyncpg.Connection] = []
        self.opened = 0  # idle, in use and being opened
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False
        self._loop = asyncio.get_running_loop()

    async def acquire(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise RuntimeError("the pool is closed")
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self.opened -= 1
            if self.opened < self.size:
                self.opened += 1
                try:
                    return await self._connect()
                except BaseException:
                    self.opened -= 1
                    self._pass_turn()
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None]
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                given = await waiter
            except BaseException:  # cancelled: what it was given goes to the next in line
                if waiter.done() and not waiter.cancelled():
                    found = waiter.result()
                    if found is not None:
                        self.release(found)
                    else:
                        self._pass_turn()
                raise
            if given is not None:
                return given
            # None: a connection was dropped, so there is room to open one

    def release(self, connection: asyncpg.Connection, *, reusable: bool = True) -> None:
        if not reusable or self._closed or connection.is_closed():
            connection.terminate()
            self.opened -= 1
            self._pass_turn()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _pass_turn(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Close the idle connections; those in use close when released."""
        self._closed = True
        idle, self._idle = self._idle, []
        self.opened -= len(idle)
        for connection in idle:
            if self._loop is asyncio.get_running_loop():
                await connection.close()
            else:  # its loop is gone (tests): just drop the socket
                connection.terminate()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the pool is closed"))
        self._waiters.clear()


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
)


class RawDb:
    """The driver-level connections of one process (one pool per event loop on PostgreSQL)."""

    def __init__(self, url: str, dialect: Dialect, *, pool_size: int = 32) -> None:
        parsed = make_url(url)
        self.dialect = dialect
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._pool_size = pool_size
        self._pools: dict[asyncio.AbstractEventLoop, Pool] = {}
        self._sqlite: tuple[sqlite3.Connection, sqlite3.Connection, _FileLock] | None = None
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

    def _sqlite_connections(self) -> tuple[sqlite3.Connection, sqlite3.Connection, _FileLock]:
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
            self._sqlite = (pair[0], pair[1], lock)
        return self._sqlite

    @asynccontextmanager
    async def _sqlite_connect(self, write: bool) -> AsyncIterator[SqliteConn | PgConn]:
        reader, writer, lock = self._sqlite_connections()
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

    def _pool(self) -> Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = Pool(self._open, self._pool_size)
        return pool

    async def _open(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            # Our statements are prepared once per connection and look rows up by key: plan
            # them once. By default PostgreSQL re-plans every execution whose generic plan it
            # estimates dearer, which for the chat lists cost more than running them.
            # random_page_cost: the usual value for SSDs and cached data (PostgreSQL's default
            # of 4 assumes spinning disks); with 4 a store's 20 latest comments were joined to
            # their authors by reading the whole users table of the small benchmark dataset.
            server_settings={"plan_cache_mode": "force_generic_plan", "random_page_cost": "1.1"},
        )
        return connection

    @asynccontextmanager
    async def _pg_connect(self, write: bool) -> AsyncIterator[SqliteConn | PgConn]:
        pool = self._pool()
        connection = await pool.acquire()
        conn = PgConn(connection, self.dialect, write=write)
        failure: BaseException | None = None
        try:
            yield conn
        except BaseException as exc:
            failure = exc
        try:
            kept = await _end(conn, failure)
        except BaseException as raised:
            # Reusable when the rollback went through and the error was the request's own;
            # a cancelled or failed statement may have left the connection mid-operation.
            reusable = raised is failure and not isinstance(raised, asyncio.CancelledError)
            pool.release(connection, reusable=reusable and not connection.is_in_transaction())
            raise
        pool.release(connection)
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
        for pool in pools.values():
            await pool.close()
        if self._sqlite is not None:
            reader, writer, lock = self._sqlite
            reader.close()
            writer.close()
            lock.close()
            self._sqlite = None


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
