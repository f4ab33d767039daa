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
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, bindparam, insert, or_, select, update

from hojre.core.clock import utcnow
from hojre.core.db import Database, UTCDateTime
from hojre.core.errors import TooManyAttempts
from hojre.core.metrics import SMS_QUEUED, SMS_REFUSED
from hojre.core.ratelimit import DatabaseRateLimiter, RateLimiter, Window
from hojre.core.settings import Settings
from hojre.core.sql import Conn, Query
from hojre.sms.backends import OutgoingSms, SmsBackend, SmsError
from hojre.sms.models import SmsMessage, SmsStatus

log = logging.getLogger("hojre.sms")


def idempotency_key(message_id: int) -> str:
    return f"hojre-sms-{message_id}"


class _Claimed(NamedTuple):
    id: int
    to: str
    text: str
    kind: str
    code: str | None
    attempts: int
    lease: datetime  # identifies this claim; a later re-claim of the row sets a new one


class SmsCeilingReached(TooManyAttempts):
    """The deployment's SMS for today are spent (``HOJRE_SMS_DAILY_CEILING``)."""


_ENQUEUE = Query(
    insert(SmsMessage)
    .values(to=bindparam("to_"), text=bindparam("text_"), kind=bindparam("kind_"),
            code=bindparam("code_", type_=String), status=SmsStatus.pending, attempts=0,
            next_attempt_at=bindparam("now"), created_at=bindparam("now"))
    .returning(SmsMessage.id)
)  # fmt: skip


def _due() -> ColumnElement[bool]:
    now = bindparam("now", type_=UTCDateTime())
    return or_(
        (SmsMessage.status == SmsStatus.pending) & (SmsMessage.next_attempt_at <= now),
        (SmsMessage.status == SmsStatus.sending) & (SmsMessage.claimed_until < now),
    )


_DUE = Query(select(SmsMessage.id).where(_due()).order_by(SmsMessage.id).limit(bindparam("limit")))
_MESSAGE = SmsMessage.id == bindparam("message_id")
_CLAIM = Query(
    update(SmsMessage)
    .where(_MESSAGE, _due())
    .values(status=SmsStatus.sending, attempts=SmsMessage.attempts + 1,
            claimed_until=bindparam("lease", type_=UTCDateTime()))
    .returning(SmsMessage.id, SmsMessage.to, SmsMessage.text, SmsMessage.kind,
               SmsMessage.code, SmsMessage.attempts)
)  # fmt: skip
_OURS = (
    _MESSAGE,
    SmsMessage.status == SmsStatus.sending,
    SmsMessage.claimed_until == bindparam("lease", type_=UTCDateTime()),
)
# What a send attempt ends in, by the status it leaves: sent (the secret cleared), or back to
# pending / failed with the error and the next attempt's time.
_OUTCOMES = {
    SmsStatus.sent: Query(
        update(SmsMessage).where(*_OURS).values(
            status=bindparam("status"), sent_at=bindparam("sent_at", type_=UTCDateTime()),
            gateway_id=bindparam("gateway_id"), claimed_until=None, text=None, code=None)
    ),
    **{
        status: Query(
            update(SmsMessage).where(*_OURS).values(
                status=bindparam("status"), claimed_until=None,
                next_attempt_at=bindparam("next_attempt_at", type_=UTCDateTime()),
                last_error=bindparam("last_error"))
        )
        for status in (SmsStatus.pending, SmsStatus.failed)
    },
}  # fmt: skip


class Outbox:
    def __init__(
        self,
        db: Database,
        backend: SmsBackend,
        settings: Settings,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.db = db
        self.backend = backend
        self.settings = settings
        self.limiter: RateLimiter = limiter or DatabaseRateLimiter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._alerted: date | None = None

    async def enqueue(
        self, conn: Conn, *, to: str, text: str, kind: str, code: str | None = None
    ) -> int:
        """Write the message in the caller's transaction; deliver once it has committed.

        Every SMS of the deployment counts against the day's ceiling: past it the message is
        refused (:class:`SmsCeilingReached`), logged at ERROR once and counted in the metrics,
        so that a pumping attack costs at most one day's budget.
        """
        now = utcnow()
        ceiling = self.settings.sms_daily_ceiling
        # A window per UTC day, kept a day longer than the day so it never closes early.
        [sent] = await self.limiter.hit(conn, [Window(f"sms-day:{now:%Y-%m-%d}", 2 * 86400)])
        if sent > ceiling:
            SMS_REFUSED.labels("global_daily").inc()
            if self._alerted != now.date():  # once a day per process, not once per refusal
                self._alerted = now.date()
                log.error("SMS daily ceiling of %s reached: no more SMS today", ceiling)
            raise SmsCeilingReached("sms_daily_ceiling")
        row = await conn.one(_ENQUEUE, to_=to, text_=text, kind_=kind, code_=code, now=now)
        assert row is not None  # INSERT … RETURNING
        message_id = int(row[0])
        SMS_QUEUED.labels(kind).inc()

        async def kick() -> None:
            self._spawn(self._deliver_in_background([message_id]))

        conn.on_commit(kick)
        return message_id

    async def _deliver_in_background(self, ids: Sequence[int]) -> None:
        # Nobody awaits this task's result; unlogged, a database error here would vanish.
        # The row itself is safe: the sweeper retries it.
        try:
            await self.deliver(ids)
        except Exception:
            log.exception("SMS delivery after commit failed; the sweeper will retry")

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
        async with self.db.raw.connect(write=False) as conn:
            ids = [row[0] for row in await conn.all(_DUE, now=utcnow(), limit=limit)]
        if ids:
            await self.deliver(ids)
        return len(ids)

    async def deliver(self, ids: Sequence[int]) -> None:
        # Claim each row just before sending it: claiming a whole batch up front would let
        # the leases of its tail run out while the head is still being sent, and another
        # process would then send those rows as well.
        for message_id in ids:
            claimed = await self._claim(message_id)
            if claimed is not None:
                await self._send_one(claimed)

    async def _claim(self, message_id: int) -> _Claimed | None:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.sms_claim_lease_seconds)
        async with self.db.raw.connect(write=True) as conn:
            row = await conn.one(_CLAIM, message_id=message_id, now=now, lease=lease)
        if row is None:
            return None
        return _Claimed(row[0], row[1], row[2] or "", row[3], row[4], row[5], lease)

    async def _send_one(self, claimed: _Claimed) -> None:
        message_id, attempts = claimed.id, claimed.attempts
        sms = OutgoingSms(
            key=idempotency_key(message_id),
            to=claimed.to,
            text=claimed.text,
            kind=claimed.kind,
            code=claimed.code,
            local_id=message_id,
        )
        values: dict[str, object]
        try:
            gateway_id = await asyncio.wait_for(
                self.backend.send(sms), timeout=self.settings.sms_timeout_seconds * 4
            )
        except Exception as exc:
            # Whatever went wrong (a gateway error, a timeout, a bug in a backend), the row
            # must not stay claimed until its lease runs out: it goes back to the queue, and
            # the retry's idempotency key keeps a send that did happen from repeating.
            permanent = isinstance(exc, SmsError) and exc.permanent
            give_up = permanent or attempts >= self.settings.sms_max_attempts
            if isinstance(exc, SmsError | TimeoutError):
                log.warning("SMS %s attempt %s failed: %s", message_id, attempts, exc)
            else:
                log.exception("SMS %s attempt %s failed unexpectedly", message_id, attempts)
            values = {
                "status": SmsStatus.failed if give_up else SmsStatus.pending,
                "next_attempt_at": utcnow() + timedelta(seconds=min(2**attempts, 600)),
                "last_error": str(exc)[:500] or type(exc).__name__,
            }
        else:
            values = {
                "status": SmsStatus.sent,
                "sent_at": utcnow(),
                "gateway_id": gateway_id,
            }
        async with self.db.raw.connect(write=True) as conn:
            # Only our own claim: if the lease ran out and another sender re-claimed the
            # row, its outcome is the one that counts.
            outcome = _OUTCOMES[SmsStatus(str(values["status"]))]
            await conn.run(outcome, message_id=message_id, lease=claimed.lease, **values)

    async def run_sweeper(self, stop: asyncio.Event) -> None:
        """Background loop of each server process: retries and crash leftovers."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.outbox_poll_seconds)
