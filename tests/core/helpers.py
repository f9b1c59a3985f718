"""Small builders the core tests share: teammates, conversations, direct row counts."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from inbox_tui.core import agents, conversations, events, team
from inbox_tui.core.conversations import StartedConversation
from inbox_tui.core.migrate import alembic_config
from inbox_tui.core.models import Event, Message, TimelineEvent
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import Store


async def add_teammate(
    store: Store, handle: str, *, capacity: int = 5, online: bool = True, away: bool = False
) -> AgentRef:
    agent, _token = await agents.add_agent(store, handle, handle.title(), capacity=capacity)
    if online:
        await team.presence_connected(store, agent.id, node="test-node")
    if away:
        await team.set_availability(store, agent.id, "away")
    return agent


async def new_conversation(
    store: Store,
    customer: str = "cust-1",
    *,
    name: str = "Carla",
    channel: str = "web",
    locale: str | None = None,
    first_message: str | None = None,
    time_zone: str | None = None,
) -> StartedConversation:
    started = await conversations.start_conversation(
        store,
        channel=channel,
        customer_id=customer,
        name=name,
        email=f"{customer}@example.com",
        locale=locale,
        time_zone=time_zone,
    )
    if first_message:
        await conversations.record_customer_message(store, started.conversation.id, first_message)
    return started


async def count(store: Store, model: Any, *where: Any) -> int:
    async with store.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def message_count(store: Store, conversation_id: int) -> int:
    return await count(store, Message, Message.conversation_id == conversation_id)


async def timeline_codes(store: Store, ticket_id: int) -> list[str]:
    async with store.read() as session:
        rows = await session.scalars(
            select(TimelineEvent.code).where(TimelineEvent.ticket_id == ticket_id).order_by(TimelineEvent.id)
        )
        return list(rows)


async def events_after(store: Store, after_id: int) -> list[Event]:
    async with store.read() as session:
        return await events.since(session, after_id)


async def last_event_id(store: Store) -> int:
    async with store.read() as session:
        return await events.last_id(session)


async def done_or_parked_on_a_lock(store: Store, task: asyncio.Task[Any], wait_event: str | None = None) -> None:
    """PostgreSQL: return once ``task`` finished or another session of this database waits
    on a lock (of kind ``wait_event``, e.g. ``advisory``, when given) — the moment a race
    test wants to act in. Bounded: a guard against a hang, not a timed assertion."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'" + (
        " AND wait_event = :wait_event" if wait_event else ""
    )
    waiting = text(query).bindparams(wait_event=wait_event) if wait_event else text(query)
    async with asyncio.timeout(30):
        while not task.done():
            async with store.read() as session:
                if await session.scalar(waiting):
                    return
            await asyncio.sleep(0.01)


async def downgrade_to(store: Store, revision: str) -> None:
    """Step the schema down to ``revision`` (migration tests go down and up again)."""

    def _downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with store.write_engine.begin() as conn:
        await conn.run_sync(_downgrade)
