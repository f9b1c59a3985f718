"""Each teammate's own read state, in the database (it survives restarts and is the
same on every server node).

A teammate has read a conversation up to a message id (``ReadMark``); a ticket is read
as its conversation. Unread are the messages after the mark that someone else wrote:
the customer, the bot or another teammate (system lines and my own words never count).
Mentions keep their own ``seen_at``; opening a ticket marks both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.models import (
    Author,
    Conversation,
    ConversationStatus,
    Mention,
    Message,
    ReadMark,
    Ticket,
    table_of,
)
from inbox_tui.core.store import Store, teammate_flow

#: Ids per ``IN (…)`` list: well under SQLite's and asyncpg's parameter limits.
CHUNK = 500


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterable[list[int]]:
    batch: list[int] = []
    for each in ids:
        batch.append(each)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def counts_as_unread(agent_id: int) -> ColumnElement[bool]:
    """A message that may be unread for ``agent_id``: written by someone else, not a system line."""
    return and_(Message.author != Author.SYSTEM, or_(Message.agent_id.is_(None), Message.agent_id != agent_id))


def _mark_of(agent_id: int, conversation_id: Any) -> Any:
    return func.coalesce(
        select(ReadMark.last_read_message_id)
        .where(ReadMark.agent_id == agent_id, ReadMark.conversation_id == conversation_id)
        .scalar_subquery(),
        0,
    )


def has_unread(agent_id: int, conversation_id: Any) -> ColumnElement[bool]:
    """EXISTS an unread message in the conversation ``conversation_id`` (a column)."""
    return (
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.id > _mark_of(agent_id, Message.conversation_id),
            counts_as_unread(agent_id),
        )
        .exists()
    )


async def unread_counts(session: AsyncSession, agent_id: int, conversation_ids: Iterable[int]) -> dict[int, int]:
    """Unread messages per conversation (conversations with none are left out)."""
    result: dict[int, int] = {}
    for batch in chunks(conversation_ids):
        rows = await session.execute(
            select(Message.conversation_id, func.count())
            .outerjoin(
                ReadMark,
                and_(ReadMark.conversation_id == Message.conversation_id, ReadMark.agent_id == agent_id),
            )
            .where(
                Message.conversation_id.in_(batch),
                Message.id > func.coalesce(ReadMark.last_read_message_id, 0),
                counts_as_unread(agent_id),
            )
            .group_by(Message.conversation_id)
        )
        result.update({conversation_id: int(count) for conversation_id, count in rows})
    return result


async def unread_mentions(session: AsyncSession, agent_id: int) -> int:
    """Tickets where this teammate has a mention they have not seen."""
    return int(
        await session.scalar(
            select(func.count(func.distinct(Mention.ticket_id))).where(
                Mention.agent_id == agent_id, Mention.seen_at.is_(None)
            )
        )
        or 0
    )


async def unread_live_conversations(session: AsyncSession, agent_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.status == ConversationStatus.LIVE, has_unread(agent_id, Conversation.id))
        )
        or 0
    )


async def unread_tickets(session: AsyncSession, agent_id: int, *where: Any) -> int:
    """Tickets matching ``where`` whose conversation has unread messages."""
    return int(
        await session.scalar(
            select(func.count()).select_from(Ticket).where(*where, has_unread(agent_id, Ticket.conversation_id))
        )
        or 0
    )


@teammate_flow
async def mark_read(store: Store, agent_id: int, conversation_id: int, up_to_message_id: int | None = None) -> int:
    """This teammate has read the conversation up to ``up_to_message_id`` (default: its
    last message). The mark only moves forward, so an older screen cannot unread what a
    newer one showed. Returns the mark."""
    async with store.write() as session:
        if up_to_message_id is None:
            up_to_message_id = int(
                await session.scalar(
                    select(func.coalesce(func.max(Message.id), 0)).where(Message.conversation_id == conversation_id)
                )
                or 0
            )
        await _upsert_mark(session, agent_id, conversation_id, up_to_message_id, store)
        return int(
            await session.scalar(
                select(ReadMark.last_read_message_id).where(
                    ReadMark.agent_id == agent_id, ReadMark.conversation_id == conversation_id
                )
            )
            or 0
        )


async def _upsert_mark(session: AsyncSession, agent_id: int, conversation_id: int, up_to: int, store: Store) -> None:
    dialect = (await session.connection()).dialect.name
    insert: Any = sqlite_insert
    if dialect == "postgresql":  # imported here: the PostgreSQL dialect is not loaded on SQLite
        from sqlalchemy.dialects.postgresql import insert
    table = table_of(ReadMark)
    statement = insert(table).values(
        agent_id=agent_id, conversation_id=conversation_id, last_read_message_id=up_to, read_at=store.now()
    )
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.agent_id, table.c.conversation_id],
            set_={
                # Forward only: two screens marking at once keep the furthest mark.
                "last_read_message_id": func.max(table.c.last_read_message_id, excluded.last_read_message_id)
                if dialect == "sqlite"
                else func.greatest(table.c.last_read_message_id, excluded.last_read_message_id),
                "read_at": excluded.read_at,
            },
        )
    )


@teammate_flow
async def mark_ticket_read(store: Store, agent_id: int, ticket_id: int, up_to_message_id: int | None = None) -> None:
    """Opening a ticket: its conversation is read, and my mentions on it are seen."""
    async with store.read() as session:
        conversation_id = await session.scalar(select(Ticket.conversation_id).where(Ticket.id == ticket_id))
    if conversation_id is None:
        return
    await mark_read(store, agent_id, conversation_id, up_to_message_id)
    now = store.now()
    async with store.write() as session:
        rows = await session.scalars(
            select(Mention).where(
                Mention.agent_id == agent_id, Mention.ticket_id == ticket_id, Mention.seen_at.is_(None)
            )
        )
        for mention in rows:
            mention.seen_at = now
