"""The SMS outbox: enqueue in the caller's transaction, deliver after commit, retry, never twice.

Delivery claims a row with one atomic UPDATE before calling the gateway, so two processes (or
the request's kick and the sweeper) never send the same row at once. A process that dies after
claiming leaves a lease that expires; the retry reuses the row's idempotency key, which the
gateway uses to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.core.clock import utcnow
from hojre.core.db import Database, on_commit
from hojre.core.settings import Settings
from hojre.sms.backends import OutgoingSms, SmsBackend, SmsError
from hojre.sms.models import SmsMessage, SmsStatus

log = logging.getLogger("hojre.sms")


def idempotency_key(message_id: int) -> str:
    return f"hojre-sms-{message_id}"


class Outbox:
    def __init__(self, db: Database, backend: SmsBackend, settings: Settings) -> None:
        self.db = db
        self.backend = backend
        self.settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue(
        self, session: AsyncSession, *, to: str, text: str, kind: str, code: str | None = None
    ) -> SmsMessage:
        """Write the message in the caller's transaction; deliver once it has committed."""
        message = SmsMessage(to=to, text=text, kind=kind, code=code)
        session.add(message)
        await session.flush()
        message_id = message.id

        async def kick() -> None:
            self._spawn(self.deliver([message_id]))

        on_commit(session, kick)
        return message

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for deliveries started by requests (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def deliver_due(self, limit: int = 100) -> int:
        """Deliver what is due: new rows, retries, and claims whose lease ran out."""
        now = utcnow()
        async with self.db.unit_of_work(write=False) as session:
            ids = list(
                (
                    await session.execute(
                        select(SmsMessage.id)
                        .where(self._due(now))
                        .order_by(SmsMessage.id)
                        .limit(limit)
                    )
                ).scalars()
            )
        if ids:
            await self.deliver(ids)
        return len(ids)

    @staticmethod
    def _due(now: datetime) -> ColumnElement[bool]:
        return or_(
            (SmsMessage.status == SmsStatus.pending) & (SmsMessage.next_attempt_at <= now),
            (SmsMessage.status == SmsStatus.sending) & (SmsMessage.claimed_until < now),
        )

    async def deliver(self, ids: Sequence[int]) -> None:
        for message in await self._claim(ids):
            await self._send_one(message)

    async def _claim(self, ids: Sequence[int]) -> list[tuple[int, str, str, str, str | None, int]]:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.sms_claim_lease_seconds)
        stmt = (
            update(SmsMessage)
            .where(SmsMessage.id.in_(ids), self._due(now))
            .values(status=SmsStatus.sending, attempts=SmsMessage.attempts + 1, claimed_until=lease)
            .returning(
                SmsMessage.id,
                SmsMessage.to,
                SmsMessage.text,
                SmsMessage.kind,
                SmsMessage.code,
                SmsMessage.attempts,
            )
        )
        async with self.db.unit_of_work(write=True) as session:
            rows = (await session.execute(stmt)).all()
        return [(r[0], r[1], r[2] or "", r[3], r[4], r[5]) for r in rows]

    async def _send_one(self, claimed: tuple[int, str, str, str, str | None, int]) -> None:
        message_id, to, text, kind, code, attempts = claimed
        sms = OutgoingSms(key=idempotency_key(message_id), to=to, text=text, kind=kind, code=code)
        values: dict[str, object]
        try:
            gateway_id = await asyncio.wait_for(
                self.backend.send(sms), timeout=self.settings.sms_timeout_seconds * 4
            )
        except (SmsError, TimeoutError) as exc:
            permanent = isinstance(exc, SmsError) and exc.permanent
            give_up = permanent or attempts >= self.settings.sms_max_attempts
            log.warning("SMS %s attempt %s failed: %s", message_id, attempts, exc)
            values = {
                "status": SmsStatus.failed if give_up else SmsStatus.pending,
                "next_attempt_at": utcnow() + timedelta(seconds=min(2**attempts, 600)),
                "claimed_until": None,
                "last_error": str(exc)[:500] or type(exc).__name__,
            }
        else:
            values = {
                "status": SmsStatus.sent,
                "sent_at": utcnow(),
                "gateway_id": gateway_id,
                "claimed_until": None,
                "text": None,
                "code": None,
            }
        async with self.db.unit_of_work(write=True) as session:
            await session.execute(
                update(SmsMessage)
                .where(SmsMessage.id == message_id, SmsMessage.status == SmsStatus.sending)
                .values(**values)
            )

    async def run_sweeper(self, stop: asyncio.Event) -> None:
        """Background loop of each server process: retries and crash leftovers."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.outbox_poll_seconds)
