"""`inbox-tui serve` checks the database before it listens: a read-only or damaged SQLite
file is refused with one line; PostgreSQL that is not up yet, or whose database does not
exist yet, is waited for (a line each time) and served once it comes; files are private."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from inbox_tui.cli import main
from inbox_tui.core.start_checks import StartRefused, prepare_database_for_serving, wait_until_reachable
from tests.conftest import PG_HOST, PG_PORT, drop_pg_database, requires_postgres

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def upgraded_sqlite(tmp_path: Path) -> Path:
    database = tmp_path / "inbox.db"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"INBOX_DB_URL": f"sqlite:///{database}"})
    assert result.exit_code == 0, result.output
    return database


def serve_refuses(database: Path) -> list[str]:
    """Run the real `serve`; it must exit by itself, non-zero, without listening."""
    port = free_port()
    done = subprocess.run(
        [ENTRY_POINT, "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "INBOX_DB_URL": f"sqlite:///{database}"},
    )
    assert done.returncode != 0
    assert "listening on" not in done.stdout
    assert "Traceback" not in done.stderr
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Read-only even for root: the immutable attribute; chmod for anyone else."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o600)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a file read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_serve_refuses_a_read_only_sqlite_file(tmp_path: Path) -> None:
    database = upgraded_sqlite(tmp_path)
    with read_only(database):
        lines = serve_refuses(database)
    assert lines == ["Error: the database cannot be written to: attempt to write a readonly database"], lines


def test_serve_refuses_a_damaged_sqlite_file_and_leaves_it_alone(tmp_path: Path) -> None:
    database = upgraded_sqlite(tmp_path)
    data = bytearray(database.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page : 3 * page] = os.urandom(2 * page)  # the header stays: SQLite opens it, the pages are garbage
    database.write_bytes(bytes(data))
    lines = serve_refuses(database)
    assert len(lines) == 1 and lines[0].startswith("Error: the SQLite database "), lines
    assert "damaged" in lines[0] or "cannot be read" in lines[0]
    assert database.read_bytes() == bytes(data)


def test_serve_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    database.write_bytes(b"shopping list: milk, eggs\n" * 200)
    lines = serve_refuses(database)
    assert lines == [f"Error: the SQLite database {database} cannot be read: file is not a database"], lines


@pytest.mark.parametrize("how", ["db upgrade", "serve", "first start of the demo"])
async def test_the_sqlite_database_is_created_private_whatever_is_left_in_the_folder(tmp_path: Path, how: str) -> None:
    from inbox_tui.runtime import open_runtime
    from inbox_tui.settings import Settings

    database = tmp_path / "inbox.db"
    stale_wal = tmp_path / "inbox.db-wal"
    stale_wal.write_bytes(b"left from a database that is gone")
    stale_wal.chmod(0o644)
    old = os.umask(0o022)
    try:
        if how == "db upgrade":
            await asyncio.to_thread(upgraded_sqlite, tmp_path)
        elif how == "serve":
            await prepare_database_for_serving(f"sqlite:///{database}", print)
        else:
            runtime = await open_runtime(Settings(database_url=f"sqlite:///{database}"))
            async with runtime.store.write() as session:  # a write creates the -wal and -shm files
                await session.execute(text("UPDATE alembic_version SET version_num = version_num"))
            await runtime.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for leftover in tmp_path.glob("inbox.db-*"):
        assert stat.S_IMODE(leftover.stat().st_mode) == 0o600
        assert leftover.read_bytes() != b"left from a database that is gone"


def test_a_stale_temporary_file_does_not_make_a_token_file_readable(tmp_path: Path) -> None:
    from inbox_tui.core.private_files import read_json_object, write_private_json

    target = tmp_path / "chat-sessions.json"
    for stale in (target.with_suffix(".tmp"), tmp_path / f".{target.name}.stale.tmp"):
        stale.write_text("{}")
        stale.chmod(0o666)
    write_private_json(target, {"ws://127.0.0.1:8770": {"token": "secret"}})
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert read_json_object(target) == {"ws://127.0.0.1:8770": {"token": "secret"}}


# --- PostgreSQL that is not there yet -----------------------------------------------------


@contextlib.asynccontextmanager
async def forwarder(port: int) -> AsyncIterator[None]:
    """A loopback TCP forwarder to the PostgreSQL server: "the database comes up"."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(PG_HOST, PG_PORT)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def test_wait_for_an_unreachable_server_says_so_and_gives_up_when_bounded() -> None:
    said: list[str] = []
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    with pytest.raises(StartRefused, match="still not reachable"):
        await wait_until_reachable(url, said.append, first_delay=0.1, max_delay=0.1, give_up_after=0.45)
    assert 2 <= len(said) <= 5
    assert all(line.startswith("waiting for the database postgresql+asyncpg://postgres@127.0.0.1:") for line in said)


@requires_postgres
async def test_serve_waits_for_postgresql_to_come_up_then_serves() -> None:
    name = f"inbox_wait_{uuid.uuid4().hex[:10]}"
    port = free_port()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}"
    said: list[str] = []
    waiting = asyncio.create_task(prepare_database_for_serving(url, said.append))
    try:
        # Not up yet: it waits and says so.
        async with asyncio.timeout(20):
            while len(said) < 2:
                await asyncio.sleep(0.05)
        assert "Connect call failed" in said[0] or "refused" in said[0].lower(), said
        async with forwarder(port):
            # Up, but the database does not exist yet: still waiting, with that reason.
            async with asyncio.timeout(30):
                while not any("does not exist" in line for line in said):
                    await asyncio.sleep(0.05)
            assert not waiting.done()
            conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            async with asyncio.timeout(60):
                await waiting  # migrated and checked
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=name)
        try:
            assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
        finally:
            await conn.close()
    finally:
        waiting.cancel()
        with contextlib.suppress(BaseException):
            await waiting
        await drop_pg_database(name)


@requires_postgres
async def test_a_role_that_does_not_exist_is_refused_at_once() -> None:
    url = f"postgresql+asyncpg://nobody_here@{PG_HOST}:{PG_PORT}/test"
    said: list[str] = []
    with pytest.raises(StartRefused, match="cannot use the database"):
        await wait_until_reachable(url, said.append)
    assert said == []


def test_serve_refuses_a_database_a_newer_program_upgraded(tmp_path: Path) -> None:
    import sqlite3

    database = upgraded_sqlite(tmp_path)
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    lines = serve_refuses(database)
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: the database schema (9999_from_the_future) is newer than this program knows")
