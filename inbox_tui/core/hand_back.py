"""Handing a conversation back to the bot with a customer question still open.

A customer message that arrived while a teammate held the conversation, and that no
teammate answered, is owed a bot answer once **Allow AI replies** hands it back: the
hand-back writes it to the bot's outbox (``OwedReply``) in the new epoch, expired at
once, so the next sweep of any server node answers it. The inbox asks the teammate
first (:func:`unanswered_message`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.models import Author, Conversation, Message, OwedReply, Ticket
from inbox_tui.core.records import MessageRecord
from inbox_tui.core.timeline import timeline


async def unanswered_message(session: AsyncSession, ticket_id: int) -> MessageRecord | None:
    """The customer's last message on this ticket if nobody (teammate or bot) answered
    it; only messages since the ticket opened (the one that asked for a person is not
    a question for the bot)."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    answered_up_to = await session.scalar(
        select(func.coalesce(func.max(Message.id), 0)).where(
            Message.conversation_id == ticket.conversation_id, Message.author.in_((Author.AGENT, Author.BOT))
        )
    )
    message = await session.scalar(
        select(Message)
        .where(
            Message.conversation_id == ticket.conversation_id,
            Message.author == Author.CUSTOMER,
            Message.created_at >= ticket.created_at,
            Message.id > (answered_up_to or 0),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if message is None:
        return None
    return MessageRecord(
        message.id, message.conversation_id, message.author, message.name, message.text, message.created_at
    )


async def owe_the_unanswered(session: AsyncSession, now: datetime, conversation: Conversation, ticket: Ticket) -> None:
    """Inside the hand-back, after its new epoch: the bot owes the open question an answer."""
    message = await unanswered_message(session, ticket.id)
    if message is None:
        return
    session.add(
        OwedReply(
            message_id=message.id,
            conversation_id=conversation.id,
            epoch=conversation.epoch,
            created_at=now,
            lease_until=now,  # expired: the next sweep of any node takes it
        )
    )
    session.add(
        timeline(ticket.id, now, "bot_owes_answer", "The bot will answer the customer's unanswered last message.")
    )
