"""Database URLs: accept what a user would type, hand SQLAlchemy its async driver."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class DatabaseURLError(ValueError):
    """A database URL that cannot be used."""


def normalize_database_url(raw: str) -> str:
    """Return the URL with an async driver, or raise DatabaseURLError saying why."""
    url = parse_database_url(raw)
    return url.render_as_string(hide_password=False)


def parse_database_url(raw: str) -> URL:
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as error:
        raise DatabaseURLError(f"database URL {raw!r} is not valid: {error}") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise DatabaseURLError(f"database URL {raw!r}: only sqlite and postgresql are supported, not {backend!r}")
    # From the URL's text: asking SQLAlchemy would load a dialect, which fails for the
    # "postgres" alias and for unknown drivers with an error no user can act on.
    driver = url.drivername.partition("+")[2] or None
    if backend == "sqlite":
        if driver not in (None, "aiosqlite", "pysqlite"):
            raise DatabaseURLError(f"database URL {raw!r}: SQLite needs the aiosqlite driver")
        if not url.database or url.database == ":memory:":
            raise DatabaseURLError(f"database URL {raw!r}: give a file path; an in-memory database cannot be shared")
        return url.set(drivername="sqlite+aiosqlite")
    if driver not in (None, "asyncpg", "psycopg2", "psycopg"):
        raise DatabaseURLError(f"database URL {raw!r}: PostgreSQL needs the asyncpg driver")
    if not url.database:
        raise DatabaseURLError(f"database URL {raw!r}: name the database")
    return url.set(drivername="postgresql+asyncpg")


def sqlite_file(raw: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL."""
    url = parse_database_url(raw)
    return Path(url.database or "") if url.get_backend_name() == "sqlite" else None
