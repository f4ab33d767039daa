"""Migration 0007: the login and the catalogue lists' totals read their indexes alone (SQLite's
plans say so), and the migration goes down and up again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hojre.core.migrate import alembic_config, upgrade_async

pytestmark = pytest.mark.anyio

# The shapes of the statements the indexes are for (hojre.accounts.service's login, the
# catalogue's lists and their totals), with the values as parameters.
PLANS = {
    "login": (
        "SELECT users.id, access_tokens.id, access_tokens.last_used_at FROM users"
        " JOIN access_tokens ON access_tokens.user_id = users.id"
        " WHERE access_tokens.token_hash = ? AND users.cellphone = ?",
        ("h", "09121234567"),
        "SEARCH access_tokens USING COVERING INDEX ix_access_tokens_login"
        " (user_id=? AND token_hash=?)",
    ),
    "stores total": (
        "SELECT count(*) FROM stores WHERE status = ?",
        ("active",),
        "SEARCH stores USING COVERING INDEX ix_stores_status (status=?)",
    ),
    "a bazaar's stores total": (
        "SELECT count(*) FROM stores WHERE status = ? AND bazaar_id = ?",
        ("active", 1),
        "SEARCH stores USING COVERING INDEX ix_stores_bazaar_id (bazaar_id=? AND status=?)",
    ),
    "a mall's stores total": (
        "SELECT count(*) FROM stores WHERE status = ? AND mall_id = ?",
        ("active", 1),
        "SEARCH stores USING COVERING INDEX ix_stores_mall_id (mall_id=? AND status=?)",
    ),
    "malls total": (
        "SELECT count(*) FROM malls WHERE status = ?",
        ("active",),
        "SEARCH malls USING COVERING INDEX ix_malls_status (status=?)",
    ),
    "bazaars total": (
        "SELECT count(*) FROM bazaars WHERE status = ?",
        ("active",),
        "SEARCH bazaars USING COVERING INDEX ix_bazaars_status (status=?)",
    ),
    "products total": (
        "SELECT count(*) FROM products WHERE status = ? AND EXISTS (SELECT stores.id"
        " FROM stores WHERE stores.id = products.store_id AND stores.status = ?)",
        ("active", "active"),
        "SEARCH products USING COVERING INDEX ix_products_status (status=?)",
    ),
}


def _plan(path: Path, sql: str, params: tuple[object, ...]) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [str(row[3]) for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        connection.close()


def _indexes(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {str(row[0]) for row in rows}
    finally:
        connection.close()


@pytest.fixture
async def migrated(tmp_path: Path) -> Path:
    path = tmp_path / "indexes.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.mark.parametrize("name", sorted(PLANS))
async def test_the_statement_reads_a_covering_index(migrated: Path, name: str) -> None:
    sql, params, expected = PLANS[name]
    assert expected in _plan(migrated, sql, params)


async def test_0007_goes_down_and_up(migrated: Path) -> None:
    url = f"sqlite+aiosqlite:///{migrated}"
    new = {"ix_access_tokens_login", "ix_bazaars_status", "ix_malls_status", "ix_stores_status",
           "ix_products_status"}  # fmt: skip
    assert new <= _indexes(migrated)
    assert "ix_access_tokens_user_id" not in _indexes(migrated)

    def down(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(down)
    finally:
        await engine.dispose()
    assert not new & _indexes(migrated)
    assert "ix_access_tokens_user_id" in _indexes(migrated)
    assert "SEARCH stores USING INDEX ix_stores_bazaar_id (bazaar_id=?)" in _plan(
        migrated, *PLANS["a bazaar's stores total"][:2]
    )
    await upgrade_async(url)
    assert new <= _indexes(migrated)
