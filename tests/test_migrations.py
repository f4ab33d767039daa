"""The migrations build exactly the schema the models describe, on each backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hojre.accounts.service import authenticate
from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.core.migrate import upgrade_async
from hojre.core.security import sha256_hex
from hojre.core.settings import Settings
from hojre.models import Base

pytestmark = pytest.mark.anyio


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_migrations(db_url: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_tokens_made_before_0005_keep_working(tmp_path: Path) -> None:
    """An upgrade logs nobody out: tokens of the old schema count as used at the upgrade."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "0004")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO users (id, cellphone, password_hash, is_active, role, created_at,"
                " updated_at) VALUES (1, '09121234567', 'x', 1, 8, '2024-01-01 00:00:00.000000',"
                " '2024-01-01 00:00:00.000000')"
            ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO access_tokens (user_id, token_hash, created_at) VALUES"
                f" (1, '{sha256_hex('old-token')}', '2024-01-01 00:00:00.000000')"
            ))  # fmt: skip
    finally:
        await engine.dispose()
    await upgrade_async(url)
    hub = Hub.from_settings(Settings(database_url=url, run_background_tasks=False))
    try:
        async with hub.db.raw.connect(write=False) as conn:
            caller = await authenticate(
                conn, cellphone="09121234567", token="old-token", idle_days=90
            )
    finally:
        await hub.aclose()
    assert caller is not None
    assert utcnow() - caller.token_used_at < timedelta(minutes=5)
