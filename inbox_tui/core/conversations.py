"""Conversations and their messages: customers start and resume chats, write, and the bot
answers. Each function is one transaction, committed before anything is announced."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    Select,
    Update,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    null,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import (
    Author,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    OwedReply,
    Ticket,
    TicketStatus,
    TimelineEvent,
    TimelineKind,
    table_of,
    ticket_is_open,
)
from inbox_tui.core.pipelined import NOT_RUN, FirstStep, pipelined
from inbox_tui.core.prepared import Prepared
from inbox_tui.core.records import ConversationRow, MessageRecord
from inbox_tui.core.store import NotFound, Store, StoreError

PREVIEW_CHARS = 120
MAX_MESSAGE_CHARS = 20_000


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is enough to store them.
    return hashlib.sha256(token.encode()).hexdigest()


def message_record(message: Message) -> MessageRecord:
    return MessageRecord(
        id=message.id,
        conversation_id=message.conversation_id,
        author=message.author,
        name=message.name,
        text=message.text,
        created_at=message.created_at,
        client_id=message.client_id,
        agent_id=message.agent_id,
    )


def message_payload(message: Message | MessageRecord) -> dict[str, object]:
    return _payload(message.id, message.author, message.name, message.text, message.client_id)


def conversation_row(conversation: Conversation, contact: Contact) -> ConversationRow:
    return ConversationRow(
        id=conversation.id,
        public_id=conversation.public_id,
        customer_name=contact.name,
        channel=conversation.channel,
        language=conversation.language,
        status=conversation.status,
        ai_enabled=conversation.ai_enabled,
        preview=conversation.last_message_preview,
        message_count=conversation.message_count,
        last_activity_at=conversation.last_activity_at,
        contact_id=contact.id,
        customer_email=contact.email,
    )


def preview_of(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise StoreError("a message needs some text")
    if len(text) > MAX_MESSAGE_CHARS:
        raise StoreError(f"a message may have at most {MAX_MESSAGE_CHARS} characters")
    return text


@dataclass(frozen=True)
class StartedConversation:
    conversation: ConversationRow
    token: str


def known_time_zone(name: str | None) -> str | None:
    """``name`` if zoneinfo knows it, else None (the customer is then told UTC times)."""
    if not name or not name.strip():
        return None
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name.strip()


async def _upsert_contact(
    session: AsyncSession,
    now: datetime,
    channel: str,
    external_id: str,
    name: str,
    email: str | None,
    locale: str | None,
    time_zone: str | None,
) -> Contact:
    contact = await session.scalar(
        select(Contact).where(Contact.channel == channel, Contact.external_id == external_id)
    )
    if contact is None:
        contact = Contact(
            channel=channel,
            external_id=external_id,
            name=name,
            email=email,
            locale=locale,
            time_zone=time_zone,
            created_at=now,
        )
        session.add(contact)
        await session.flush()
    else:
        contact.name = name or contact.name
        contact.email = email or contact.email
        contact.locale = locale or contact.locale
        contact.time_zone = time_zone or contact.time_zone
    return contact


async def start_conversation(
    store: Store,
    *,
    channel: str,
    customer_id: str,
    name: str = "",
    email: str | None = None,
    locale: str | None = None,
    time_zone: str | None = None,
) -> StartedConversation:
    """A new live conversation; the returned token is the customer's key to resume it."""
    if not channel or not customer_id:
        raise StoreError("a conversation needs a channel and a customer id")
    token = secrets.token_urlsafe(32)
    language = (locale or "").split("-")[0].split("_")[0].lower() or None
    now = store.now()
    for attempt in range(3):
        try:
            async with store.write() as session:
                contact = await _upsert_contact(
                    session, now, channel, customer_id, name, email, locale, known_time_zone(time_zone)
                )
                conversation = Conversation(
                    public_id=str(uuid.uuid4()),
                    token_hash=hash_token(token),
                    channel=channel,
                    contact_id=contact.id,
                    status=ConversationStatus.LIVE,
                    ai_enabled=True,
                    language=language,
                    created_at=now,
                    last_activity_at=now,
                    last_message_preview="",
                    message_count=0,
                )
                session.add(conversation)
                await session.flush()
                await events.append(
                    session,
                    now,
                    PendingEvent(
                        EventKind.CONVERSATION_CREATED,
                        conversation_id=conversation.id,
                        payload={"channel": channel, "customer": contact.name},
                    ),
                )
                return StartedConversation(conversation_row(conversation, contact), token)
        except IntegrityError:
            # Two first hellos of one customer raced on the contact row; the retry finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def resume_conversation(store: Store, public_id: str, token: str) -> ConversationRow:
    """The conversation behind ``public_id`` if ``token`` is its key; NotFound otherwise
    (the same answer for a wrong token and an unknown id, so ids cannot be probed)."""
    async with store.read() as session:
        row = (
            await session.execute(
                select(Conversation, Contact).join(Contact).where(Conversation.public_id == public_id)
            )
        ).first()
    if row is None or not hmac.compare_digest(row[0].token_hash, hash_token(token or "")):
        raise NotFound("unknown conversation or wrong token")
    return conversation_row(*row)


async def get_conversation(session: AsyncSession, conversation_id: int) -> ConversationRow:
    row = (
        await session.execute(select(Conversation, Contact).join(Contact).where(Conversation.id == conversation_id))
    ).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation_row(*row)


async def get_conversations(session: AsyncSession, conversation_ids: Iterable[int]) -> list[ConversationRow]:
    """The rows of these conversations, in one query; ids that do not exist are left out."""
    wanted = sorted(set(conversation_ids))
    if not wanted:
        return []
    rows = await session.execute(select(Conversation, Contact).join(Contact).where(Conversation.id.in_(wanted)))
    return [conversation_row(*row) for row in rows]


@dataclass(frozen=True)
class StoredMessage:
    message: MessageRecord
    created: bool  # False when the client id was seen before (a resend)


_CONVERSATIONS = table_of(Conversation)
_CONTACTS = table_of(Contact)
_MESSAGES = table_of(Message)
_TICKETS = table_of(Ticket)

# The hot path (every customer message and bot reply) is written in SQLAlchemy Core, with
# statements built once: each statement is a hop through the driver, and ORM objects
# would be loaded, tracked and flushed only to be thrown away at the end of the
# transaction.


def _customer_message_context(with_resend: bool):  # type: ignore[no-untyped-def]
    """One query for all a customer message needs: the conversation (locked), the
    customer's name, the open ticket if any, and (``with_resend``) a message already
    stored under the client id."""
    joined = _CONVERSATIONS.join(_CONTACTS, _CONTACTS.c.id == _CONVERSATIONS.c.contact_id).outerjoin(
        _TICKETS, (_TICKETS.c.conversation_id == _CONVERSATIONS.c.id) & ticket_is_open()
    )
    columns = [
        _CONVERSATIONS.c.status,
        _CONVERSATIONS.c.language,
        _CONVERSATIONS.c.ai_enabled,
        _CONVERSATIONS.c.epoch,
        _CONTACTS.c.name.label("customer_name"),
        _TICKETS.c.id.label("ticket_id"),
        _TICKETS.c.assignee_id,
        _TICKETS.c.status.label("ticket_status"),
    ]
    if with_resend:
        seen = _MESSAGES.alias("seen")
        joined = joined.outerjoin(
            seen, (seen.c.conversation_id == _CONVERSATIONS.c.id) & (seen.c.client_id == bindparam("client_id"))
        )
        columns += [
            seen.c.id.label("seen_id"),
            seen.c.author.label("seen_author"),
            seen.c.name.label("seen_name"),
            seen.c.text.label("seen_text"),
            seen.c.created_at.label("seen_at"),
            seen.c.agent_id.label("seen_agent_id"),
        ]
    # The conversation's lock, first (the store's lock order), and of the conversation
    # alone (PostgreSQL refuses to lock the nullable side of an outer join); it
    # serializes against a concurrent claim. SQLite writers are serialized by BEGIN
    # IMMEDIATE already (and ignore the clause).
    return (
        select(*columns)
        .select_from(joined)
        .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
        .with_for_update(of=_CONVERSATIONS, key_share=True)
    )


_CONTEXT = Prepared(_customer_message_context(with_resend=False))
_CONTEXT_WITH_RESEND = Prepared(_customer_message_context(with_resend=True))
_INSERT_MESSAGE = Prepared(insert(_MESSAGES).returning(_MESSAGES.c.id))
_AUTHOR = bindparam("b_author", type_=_CONVERSATIONS.c.last_message_author.type)
_NOW = bindparam("b_now", type_=_CONVERSATIONS.c.last_activity_at.type)


# The conversation's list fields after a new message; a language is set only where none
# is known yet. The customer waits from their first message after a teammate's reply;
# bot and system lines leave the wait as it is.
def _touch_conversation(name: ColumnElement[Any]) -> Update:
    """The UPDATE of the list fields, with the author's ``name`` as given (a parameter,
    or a column of the statement it is part of)."""
    return (
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.id == bindparam("b_conversation_id"))
        .values(
            last_activity_at=_NOW,
            last_message_preview=bindparam("b_preview"),
            last_message_author=_AUTHOR,
            last_message_name=name,
            waiting_since=case(
                (_AUTHOR == Author.AGENT, null()),
                (_AUTHOR == Author.CUSTOMER, func.coalesce(_CONVERSATIONS.c.waiting_since, _NOW)),
                else_=_CONVERSATIONS.c.waiting_since,
            ),
            message_count=func.coalesce(_CONVERSATIONS.c.message_count, 0) + 1,
            language=func.coalesce(
                _CONVERSATIONS.c.language, bindparam("b_language", type_=_CONVERSATIONS.c.language.type)
            ),
        )
    )


_TOUCH_CONVERSATION_STATEMENT = _touch_conversation(bindparam("b_name", type_=_CONVERSATIONS.c.last_message_name.type))
_TOUCH_CONVERSATION = Prepared(_TOUCH_CONVERSATION_STATEMENT)


def _insert_message_and_touch_conversation(*, owed: bool) -> Update:
    """PostgreSQL: the message row and the conversation's list fields in one statement
    (the INSERT as a data-modifying CTE of the UPDATE, which returns the new id): one
    round trip instead of two. ``owed``: the bot's ``owed_replies`` row for the message
    too, a third CTE. SQLite has no DML in a WITH, so it runs them one by one."""
    new_message = (
        insert(_MESSAGES)
        .values({key: bindparam(f"m_{key}", type_=_MESSAGES.c[key].type) for key in _MESSAGE_KEYS})
        .returning(_MESSAGES.c.id)
        .cte("new_message")
    )
    statement = _TOUCH_CONVERSATION_STATEMENT.add_cte(new_message)
    if owed:
        owed_row = select(
            new_message.c.id,
            bindparam("m_conversation_id", type_=_OWED.c.conversation_id.type),
            bindparam("o_epoch", type_=_OWED.c.epoch.type),
            bindparam("m_created_at", type_=_OWED.c.created_at.type),
        )
        columns = ["message_id", "conversation_id", "epoch", "created_at"]
        statement = statement.add_cte(insert(_OWED).from_select(columns, owed_row).cte("owed"))
    return statement.returning(select(new_message.c.id).scalar_subquery())


_MESSAGE_KEYS = ("conversation_id", "author", "agent_id", "name", "text", "client_id", "created_at", "delivered_at")
_OWED = table_of(OwedReply)
_INSERT_MESSAGE_AND_TOUCH_CONVERSATION = Prepared(_insert_message_and_touch_conversation(owed=False))
_INSERT_OWED_MESSAGE_AND_TOUCH_CONVERSATION = Prepared(_insert_message_and_touch_conversation(owed=True))
# The state a bot answer is checked against, under the conversation's lock.
_LOCK_FOR_BOT_STATEMENT = (
    select(_CONVERSATIONS.c.status, _CONVERSATIONS.c.ai_enabled, _CONVERSATIONS.c.epoch)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .with_for_update(key_share=True)
)
_LOCK_FOR_BOT = Prepared(_LOCK_FOR_BOT_STATEMENT)
_INSERT_OWED = Prepared(insert(_OWED))
_SETTLE_OWED_STATEMENT = delete(_OWED).where(_OWED.c.message_id == bindparam("message_id")).returning(_OWED.c.epoch)
_SETTLE_OWED = Prepared(_SETTLE_OWED_STATEMENT)


def _answer_owed_in_one_statement() -> Select[Any]:
    """PostgreSQL: the bot's answer to an owed message in one round trip, the steps of
    ``_answer_step_by_step`` as CTEs: the conversation's lock (``locked``, read first by
    every later step, so it is still the first lock taken); the owed row settled
    (``settled``); and only while the answer stands (the AI on, the conversation live,
    the owed row of the conversation's epoch) the message and the conversation's list
    fields, as ``append_message_sync`` writes them. Returns the state it was checked
    against and the new message's id (NULL: stale, nothing stored)."""
    locked = _LOCK_FOR_BOT_STATEMENT.cte("locked")
    settled = _SETTLE_OWED_STATEMENT.where(exists(select(locked.c.epoch))).cte("settled")
    owed_epoch = select(settled.c.epoch).scalar_subquery()
    stands = exists(
        select(locked.c.epoch).where(
            locked.c.ai_enabled, locked.c.status == ConversationStatus.LIVE, locked.c.epoch == owed_epoch
        )
    )
    message = select(*(bindparam(f"m_{key}", type_=_MESSAGES.c[key].type) for key in _MESSAGE_KEYS)).where(stands)
    new_message = (
        insert(_MESSAGES).from_select(list(_MESSAGE_KEYS), message).returning(_MESSAGES.c.id).cte("new_message")
    )
    touch = _TOUCH_CONVERSATION_STATEMENT.where(exists(select(new_message.c.id))).cte("touch")
    return select(
        locked.c.status,
        locked.c.ai_enabled,
        locked.c.epoch,
        owed_epoch.label("owed_epoch"),
        select(new_message.c.id).scalar_subquery().label("message_id"),
    ).add_cte(touch)


_ANSWER_OWED_IN_ONE_STATEMENT = Prepared(_answer_owed_in_one_statement())


def _customer_message_in_one_statement(*, with_resend: bool) -> Select[Any]:
    """PostgreSQL: a customer's message in one round trip, the steps of
    ``_store_customer_message`` as CTEs: the context (``ctx``: the conversation's lock
    first, as ever); then, unless the message was stored already under its client id
    or the conversation has ended, the message under the customer's name, the bot's
    owed row when the bot answers, and the conversation's list fields, as
    ``append_message_sync`` writes them. Returns the context and the new message's id
    (NULL: nothing stored, the context says why)."""
    ctx = _customer_message_context(with_resend=with_resend).cte("ctx")
    stored = ctx.c.status != ConversationStatus.ENDED
    if with_resend:
        stored = stored & ctx.c.seen_id.is_(None)
    columns: dict[str, Any] = {key: bindparam(f"m_{key}", type_=_MESSAGES.c[key].type) for key in _MESSAGE_KEYS}
    columns["name"] = func.coalesce(ctx.c.customer_name, "")
    new_message = (
        insert(_MESSAGES)
        .from_select(list(columns), select(*columns.values()).select_from(ctx).where(stored))
        .returning(_MESSAGES.c.id, _MESSAGES.c.name)
        .cte("new_message")
    )
    owed_row = (
        select(new_message.c.id, columns["conversation_id"], ctx.c.epoch, columns["created_at"])
        .select_from(new_message.join(ctx, true()))
        .where(ctx.c.ai_enabled, ctx.c.status == ConversationStatus.LIVE)
    )
    owed = insert(_OWED).from_select(["message_id", "conversation_id", "epoch", "created_at"], owed_row).cte("owed")
    touch = (
        _touch_conversation(select(new_message.c.name).scalar_subquery())
        .where(exists(select(new_message.c.id)))
        .cte("touch")
    )
    message_id = select(new_message.c.id).scalar_subquery().label("message_id")
    return select(ctx, message_id).add_cte(owed).add_cte(touch)


_CUSTOMER_MESSAGE_IN_ONE_STATEMENT = Prepared(_customer_message_in_one_statement(with_resend=False))
_CUSTOMER_MESSAGE_WITH_RESEND_IN_ONE_STATEMENT = Prepared(_customer_message_in_one_statement(with_resend=True))
_SETTLE_CONVERSATION = Prepared(delete(_OWED).where(_OWED.c.conversation_id == bindparam("conversation_id")))
# The open ticket goes back On you, found by this statement rather than taken from the
# context query: on PostgreSQL a SELECT … FOR UPDATE that waited for the conversation's
# lock returns the conversation's new row but the joined ticket as it was before the
# wait, so a ticket that Allow AI replies had just closed would be reopened under the
# live bot, and a ticket a takeover had just opened would be missed.
_TICKET_BACK_ON_YOU = Prepared(
    update(_TICKETS)
    .where(_TICKETS.c.conversation_id == bindparam("b_conversation_id"), ticket_is_open())
    .values(
        status=TicketStatus.ON_YOU,
        snoozed_until=None,
        updated_at=bindparam("b_now", type_=_TICKETS.c.updated_at.type),
    )
    .returning(_TICKETS.c.id, _TICKETS.c.assignee_id)
)


def _message_values(
    now: datetime,
    conversation_id: int,
    *,
    author: str,
    text: str,
    name: str,
    client_id: str | None = None,
    agent_id: int | None = None,
    delivered: bool = False,
) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "author": author,
        "agent_id": agent_id,
        "name": name,
        "text": text,
        "client_id": client_id,
        "created_at": now,
        "delivered_at": now if delivered else None,
    }


def append_message_sync(
    connection: Connection,
    now: datetime,
    conversation_id: int,
    *,
    author: str,
    text: str,
    name: str,
    client_id: str | None = None,
    agent_id: int | None = None,
    delivered: bool = False,
    language: str | None = None,
    owed_epoch: int | None = None,
) -> MessageRecord:
    """The one way a message is added: the row, and the conversation's list fields
    (activity, preview, count). The caller holds the conversation's lock.
    ``owed_epoch``: the bot owes this message an answer (the conversation's epoch now):
    its ``owed_replies`` row, written with it."""
    message = _message_values(
        now,
        conversation_id,
        author=author,
        text=text,
        name=name,
        client_id=client_id,
        agent_id=agent_id,
        delivered=delivered,
    )
    touch = _touch_values(now, conversation_id, text, language, author, name)
    if connection.dialect.name == "postgresql":
        together = {f"m_{key}": value for key, value in message.items()} | touch
        if owed_epoch is None:
            message_id = _INSERT_MESSAGE_AND_TOUCH_CONVERSATION.scalar(connection, together)
        else:
            together["o_epoch"] = owed_epoch
            message_id = _INSERT_OWED_MESSAGE_AND_TOUCH_CONVERSATION.scalar(connection, together)
    else:
        message_id = _INSERT_MESSAGE.scalar(connection, message)
        _TOUCH_CONVERSATION.run(connection, touch)
        if owed_epoch is not None:
            owed = {"message_id": message_id, "conversation_id": conversation_id, "epoch": owed_epoch}
            _INSERT_OWED.run(connection, owed | {"created_at": now, "lease_until": None})
    assert isinstance(message_id, int)
    return _record_of(message_id, message)


def _record_of(message_id: int, message: dict[str, Any]) -> MessageRecord:
    """The record of a message stored from ``_message_values``."""
    return MessageRecord(
        id=message_id,
        conversation_id=message["conversation_id"],
        author=message["author"],
        name=message["name"],
        text=message["text"],
        created_at=message["created_at"],
        client_id=message["client_id"],
        agent_id=message["agent_id"],
    )


async def append_message(
    session: AsyncSession,
    now: datetime,
    conversation_id: int,
    *,
    author: str,
    text: str,
    name: str,
    client_id: str | None = None,
    agent_id: int | None = None,
    delivered: bool = False,
) -> MessageRecord:
    """``append_message_sync`` inside an ORM flow's transaction. The session's own
    conversation object is not refreshed: flows read no list field after this."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.run_sync(
        lambda sync: append_message_sync(
            sync,
            now,
            conversation_id,
            author=author,
            text=text,
            name=name,
            client_id=client_id,
            agent_id=agent_id,
            delivered=delivered,
        )
    )


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    """The conversation's row lock: the first lock of every flow that takes one."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update(key_share=True)
    )
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


async def lock_conversation_and_ticket(session: AsyncSession, ticket_id: int) -> tuple[Conversation, Ticket]:
    """The conversation's lock, then its ticket's: the store's one lock order."""
    conversation_id = await session.scalar(select(Ticket.conversation_id).where(Ticket.id == ticket_id))
    if conversation_id is None:
        raise NotFound(f"no ticket #{ticket_id}")
    conversation = await lock_conversation(session, conversation_id)
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update(key_share=True))
    assert ticket is not None  # tickets are never deleted
    return conversation, ticket


def _touch_values(
    now: datetime, conversation_id: int, text: str, language: str | None, author: str, name: str
) -> dict[str, Any]:
    """The parameters of the conversation's list fields after a new message."""
    return {
        "b_conversation_id": conversation_id,
        "b_now": now,
        "b_preview": preview_of(text),
        "b_language": language,
        "b_author": author,
        "b_name": name,
    }


def _payload(message_id: int, author: str, name: str, text: str, client_id: str | None) -> dict[str, object]:
    return {"message_id": message_id, "author": author, "name": name, "text": text, "client_id": client_id}


async def record_customer_message(
    store: Store,
    conversation_id: int,
    text: str,
    *,
    client_id: str | None = None,
    language: str | None = None,
) -> StoredMessage:
    """Store a customer's message once per client id. An open ticket goes back to On you.
    ``language`` is a detection the caller made outside the transaction."""
    _check_text(text)
    try:
        return await store.run_write(
            _store_customer_message,
            conversation_id,
            text,
            client_id,
            language,
            store.now(),
            conversation_id=conversation_id,
        )
    except IntegrityError:
        # The same client id raced in through another connection: it is stored once.
        if client_id:
            existing = await _message_by_client_id(store, conversation_id, client_id)
            if existing:
                return StoredMessage(existing, created=False)
        raise


def _customer_message_first_step(
    conversation_id: int, text: str, client_id: str | None, language: str | None, now: datetime
) -> FirstStep:
    """PostgreSQL: the context read and the message written in one round trip (each
    statement is a write to the server's socket: most of the chat server's CPU). The
    customer's name is the statement's own (from the context it reads)."""
    message = _message_values(
        now, conversation_id, author=Author.CUSTOMER, text=text, name="", client_id=client_id, delivered=True
    )
    touch = _touch_values(now, conversation_id, text, language, Author.CUSTOMER, "")
    values = {f"m_{key}": value for key, value in message.items() if key != "name"}
    values |= {key: value for key, value in touch.items() if key != "b_name"}
    values |= {"conversation_id": conversation_id} | ({"client_id": client_id} if client_id else {})
    statement = _CUSTOMER_MESSAGE_WITH_RESEND_IN_ONE_STATEMENT if client_id else _CUSTOMER_MESSAGE_IN_ONE_STATEMENT
    return FirstStep(statement, values, conversation_id)


@pipelined(_customer_message_first_step)
def _store_customer_message(
    connection: Connection,
    conversation_id: int,
    text: str,
    client_id: str | None,
    language: str | None,
    now: datetime,
    first_row: Any = NOT_RUN,
) -> StoredMessage:
    in_one_statement = connection.dialect.name == "postgresql"
    if in_one_statement:
        if first_row is NOT_RUN:
            step = _customer_message_first_step(conversation_id, text, client_id, language, now)
            first_row = step.statement.first(connection, step.values)
        context = first_row
    elif client_id:
        context = _CONTEXT_WITH_RESEND.first(connection, {"conversation_id": conversation_id, "client_id": client_id})
    else:
        context = _CONTEXT.first(connection, {"conversation_id": conversation_id})
    if context is None:
        raise NotFound(f"no conversation {conversation_id}")
    if client_id and context.seen_id is not None:
        return StoredMessage(
            MessageRecord(
                id=context.seen_id,
                conversation_id=conversation_id,
                author=context.seen_author,
                name=context.seen_name,
                text=context.seen_text,
                created_at=context.seen_at,
                client_id=client_id,
                agent_id=context.seen_agent_id,
            ),
            created=False,
        )
    if context.status == ConversationStatus.ENDED:
        raise StoreError("this conversation has ended")
    name = context.customer_name or ""
    if in_one_statement:
        message_id = context.message_id
        assert isinstance(message_id, int)  # neither a resend nor an ended conversation
    else:
        # What the bot owes, in the message's own transaction: acked means owed.
        owed = context.ai_enabled and context.status == ConversationStatus.LIVE
        message_id = append_message_sync(
            connection,
            now,
            conversation_id,
            author=Author.CUSTOMER,
            text=text,
            name=name,
            client_id=client_id,
            delivered=True,
            language=language,
            owed_epoch=context.epoch if owed else None,
        ).id
    payload = _payload(message_id, Author.CUSTOMER, name, text, client_id)
    # A live conversation has no open ticket (see _TICKET_BACK_ON_YOU for why the joined
    # one is only a hint); any other may, so the UPDATE looks for it.
    ticket_id: int | None = None
    assignee_id: int | None = None
    reopened = False
    if context.ticket_id is not None or context.status != ConversationStatus.LIVE:
        found = _TICKET_BACK_ON_YOU.first(connection, {"b_conversation_id": conversation_id, "b_now": now})
        if found is not None:
            ticket_id, assignee_id = found.id, found.assignee_id
            # Whether it was snoozed comes from the context (a hint, as above): at worst a
            # snooze that a racing flow had just ended is not named on the timeline.
            if context.ticket_id == ticket_id and context.ticket_status == TicketStatus.SNOOZED:
                _timeline_sync(connection, ticket_id, now, "snooze_ended", "Snooze ended: the customer wrote.")
    if ticket_id is None and context.status == ConversationStatus.ESCALATED and not context.ai_enabled:
        # Closed with the AI kept paused: the customer writes again, the ticket reopens.
        ticket_id, assignee_id = reopen_after_close(connection, conversation_id, now)
        reopened = ticket_id is not None
    pending = [PendingEvent(EventKind.MESSAGE, conversation_id=conversation_id, ticket_id=ticket_id, payload=payload)]
    if ticket_id is not None:
        pending.append(
            PendingEvent(
                EventKind.TICKET_UPDATED,
                conversation_id=conversation_id,
                ticket_id=ticket_id,
                agent_id=assignee_id,
                payload={"status": TicketStatus.ON_YOU, "reopened": reopened},
            )
        )
    events.append_sync(connection, now, *pending)
    return StoredMessage(
        MessageRecord(
            id=message_id,
            conversation_id=conversation_id,
            author=Author.CUSTOMER,
            name=name,
            text=text,
            created_at=now,
            client_id=client_id,
        ),
        created=True,
    )


_TIMELINE = table_of(TimelineEvent)
_LATEST_TICKET = (
    select(_TICKETS.c.id, _TICKETS.c.assignee_id)
    .where(_TICKETS.c.conversation_id == bindparam("conversation_id"))
    .order_by(_TICKETS.c.id.desc())
    .limit(1)
)
_REOPEN = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("b_ticket_id"))
    .values(
        status=TicketStatus.ON_YOU,
        closed_at=None,
        snoozed_until=None,
        updated_at=bindparam("b_now", type_=_TICKETS.c.updated_at.type),
    )
)


def _timeline_sync(connection: Connection, ticket_id: int, now: datetime, code: str, text: str) -> None:
    connection.execute(
        insert(_TIMELINE),
        {"ticket_id": ticket_id, "kind": TimelineKind.SYSTEM, "code": code, "text": text, "created_at": now},
    )


def reopen_after_close(connection: Connection, conversation_id: int, now: datetime) -> tuple[int | None, int | None]:
    """The conversation's last ticket, reopened on its holder. The caller holds the
    conversation's lock and saw no open ticket (so the one-open-ticket index holds)."""
    latest = connection.execute(_LATEST_TICKET, {"conversation_id": conversation_id}).first()
    if latest is None:
        return None, None
    connection.execute(_REOPEN, {"b_ticket_id": latest.id, "b_now": now})
    _timeline_sync(connection, latest.id, now, "reopened", "Reopened: the customer wrote after the ticket was closed.")
    return latest.id, latest.assignee_id


async def _message_by_client_id(store: Store, conversation_id: int, client_id: str) -> MessageRecord | None:
    async with store.read() as session:
        message = await session.scalar(
            select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
        )
        return message_record(message) if message else None


@dataclass(frozen=True)
class OwedWork:
    """A customer message the bot owes an answer (its ``owed_replies`` row holds the
    conversation's epoch when it came)."""

    conversation_id: int
    message_id: int
    created_at: datetime | None = None  # known for claimed work; the age decides escalation


async def record_bot_reply(
    store: Store,
    conversation_id: int,
    text: str,
    *,
    name: str = "Assistant",
    answering: OwedWork | None = None,
) -> MessageRecord | None:
    """Store the bot's reply, unless it is stale: then nothing is stored and None is
    returned. Stale means the AI is paused, or (``answering``) the message it answers is
    no longer owed (answered already, or dropped by a takeover) or a takeover,
    escalation or hand-back changed the conversation's epoch since that message came.
    The check and the insert are one transaction under the conversation's row lock, so
    no stale bot message is ever stored. Without ``answering``, the reply settles all
    the conversation was owed."""
    _check_text(text)
    return await store.run_write(
        _store_bot_reply, conversation_id, text, name, answering, store.now(), conversation_id=conversation_id
    )


def _answer_first_step(
    conversation_id: int, text: str, name: str, answering: OwedWork | None, now: datetime
) -> FirstStep | None:
    """PostgreSQL, an owed message: ``_answer_step_by_step`` in one round trip (each
    statement is a write to the server's socket: most of the chat server's CPU)."""
    if answering is None:
        return None
    message = _message_values(now, conversation_id, author=Author.BOT, text=text, name=name)
    values = {f"m_{key}": value for key, value in message.items()}
    values |= _touch_values(now, conversation_id, text, None, Author.BOT, name)
    values |= {"conversation_id": conversation_id, "message_id": answering.message_id}
    return FirstStep(_ANSWER_OWED_IN_ONE_STATEMENT, values, conversation_id)


@pipelined(_answer_first_step)
def _store_bot_reply(
    connection: Connection,
    conversation_id: int,
    text: str,
    name: str,
    answering: OwedWork | None,
    now: datetime,
    first_row: Any = NOT_RUN,
) -> MessageRecord | None:
    if answering is not None and connection.dialect.name == "postgresql":
        if first_row is NOT_RUN:
            step = _answer_first_step(conversation_id, text, name, answering, now)
            assert step is not None
            first_row = step.statement.first(connection, step.values)
        if first_row is None:
            raise NotFound(f"no conversation {conversation_id}")
        record = None  # stale: settled, nothing stored
        if first_row.message_id is not None:
            message = _message_values(now, conversation_id, author=Author.BOT, text=text, name=name)
            record = _record_of(first_row.message_id, message)
    else:
        record = _answer_step_by_step(connection, conversation_id, text, name, answering, now)
    if record is not None:
        events.append_sync(
            connection,
            now,
            PendingEvent(EventKind.MESSAGE, conversation_id=conversation_id, payload=message_payload(record)),
        )
    return record


def _answer_step_by_step(
    connection: Connection, conversation_id: int, text: str, name: str, answering: OwedWork | None, now: datetime
) -> MessageRecord | None:
    state = _LOCK_FOR_BOT.first(connection, {"conversation_id": conversation_id})
    if state is None:
        raise NotFound(f"no conversation {conversation_id}")
    if answering is not None:
        # Settled either way: answered now, or stale for good.
        owed_epoch = _SETTLE_OWED.scalar(connection, {"message_id": answering.message_id})
        if owed_epoch is None or owed_epoch != state.epoch:
            return None
    if not state.ai_enabled or state.status != ConversationStatus.LIVE:
        return None
    if answering is None:
        # A reply that names no message answers whatever the conversation was owed.
        _SETTLE_CONVERSATION.run(connection, {"conversation_id": conversation_id})
    return append_message_sync(connection, now, conversation_id, author=Author.BOT, text=text, name=name)


async def transcript(session: AsyncSession, conversation_id: int, limit: int | None = None) -> list[MessageRecord]:
    """Messages oldest first; with ``limit``, the newest ``limit`` of them."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if limit is None:
        rows = await session.scalars(query.order_by(Message.id))
        return [message_record(m) for m in rows]
    rows = await session.scalars(query.order_by(Message.id.desc()).limit(limit))
    return [message_record(m) for m in reversed(list(rows))]


async def undelivered_messages(store: Store, conversation_id: int) -> list[MessageRecord]:
    """Agent and system messages (and bot replies) not yet handed to a customer socket."""
    async with store.read() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.delivered_at.is_(None))
            .order_by(Message.id)
        )
        return [message_record(m) for m in rows]


async def mark_delivered(store: Store, message_ids: Sequence[int]) -> None:
    if not message_ids:
        return
    await store.run_write(_mark_delivered, list(message_ids), store.now())


_MARK_DELIVERED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id.in_(bindparam("ids", expanding=True)), _MESSAGES.c.delivered_at.is_(None))
    .values(delivered_at=bindparam("b_now", type_=_MESSAGES.c.delivered_at.type))
)


def _mark_delivered(connection: Connection, message_ids: list[int], now: datetime) -> None:
    connection.execute(_MARK_DELIVERED, {"ids": message_ids, "b_now": now})
