"""Shared by the web tests: a client for what is answered before any database access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hojre.core.hub import Hub
from tests.conftest import app_client, make_settings


def unused_db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/unused.db"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client for what is answered before any database access (the file is never made)."""
    hub = Hub.from_settings(make_settings(unused_db(tmp_path), tmp_path / "sms"))
    try:
        async with app_client(hub) as client:
            yield client
    finally:
        await hub.aclose()
    assert not (tmp_path / "unused.db").exists()
