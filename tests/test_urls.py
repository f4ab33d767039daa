"""Database URLs as people write them (issue 16, item 1: the URLs everybody writes work)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hojre.core.settings import Settings
from hojre.core.urls import BadDatabaseUrl, async_url


@pytest.mark.parametrize(
    ("written", "connected"),
    [
        ("sqlite:///var/other.db", "sqlite+aiosqlite:///var/other.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("SQLite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://postgres@127.0.0.1:5432/db", "postgresql+asyncpg://postgres@127.0.0.1:5432/db"),
        ("postgres://u:p%40ss@db.example/hojre", "postgresql+asyncpg://u:p%40ss@db.example/hojre"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+psycopg://u@h/d?application_name=x", "postgresql+asyncpg://u@h/d?application_name=x"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
        (" postgresql://u@h/d\n", "postgresql+asyncpg://u@h/d"),
    ],
)  # fmt: skip
def test_the_urls_everybody_writes_name_the_async_drivers(written: str, connected: str) -> None:
    assert async_url(written) == connected
    assert Settings(database_url=written).database_url == connected


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("mysql://root:secret@h/d", "HOJRE_DATABASE_URL names 'mysql': Hojre runs on SQLite"),
        ("mssql+pyodbc://u:secret@h/d", "HOJRE_DATABASE_URL names 'mssql': Hojre runs on SQLite"),
        ("var/hojre.db", "HOJRE_DATABASE_URL is not a URL: write sqlite:///PATH"),
        ("", "HOJRE_DATABASE_URL is not a URL"),
    ],
)
def test_anything_else_is_refused_in_one_sentence(written: str, said: str) -> None:
    with pytest.raises(BadDatabaseUrl) as refused:
        async_url(written)
    assert str(refused.value).startswith(said)
    assert "secret" not in str(refused.value)  # a password is never repeated
    with pytest.raises(ValueError, match="HOJRE_DATABASE_URL"):
        Settings(database_url=written)


def test_hojre_db_upgrade_takes_a_plain_sqlite_url(tmp_path: Path) -> None:
    env = {**os.environ, "HOJRE_DATABASE_URL": f"sqlite:///{tmp_path}/other.db"}
    done = subprocess.run(
        [sys.executable, "-m", "hojre", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "database at head" in done.stderr
    assert (tmp_path / "other.db").stat().st_size > 0


@pytest.mark.anyio
async def test_a_plain_postgresql_url_connects(pg_url: str) -> None:
    from sqlalchemy import func, select

    from hojre.core.db import Database
    from hojre.core.sql import Query
    from hojre.models import User

    plain = "postgresql://" + pg_url.split("://", 1)[1]
    db = Database(plain)
    try:
        async with db.raw.connect(write=False) as conn:
            row = await conn.one(Query(select(func.count()).select_from(User)))
        assert row is not None and row[0] >= 0
    finally:
        await db.dispose()
