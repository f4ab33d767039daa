"""Endpoints with ``fold_login``: the login is checked by the handler's first statement, and
still behaves as if it ran first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from starlette.requests import Request

from hojre.accounts.models import User
from hojre.core.errors import HojreError, NotLoggedIn
from hojre.core.sql import Query
from hojre.web_v1.endpoint import Call, Endpoint, NoParams, _handle
from tests.conftest import Api

pytestmark = pytest.mark.anyio

PHONE = "09121230000"
_NAME = Query(select(User.cellphone).where(User.id == bindparam("user")))


class BadThing(HojreError):
    message = "Bad Thing"


async def run(
    api: Api, handler: Callable[[Call[Any]], Awaitable[dict[str, Any]]], *, token: str,
    username: str = PHONE,
) -> tuple[dict[str, Any], Call[Any]]:  # fmt: skip
    endpoint = Endpoint("GET", "/t", NoParams, handler, auth=True, fold_login=True)
    scope = {"type": "http", "method": "GET", "path": "/web/t", "query_string": b"",
             "headers": []}  # fmt: skip
    async with api.hub.db.raw.connect(write=False) as conn:
        call: Call[Any] = Call(request=Request(scope), params=NoParams(), raw={}, conn=conn,
                               hub=api.hub, username=username, token=token)  # fmt: skip
        return dict(await _handle(endpoint, call)), call


async def reads_the_caller(call: Call[Any]) -> dict[str, Any]:
    row = await call.conn.one(_NAME, user=call.caller_id)  # checks the login too
    return {"cellphone": row.cellphone if row is not None else None, "me": call.me.id}


async def fails_first(call: Call[Any]) -> dict[str, Any]:
    raise BadThing


async def touches_nothing(call: Call[Any]) -> dict[str, Any]:
    return {}


async def test_the_first_statement_checks_the_login(api: Api) -> None:
    data = await api.register_active(PHONE)
    body, call = await run(api, reads_the_caller, token=data["token"])
    assert body == {"cellphone": PHONE, "me": data["id"]}
    assert call.user is not None and call.user.cellphone == PHONE
    with pytest.raises(NotLoggedIn):
        await run(api, reads_the_caller, token="x" * 32)


async def test_not_login_wins_over_the_handlers_own_error(api: Api) -> None:
    data = await api.register_active(PHONE)
    with pytest.raises(BadThing):
        await run(api, fails_first, token=data["token"])
    with pytest.raises(NotLoggedIn):
        await run(api, fails_first, token="x" * 32)
    with pytest.raises(NotLoggedIn):  # not a cellphone: nothing to look up
        await run(api, fails_first, token=data["token"], username="nobody")


async def test_a_handler_without_statements_still_needs_a_login(api: Api) -> None:
    data = await api.register_active(PHONE)
    body, call = await run(api, touches_nothing, token=data["token"])
    assert body == {} and call.user is not None and call.user.id == data["id"]
    with pytest.raises(NotLoggedIn):
        await run(api, touches_nothing, token="x" * 32)
