"""The store: async engines and transactions over SQLite (WAL) or PostgreSQL.

SQLite: writes use ``BEGIN IMMEDIATE`` so that two processes never both read and then
both try to upgrade to a write lock (which SQLite answers with an immediate
"database is locked"); a busy timeout makes the loser wait instead. Reads use a
deferred transaction on a second engine so the TUI never blocks a writer.

Within one process, SQLite writers also queue on an asyncio lock before they BEGIN: a
connection that finds the file locked sleeps in SQLite's busy handler with a growing
back-off (1, 2, 5 … 100 ms) and misses the moment the lock is freed, which under a busy
server turned milliseconds of work into seconds of waiting. The busy timeout still
covers writers in other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from inbox_tui.core.database_url import parse_database_url

Clock = Callable[[], datetime]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _sqlite_engine(url: URL, begin: str) -> AsyncEngine:
    engine = create_async_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_size=4, max_overflow=8
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


class Store:
    """One database: a write engine, a read engine (the same one on PostgreSQL) and a clock."""

    def __init__(self, database_url: str, clock: Clock = utc_now) -> None:
        self.url = parse_database_url(database_url)
        self.clock = clock
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            Path(self.url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(self.url, "BEGIN")
        else:
            self.write_engine = create_async_engine(self.url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self.read_engine = self.write_engine
        self._write_lock: asyncio.Lock | None = None
        self._write_lock_loop: asyncio.AbstractEventLoop | None = None
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def now(self) -> datetime:
        return self.clock()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any error."""
        if not self.is_sqlite:
            async with self._write_sessions() as session:
                async with session.begin():
                    yield session
            return
        async with self._sqlite_write_lock():
            async with self._write_sessions() as session:
                async with session.begin():
                    yield session

    def _sqlite_write_lock(self) -> asyncio.Lock:
        # One lock per event loop: a store may outlive the loop that first used it (tests).
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_lock_loop is not loop:
            self._write_lock, self._write_lock_loop = asyncio.Lock(), loop
        return self._write_lock

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            async with session.begin():
                yield session

    async def close(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


class StoreError(Exception):
    """A flow refused its input; the message is meant for the person who gave it."""


class NotFound(StoreError):
    pass
