"""One place for time, so that tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


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


_CUTOFFS: dict[float, tuple[float, datetime]] = {}


def ago(seconds: float) -> datetime:
    """``utcnow() - seconds``, to the second: computed at most once a second per distance,
    for checks that every request makes (is this token idle?)."""
    tick = time.monotonic()
    cached = _CUTOFFS.get(seconds)
    if cached is not None and cached[0] > tick:
        return cached[1]
    value = utcnow() - timedelta(seconds=seconds)
    _CUTOFFS[seconds] = (tick + 1.0, value)
    return value
