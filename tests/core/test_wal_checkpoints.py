"""SQLite's log is copied into the database file by a thread beside the writer
(``core.wal_checkpoints``); the writing connections' own checkpoint comes only every
``WRITER_AUTOCHECKPOINT_PAGES``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inbox_tui.core import conversations
from inbox_tui.core.store import Store
from inbox_tui.core.wal_checkpoints import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer


def _messages_in_the_file_alone(database: Path, scratch: Path) -> int | None:
    """The messages the database file holds by itself, without its log: what checkpoints
    copied. None when the copy was taken mid-checkpoint (torn): ask again."""
    copy = scratch / "file-alone.db"
    for leftover in (copy, scratch / "file-alone.db-wal", scratch / "file-alone.db-shm"):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(database, copy)  # the file only: no -wal beside the copy
    try:
        with contextlib.closing(sqlite3.connect(copy)) as connection:
            return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.DatabaseError:
        return None


def _wait_for_the_file_to_hold(database: Path, scratch: Path, expected: int, seconds: float = 10.0) -> int | None:
    deadline = time.monotonic() + seconds
    found = None
    while time.monotonic() < deadline:
        found = _messages_in_the_file_alone(database, scratch)
        if found == expected:
            return found
        time.sleep(0.05)
    return found


def _database_of(url: str) -> Path:
    return Path(url.split("///", 1)[1])


async def test_commits_reach_the_database_file_without_waiting_for_the_writer_checkpoint(
    database_url: str, tmp_path: Path
) -> None:
    """A few dozen commits are far below the writer's automatic checkpoint, so only the
    checkpoint thread can have copied them into the file (without it the file alone
    holds none of them until the log reaches 4,000 pages)."""
    store = Store(database_url)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    try:
        started = await conversations.start_conversation(store, channel="web", customer_id="c-1", name="Ada")
        for n in range(40):
            await conversations.record_customer_message(
                store, started.conversation.id, f"message {n}", client_id=f"m{n}"
            )
        database = _database_of(database_url)
        assert _wait_for_the_file_to_hold(database, scratch, 40) == 40
        wal = database.with_name(database.name + "-wal")
        assert wal.stat().st_size < WRITER_AUTOCHECKPOINT_PAGES * 4096  # the writer never got to checkpoint
    finally:
        await store.close()


async def test_writing_connections_checkpoint_by_themselves_only_every_few_thousand_pages(store: Store) -> None:
    async with store.write() as session:
        connection = await session.connection()
        pages = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    assert pages == WRITER_AUTOCHECKPOINT_PAGES
    async with store.read() as session:
        connection = await session.connection()
        assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 1000  # SQLite's


WRITER = """
import asyncio, sys
from inbox_tui.core import conversations
from inbox_tui.core.store import Store

async def main(url, who, count):
    store = Store(url)
    try:
        started = await conversations.start_conversation(store, channel="web", customer_id=who, name=who)
        for n in range(count):
            await conversations.record_customer_message(
                store, started.conversation.id, f"{who} {n}", client_id=f"{who}-{n}"
            )
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_writers_in_several_processes_each_with_its_checkpoints(database_url: str, tmp_path: Path) -> None:
    """Three processes write the same file at once, each store with its checkpoint thread
    (their checkpoints meet one another and the writers): every message is stored once,
    the file is intact, and the file alone holds everything once they are done."""
    count = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, database_url, f"p{n}", str(count)], stderr=subprocess.PIPE)
        for n in range(3)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()
    database = _database_of(database_url)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(DISTINCT client_id) FROM messages").fetchone()[0] == 3 * count
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # The last connection to close checkpointed the rest.
    assert _messages_in_the_file_alone(database, scratch) == 3 * count


def _checkpoint_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "sqlite-checkpoints" and t.is_alive()}


def _wait_until_ended(threads: set[threading.Thread], seconds: float = 5.0) -> bool:
    for thread in threads:
        thread.join(seconds)
    return not any(thread.is_alive() for thread in threads)


async def test_the_thread_ends_with_its_store_and_when_idle(database_url: str, tmp_path: Path) -> None:
    # Other tests' stores may still have theirs: only the threads started here count.
    others = _checkpoint_threads()
    store = Store(database_url)
    started = await conversations.start_conversation(store, channel="web", customer_id="c-1", name="Ada")
    mine = _checkpoint_threads() - others
    assert mine
    await store.close()
    assert not any(thread.is_alive() for thread in mine)  # close joins it

    # A store used again after its close checkpoints again.
    await conversations.record_customer_message(store, started.conversation.id, "again", client_id="again")
    mine = _checkpoint_threads() - others
    assert mine
    await store.close()
    assert not any(thread.is_alive() for thread in mine)

    # Idle, the thread ends; the next commit starts another, which checkpoints.
    checkpoints = WalCheckpointer(str(_database_of(database_url)), busy_timeout_seconds=1.0, idle_seconds=0.1)
    checkpoints.committed()
    idle = _checkpoint_threads() - others
    assert idle and await asyncio.to_thread(_wait_until_ended, idle)
    checkpoints.committed()
    again = _checkpoint_threads() - others
    assert again and not again & idle
    checkpoints.close()
    assert not any(thread.is_alive() for thread in again)


def test_a_database_that_cannot_be_opened_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    others = _checkpoint_threads()
    checkpoints = WalCheckpointer(str(tmp_path / "missing" / "inbox.db"), busy_timeout_seconds=0.1, idle_seconds=0.1)
    with caplog.at_level(logging.WARNING, logger="inbox_tui.core.wal_checkpoints"):
        for _ in range(3):
            checkpoints.committed()
            assert _wait_until_ended(_checkpoint_threads() - others)  # it gave up on this one
    checkpoints.close()
    said = [r.getMessage() for r in caplog.records if r.name == "inbox_tui.core.wal_checkpoints"]
    assert len(said) == 1 and "checkpointing" in said[0] and "unable to open" in said[0]
