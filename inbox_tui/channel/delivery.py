"""Record which messages reached a customer socket, in batches.

A message handed to a connected customer is marked delivered so that it is not
queued for the next connect as well; marking each one in its own transaction would
double the writes of a busy server, so the marks are collected and written together.
"""

from __future__ import annotations

import asyncio
import logging

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.conversations import mark_delivered
from inbox_tui.core.store import Store

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1


class DeliveryMarker:
    def __init__(self, store: Store, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-marker")

    def delivered(self, message_ids: list[int] | tuple[int, ...]) -> None:
        if message_ids:
            self._pending.update(message_ids)
            self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait([self._task])
        self._task = None
        await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        ids, self._pending = sorted(self._pending), set()
        try:
            await mark_delivered(self.store, ids)
        except Exception as error:  # noqa: BLE001 - retried with the next batch
            log.warning("marking %d messages delivered failed: %s", len(ids), error)
            self._pending.update(ids)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.flush_seconds)  # let a burst gather into one write
            self._wake.clear()
            await self.flush()
