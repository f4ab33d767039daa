"""``hojre store approve|reject|pending``: the operator's word on a registered store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hojre.accounts.models import Role
from hojre.catalog.models import Status, Store
from hojre.cli import app
from hojre.core.db import Database
from hojre.core.migrate import upgrade_async
from hojre.core.settings import get_settings
from tests.factories import make_store, make_user

MANAGER = "09127770101"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite database with one pending store; the CLI's settings point at it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hojre.db'}"
    sms = tmp_path / "sms.jsonl"
    monkeypatch.setenv("HOJRE_DATABASE_URL", url)
    monkeypatch.setenv("HOJRE_SMS_BACKEND", f"file:{sms}")
    monkeypatch.setenv("HOJRE_REDIS_URL", "")
    get_settings.cache_clear()

    async def seed() -> None:
        await upgrade_async(url)
        db = Database(url)
        try:
            async with db.unit_of_work(write=True) as session:
                manager = await make_user(session, cellphone=MANAGER, role=Role.store_manager)
                await make_store(session, manager=manager, title="حجره کتاب",
                                 status=Status.pending, slug="cli-store")  # fmt: skip
        finally:
            await db.dispose()

    asyncio.run(seed())
    yield sms
    get_settings.cache_clear()


def store_status() -> str:
    async def read() -> str:
        db = Database(get_settings().database_url)
        try:
            async with db.unit_of_work(write=False) as session:
                store = await session.get(Store, 1)
                assert store is not None
                return store.status
        finally:
            await db.dispose()

    return asyncio.run(read())


def sms_sent(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pending_approve_and_reject(env: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["store", "pending"])
    assert listed.exit_code == 0, listed.output
    assert "حجره کتاب" in listed.output and MANAGER in listed.output

    approved = runner.invoke(app, ["store", "approve", "1"])
    assert approved.exit_code == 0, approved.output
    assert "pending → active" in approved.output and f"SMS to {MANAGER}" in approved.output
    assert store_status() == "active"
    [sms] = sms_sent(env)
    assert sms["to"] == MANAGER and sms["kind"] == "store_approved"
    assert "تأیید شد" in sms["text"]

    # Already active: exit 2, nothing sent.
    again = runner.invoke(app, ["store", "approve", "1"])
    assert again.exit_code == 2 and "store 1 is active" in again.output, again.output
    assert len(sms_sent(env)) == 1

    rejected = runner.invoke(app, ["store", "reject", "1", "--reason", "جواز خوانا نیست"])
    assert rejected.exit_code == 0, rejected.output
    assert "active → rejected" in rejected.output
    assert store_status() == "rejected"
    last = sms_sent(env)[-1]
    assert last["kind"] == "store_rejected" and "جواز خوانا نیست" in last["text"]

    twice = runner.invoke(app, ["store", "reject", "1", "--reason", "باز هم"])
    assert twice.exit_code == 2 and "store 1 is rejected" in twice.output, twice.output
    # Approval after a rejection.
    assert runner.invoke(app, ["store", "approve", "1"]).exit_code == 0
    assert store_status() == "active"


def test_no_such_store_and_a_reason_required(env: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["store", "approve", "999"])
    assert missing.exit_code == 2 and "no store 999" in missing.output, missing.output
    missing = runner.invoke(app, ["store", "reject", "999", "--reason", "x"])
    assert missing.exit_code == 2 and "no store 999" in missing.output, missing.output
    no_reason = runner.invoke(app, ["store", "reject", "1"])
    assert no_reason.exit_code == 2  # typer: a required option is missing
    blank = runner.invoke(app, ["store", "reject", "1", "--reason", "  "])
    assert blank.exit_code == 2
    assert store_status() == "pending" and sms_sent(env) == []
