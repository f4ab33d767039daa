from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio


async def test_register_activate_login_profile(api: Api) -> None:
    data = await api.register_active("09121234567")
    assert set(data) == {"id", "username", "token"}
    body = await api.get("/users", username="09121234567", token=data["token"])
    assert body["items"][0]["cellPhone"] == "09121234567"
