"""Follow the database event log and hand each new event, in id order, to subscribers.

The log in the database is the only source: customer sockets and bridges on this node
hear about a change only once it is committed there, whichever process or node made it.

How the feed learns that there is something new:
- PostgreSQL: a dedicated asyncpg connection LISTENs on ``inbox_events``; the core
  NOTIFYs inside every transaction that appends events, so PostgreSQL wakes every node
  exactly when a commit happened (no polling loop).
- SQLite has no notifications, and other processes (the TUIs) write the same file, so
  a short poll of the log is the only way to see their commits. One query of an
  indexed primary key range every ``poll_interval`` costs next to nothing.
- On both, this node nudges the feed itself after its own commits (``committed``) so
  its customers do not wait for the next poll.
- On SQLite the store hands over the events its write groups appended, ids included.
  When they follow on from the last event published, the feed publishes them as they
  are, without reading them back: the chat server's own messages, most of the log under
  load. When they do not (another process committed in between, or the feed is behind),
  it reads the log, which holds them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core import events
from inbox_tui.core.events import NOTIFY_CHANNEL, AppendedEvent
from inbox_tui.core.models import Event, table_of
from inbox_tui.core.prepared import Prepared
from inbox_tui.core.store import Store
from inbox_tui.wire import bridge as wire
from inbox_tui.wire.codec import encode

log = logging.getLogger(__name__)

SQLITE_POLL_SECONDS = 0.05
#: Reads of the log are at least this far apart: under load, the commits of a few
#: milliseconds are fetched in one read instead of one read each; when idle, a wake
#: still reads at once.
MIN_READ_INTERVAL_SECONDS = 0.005
BATCH = 500
_EVENTS = table_of(Event)
# Run straight on the driver (``core/prepared.py``): this read follows every commit.
_SINCE = Prepared(select(_EVENTS).where(_EVENTS.c.id > bindparam("after")).order_by(_EVENTS.c.id).limit(BATCH))
LISTEN_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class LoggedEvent:
    """One committed event, decoded once and shared by every subscriber."""

    __slots__ = ("_bridge_frame", "event")

    def __init__(self, row: Any) -> None:
        self.event = wire.Event(
            id=row.id,
            kind=row.kind,
            conversation_id=row.conversation_id,
            ticket_id=row.ticket_id,
            agent_id=row.agent_id,
            payload=row.payload or {},
            at=row.created_at.isoformat(),
        )
        self._bridge_frame: bytes | None = None

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def conversation_id(self) -> int | None:
        return self.event.conversation_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.event.payload

    @property
    def at(self) -> str:
        return self.event.at

    @property
    def bridge_frame(self) -> bytes:
        """The bridge's ``event`` frame as UTF-8 JSON, encoded once for every bridge (and
        only if one asks)."""
        if self._bridge_frame is None:
            self._bridge_frame = encode(wire.EventFrame(event=self.event))
        return self._bridge_frame


def _events_after(connection: Connection, after_id: int) -> list[Any]:
    return _SINCE.all(connection, {"after": after_id})


Subscriber = Callable[[list[LoggedEvent]], None]


class EventFeed:
    def __init__(self, store: Store, *, poll_interval: float = SQLITE_POLL_SECONDS) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.last_id = 0
        self._subscribers: list[Subscriber] = []
        self._wake = asyncio.Event()
        #: Whether the log must be read (a commit whose events are not known here).
        self._must_read = False
        #: Events this node's write groups appended, in commit order, not yet published.
        self._appended: deque[Sequence[AppendedEvent]] = deque()
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        async with self.store.read() as session:
            self.last_id = await events.last_id(session)
        self._tasks.append(asyncio.create_task(self._follow(), name="event-feed"))
        if not self.store.is_sqlite:
            self._tasks.append(asyncio.create_task(self._listen(), name="event-feed-listen"))
            # Serve only once LISTEN is in place; a later outage is caught up on reconnect.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self._listening.wait()

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscriber)

    def wake(self) -> None:
        """Look at the log now."""
        self._must_read = True
        self._wake.set()

    def committed(self, appended: Sequence[AppendedEvent] | None) -> None:
        """This node just committed (the store's commit listener): ``appended`` are the
        events the commit appended, when the store knows them (see the module doc)."""
        if appended is None:
            self._must_read = True
        elif appended:
            self._appended.append(appended)
        else:
            return  # nothing appended: nothing to publish
        self._wake.set()

    async def _follow(self) -> None:
        last_read = 0.0
        while True:
            if self.store.is_sqlite:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
                # lands as the wake fires, and this loop would then outlive stop().
                try:
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()
                except TimeoutError:
                    self._must_read = True  # the poll: other processes' commits are found so only
            else:
                await self._wake.wait()
            self._wake.clear()
            self._publish_appended()
            if not self._must_read:
                continue
            since_last = time.monotonic() - last_read
            if since_last < MIN_READ_INTERVAL_SECONDS:
                await asyncio.sleep(MIN_READ_INTERVAL_SECONDS - since_last)
            # Whatever woke the feed meanwhile is committed already: this read finds it.
            self._wake.clear()
            self._must_read = False
            last_read = time.monotonic()
            try:
                await self._read_new()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a database hiccup must not end the feed
                log.warning("reading the event log failed: %s", error)
                await asyncio.sleep(0.5)
                self.wake()

    def _publish_appended(self) -> None:
        """Publish the events this node appended that follow on from the last one
        published; at a gap before them the log is to be read instead (it holds them)."""
        while self._appended:
            appended = self._appended.popleft()
            if appended[-1].id <= self.last_id:
                continue  # a read of the log published them already
            if appended[0].id != self.last_id + 1:
                self._must_read = True  # the log has events before these
                self._appended.clear()
                return
            self._publish([LoggedEvent(event) for event in appended])

    def _publish(self, batch: list[LoggedEvent]) -> None:
        self.last_id = batch[-1].id
        for subscriber in list(self._subscribers):
            try:
                subscriber(batch)
            except Exception:
                log.exception("an event subscriber failed")

    async def _read_new(self) -> None:
        while True:
            # Plain rows, not ORM objects, in one call to the store: this read follows every commit.
            rows = await self.store.run_read(_events_after, self.last_id)
            if not rows:
                return
            self._publish([LoggedEvent(row) for row in rows])
            if len(rows) < BATCH:
                return

    async def _listen(self) -> None:
        import asyncpg

        dsn = self.store.url.set(drivername="postgresql").render_as_string(hide_password=False)
        attempt = 0
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, lambda *_args: self.wake())
                attempt = 0
                self._listening.set()
                self.wake()  # catch up on whatever committed while we were not listening
                await lost.wait()
                log.warning("the LISTEN connection to PostgreSQL was lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep trying; the log is caught up after
                log.warning("cannot LISTEN on PostgreSQL: %s", error)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(2):
                            await connection.close()
            await asyncio.sleep(LISTEN_RETRY_SECONDS[min(attempt, len(LISTEN_RETRY_SECONDS) - 1)])
            attempt += 1
