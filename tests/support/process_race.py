"""Worker processes that race on one database: started with the ``spawn`` method (each its
own interpreter, Store and connection pool), released together by one barrier, reporting
through one queue. Bounded: a worker that stalls fails the test, and every process is
joined or killed when the race ends."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

SPAWN = multiprocessing.get_context("spawn")


class Race:
    def __init__(self, results: Any) -> None:
        self._results = results

    async def next_result(self, timeout: float = 120.0) -> Any:
        """One worker's next report; fails the test if none comes in ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self._results.get, True, timeout)
        except queue.Empty:
            pytest.fail(f"racing workers reported nothing for {timeout:.0f} s")

    async def results(self, count: int, timeout: float = 120.0) -> list[Any]:
        return [await self.next_result(timeout) for _ in range(count)]


@asynccontextmanager
async def racing_processes(
    target: Callable[..., None], argument_lists: Sequence[tuple[Any, ...]], join_timeout: float = 30.0
) -> AsyncIterator[Race]:
    """Start ``target(*arguments, barrier, results)`` once per argument tuple."""
    barrier = SPAWN.Barrier(len(argument_lists))
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=target, args=(*arguments, barrier, results), daemon=True) for arguments in argument_lists
    ]
    for process in processes:
        process.start()
    try:
        yield Race(results)
    finally:
        for process in processes:
            process.join(join_timeout)
            if process.is_alive():
                process.kill()
                process.join()
    # Reached only when the race itself went well: then every worker must have exited cleanly.
    crashed = [process.exitcode for process in processes if process.exitcode != 0]
    assert not crashed, f"racing workers exited with {crashed}"
