"""A store's physical and virtual customers: filled in by the customers slice."""

from __future__ import annotations

from hojre.accounts.schemas import Location
from hojre.accounts.service import Caller
from hojre.core.hub import Hub
from hojre.core.sql import Conn


def note_location(tx: Conn, hub: Hub, *, user: Caller, where: Location) -> None:
    """A location the user reported: a visit of every store within the radius (after commit)."""
