"""Failed sign-ins counted per client address, in a sliding window."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

#: Past this many addresses, the table is swept of addresses whose failures have aged out.
MAX_ADDRESSES = 10_000


class FailedSignIns:
    """At most ``attempts`` failures per address within ``window``; further tries are refused
    until the oldest failure leaves the window."""

    def __init__(self, attempts: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)

    def _recent(self, address: str) -> deque[datetime]:
        failures = self._failures[address]
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[address]  # keeps the table as small as the attackers
            return deque()
        return failures

    def retry_after(self, address: str) -> float | None:
        """Seconds until this address may try again, or None if it may now."""
        failures = self._recent(address)
        if len(failures) < self.attempts:
            return None
        return max(1.0, (failures[0] + self.window - self.clock()).total_seconds())

    def failed(self, address: str) -> int:
        """Count a failure; returns the failures in the window, this one included."""
        if len(self._failures) > MAX_ADDRESSES:
            for known in list(self._failures):  # many addresses: drop the ones past the window
                self._recent(known)
        failures = self._recent(address)
        failures.append(self.clock())
        self._failures[address] = failures
        return len(failures)
