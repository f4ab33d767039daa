"""Configuration from the environment (prefix ``HOJRE_``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hojre.core.urls import async_url


class Env(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOJRE_", env_file=None, extra="ignore")

    env: Env = Env.development
    database_url: str = "sqlite+aiosqlite:///./var/hojre.db"
    # PostgreSQL connections per process (hojre.core.sql): as many as the requests a process
    # serves at once, so none queues for one (the p99 under load). Keep processes × this
    # below the server's max_connections.
    db_pool_size: int = Field(default=32, ge=1, le=1000)
    # When PostgreSQL stalls, a request waits this long for a connection, and each statement
    # runs at most this long, then fails with the 500 envelope (its transaction rolled back)
    # instead of queueing without bound.
    db_acquire_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_seconds: float = Field(default=10.0, gt=0)
    redis_url: str | None = None
    # One channel per deployment: user ids of two databases sharing a Redis must not mix.
    events_channel: str = "hojre:events"
    redis_timeout_seconds: float = 2.0

    # SMS: "console" logs, "file:<path>" appends JSON lines, "kavenegar" calls the gateway.
    sms_backend: str = "console"
    kavenegar_api_key: str | None = None
    kavenegar_base_url: str = "https://api.kavenegar.com"
    kavenegar_sender: str | None = None
    sms_timeout_seconds: float = 5.0
    sms_max_attempts: int = 8
    # A claimed message whose sender died is retried after this lease; the gateway's
    # idempotency key (Kavenegar's localid) keeps the retry from sending twice.
    sms_claim_lease_seconds: int = 60
    outbox_poll_seconds: float = 5.0

    # Password hashing cost (argon2id). Tests lower it; production keeps the defaults.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4

    activation_code_ttl_seconds: int = 600
    activation_code_max_tries: int = 5
    # Activation codes of one number asked for by one client address (a stranger spends
    # their own), and of one number from everyone per day (SMS bombing).
    activation_codes_per_minute: int = 1
    activation_codes_per_day: int = 5
    activation_codes_number_per_day: int = 10
    temp_password_ttl_seconds: int = 86400

    # Login throttles (docs/SECURITY.md): failures are counted per (number, client address),
    # so a stranger's guesses never lock the owner out; a number under attack from many
    # addresses (more than login_number_max_failures) lets only clients without a recent
    # failure try; an address failing on many numbers (spraying) is stopped on all of them.
    login_max_failures: int = 10
    login_number_max_failures: int = 100
    login_address_max_failures: int = 50
    login_window_seconds: int = 900
    # Temporary passwords by SMS: per (number, client address), and per number from anyone.
    forget_max_sends: int = 3
    forget_window_seconds: int = 3600
    forget_number_max_sends: int = 10
    forget_number_window_seconds: int = 86400
    # Registrations of one number from one client address.
    register_max_sends: int = 5
    register_window_seconds: int = 3600
    # Every SMS is money: requests to SMS-sending endpoints per client address, and all SMS
    # of the deployment per UTC day (beyond it: refused, logged at ERROR, counted in metrics).
    sms_address_max_requests: int = 10
    sms_address_window_seconds: int = 3600
    sms_daily_ceiling: int = 5000

    # Tokens end after this long unused; a user keeps at most this many (one per device),
    # the oldest revoked first.
    token_idle_days: int = Field(default=90, ge=1)
    tokens_per_user: int = Field(default=10, ge=1)
    # A user is "online" (mysellers' onlineStatus) this long after their last request.
    online_seconds: int = Field(default=300, ge=60)

    # Per sender: what one account may send (offers, store messages, comments, chat messages).
    comments_per_hour: int = 30
    chat_messages_per_hour: int = 300
    store_messages_per_hour: int = 10
    offers_per_day: int = 200
    # A location reported within this distance of a store's point is a visit to the store
    # (its physical customers, hojre.customers).
    physical_radius_meters: float = Field(default=50.0, gt=0, le=10_000)

    # Request bodies, counted while they stream in, before any parsing (uploads have their
    # own limit). JSON params: at most this many, nested no deeper than a Model[field] group.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_params: int = Field(default=1000, ge=10)
    # /docs and /openapi.json: None means on in development, off in production.
    docs_enabled: bool | None = None
    # Sent over TLS in production (Strict-Transport-Security).
    hsts_seconds: int = 31_536_000

    # Threads hashing passwords (argon2id, ~64 MiB each): None means one less than the
    # CPUs (at least one), so the event loop keeps a core while logins are hashed.
    password_hash_threads: int | None = Field(default=None, ge=1)
    # GET /metrics (Prometheus text) needs "Authorization: Bearer <this>"; unset: no /metrics.
    metrics_token: str | None = Field(default=None, min_length=16)

    # Trust X-Forwarded-For from these proxies only (uvicorn's --forwarded-allow-ips).
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "info"
    # The access log, in uvicorn's format, written by the app (hojre.core.logging.AccessLog,
    # tokens redacted); `hojre serve --no-access-log` overrides it.
    access_log: bool = True
    # Start the in-process outbox sweeper (off in tests, which drive delivery directly).
    run_background_tasks: bool = True

    # Uploads and images (hojre.media). Absolute image URLs start with public_url (e.g.
    # "https://hojrenama.ir"); unset, with the request's own scheme and host.
    public_url: str | None = None
    # Where uploads are kept: "local" (files under media_root) or "s3" (an S3-compatible
    # object store, for several app machines).
    media_backend: Literal["local", "s3"] = "local"
    media_root: str = "./var/media"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # None: AWS itself; else MinIO, Ceph, Arvan, ...
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str = ""
    s3_timeout_seconds: float = Field(default=10.0, gt=0)
    # One upload's bytes (counted while they stream in) and pixels (decompression bombs); the
    # longest side an image is kept at (bigger ones are scaled down when re-encoded).
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    upload_max_pixels: int = Field(default=30_000_000, ge=10_000)
    upload_max_side: int = Field(default=2560, ge=64)
    # Images decoded at once per process (each may take upload_max_pixels × 4 bytes).
    image_threads: int = Field(default=2, ge=1)
    # The images served last, kept in each process's memory (0: none).
    image_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Uploads per account and per client address (logged in or not), and anonymous ones per
    # client address, each per hour.
    uploads_per_user_per_hour: int = 120
    uploads_per_address_per_hour: int = 300
    anonymous_uploads_per_address_per_hour: int = 30
    # An upload no record refers to is removed after this long: an anonymous one, and one
    # made by a logged-in account (``hojre media gc`` and the background sweeper).
    anonymous_upload_ttl_hours: int = Field(default=24, ge=1)
    unused_upload_ttl_days: int = Field(default=30, ge=1)

    demo_password: str = Field(default="hojre-demo", min_length=6)

    @property
    def docs_on(self) -> bool:
        return self.env is Env.development if self.docs_enabled is None else self.docs_enabled

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        # sqlite:///… and postgresql://… as everybody writes them (hojre.core.urls).
        return async_url(url)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.env is Env.production:
            problems = []
            if self.sms_backend == "console" or self.sms_backend.startswith("file:"):
                problems.append("HOJRE_SMS_BACKEND must be a real gateway (kavenegar)")
            if self.sms_backend == "kavenegar" and not self.kavenegar_api_key:
                problems.append("HOJRE_KAVENEGAR_API_KEY is required")
            if self.database_url.startswith("sqlite"):
                problems.append("HOJRE_DATABASE_URL must point at PostgreSQL")
            if self.argon2_time_cost < 2 or self.argon2_memory_cost_kib < 19456:
                problems.append("argon2 cost is below the OWASP minimum")
            if problems:
                raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
