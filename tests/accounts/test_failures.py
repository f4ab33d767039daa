"""Unexpected failures: a 500 envelope and nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hojre.accounts.models import User
from hojre.core.settings import Settings
from hojre.sms.models import SmsMessage
from tests.conftest import Api

pytestmark = pytest.mark.anyio


async def test_failure_after_a_write_rolls_everything_back(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("gateway exploded")

    # The user row is inserted first; the failure comes after it.
    monkeypatch.setattr(type(api.hub.outbox), "enqueue", broken)
    response = await api.client.post(
        "/web/user/register", data={"username": "09121234567", "password": "secret1"}
    )
    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "Server Error", "data": ""}
    async with api.hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        assert await session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    assert api.sms() == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"sms_backend": "console"},
        {"sms_backend": "file:/tmp/sms.jsonl"},
        {"sms_backend": "kavenegar"},  # no API key
        {"database_url": "sqlite+aiosqlite:///./x.db"},
        {"argon2_time_cost": 1},
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, object]) -> None:
    safe: dict[str, object] = {
        "env": "production",
        "database_url": "postgresql+asyncpg://hojre@db/hojre",
        "sms_backend": "kavenegar",
        "kavenegar_api_key": "k",
        "argon2_time_cost": 3,
        "argon2_memory_cost_kib": 65536,
    }
    Settings.model_validate(safe)
    unsafe = {**safe, **overrides}
    if overrides.get("sms_backend") == "kavenegar":
        unsafe["kavenegar_api_key"] = None
    with pytest.raises(ValueError, match="unsafe production settings"):
        Settings.model_validate(unsafe)
