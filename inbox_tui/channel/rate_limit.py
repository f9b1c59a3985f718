"""A per-connection token bucket: a burst is allowed, a sustained flood is not."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_second
        self.capacity = float(max(burst, 1))
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
