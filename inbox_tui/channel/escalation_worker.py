"""The slow half of escalation, off the path of every customer frame.

``escalate`` (the claim, the ticket, the handoff where a translation is configured)
is fast and runs where the model decided; the translated handoff and the summary wait
on a model, so they run here, in background tasks. Summaries left pending by a worker
that died (on this node or another) are picked up at start and whenever their lease
runs out.
"""

from __future__ import annotations

import asyncio
import logging

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.escalation import finish_escalation, resume_stale_summaries
from inbox_tui.runtime import Runtime

log = logging.getLogger(__name__)


class EscalationWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_stale(), name="stale-summaries")

    def finish(self, ticket_id: int) -> None:
        """Translate the handoff where needed and write the summary, in the background."""
        task = asyncio.create_task(self._finish(ticket_id), name=f"finish-escalation-{ticket_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, ticket_id: int) -> None:
        runtime = self.runtime
        try:
            await finish_escalation(runtime.store, runtime.ai, ticket_id, runtime.escalation)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("finishing the escalation of ticket %s failed", ticket_id)

    async def _sweep_stale(self) -> None:
        runtime = self.runtime
        interval = max(1.0, runtime.escalation.summary_lease.total_seconds() / 2)
        while True:
            try:
                finished = await resume_stale_summaries(runtime.store, runtime.ai, runtime.escalation)
                if finished:
                    log.info("finished %d summaries left pending: %s", len(finished), finished)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - try again at the next sweep
                log.warning("resuming stale summaries failed: %s", error)
            await asyncio.sleep(interval)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        await cancel_and_wait([*self._tasks, self._sweeper])
        self._tasks.clear()
        self._sweeper = None
