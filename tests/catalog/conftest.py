"""The store side's tests make their people and stores as the messaging tests do."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.messaging.conftest import Cast


@pytest.fixture
async def cast(api: Api) -> Cast:
    return Cast(api)
