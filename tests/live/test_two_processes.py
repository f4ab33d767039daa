"""Two ``hojre serve`` processes on one PostgreSQL database and one Redis: an event published
by process A (or by any other process, such as an admin tool) reaches a socket held by B."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from hojre.accounts.models import Role
from hojre.core.hub import Hub
from hojre.messaging.service import create_broadcast
from hojre.web_v1 import live
from tests.conftest import build_hub, make_settings
from tests.live.conftest import (
    PASSWORD,
    Shop,
    close_code,
    make_shop,
    next_event,
    open_socket,
    wait_for_event,
)

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis_hub(pg_url: str, redis_url: str, sms_file: Path) -> AsyncIterator[Hub]:
    """This test's own process: writes the data, and publishes through Redis like a server."""
    async for hub in build_hub(make_settings(pg_url, sms_file, redis_url=redis_url)):
        yield hub


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[dict[str, IO[str]]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context((tmp_path / f"{name}.log").open("w+")) for name in "AB"}


@contextlib.asynccontextmanager
async def hojre_serve(env: dict[str, str], log: IO[str]) -> AsyncIterator[str]:
    """A ``hojre serve`` subprocess; yields its base URL, always terminates it."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hojre", "serve", "--port", str(port),
        env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=1) as http, asyncio.timeout(30):
            while True:
                try:
                    if (await http.get("/web/ping")).status_code == 200:
                        break
                except httpx.TransportError:
                    if proc.returncode is not None:
                        raise
                    await asyncio.sleep(0.1)
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def login(http: httpx.AsyncClient, cellphone: str) -> str:
    body = await http.post("/web/user/login", data={"username": cellphone, "password": PASSWORD})
    assert body.json()["message"] == "Login Success", body.text
    token: str = body.json()["data"]["token"]
    return token


async def post(http: httpx.AsyncClient, path: str, **data: Any) -> Any:
    return (await http.post("/web" + path, data=data)).json()


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/web/live"


async def test_events_cross_processes_through_redis(
    redis_hub: Hub, pg_url: str, redis_url: str, tmp_path: Path, logs: dict[str, IO[str]]
) -> None:
    shop: Shop = await make_shop(redis_hub)
    env = {
        **os.environ,
        "HOJRE_DATABASE_URL": pg_url,
        "HOJRE_REDIS_URL": redis_url,
        "HOJRE_SMS_BACKEND": f"file:{tmp_path / 'sms.jsonl'}",
        "HOJRE_RUN_BACKGROUND_TASKS": "false",
    }
    async with (
        hojre_serve(env, logs["A"]) as a,
        hojre_serve(env, logs["B"]) as b,
        httpx.AsyncClient(base_url=a, timeout=10) as http,
    ):
        customer = await login(http, shop.customer_phone)
        other_device = await login(http, shop.customer_phone)
        seller = await login(http, shop.seller_phone)
        started = await post(http, "/user/start-chat", username=shop.customer_phone,
                             token=customer, store=shop.store_id)  # fmt: skip
        assert started["message"] == "Chat Started", started
        chat = started["data"]["id"]

        async with open_socket(ws_url(b), username=shop.customer_phone, token=customer) as ws:
            assert await next_event(ws) == {"type": "hello", "data": {"user": shop.customer_id}}
            sent = await post(http, "/user/send-chat-message", username=shop.seller_phone,
                              token=seller, id=chat, text="از فرایند A")  # fmt: skip
            assert sent["message"] == "Message Sent", sent
            event = await wait_for_event(ws, "chat.message", id=sent["data"]["id"])
            assert event["data"]["text"] == "از فرایند A"

            # Published by a third process (this one), heard by B.
            async with redis_hub.db.raw.connect(write=True) as conn:
                made = await create_broadcast(
                    conn, redis_hub.events, title="حراج", text="تخفیف", role=Role.customer
                )
            await wait_for_event(ws, "broadcast.new", id=made.id)

            # The password changed through A from another device: B closes this socket.
            changed = await post(http, "/user/change-password", username=shop.customer_phone,
                                 token=other_device, oldPassword=PASSWORD,
                                 newPassword="another1")  # fmt: skip
            assert changed["message"] == "Password Changed", changed
            assert await close_code(ws) == live.NOT_LOGGED_IN

    outputs = {}
    for name, log in logs.items():
        log.seek(0)
        outputs[name] = log.read()
        assert "Traceback" not in outputs[name], outputs[name]
        assert customer not in outputs[name], outputs[name]
    # B logged the socket's URL, with its token redacted.
    assert f"/web/live?username={shop.customer_phone}&token=[redacted]" in outputs["B"]
