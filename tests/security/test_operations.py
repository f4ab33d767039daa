"""What operators rely on: the metrics behind a token, the sweep of what expired."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from hojre import maintenance
from hojre.accounts.models import AccessToken
from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.core.ratelimit import RateCounter
from tests.conftest import Api, app_client, make_settings

pytestmark = pytest.mark.anyio

TOKEN = "metrics-token-0123456789"
NOT_FOUND = {"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404}


async def test_metrics_need_their_token(hub: Hub, tmp_path: Path) -> None:
    hub.settings = make_settings(hub.settings.database_url, tmp_path / "sms", metrics_token=TOKEN)
    async with app_client(hub) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert response.json() == NOT_FOUND
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for name in ("hojre_throttled_total", "hojre_sms_refused_total", "hojre_sms_queued_total"):
        assert f"# TYPE {name} counter" in response.text


async def test_no_metrics_without_a_token(hub: Hub) -> None:
    async with app_client(hub) as c:
        response = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


async def test_the_sweep_deletes_idle_tokens_and_closed_windows(api: Api) -> None:
    hub = api.hub
    await api.register_active("09121234567")
    second = await api.post("/user/login", username="09121234567", password="secret1")
    assert second["message"] == "Login Success"
    async with hub.db.unit_of_work(write=True) as session:
        # One of the two tokens idle past 90 days; one window closed, one open.
        first_id = await session.scalar(select(func.min(AccessToken.id)))
        await session.execute(
            update(AccessToken)
            .where(AccessToken.id == first_id)
            .values(last_used_at=utcnow() - timedelta(days=91))
        )
        now = int(time.time())
        await session.execute(
            insert(RateCounter).values(
                [{"key": "closed", "count": 3, "window_ends_at": now - 1},
                 {"key": "open", "count": 3, "window_ends_at": now + 60}]
            )
        )  # fmt: skip
    assert await maintenance.sweep(hub) == (1, 1)
    async with hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(AccessToken)) == 1
        keys = set(await session.scalars(select(RateCounter.key)))
    assert "open" in keys and "closed" not in keys
    assert await maintenance.sweep(hub) == (0, 0)
