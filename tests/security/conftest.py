"""The messaging tests' people and stores, for the per-sender limits."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.messaging.conftest import Cast


@pytest.fixture
async def cast(api: Api) -> Cast:
    return Cast(api)
