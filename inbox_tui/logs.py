"""One logging set-up for every command.

The inbox (``open``, ``web``) owns the terminal while it runs, so its log goes to a file
in the user's log directory; the server and the other commands log to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from inbox_tui.settings import log_dir

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("debug", "info", "warning", "error")


def log_file(name: str) -> Path:
    """``<user log dir>/<name>.log`` (``INBOX_LOG_DIR`` moves the directory)."""
    return log_dir() / f"{name}.log"


def _private_file_handler(path: Path) -> logging.FileHandler:
    # Log lines may quote customers: the file is the user's alone.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)
    return logging.FileHandler(path, encoding="utf-8")


def setup_logging(level: str = "warning", *, file: Path | None = None) -> Path | None:
    """Send log records at ``level`` and above to ``file``, or to stderr without one.
    Returns the file written to."""
    handler: logging.Handler = _private_file_handler(file) if file is not None else logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=level.upper(), handlers=[handler], format=LOG_FORMAT, force=True)
    logging.captureWarnings(True)
    # Every customer connection is an INFO line from websockets: noise at info level.
    logging.getLogger("websockets").setLevel(max(logging.WARNING, logging.getLogger().level))
    return file
