"""The process-wide services every request needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from hojre.core.cache import PublicCache
from hojre.core.db import Database
from hojre.core.events import EventBus
from hojre.core.ratelimit import DatabaseRateLimiter, RateLimiter, RedisRateLimiter
from hojre.core.settings import Settings
from hojre.media.service import Media
from hojre.media.storage import store_from_settings
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
    # Pages of the public lists; live once the app's lifespan has started its watcher.
    public_cache: PublicCache
    # Uploads and images: the media store, the image threads, the upload limits.
    media: Media

    @classmethod
    def from_settings(cls, settings: Settings) -> Hub:
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            acquire_timeout=settings.db_acquire_timeout_seconds,
            statement_timeout=settings.db_statement_timeout_seconds,
        )
        redis = None
        listener = None
        if settings.redis_url:
            # Commands time out so a lost Redis fails a request instead of hanging it; the
            # pub/sub listener blocks on reads by design, so its client has no read timeout.
            timeout = settings.redis_timeout_seconds
            redis = Redis.from_url(
                settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            listener = Redis.from_url(
                settings.redis_url, socket_connect_timeout=timeout, health_check_interval=30
            )
        limiter: RateLimiter = RedisRateLimiter(redis) if redis else DatabaseRateLimiter()
        outbox = Outbox(db, backend_from_settings(settings), settings, limiter)
        return cls(
            settings=settings,
            db=db,
            limiter=limiter,
            outbox=outbox,
            redis=redis,
            events=EventBus(redis, listener=listener, channel=settings.events_channel),
            public_cache=PublicCache(settings.database_url),
            media=Media(db.raw, store_from_settings(settings), limiter, settings),
        )

    async def aclose(self) -> None:
        await self.public_cache.stop()
        await self.events.stop()
        await self.outbox.drain()
        await self.outbox.backend.aclose()
        await self.media.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()
