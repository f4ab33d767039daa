"""Fixed-window counters for throttles: in Redis when configured, else in the database.

A window opens at the first hit and lasts ``window`` seconds; ``hit`` returns how many hits
the open window holds, counted atomically, so parallel requests cannot slip past a limit.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import BigInteger, Integer, String, case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.db import Base
from hojre.core.dialect import upsert


class RateCounter(Base):
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    window_ends_at: Mapped[int] = mapped_column(BigInteger, nullable=False)  # unix seconds


class RateLimiter(Protocol):
    async def hit(self, session: AsyncSession, key: str, *, window: int) -> int: ...
    async def count(self, session: AsyncSession, key: str) -> int: ...
    async def reset(self, session: AsyncSession, key: str) -> None: ...


class DatabaseRateLimiter:
    """Counters in the request's transaction (single process, or no Redis)."""

    async def hit(self, session: AsyncSession, key: str, *, window: int) -> int:
        now = int(time.time())
        table = RateCounter.__table__
        expired = table.c.window_ends_at <= now
        stmt = (
            upsert(session, RateCounter)
            .values(key=key, count=1, window_ends_at=now + window)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((expired, 1), else_=table.c.count + 1),
                    "window_ends_at": case((expired, now + window), else_=table.c.window_ends_at),
                },
            )
            .returning(table.c.count)
        )
        return int((await session.execute(stmt)).scalar_one())

    async def count(self, session: AsyncSession, key: str) -> int:
        stmt = select(RateCounter.count).where(
            RateCounter.key == key, RateCounter.window_ends_at > int(time.time())
        )
        return int((await session.execute(stmt)).scalar() or 0)

    async def reset(self, session: AsyncSession, key: str) -> None:
        await session.execute(delete(RateCounter).where(RateCounter.key == key))


class RedisRateLimiter:
    """Counters shared by every app process. ``SET NX EX`` opens the window, ``INCR`` counts."""

    def __init__(self, redis: Redis, prefix: str = "hojre:rl:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, session: AsyncSession, key: str, *, window: int) -> int:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=window, nx=True)
            pipe.incr(name)
            _, value = await pipe.execute()
        return int(value)

    async def count(self, session: AsyncSession, key: str) -> int:
        value = await self.redis.get(self.prefix + key)
        return int(value or 0)

    async def reset(self, session: AsyncSession, key: str) -> None:
        await self.redis.delete(self.prefix + key)
