"""The SMS outbox: written with the caller's transaction, delivered after commit, never lost,
never sent twice, never failing the request."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.sms.backends import OutgoingSms, SmsError
from hojre.sms.models import SmsMessage, SmsStatus
from hojre.sms.service import Outbox
from tests.conftest import Api

pytestmark = pytest.mark.anyio

TO = "09121234567"
TEXT = "Hojrenama activation code: 4821"


class Boom(Exception):
    """The caller's own failure, after it enqueued the message."""


class FakeGateway:
    """Records what it sends. ``failures`` scripts the next calls: an exception to raise."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.failures: list[BaseException] = []
        self.calls: list[OutgoingSms] = []
        self.sent: list[OutgoingSms] = []
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None  # when set, each send waits for it
        self.finished = False

    async def send(self, sms: OutgoingSms) -> str | None:
        self.calls.append(sms)
        self.started.set()
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.gate is not None:
                await self.gate.wait()
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(sms)
            return f"gw-{len(self.sent)}"
        finally:
            self.finished = True

    async def aclose(self) -> None:
        return None


def outbox_with(hub: Hub, gateway: FakeGateway, **overrides: Any) -> Outbox:
    settings = hub.settings.model_copy(update=overrides) if overrides else hub.settings
    return Outbox(hub.db, gateway, settings)


async def enqueue(outbox: Outbox, *, to: str = TO, text: str = TEXT, code: str = "4821") -> int:
    async with outbox.db.raw.connect(write=True) as conn:
        return await outbox.enqueue(conn, to=to, text=text, kind="activation", code=code)


async def insert_row(hub: Hub, **values: Any) -> int:
    """A row as another process (or a crashed one) left it; no delivery is kicked."""
    row = {"kind": "activation", "to": TO, "text": TEXT, "code": "4821", **values}
    async with hub.db.unit_of_work(write=True) as session:
        message_id = await session.scalar(insert(SmsMessage).values(**row).returning(SmsMessage.id))
    assert message_id is not None
    return int(message_id)


async def get_row(hub: Hub, message_id: int) -> SmsMessage:
    async with hub.db.unit_of_work(write=False) as session:
        row = await session.scalar(select(SmsMessage).where(SmsMessage.id == message_id))
    assert row is not None
    return row


async def count_rows(hub: Hub) -> int:
    async with hub.db.unit_of_work(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(SmsMessage)) or 0)


async def make_due(hub: Hub, message_id: int) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def file_lines(sms_file: Path) -> list[dict[str, Any]]:
    if not sms_file.exists():
        return []
    return [json.loads(line) for line in sms_file.read_text().splitlines()]


# -- transactional enqueue ------------------------------------------------------------------


async def test_committed_message_is_delivered_once_and_its_secrets_cleared(
    hub: Hub, sms_file: Path
) -> None:
    message_id = await enqueue(hub.outbox)
    # The row is there as soon as the transaction committed, whatever delivery is doing.
    assert (await get_row(hub, message_id)).to == TO
    await hub.outbox.drain()
    lines = file_lines(sms_file)
    assert len(lines) == 1
    assert {k: lines[0][k] for k in ("to", "text", "code")} == {
        "to": TO,
        "text": TEXT,
        "code": "4821",
    }
    assert lines[0]["key"] == f"hojre-sms-{message_id}"
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.sent, 1)
    assert row.text is None and row.code is None
    assert row.sent_at is not None and row.claimed_until is None
    # Nothing is due any more: a sweep sends nothing.
    assert await hub.outbox.deliver_due() == 0
    assert len(file_lines(sms_file)) == 1


async def test_rolled_back_message_is_neither_stored_nor_sent(hub: Hub, sms_file: Path) -> None:
    with pytest.raises(Boom):
        async with hub.db.raw.connect(write=True) as conn:
            await hub.outbox.enqueue(conn, to=TO, text=TEXT, kind="activation", code="4821")
            raise Boom
    await hub.outbox.drain()
    assert await count_rows(hub) == 0
    assert await hub.outbox.deliver_due() == 0
    assert file_lines(sms_file) == []


# -- a failing gateway ----------------------------------------------------------------------


async def test_failing_gateway_keeps_the_row_for_a_later_retry(hub: Hub) -> None:
    gateway = FakeGateway()
    gateway.failures.append(SmsError("gateway down"))
    outbox = outbox_with(hub, gateway)
    before = utcnow()
    message_id = await enqueue(outbox)  # the request's transaction does not fail
    await outbox.drain()
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts, row.last_error) == (SmsStatus.pending, 1, "gateway down")
    assert row.next_attempt_at > before + timedelta(seconds=1)
    assert row.text == TEXT and row.code == "4821" and row.claimed_until is None
    # Not due yet.
    assert await outbox.deliver_due() == 0
    await make_due(hub, message_id)
    assert await outbox.deliver_due() == 1
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts, row.gateway_id) == (SmsStatus.sent, 2, "gw-1")
    assert [sms.key for sms in gateway.calls] == [f"hojre-sms-{message_id}"] * 2
    assert len(gateway.sent) == 1
    assert await outbox.deliver_due() == 0


async def test_gives_up_after_the_maximum_attempts(hub: Hub) -> None:
    gateway = FakeGateway()
    gateway.failures.extend(SmsError(f"down {n}") for n in range(5))
    outbox = outbox_with(hub, gateway, sms_max_attempts=3)
    message_id = await enqueue(outbox)
    await outbox.drain()
    for attempts in (2, 3):
        await make_due(hub, message_id)
        assert await outbox.deliver_due() == 1
        row = await get_row(hub, message_id)
        assert row.attempts == attempts
    assert (row.status, row.last_error) == (SmsStatus.failed, "down 2")
    await make_due(hub, message_id)
    assert await outbox.deliver_due() == 0
    assert len(gateway.calls) == 3 and gateway.sent == []


async def test_a_permanent_error_fails_the_row_at_once(hub: Hub) -> None:
    gateway = FakeGateway()
    gateway.failures.append(SmsError("invalid receptor", permanent=True))
    outbox = outbox_with(hub, gateway)
    message_id = await enqueue(outbox)
    await outbox.drain()
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.failed, 1)
    await make_due(hub, message_id)
    assert await outbox.deliver_due() == 0
    assert len(gateway.calls) == 1


async def test_an_unexpected_backend_error_requeues_the_row_and_spares_the_others(
    hub: Hub,
) -> None:
    gateway = FakeGateway()
    gateway.failures.append(RuntimeError("bug in a backend"))
    outbox = outbox_with(hub, gateway)
    first = await insert_row(hub)
    second = await insert_row(hub, to="09129999999")
    assert await outbox.deliver_due() == 2
    row = await get_row(hub, first)
    assert (row.status, row.attempts, row.claimed_until) == (SmsStatus.pending, 1, None)
    assert row.last_error == "bug in a backend"
    assert (await get_row(hub, second)).status == SmsStatus.sent
    await make_due(hub, first)
    assert await outbox.deliver_due() == 1
    assert (await get_row(hub, first)).status == SmsStatus.sent
    assert sorted(sms.to for sms in gateway.sent) == ["09121234567", "09129999999"]


async def test_a_failing_gateway_never_fails_the_request(api: Api) -> None:
    gateway = FakeGateway()
    gateway.failures.append(SmsError("gateway down"))
    api.hub.outbox.backend = gateway
    body = await api.post("/user/register", username=TO, password="secret1")
    assert body["status"] == "success", body
    await api.hub.outbox.drain()
    async with api.hub.db.unit_of_work(write=False) as session:
        rows = list((await session.scalars(select(SmsMessage))).all())
    assert [(r.to, r.status, r.attempts) for r in rows] == [(TO, SmsStatus.pending, 1)]
    assert rows[0].code is not None  # kept for the retry
    assert len(gateway.calls) == 1


# -- a slow gateway -------------------------------------------------------------------------


async def test_a_slow_gateway_does_not_hold_the_commit_and_loses_nothing(hub: Hub) -> None:
    gateway = FakeGateway(delay=30)
    outbox = outbox_with(hub, gateway, sms_timeout_seconds=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    message_id = await enqueue(outbox)
    elapsed = loop.time() - started
    # The unit of work returned while the gateway call had not even finished.
    assert not gateway.finished
    assert elapsed < 5
    await asyncio.wait_for(gateway.started.wait(), timeout=5)
    await asyncio.wait_for(outbox.drain(), timeout=5)  # the outbox bounds the call
    assert gateway.finished and gateway.sent == []
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts, row.last_error) == (SmsStatus.pending, 1, "TimeoutError")
    assert row.text == TEXT
    gateway.delay = 0
    await make_due(hub, message_id)
    assert await outbox.deliver_due() == 1
    assert (await get_row(hub, message_id)).status == SmsStatus.sent
    assert len(gateway.sent) == 1


# -- never twice ----------------------------------------------------------------------------


async def test_concurrent_deliveries_of_one_row_send_it_once(hub: Hub) -> None:
    gateway = FakeGateway(delay=0.05)
    outbox = outbox_with(hub, gateway)
    message_id = await insert_row(hub)
    await asyncio.wait_for(
        asyncio.gather(outbox.deliver([message_id]), outbox.deliver([message_id])), timeout=10
    )
    assert [sms.key for sms in gateway.sent] == [f"hojre-sms-{message_id}"]
    row = await get_row(hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.sent, 1)


async def test_concurrent_sweepers_send_each_row_once(hub: Hub) -> None:
    gateway = FakeGateway(delay=0.005)
    # Two "processes": separate outboxes sharing the database.
    first, second = outbox_with(hub, gateway), outbox_with(hub, gateway)
    ids = [await insert_row(hub, to=f"0912000{n:04d}") for n in range(12)]
    await asyncio.wait_for(
        asyncio.gather(first.deliver_due(), second.deliver_due(), first.deliver_due()),
        timeout=20,
    )
    assert sorted(sms.local_id or 0 for sms in gateway.sent) == ids
    async with hub.db.unit_of_work(write=False) as session:
        statuses = set((await session.scalars(select(SmsMessage.status))).all())
    assert statuses == {SmsStatus.sent}


async def test_a_crashed_claim_is_resent_with_the_same_key_after_its_lease(hub: Hub) -> None:
    gateway = FakeGateway()
    outbox = outbox_with(hub, gateway)
    past, future = utcnow() - timedelta(seconds=1), utcnow() + timedelta(seconds=60)
    crashed = await insert_row(hub, status=SmsStatus.sending, attempts=1, claimed_until=past)
    in_flight = await insert_row(hub, status=SmsStatus.sending, attempts=1, claimed_until=future)
    assert await outbox.deliver_due() == 1
    assert [sms.key for sms in gateway.sent] == [f"hojre-sms-{crashed}"]
    assert gateway.sent[0].local_id == crashed
    row = await get_row(hub, crashed)
    assert (row.status, row.attempts) == (SmsStatus.sent, 2)
    # A live claim belongs to the process that holds it.
    assert (await get_row(hub, in_flight)).status == SmsStatus.sending
    await outbox.deliver([in_flight])
    assert len(gateway.sent) == 1


async def test_a_stale_sender_does_not_overwrite_the_outcome_of_a_newer_claim(hub: Hub) -> None:
    """A's lease runs out mid-send and B re-claims; A's late failure must not undo B's send."""
    stale_gateway, fresh_gateway = FakeGateway(), FakeGateway()
    stale_gateway.gate, fresh_gateway.gate = asyncio.Event(), asyncio.Event()
    stale_gateway.failures.append(SmsError("late failure"))
    stale, fresh = outbox_with(hub, stale_gateway), outbox_with(hub, fresh_gateway)
    message_id = await insert_row(hub)
    stale_task = asyncio.create_task(stale.deliver([message_id]))
    await asyncio.wait_for(stale_gateway.started.wait(), timeout=5)
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    fresh_task = asyncio.create_task(fresh.deliver_due())
    await asyncio.wait_for(fresh_gateway.started.wait(), timeout=5)
    stale_gateway.gate.set()  # A fails while B is still sending
    await asyncio.wait_for(stale_task, timeout=5)
    fresh_gateway.gate.set()
    assert await asyncio.wait_for(fresh_task, timeout=5) == 1
    row = await get_row(hub, message_id)
    assert (row.status, row.gateway_id, row.attempts) == (SmsStatus.sent, "gw-1", 2)
    assert row.text is None
    await make_due(hub, message_id)
    assert await fresh.deliver_due() == 0
    assert len(fresh_gateway.sent) == 1


# -- the sweeper ----------------------------------------------------------------------------


async def test_the_sweeper_delivers_leftovers_and_stops(hub: Hub) -> None:
    gateway = FakeGateway()
    outbox = outbox_with(hub, gateway, outbox_poll_seconds=0.01)
    message_id = await insert_row(hub)
    stop = asyncio.Event()
    sweeper = asyncio.create_task(outbox.run_sweeper(stop))
    try:
        await asyncio.wait_for(gateway.started.wait(), timeout=5)
    finally:
        stop.set()  # the sweep in progress finishes, then the loop ends
        await asyncio.wait_for(sweeper, timeout=5)
    assert (await get_row(hub, message_id)).status == SmsStatus.sent
    assert len(gateway.sent) == 1
