"""SQLite: the write-ahead log is copied into the database file beside the writer.

SQLite checkpoints inside the commit that takes the log past its automatic-checkpoint
size: that writer copies the log's pages into the database file and syncs the file
(an ``fdatasync``) while it holds the write lock, and every write queued behind it
waits. At SQLite's default of 1,000 pages a busy chat server did that a few times a
second; in a profile it was a sixth of the writer thread's time.

So a store's writing connections checkpoint automatically only every
``WRITER_AUTOCHECKPOINT_PAGES``, and this thread, on a connection of its own, asks for
a PASSIVE checkpoint shortly after commits: it copies what the log holds while the
writer goes on (it neither waits for nor blocks readers and writers). When the
writer's own checkpoint comes, little is left to copy. The writer's checkpoint stays
because it is what rewinds the log: SQLite starts the log over only at a write that
finds every page of it copied, and under writes that never pause a checkpoint from
beside the writer always finishes a commit or two behind.

Durability is unchanged: with ``synchronous=NORMAL`` a commit is in the log when it
returns and recovery replays the log; a checkpoint only moves pages.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

#: The writing connections' automatic checkpoint, in pages (16 MiB of log at 4 KiB).
WRITER_AUTOCHECKPOINT_PAGES = 4000
#: How long the commits of a busy moment gather before the next checkpoint.
CHECKPOINT_INTERVAL_SECONDS = 0.05
#: With no commit for this long the thread ends (the next commit starts another).
IDLE_SECONDS = 30.0


class WalCheckpointer:
    """One database file's checkpoints, in a daemon thread that commits wake."""

    def __init__(
        self,
        database: str,
        *,
        busy_timeout_seconds: float,
        interval_seconds: float = CHECKPOINT_INTERVAL_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.database = database
        self.busy_timeout_seconds = busy_timeout_seconds
        self.interval_seconds = interval_seconds
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def committed(self) -> None:
        """A transaction was committed: checkpoint soon."""
        with self._lock:
            self._wake.set()
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the thread, after the checkpoint under way if there is one (the last
        connection to the file to close checkpoints what is left: SQLite does that)."""
        with self._lock:
            self._closed.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(
                self.database, timeout=self.busy_timeout_seconds, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            self._failed(error)
            with self._lock:
                self._thread = None  # the next commit tries again
            return
        try:
            while not self._closed.is_set():
                if not self._wake.wait(self.idle_seconds):
                    with self._lock:
                        if not self._wake.is_set():  # else a commit came just now: go on
                            self._thread = None
                            return
                    continue
                if self._closed.is_set():
                    return
                self._wake.clear()
                self._checkpoint(connection)
                self._closed.wait(self.interval_seconds)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        """A PASSIVE checkpoint; a failure is said once per run of failures (the next
        commit tries again). Another checkpoint under way is no failure: it copies."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:
            self._failed(error)
            return
        self._failing = False

    def _failed(self, error: sqlite3.Error) -> None:
        if not self._failing:
            log.warning("checkpointing %s failed: %s", self.database, error)
        self._failing = True
