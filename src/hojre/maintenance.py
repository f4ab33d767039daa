"""Housekeeping every server process runs in the background: what expired is deleted (idle
tokens, closed throttle windows, uploads nobody used)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hojre.accounts.service import purge_idle_tokens
from hojre.core.hub import Hub

log = logging.getLogger("hojre.maintenance")

EVERY_SECONDS = 3600.0


async def sweep(hub: Hub) -> tuple[int, int]:
    """Delete idle tokens and closed throttle windows: (tokens, windows)."""
    async with hub.db.raw.connect(write=True) as conn:
        tokens = await purge_idle_tokens(conn, hub)
        windows = await hub.limiter.purge(conn)
    return tokens, windows


async def run(hub: Hub, stop: asyncio.Event, every: float = EVERY_SECONDS) -> None:
    """Sweep now and then every ``every`` seconds until ``stop`` is set (several processes
    sweeping at once only delete the same rows)."""
    while not stop.is_set():
        try:
            tokens, windows = await sweep(hub)
            if tokens or windows:
                log.info("swept %s idle tokens and %s closed throttle windows", tokens, windows)
        except Exception:
            log.exception("maintenance sweep failed")
        try:
            uploads = await hub.media.collect()
            if uploads:
                log.info("removed %s unused uploads", uploads)
        except Exception:
            log.exception("upload garbage collection failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
