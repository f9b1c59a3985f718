"""Files only their owner may read: the SQLite database (customer chats, emails, token
hashes) is created 0600, whatever umask the process has or what is left in the folder."""

from __future__ import annotations

import os
from pathlib import Path

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
