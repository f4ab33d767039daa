"""Database URLs as people write them, turned into the async drivers Hojre runs on.

``sqlite:///var/x.db`` and ``postgresql://user@host/db`` (or ``postgres://``, as Heroku-style
services hand them out) are what everybody types; SQLAlchemy would pick the synchronous
drivers for them (pysqlite, psycopg), which Hojre neither uses nor installs. Every place that
takes a database URL passes it through :func:`async_url`, so all the spellings name the same
database and anything else is refused in one sentence.
"""

from __future__ import annotations

from typing import Final

# The scheme as written (before "://", lower-cased) → the one Hojre connects with.
_SCHEMES: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


class BadDatabaseUrl(ValueError):
    pass


def async_url(url: str) -> str:
    """``url`` with its scheme replaced by the async driver's; :class:`BadDatabaseUrl` for a
    database Hojre does not run on, or text that is no URL (the message never repeats the
    URL: it may hold a password)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise BadDatabaseUrl(
            "HOJRE_DATABASE_URL is not a URL: write sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DATABASE"
        )
    driver = _SCHEMES.get(scheme.lower())
    if driver is None:
        raise BadDatabaseUrl(
            f"HOJRE_DATABASE_URL names {scheme.split('+')[0]!r}: Hojre runs on SQLite "
            "(sqlite:///PATH) or PostgreSQL (postgresql://USER@HOST:PORT/DATABASE)"
        )
    return f"{driver}://{rest}"
