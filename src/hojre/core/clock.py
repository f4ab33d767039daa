"""One place for time, so that tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def unix_now() -> int:
    return int(time.time())


def to_unix(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite returns naive datetimes; they are stored as UTC.
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
