"""Presence rows for the agent clients connected to this node.

A connected bridge client counts as its teammate being online for assignment. The rows
are kept fresh by a heartbeat, so a node that dies without cleaning up stops counting
once ``presence_timeout`` has passed (and its rows are swept by the next node to start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.store import Store
from inbox_tui.core.team import (
    forget_stale_presence,
    presence_connected,
    presence_disconnected,
    presence_heartbeat,
)
from inbox_tui.settings import AssignmentSettings

log = logging.getLogger(__name__)


class PresenceKeeper:
    def __init__(self, store: Store, node_id: str, assignment: AssignmentSettings) -> None:
        self.store = store
        self.node_id = node_id
        self.assignment = assignment
        self.timeout = timedelta(seconds=assignment.presence_timeout)
        self._ids: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await forget_stale_presence(self.store, self.timeout)
        self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def connected(self, agent_id: int) -> int:
        # Coming online hands out waiting tickets (the core does it after the commit).
        presence_id = await presence_connected(self.store, agent_id, self.node_id, assignment=self.assignment)
        self._ids.add(presence_id)
        return presence_id

    async def disconnected(self, presence_id: int) -> None:
        if presence_id not in self._ids:
            return
        self._ids.discard(presence_id)
        try:
            await presence_disconnected(self.store, presence_id)
        except Exception as error:  # noqa: BLE001 - the heartbeat timeout covers it
            log.warning("removing presence %s failed: %s", presence_id, error)

    @property
    def online(self) -> int:
        return len(self._ids)

    async def _heartbeat(self) -> None:
        interval = max(0.5, self.timeout.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await presence_heartbeat(self.store, sorted(self._ids))
            except Exception as error:  # noqa: BLE001 - try again at the next beat
                log.warning("presence heartbeat failed: %s", error)

    async def stop(self) -> None:
        await cancel_and_wait([self._task])
        self._task = None
        for presence_id in list(self._ids):
            await self.disconnected(presence_id)
