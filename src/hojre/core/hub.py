"""The process-wide services every request needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from hojre.core.db import Database
from hojre.core.events import EventBus
from hojre.core.ratelimit import DatabaseRateLimiter, RateLimiter, RedisRateLimiter
from hojre.core.settings import Settings
from hojre.sms.backends import backend_from_settings
from hojre.sms.service import Outbox


@dataclass
class Hub:
    settings: Settings
    db: Database
    limiter: RateLimiter
    outbox: Outbox
    redis: Redis | None
    events: EventBus

    @classmethod
    def from_settings(cls, settings: Settings) -> Hub:
        db = Database(settings.database_url)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        limiter: RateLimiter = RedisRateLimiter(redis) if redis else DatabaseRateLimiter()
        outbox = Outbox(db, backend_from_settings(settings), settings)
        return cls(
            settings=settings,
            db=db,
            limiter=limiter,
            outbox=outbox,
            redis=redis,
            events=EventBus(redis),
        )

    async def aclose(self) -> None:
        await self.events.stop()
        await self.outbox.drain()
        await self.outbox.backend.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()
