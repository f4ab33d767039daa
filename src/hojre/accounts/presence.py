"""Whether a user is online (``onlineStatus`` of ``mysellers``, API.md §5).

A seller was last seen at the later of ``users.seen_at`` and their newest token's use (a login
issues a token used now, so a login is a sighting too). :func:`note_seen` moves ``seen_at``
at most once a minute, after the request and in its own short transaction, as
:func:`hojre.accounts.service.note_token_use` moves a token's use: a read stays a read, and
the minute after a login writes nothing at all. Online: seen within
``HOJRE_ONLINE_SECONDS`` (300).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Integer, bindparam, update

from hojre.accounts.models import Role, User
from hojre.accounts.service import Caller
from hojre.core.clock import ago, utcnow
from hojre.core.db import UTCDateTime
from hojre.core.hub import Hub
from hojre.core.sql import Conn, Query

# How often seen_at moves: the online window is judged to the minute.
SEEN_TOUCH_SECONDS: Final = 60.0

# Being seen is not an edit of the profile: updated_at stays.
_SEEN = Query(
    update(User)
    .where(User.id == bindparam("user_id", type_=Integer))
    .values(seen_at=bindparam("now", type_=UTCDateTime()), updated_at=User.updated_at)
)


def last_seen(seen_at: datetime | None, token_used_at: datetime | None) -> datetime | None:
    """When the user was last seen: the later of the two (None: never)."""
    moments = [m for m in (seen_at, token_used_at) if m is not None]
    return max(moments) if moments else None


def is_online(seen: datetime | None, window_seconds: float) -> bool:
    return seen is not None and seen > ago(window_seconds)


def note_seen(tx: Conn, hub: Hub, *, user: Caller) -> None:
    """Remember that a seller made a request now (after the request commits), unless they
    were seen in the last minute (judged on the login's row: no statement).

    Sellers only: theirs is the only presence anything shows (``mysellers``). Everybody's
    made a write transaction of nearly every read by a crowd of users each seen less than
    once a minute: the benchmark's ``GET /web/users`` on PostgreSQL, 20,000 users on the
    big dataset and 200 on the small one, went from 0.93 of the small's speed to 0.46."""
    if user.role != Role.seller:
        return
    seen = last_seen(user.seen_at, user.token_used_at)
    if seen is not None and seen > ago(SEEN_TOUCH_SECONDS):
        return
    user_id = user.id

    async def write() -> None:
        async with hub.db.raw.connect(write=True) as own:
            await own.run(_SEEN, user_id=user_id, now=utcnow())

    tx.on_commit(write)
