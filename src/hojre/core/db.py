"""Engine, sessions and the request's unit of work.

The request's session owns the transaction: services flush, never commit. Side effects
(SMS delivery, live events) are registered with :func:`on_commit` and run only after the
commit succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, TypeDecorator, bindparam, event, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from hojre.core.sql import Conn, Query, RawDb, run_after_commit
from hojre.core.urls import async_url

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use hojre.core.clock.utcnow()")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def fast_result_processor(self, dialect: Dialect) -> Callable[[Any], datetime] | None:
        """For hojre.core.sql: the same values in one step (asyncpg already returns aware
        datetimes; SQLite stores SQLAlchemy's ISO text, naive UTC)."""
        return _utc_from_text if dialect.name == "sqlite" else None


def _utc_from_text(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


@cache
def update_sent(model: type[Base], columns: frozenset[str], key: str) -> Query:
    """The ``UPDATE`` an edit sends: these columns (each bound by its name) and ``updated_at``
    (bound as ``now``) of the row whose id is bound as ``key``. One compiled statement per set
    of fields that edits send."""
    table = model.__table__
    values = {name: bindparam(name, type_=table.c[name].type) for name in sorted(columns)}
    return Query(
        update(model)
        .where(table.c.id == bindparam(key))
        .values(**values, updated_at=bindparam("now", type_=UTCDateTime()))
    )


AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT_KEY = "hojre_after_commit"


def on_commit(tx: AsyncSession | Conn, callback: AfterCommit) -> None:
    """Run ``callback`` once the request's transaction has committed (never on rollback)."""
    if isinstance(tx, AsyncSession):
        tx.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)
    else:
        tx.on_commit(callback)


class SessionConn:
    """:class:`~hojre.core.sql.Conn` over an ORM session: a hot-path service called from
    ORM code (the demo, the CLI, tests) runs in that session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect

    async def all(self, query: Query, **params: Any) -> list[Any]:
        return list((await self.session.execute(query.statement(self.dialect), params)).all())

    async def one(self, query: Query, **params: Any) -> Any | None:
        return (await self.session.execute(query.statement(self.dialect), params)).first()

    async def run(self, query: Query, **params: Any) -> int:
        result: Any = await self.session.execute(query.statement(self.dialect), params)
        return int(result.rowcount)

    def on_commit(self, callback: AfterCommit) -> None:
        on_commit(self.session, callback)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so we can say BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" without waiting for the busy timeout.
        if conn.get_execution_options().get("hojre_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """The requests' connections (:attr:`raw`, :mod:`hojre.core.sql`) and the ORM's engine with
    two session factories, reads and writes (IMMEDIATE on SQLite).

    The ORM serves no request: migrations, the demo loader and tests use it. Its engine opens
    no connection until one of those asks, so a serving process holds one pool, :attr:`raw`'s.
    """

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 32,
        acquire_timeout: float = 5.0, statement_timeout: float = 10.0,
    ) -> None:  # fmt: skip
        url = async_url(url)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 15}
        else:
            # The demo loader and tests: a few connections, opened only when they are used.
            kwargs.update(pool_size=5, max_overflow=10, pool_pre_ping=False)
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.raw = RawDb(
            url, self.engine.dialect, pool_size=pool_size,
            acquire_timeout=acquire_timeout, statement_timeout=statement_timeout,
        )  # fmt: skip
        self._read = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = async_sessionmaker(
            self.engine.execution_options(hojre_write=True),
            expire_on_commit=False,
            autoflush=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction: commit at the end, roll back on error, then run after-commit hooks.

        A :class:`~hojre.core.errors.HojreError` with ``keep_writes`` commits before it
        propagates, because what it reports (a counted failure) must survive.
        """
        from hojre.core.errors import HojreError

        # On SQLite, writers share the process's turn with hojre.core.sql's (RawDb.write_lock);
        # after-commit hooks run once the turn is given back (they may write themselves).
        turn = self.raw.write_lock if write and self.is_sqlite else nullcontext()
        kept: HojreError | None = None
        async with turn, (self._write if write else self._read)() as session:
            try:
                yield session
            except HojreError as exc:
                if not exc.keep_writes:
                    await session.rollback()
                    raise
                await session.commit()
                kept = exc
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
        await _run_after_commit(session)
        if kept is not None:
            raise kept

    async def dispose(self) -> None:
        await self.raw.close()
        await self.engine.dispose()


async def _run_after_commit(session: AsyncSession) -> None:
    await run_after_commit(session.info.pop(_AFTER_COMMIT_KEY, []))
