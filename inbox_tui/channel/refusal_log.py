"""Refused frames in the log: one line, at most once per interval, never a traceback.

Hostile or broken clients can send thousands of bad frames a second; the log says that
it happens (and how often) without growing with every frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

REFUSAL_LOG_EVERY_SECONDS = 5.0


class RefusalLog:
    def __init__(
        self,
        logger: logging.Logger,
        every: float = REFUSAL_LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        *,
        level: int = logging.INFO,
    ) -> None:
        self.logger = logger
        self.level = level
        self.every = every
        self.clock = clock
        self._last = float("-inf")
        self._unlogged = 0

    def refused(self, endpoint: str, peer: object, code: str, message: str) -> None:
        now = self.clock()
        if now - self._last < self.every:
            self._unlogged += 1
            return
        more = f" ({self._unlogged} more refused since the last line)" if self._unlogged else ""
        self._last, self._unlogged = now, 0
        self.logger.log(
            self.level, "refused a frame on %s from %s: %s: %s%s", endpoint, peer, code, message[:200], more
        )


def peer_of(connection: object) -> str:
    address = getattr(connection, "remote_address", None)
    if isinstance(address, tuple) and address:
        return str(address[0])
    return "unknown"
