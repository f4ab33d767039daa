"""SQLite's WAL checkpoints in a thread of their own, off the request path.

SQLite's default checkpoints run in whichever connection's commit crosses 1000 pages of WAL:
inside a request, on the event loop, copying pages and waiting for two fsyncs. Hojre's request
connections turn that off (``PRAGMA wal_autocheckpoint=0``, see ``hojre.core.sql``) and each
process that opens them runs a :class:`Checkpointer`:

- Every ``interval`` a ``PASSIVE`` checkpoint copies what the WAL holds into the database
  file. It takes no lock that writers or readers wait for (SQLite's checkpoint lock only keeps
  two checkpoints apart), so it runs beside the requests. Its sqlite3 calls release the GIL.
- The next writer rewinds the WAL to its start once a checkpoint has copied all of it. Under a
  steady write load a passive checkpoint may never catch up between two transactions (the
  next one begins before its fsync returns) and the WAL would grow without end; so when it
  holds more than ``reset_frames`` frames, or the load has paused for ``idle_seconds``, the
  checkpointer takes the writers' cross-process lock (the ``-write-lock`` flock that request
  writers queue on) and runs a ``TRUNCATE`` checkpoint: the few frames the passive ones left,
  then the WAL emptied to zero bytes. Writers wait only for that tail, and never on SQLite's
  busy handler (which would sleep on the event loop).
- With several worker processes on one database file one checkpointer works at a time: the
  one whose process holds the ``-checkpoint-lock`` flock. The others try for it every tick,
  so when its process dies (``kill -9`` included: the kernel drops the flock) another one
  takes over within a tick. Two would be safe, as SQLite serialises checkpoints, but the
  second would only repeat the first one's fsyncs.

A checkpoint that dies half-way (its process killed) leaves nothing to repair: the WAL still
holds every committed frame and the next checkpoint copies them again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from typing import ClassVar

log = logging.getLogger(__name__)

THREAD_NAME = "hojre-sqlite-checkpoint"


class Checkpointer:
    """The checkpoints of one SQLite database file, from this process. :meth:`start` once,
    :meth:`stop` when the process's connections close (it waits for a checkpoint under way)."""

    # Class attributes, so tests can make the checkpointer quick without a parameter that
    # every caller would have to pass.
    interval: ClassVar[float] = 0.1  # s between passive checkpoints
    reset_frames: ClassVar[int] = 4000  # 16 MiB of 4 KiB pages: then empty the WAL
    idle_seconds: ClassVar[float] = 2.0  # no new frame for this long: empty the WAL

    def __init__(self, path: str) -> None:
        self.path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None
        self._leader_fd: int | None = None
        self.leading = False
        # What it did, for tests and logs: passive checkpoints run, WALs emptied.
        self.passive = 0
        self.truncated = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the checkpointer is running already")
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        # A checkpoint under way takes milliseconds. The bound is for one waiting on the
        # writers' lock held by a transaction of this very thread (closing mid-request):
        # joining would never return; the daemon thread ends once the lock is free.
        thread.join(timeout=5)
        if thread.is_alive():
            log.warning("SQLite checkpointer of %s still waiting for the writers", self.path)

    def _run(self) -> None:
        try:
            self._leader_fd = os.open(f"{self.path}-checkpoint-lock", os.O_RDWR | os.O_CREAT, 0o600)
            writers = os.open(f"{self.path}-write-lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            log.exception("SQLite checkpointer not started for %s", self.path)
            return
        last_frames = -1
        changed_at = time.monotonic()
        try:
            while not self._stop.wait(self.interval):
                if not self._lead():
                    continue
                try:
                    frames, copied = self._checkpoint("PASSIVE")
                    now = time.monotonic()
                    if frames != last_frames:
                        last_frames, changed_at = frames, now
                    idle = frames > 0 and copied == frames and now - changed_at >= self.idle_seconds
                    if frames > self.reset_frames or idle:
                        self._truncate(writers)
                        last_frames, changed_at = 0, now
                except sqlite3.Error:
                    # A database being replaced or removed under us (tests, bench resets):
                    # open a fresh connection at the next tick.
                    log.warning("SQLite checkpoint of %s failed", self.path, exc_info=True)
                    self._close_connection()
        finally:
            self._close_connection()
            os.close(writers)
            os.close(self._leader_fd)  # gives up the lead, if held
            self._leader_fd = None
            self.leading = False

    def _lead(self) -> bool:
        if not self.leading:
            assert self._leader_fd is not None
            try:
                fcntl.flock(self._leader_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self.leading = True
        return True

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            # timeout: how long a TRUNCATE waits for readers still in the old WAL (passive
            # checkpoints never wait); short, as the writers wait for it.
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0.05
            )
        return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()

    def _checkpoint(self, mode: str) -> tuple[int, int]:
        """(frames in the WAL, frames copied to the database); -1 when not in WAL mode."""
        row = self._conn().execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        if mode == "PASSIVE":
            self.passive += 1
        return int(row[1]), int(row[2])

    def _truncate(self, writers: int) -> None:
        # The writers' flock first: no write transaction runs or starts until the WAL is empty.
        # A reader still inside the old WAL makes the checkpoint answer busy (after the
        # connection's 50 ms busy timeout); the next tick tries again.
        fcntl.flock(writers, fcntl.LOCK_EX)
        try:
            busy = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            fcntl.flock(writers, fcntl.LOCK_UN)
        if not busy:
            self.truncated += 1
