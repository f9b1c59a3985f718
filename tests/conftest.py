"""Shared fixtures: a real store on a SQLite file, and on PostgreSQL when one is reachable."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_tui.core.migrate import upgrade
from inbox_tui.core.store import Store
from tests.support.requirements import missing
from tests.support.requirements import pytest_runtest_makereport as pytest_runtest_makereport

PG_HOST = os.environ.get("INBOX_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("INBOX_TEST_PG_PORT", "5432"))


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


PG_SKIP_REASON = missing(
    f"no PostgreSQL server reachable at {PG_HOST}:{PG_PORT} (set INBOX_TEST_PG_HOST / INBOX_TEST_PG_PORT)"
)
requires_postgres = pytest.mark.skipif(not postgres_reachable(), reason=PG_SKIP_REASON)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's config or data."""
    monkeypatch.setenv("INBOX_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("INBOX_DATA_DIR", str(tmp_path / "data"))
    for variable in ("INBOX_DB_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "INBOX_CONFIG", "INBOX_AI"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(autouse=True)
def _built_in_status_lines() -> Iterator[None]:
    """Each test starts with the built-in customer status lines and no model behind them
    (``open_runtime`` installs a process's own)."""
    from inbox_tui.core.status_lines import StatusLines, configure_status_lines

    configure_status_lines(StatusLines())
    yield
    configure_status_lines(StatusLines())


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}"


async def create_pg_database() -> tuple[str, str]:
    """A fresh PostgreSQL database per test (created from the server's ``test`` database's
    connection), so tests never see each other's rows or notifications."""
    import asyncpg

    name = "inbox_t_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL: SQLite file, or PostgreSQL for the ``pg`` param."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        url = sqlite_url(tmp_path)
        store = Store(url)
        asyncio.run(_upgrade_and_close(store))
        yield url
        return
    if not postgres_reachable():
        pytest.skip(PG_SKIP_REASON)
    name, url = asyncio.run(create_pg_database())
    try:
        asyncio.run(_upgrade_and_close(Store(url)))
        yield url
    finally:
        asyncio.run(drop_pg_database(name))


async def _upgrade_and_close(store: Store) -> None:
    try:
        await upgrade(store)
    finally:
        await store.close()


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("pg", id="postgresql", marks=pytest.mark.postgres)]


def both_backends(func):  # type: ignore[no-untyped-def]
    """Run a test on SQLite and on PostgreSQL (skipped with a reason without a server)."""
    return pytest.mark.parametrize("database_url", BACKENDS, indirect=True)(func)


def postgres_only(func):  # type: ignore[no-untyped-def]
    """Run a test on PostgreSQL alone (skipped with a reason without a server)."""
    return pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)(func)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    yield store
    await store.close()


FIXED_NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)
