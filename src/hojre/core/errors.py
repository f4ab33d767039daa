"""The one error hierarchy. Each class carries the v1 message (and data) the apps expect.

Services raise these; the v1 adapter turns them into ``{"status": "error", ...}`` envelopes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HojreError(Exception):
    message: ClassVar[str] = "Server Error"
    data: Any = ""
    # Most errors roll the request back. The few raised *after* a write that must survive
    # (a counted failed login, a spent activation-code try) keep the request's writes.
    keep_writes: ClassVar[bool] = False

    def __init__(self, message: str | None = None, data: Any = None) -> None:
        if message is not None:
            self.message = message  # type: ignore[misc]
        if data is not None:
            self.data = data
        super().__init__(self.message)


class ValidationFailed(HojreError):
    """One human-readable message per failed rule, sent as the envelope's ``data``."""

    message = "Server Error"

    def __init__(self, errors: list[str]) -> None:
        super().__init__(data=errors)
        self.errors = errors


class NotLoggedIn(HojreError):
    message = "not login"


class TooManyAttempts(HojreError):
    """A throttle said no. ``rule`` names it (metrics, logs); the apps only see the message."""

    message = "Too Many Attempts"

    def __init__(self, rule: str = "") -> None:
        super().__init__()
        self.rule = rule


def throttled(rule: str) -> TooManyAttempts:
    """The error for ``rule``, counted in the metrics."""
    from hojre.core.metrics import THROTTLED

    THROTTLED.labels(rule).inc()
    return TooManyAttempts(rule)


class NotFound(HojreError):
    message = "Not Found"
