"""The Kavenegar adapter against a fake Kavenegar on loopback: directly and through the outbox."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.sms.backends import KavenegarBackend, OutgoingSms, SmsError
from hojre.sms.models import SmsMessage, SmsStatus
from tests.conftest import build_hub, make_settings
from tests.sms.fake_kavenegar import FakeKavenegar, RunningFake

pytestmark = pytest.mark.anyio

API_KEY = "6B3A5C2D1E-K4V3N3G4R-S3CR3T"
TO = "09121234567"
# Small enough to keep the suite fast; the outbox bounds one send at four times this.
TIMEOUT = 0.3


@pytest.fixture
def kavenegar() -> Iterator[FakeKavenegar]:
    running = RunningFake(API_KEY)
    try:
        yield running.fake
    finally:
        running.stop()


@pytest.fixture
async def backend(kavenegar: FakeKavenegar) -> AsyncIterator[KavenegarBackend]:
    gateway = KavenegarBackend(
        api_key=API_KEY,
        base_url=kavenegar.url,
        sender="10004346",
        timeout=TIMEOUT,
        backoff=0.01,
    )
    try:
        yield gateway
    finally:
        await gateway.aclose()


@pytest.fixture
async def kave_hub(db_url: str, sms_file: Path, kavenegar: FakeKavenegar) -> AsyncIterator[Hub]:
    settings = make_settings(
        db_url,
        sms_file,
        sms_backend="kavenegar",
        kavenegar_api_key=API_KEY,
        kavenegar_base_url=kavenegar.url,
        kavenegar_sender="10004346",
        sms_timeout_seconds=TIMEOUT,
        sms_max_attempts=3,
    )
    async for hub in build_hub(settings):
        yield hub


def sms(number: int = 1, text: str = "کد: 1234") -> OutgoingSms:
    return OutgoingSms(
        key=f"hojre-sms-{number}", to=TO, text=text, kind="activation", code="1234", local_id=number
    )


def no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "expected some log output to check"
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
    assert API_KEY not in caplog.text


# -- the adapter ----------------------------------------------------------------------------


async def test_send_returns_the_message_id(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    assert await backend.send(sms(7)) == "70000001"
    assert kavenegar.paths == [f"/v1/{API_KEY}/sms/send.json"]
    assert kavenegar.requests == [
        {"receptor": TO, "message": "کد: 1234", "localid": "7", "sender": "10004346"}
    ]
    assert len(kavenegar.delivered) == 1


async def test_a_message_without_local_id_still_gets_a_stable_numeric_one(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    message = OutgoingSms(key="hojre-sms-9", to=TO, text="hi", kind="test")
    first = await backend.send(message)
    assert await backend.send(message) == first
    localids = [r["localid"] for r in kavenegar.requests]
    assert localids[0] == localids[1] and localids[0].isdigit()
    assert len(kavenegar.delivered) == 1


async def test_server_errors_are_retried_inside_the_adapter(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    kavenegar.fail_next(2, http_status=502)
    assert await backend.send(sms()) == "70000001"
    assert len(kavenegar.requests) == 3
    assert len(kavenegar.delivered) == 1


async def test_server_errors_beyond_the_retries_raise_a_retryable_error(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    kavenegar.fail_next(3, http_status=503)
    with pytest.raises(SmsError) as caught:
        await backend.send(sms())
    assert not caught.value.permanent
    assert "503" in str(caught.value)
    assert len(kavenegar.requests) == 3
    assert kavenegar.delivered == []


async def test_a_lost_answer_is_retried_and_the_gateway_drops_the_repeat(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    # The gateway sends the first request but its answer outlives the client's timeout.
    kavenegar.delay_next(TIMEOUT * 4)
    assert await backend.send(sms(3)) == "70000001"
    assert [r["localid"] for r in kavenegar.requests] == ["3", "3"]
    assert len(kavenegar.delivered) == 1


async def test_every_attempt_timing_out_raises_a_retryable_error(kavenegar: FakeKavenegar) -> None:
    for _ in range(3):
        kavenegar.delay_next(TIMEOUT * 4)
    # Every answer is held, so a short timeout cannot make this flaky; it only makes it fast.
    gateway = KavenegarBackend(
        api_key=API_KEY, base_url=kavenegar.url, sender=None, timeout=0.1, backoff=0.01
    )
    try:
        with pytest.raises(SmsError) as caught:
            await gateway.send(sms(3))
    finally:
        await gateway.aclose()
    assert not caught.value.permanent
    assert "Timeout" in str(caught.value)
    assert len(kavenegar.delivered) == 1  # what the gateway did send, it sent once


@pytest.mark.parametrize(("status", "permanent"), [(411, True), (401, False), (418, False)])
async def test_refusals_are_not_retried_inside_the_adapter(
    backend: KavenegarBackend, kavenegar: FakeKavenegar, status: int, permanent: bool
) -> None:
    kavenegar.refuse_next(status)
    with pytest.raises(SmsError) as caught:
        await backend.send(sms())
    assert caught.value.permanent is permanent
    assert str(status) in str(caught.value)
    assert len(kavenegar.requests) == 1
    assert kavenegar.delivered == []


async def test_an_unreadable_answer_is_a_retryable_error(
    backend: KavenegarBackend, kavenegar: FakeKavenegar
) -> None:
    kavenegar.answer_next(b"<html>maintenance</html>")
    with pytest.raises(SmsError, match="unreadable gateway answer") as caught:
        await backend.send(sms())
    assert not caught.value.permanent


@pytest.mark.parametrize("entries", [None, [], ["odd"], {"messageid": 5}])
async def test_an_accepted_message_with_odd_entries_is_still_sent(
    backend: KavenegarBackend, kavenegar: FakeKavenegar, entries: object
) -> None:
    kavenegar.answer_next({"return": {"status": 200, "message": "تایید شد"}, "entries": entries})
    assert await backend.send(sms()) is None
    assert len(kavenegar.requests) == 1


async def test_a_wrong_key_is_a_retryable_refusal(kavenegar: FakeKavenegar) -> None:
    gateway = KavenegarBackend(
        api_key="wrong", base_url=kavenegar.url, sender=None, timeout=TIMEOUT, backoff=0.01
    )
    try:
        with pytest.raises(SmsError) as caught:
            await gateway.send(sms())
    finally:
        await gateway.aclose()
    assert not caught.value.permanent
    assert "403" in str(caught.value)
    assert "sender" not in kavenegar.requests[0]


async def test_an_unreachable_gateway_is_a_retryable_transport_error(
    kavenegar: FakeKavenegar,
) -> None:
    running = RunningFake(API_KEY)
    url = running.fake.url
    running.stop()  # nothing listens on that port any more
    gateway = KavenegarBackend(
        api_key=API_KEY, base_url=url, sender=None, timeout=TIMEOUT, retries=1, backoff=0.01
    )
    try:
        with pytest.raises(SmsError, match="transport error") as caught:
            await gateway.send(sms())
    finally:
        await gateway.aclose()
    assert not caught.value.permanent


async def test_the_api_key_never_reaches_the_logs(
    backend: KavenegarBackend, kavenegar: FakeKavenegar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await backend.send(sms(1))
    kavenegar.fail_next(3)  # message 2: every attempt gets a 502
    kavenegar.refuse_next(401)  # message 3
    kavenegar.delay_next(TIMEOUT * 4)  # message 4: a timeout, then the retry
    errors: list[SmsError] = []
    for number in (2, 3, 4):
        try:
            await backend.send(sms(number))
        except SmsError as exc:
            errors.append(exc)
    assert len(errors) == 2
    for error in errors:
        assert API_KEY not in repr(error)
        assert error.__cause__ is None or API_KEY not in repr(error.__cause__)
    # httpx does log each request; the key in its URL is blanked.
    assert "HTTP Request: POST" in caplog.text
    assert "/v1/[redacted]/sms/send.json" in caplog.text
    no_key_in_logs(caplog)


# -- through the outbox ---------------------------------------------------------------------


async def enqueue(hub: Hub, text: str = "کد: 5678", code: str = "5678") -> int:
    async with hub.db.raw.connect(write=True) as conn:
        return await hub.outbox.enqueue(conn, to=TO, text=text, kind="activation", code=code)


async def get_row(hub: Hub, message_id: int) -> SmsMessage:
    async with hub.db.unit_of_work(write=False) as session:
        row = await session.scalar(select(SmsMessage).where(SmsMessage.id == message_id))
    assert row is not None
    return row


async def make_due(hub: Hub, message_id: int) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def test_outbox_delivery_records_the_gateway_id(
    kave_hub: Hub, kavenegar: FakeKavenegar
) -> None:
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts, row.gateway_id) == (SmsStatus.sent, 1, "70000001")
    assert row.text is None and row.code is None
    assert kavenegar.delivered[0]["localid"] == str(message_id)
    assert kavenegar.delivered[0]["message"] == "کد: 5678"
    assert len(kavenegar.delivered) == 1


async def test_outbox_a_bad_gateway_then_success_delivers_once(
    kave_hub: Hub, kavenegar: FakeKavenegar
) -> None:
    kavenegar.fail_next(1, http_status=502)
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.sent, 1)  # one outbox attempt
    assert len(kavenegar.requests) == 2
    assert len(kavenegar.delivered) == 1


async def test_outbox_a_timeout_then_the_retry_delivers_once(
    kave_hub: Hub, kavenegar: FakeKavenegar
) -> None:
    kavenegar.delay_next(TIMEOUT * 4)
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.gateway_id) == (SmsStatus.sent, "70000001")
    assert len(kavenegar.requests) == 2
    assert len(kavenegar.delivered) == 1


async def test_outbox_retry_after_a_lost_answer_is_not_sent_again(
    kave_hub: Hub, kavenegar: FakeKavenegar
) -> None:
    # The first delivery's answers are lost (the gateway did send it): after two timed-out
    # requests and the adapter's backoff, the outbox's own bound (4 x timeout) ends it.
    kavenegar.delay_next(TIMEOUT * 4)
    kavenegar.delay_next(TIMEOUT * 4)
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.pending, 1)
    assert row.text == "کد: 5678"  # kept for the retry
    await make_due(kave_hub, message_id)
    assert await kave_hub.outbox.deliver_due() == 1
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts, row.gateway_id) == (SmsStatus.sent, 2, "70000001")
    assert {r["localid"] for r in kavenegar.requests} == {str(message_id)}
    assert len(kavenegar.delivered) == 1


async def test_outbox_an_invalid_receptor_fails_the_row_for_good(
    kave_hub: Hub, kavenegar: FakeKavenegar
) -> None:
    kavenegar.refuse_next(411)
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.failed, 1)
    assert row.last_error == "gateway refused: 411"
    await make_due(kave_hub, message_id)
    assert await kave_hub.outbox.deliver_due() == 0
    assert len(kavenegar.requests) == 1
    assert kavenegar.delivered == []


async def test_outbox_a_refused_key_is_retried_later(
    kave_hub: Hub, kavenegar: FakeKavenegar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kavenegar.refuse_next(401)
    message_id = await enqueue(kave_hub)
    await kave_hub.outbox.drain()
    row = await get_row(kave_hub, message_id)
    assert (row.status, row.attempts) == (SmsStatus.pending, 1)
    assert row.next_attempt_at > utcnow()
    assert len(kavenegar.requests) == 1  # no retry inside the adapter for a refusal
    # Once the account is fixed, the sweeper sends it.
    await make_due(kave_hub, message_id)
    assert await kave_hub.outbox.deliver_due() == 1
    row = await get_row(kave_hub, message_id)
    assert row.status == SmsStatus.sent
    assert len(kavenegar.delivered) == 1
    assert "gateway refused: 401" in caplog.text
    no_key_in_logs(caplog)
