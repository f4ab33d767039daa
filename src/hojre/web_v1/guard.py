"""What every HTTP request passes before any endpoint: a bounded body and safe headers."""

from __future__ import annotations


class BodyTooLarge(Exception):
    """The request body grew past its limit while streaming in (answered 413 by the guard)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit
