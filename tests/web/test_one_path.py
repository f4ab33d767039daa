"""Every request runs on hojre.core.sql: no v1 endpoint touches the ORM session."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from hojre.core.hub import Hub
from hojre.web_v1.app import ROUTERS
from tests.conftest import Api
from tests.interactions.conftest import make_targets

pytestmark = pytest.mark.anyio


async def test_no_endpoint_runs_a_statement_through_the_orm(api: Api, hub: Hub) -> None:
    ids, _ = await make_targets(hub)
    data = await api.register_active("09121234567")
    auth = {"username": "09121234567", "token": data["token"]}
    orm: list[str] = []

    def record(*args: Any) -> None:
        orm.append(args[2])

    # Nor an ORM connection, even one left unused: a serving process has one pool, RawDb's.
    checkouts: list[object] = []

    def checkout(*args: Any) -> None:
        checkouts.append(args[0])

    event.listen(hub.db.engine.sync_engine, "before_cursor_execute", record)
    event.listen(hub.db.engine.sync_engine, "checkout", checkout)
    try:
        for endpoint in (e for router in ROUTERS for e in router.endpoints):
            path = "/web" + endpoint.path.replace("{id}", str(min(ids.values())))
            params = {**auth, "id": "1", "target": "store", "text": "سلام دنیا", "store": "1"}
            if endpoint.method == "GET":
                response = await api.client.get(path, params=params)
            else:
                response = await api.client.post(path, data=params)
            assert response.status_code == 200, (endpoint.path, response.text)
    finally:
        event.remove(hub.db.engine.sync_engine, "before_cursor_execute", record)
        event.remove(hub.db.engine.sync_engine, "checkout", checkout)
    assert orm == []
    assert checkouts == []
