"""Whether a user is online (``onlineStatus`` of ``mysellers``): filled in by the sellers slice."""

from __future__ import annotations

from hojre.accounts.service import Caller
from hojre.core.hub import Hub
from hojre.core.sql import Conn


def note_seen(tx: Conn, hub: Hub, *, user: Caller) -> None:
    """Remember that the user made a request now (after the request commits)."""
