"""Test kit: a real database per backend (SQLite always, PostgreSQL when configured).

``HOJRE_TEST_DATABASE_URL`` (PostgreSQL) and ``HOJRE_TEST_REDIS_URL`` switch the service
tests on. Unset, those tests are skipped on a developer machine; under CI (``CI=true``) an
unset or unreachable service is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

# Cheap password hashing for tests; must be set before hojre reads its settings.
os.environ.setdefault("HOJRE_ARGON2_TIME_COST", "1")
os.environ.setdefault("HOJRE_ARGON2_MEMORY_COST_KIB", "1024")
os.environ.setdefault("HOJRE_ARGON2_PARALLELISM", "1")

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from hojre.core.hub import Hub
from hojre.core.migrate import upgrade_async
from hojre.core.settings import Settings
from hojre.models import Base
from hojre.web_v1.app import create_app

PG_URL = os.environ.get("HOJRE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HOJRE_TEST_REDIS_URL")
IN_CI = os.environ.get("CI") == "true"
# Tables holding reference data loaded by migrations; every other table is emptied per test.
KEEP = frozenset({"countries", "states", "cities", "hoods", "bazaar_categories", "alembic_version"})


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def require_service(url: str | None, name: str) -> str:
    if url:
        return url
    if IN_CI:
        pytest.fail(f"{name} is required under CI but its URL is not set")
    pytest.skip(f"{name} not configured")


async def _fresh_postgres(url: str) -> str:
    """A new database for this test session, so parallel runs never share tables.

    Falls back to emptying the configured database where CREATE DATABASE is not allowed.
    """
    name = f"hojre_test_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            try:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception:
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
                return url
    finally:
        await engine.dispose()
    _CREATED.append((url, name))
    return str(make_url(url).set(database=name))


async def _drop_databases() -> None:
    for url, name in _CREATED:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await engine.dispose()


_CREATED: list[tuple[str, str]] = []
_MIGRATED: dict[str, str] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _CREATED:
        asyncio.run(_drop_databases())


def _migrated_url(backend: str, tmp_root: Path) -> str:
    if backend in _MIGRATED:
        return _MIGRATED[backend]
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_root / 'hojre-test.db'}"
    else:
        url = asyncio.run(_fresh_postgres(require_service(PG_URL, "PostgreSQL")))
    asyncio.run(upgrade_async(url))
    _MIGRATED[backend] = url
    return url


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hojre")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_root: Path) -> str:
    """Each test using the database runs once per backend."""
    return _migrated_url(str(request.param), tmp_root)


@pytest.fixture
def pg_url(tmp_root: Path) -> str:
    """PostgreSQL only: concurrency tests (SQLite serialises writers and hides races)."""
    return _migrated_url("postgres", tmp_root)


@pytest.fixture
def sms_file(tmp_path: Path) -> Path:
    return tmp_path / "sms.jsonl"


def make_settings(db_url: str, sms_file: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "sms_backend": f"file:{sms_file}",
        "run_background_tasks": False,
        "media_root": str(sms_file.parent / "media"),
        **overrides,
    }
    return Settings(**values)


async def _truncate(hub: Hub) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP]
    async with hub.db.engine.begin() as conn:
        if hub.db.is_sqlite:
            for name in reversed(tables):
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            joined = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))


async def build_hub(settings: Settings) -> AsyncIterator[Hub]:
    hub = Hub.from_settings(settings)
    await _truncate(hub)
    try:
        yield hub
    finally:
        await hub.outbox.drain()
        await _truncate(hub)
        await hub.aclose()


@pytest.fixture
async def hub(request: pytest.FixtureRequest, db_url: str, sms_file: Path) -> AsyncIterator[Hub]:
    async for h in build_hub(make_settings(db_url, sms_file)):
        await _uploaded(request, h)
        yield h


@pytest.fixture
async def pg_hub(request: pytest.FixtureRequest, pg_url: str, sms_file: Path) -> AsyncIterator[Hub]:
    async for h in build_hub(make_settings(pg_url, sms_file)):
        await _uploaded(request, h)
        yield h


async def _uploaded(request: pytest.FixtureRequest, hub: Hub) -> None:
    """A test module's ``UPLOADED`` paths are uploads in its hub: the image paths its tests
    send (an image field takes no path that no upload made)."""
    from tests.factories import make_upload

    await make_upload(hub, *getattr(request.module, "UPLOADED", ()))


class Api:
    """A v1 client: ``await api.post("/user/login", username=..., password=...)`` → JSON."""

    def __init__(self, client: httpx.AsyncClient, hub: Hub) -> None:
        self.client = client
        self.hub = hub

    async def post(self, path: str, *, headers: Any = None, **params: Any) -> Any:
        response = await self.client.post("/web" + path, data=_form(params), headers=headers)
        return response.json()

    async def get(self, path: str, *, headers: Any = None, **params: Any) -> Any:
        response = await self.client.get("/web" + path, params=_form(params), headers=headers)
        return response.json()

    def sms(self) -> list[dict[str, Any]]:
        path = Path(self.hub.settings.sms_backend.removeprefix("file:"))
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    async def last_code(self, cellphone: str) -> str:
        await self.hub.outbox.drain()
        # Deliveries run in parallel tasks, so file order is not send order: sort by row id.
        mine = sorted(
            (m for m in self.sms() if m["to"] == cellphone),
            key=lambda m: int(str(m["key"]).rsplit("-", 1)[1]),
        )
        codes = [m["code"] for m in mine]
        assert codes, f"no SMS to {cellphone}"
        return str(codes[-1])

    async def register_active(self, cellphone: str, password: str = "secret1") -> dict[str, Any]:
        """Register, activate with the SMS code, log in; returns the login ``data``."""
        body = await self.post("/user/register", username=cellphone, password=password)
        assert body["status"] == "success", body
        code = await self.last_code(cellphone)
        body = await self.post("/user/checkactivationcode", username=cellphone, code=code)
        assert body["message"] == "User is Activated", body
        body = await self.post("/user/login", username=cellphone, password=password)
        assert body["message"] == "Login Success", body
        data: dict[str, Any] = body["data"]
        return data


def _form(params: dict[str, Any]) -> dict[str, str]:
    return {k.replace("__", "-"): str(v) for k, v in params.items() if v is not None}


def app_client(hub: Hub, *, client: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of the app; ``client`` is the address it connects from (throttles key on it)."""
    app = create_app(hub.settings, hub=hub)
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(hub) as c:
        yield c


@pytest.fixture
async def api(client: httpx.AsyncClient, hub: Hub) -> Api:
    return Api(client, hub)


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield require_service(REDIS_URL, "Redis")
