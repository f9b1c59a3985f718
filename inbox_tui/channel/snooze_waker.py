"""Wakes snoozed tickets whose time came, every few seconds, on every server node (each
ticket is woken once, under its conversation's lock; see ``core.lifecycle``)."""

from __future__ import annotations

import asyncio
import logging

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.lifecycle import wake_snoozed
from inbox_tui.core.store import Store

log = logging.getLogger(__name__)

WAKE_INTERVAL_SECONDS = 5.0


class SnoozeWaker:
    def __init__(self, store: Store, interval: float | None = None) -> None:
        self.store = store
        self.interval = interval if interval is not None else WAKE_INTERVAL_SECONDS
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="snooze-waker")

    async def _run(self) -> None:
        while True:
            try:
                woken = await wake_snoozed(self.store)
                if woken:
                    log.info("snooze ended for tickets %s", woken)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - try again at the next round
                log.warning("waking snoozed tickets failed: %s", error)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        await cancel_and_wait([self._task])
        self._task = None
