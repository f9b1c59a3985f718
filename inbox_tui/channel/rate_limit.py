"""Token buckets: a burst is allowed, a sustained flood is not.

A bucket holds at most ``burst`` tokens however long it sat idle, so quiet time never
buys a flood larger than the burst.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
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

    def full(self) -> bool:
        """Whether the bucket has refilled completely (it would behave as a new one)."""
        return self.tokens + (self.clock() - self.updated) * self.rate >= self.capacity


class KeyedTokenBuckets:
    """One token bucket per key (a client address). A rate of 0 allows everything.

    Buckets that have refilled are forgotten now and then, so a crowd of one-time
    addresses does not grow memory without bound."""

    PRUNE_EVERY = 1000

    def __init__(self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._calls = 0

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        self._calls += 1
        if self._calls % self.PRUNE_EVERY == 0:
            self._buckets = {k: b for k, b in self._buckets.items() if not b.full()}
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.allow()

    def __len__(self) -> int:
        return len(self._buckets)
