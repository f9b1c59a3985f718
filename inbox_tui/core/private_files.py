"""Files only their owner may read: the SQLite database (customer chats, emails, token
hashes) is created 0600, whatever umask the process has or what is left in the folder;
small JSON files (tokens, a teammate's local state) are read leniently and written
atomically, 0600."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from inbox_tui.core.database_url import sqlite_file


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600; False when it exists already."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def prepare_sqlite_file(database_url: str) -> None:
    """Before the first connection creates a SQLite database, create it 0600 (SQLite gives
    its -wal and -shm files the database's mode). A -wal, -shm or -journal file left from
    a database that is gone is removed: it would be replayed into the new one."""
    path = sqlite_file(database_url)
    if path is None or path.exists():
        return
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    create_private_file(path)


def read_json_object(path: Path) -> dict[str, Any]:
    """The object in ``path``; empty when the file is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600. The temporary file has a fresh
    name (created 0600 by mkstemp), so a stale file left by a crash, whatever its mode,
    is never reused."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
