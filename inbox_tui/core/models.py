"""The data model. Schema changes go through Alembic migrations in ``migrations/``."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time
from enum import StrEnum
from enum import nonmember as _nonmember
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.schema import CreateIndex

# Big integers on PostgreSQL, but INTEGER on SQLite so that the primary key is the rowid
# (SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite every message writes and reads a dozen of these: SQLAlchemy's chain (this
    # decorator's hook, then SQLite's DATETIME formatting through a dict) is one call
    # each here, with the text SQLAlchemy writes and the parsing it does (fromisoformat).
    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return _sqlite_text_of_utc
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name == "sqlite":
            return _utc_of_sqlite_text
        return super().result_processor(dialect, coltype)


#: SQLAlchemy's SQLite DATETIME storage format.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
_SQLITE_DATETIME_LENGTH = len("2026-12-03 12:00:00.000000")
#: The last datetime written and its text: a flow binds its one ``now`` several times
#: (the message, the conversation's activity, the event). One tuple, replaced whole, so
#: the writer and reader threads never see half of it.
_last_written: tuple[datetime | None, str] = (None, "")


def _sqlite_text_of_utc(value: datetime | None) -> str | None:
    global _last_written
    if value is None:
        return None
    last = _last_written
    if last[0] is value:  # datetimes are immutable: the same object has the same text
        return last[1]
    utc = value
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        utc = value.astimezone(UTC)
    text = _SQLITE_DATETIME % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)
    _last_written = (value, text)
    return text


def _utc_of_sqlite_text(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) == _SQLITE_DATETIME_LENGTH:  # the text written above: naive UTC
        with contextlib.suppress(ValueError):  # else: same length, another form (below)
            return datetime.fromisoformat(value + "+00:00")  # ``replace(tzinfo=)`` costs 7x more
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The model's table, typed as one (``__table__`` is typed as any FROM clause)."""
    return cast(Table, model.__table__)


class ConversationStatus(StrEnum):
    LIVE = "live"
    ESCALATED = "escalated"
    ENDED = "ended"


class Author(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"

    # Every author a customer may see; internal notes are timeline events, never messages.
    CUSTOMER_VISIBLE = _nonmember(("customer", "bot", "agent", "system"))


class TicketStatus(StrEnum):
    ON_YOU = "on_you"  # open: the team owes the customer a reply
    WAITING_ON_CUSTOMER = "waiting_on_customer"  # pending
    SNOOZED = "snoozed"  # until ``snoozed_until``, or (none) until the customer writes
    CLOSED = "closed"

    OPEN = _nonmember(("on_you", "waiting_on_customer", "snoozed"))
    LABELS = _nonmember(
        {"on_you": "On you", "waiting_on_customer": "Waiting on customer", "snoozed": "Snoozed", "closed": "Closed"}
    )


class SummaryState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FALLBACK = "fallback"


class TicketSource(StrEnum):
    TAKEOVER = "takeover"
    ESCALATION = "escalation"


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"


class Agent(Base):
    """A teammate."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    availability: Mapped[str] = mapped_column(String(16), default=Availability.AVAILABLE)
    token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Round-robin assignment picks the teammate assigned least recently.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    shifts: Mapped[list[Shift]] = relationship(back_populates="agent", cascade="all, delete-orphan")


class Shift(Base):
    """A weekly shift in the teammate's own timezone; ``end`` before ``start`` crosses midnight."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)

    agent: Mapped[Agent] = relationship(back_populates="shifts")


class Presence(Base):
    """A connected agent client on some server node; stale rows expire by heartbeat."""

    __tablename__ = "presence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    node: Mapped[str] = mapped_column(String(64))
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AgentCredential(Base):
    """A browser sign-in for a teammate: a one-time sign-in link or a web session.

    Only the secret's hash is stored. Rotating or removing the teammate's token deletes
    every row of theirs, which ends their sessions and spends their links."""

    __tablename__ = "agent_credentials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "link" | "session"
    secret_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Contact(Base):
    """A requester: the customer behind one or more conversations."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(16))
    # IANA name the customer's client sent (known to zoneinfo), for the times they are told.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_status_activity", "status", "last_activity_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    token_hash: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.LIVE)
    ai_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Denormalized so the live list never scans the messages table.
    last_message_preview: Mapped[str] = mapped_column(String(200), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # Also denormalized, by the same UPDATE, so the ticket lists never scan messages: who
    # wrote the latest message, and since when the customer waits (the first customer
    # message after the last teammate reply; empty when a teammate answered last).
    last_message_author: Mapped[str] = mapped_column(String(16), default="", server_default="")
    last_message_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every takeover, escalation and hand-back: a bot answer generated for an
    # older epoch is stale and is never stored.
    epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    contact: Mapped[Contact] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A resent client id is stored once.
        UniqueConstraint("conversation_id", "client_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_undelivered", "conversation_id", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    author: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Agent and system messages wait here until a customer socket took them.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OwedReply(Base):
    """A customer message the bot owes an answer, written with the message itself and
    removed by the transaction that stores the answer (or finds it stale). A worker
    holds it under a lease; while ``lease_until`` is empty, the node that stored the
    message holds it for the first lease from ``created_at``."""

    __tablename__ = "owed_replies"
    __table_args__ = (Index("ix_owed_replies_lease", "lease_until", "created_at"),)

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The predicate of the partial indexes on tickets, as SQL text.
OPEN_TICKET_SQL = "status != 'closed'"
#: The key of a partial index's condition on PostgreSQL, in the index's ``info``.
POSTGRESQL_WHERE = "postgresql_where"


def open_tickets_only() -> dict[str, Any]:
    """A partial index's keywords: open tickets only, on both databases.

    Not ``postgresql_where``: naming a dialect's keyword loads that dialect, and the
    PostgreSQL one costs tens of milliseconds at every start of an inbox on SQLite. The
    condition rides in the index's ``info`` and PostgreSQL's CREATE INDEX adds it
    (``_partial_index_on_postgresql``); the migrations say ``postgresql_where`` as usual."""
    return {"sqlite_where": text(OPEN_TICKET_SQL), "info": {POSTGRESQL_WHERE: OPEN_TICKET_SQL}}


@compiles(CreateIndex, "postgresql")
def _partial_index_on_postgresql(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    ddl: str = compiler.visit_create_index(create, **kw)
    where = create.element.info.get(POSTGRESQL_WHERE)
    return f"{ddl} WHERE {where}" if where else ddl


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The database itself guarantees one open ticket per conversation.
        Index(
            "uq_tickets_open_conversation",
            "conversation_id",
            unique=True,
            **open_tickets_only(),
        ),
        # Open tickets by conversation are looked up on every customer message; the
        # partial unique index above cannot serve a query whose status is a parameter.
        Index("ix_tickets_conversation", "conversation_id"),
        # The open-ticket views (All open, On you, Unassigned) walk these newest first.
        Index(
            "ix_tickets_open_updated",
            "updated_at",
            "id",
            **open_tickets_only(),
        ),
        Index(
            "ix_tickets_open_assignee",
            "assignee_id",
            "updated_at",
            "id",
            **open_tickets_only(),
        ),
        Index("ix_tickets_status_assignee", "status", "assignee_id", "updated_at"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_contact", "contact_id", "created_at"),
        Index("ix_tickets_summary_pending", "summary_state", "summary_lease_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(32), default="live_chat")
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_state: Mapped[str] = mapped_column(String(16), default=SummaryState.PENDING)
    summary_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), default=TicketStatus.ON_YOU)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # True until the handoff message and the status line after it went out in the
    # customer's language (either may need a model to translate it, which happens after
    # the claim, never inside it).
    handoff_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A snoozed ticket wakes (back to on_you) at this time; empty: when the customer writes.
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship()
    contact: Mapped[Contact] = relationship()
    assignee: Mapped[Agent | None] = relationship(foreign_keys=[assignee_id])

    @property
    def number(self) -> int:
        return self.id


def ticket_is_open() -> ColumnElement[bool]:
    """The open-ticket filter written as the partial indexes' own predicate, with a
    literal instead of a bound parameter: SQLite uses a partial index only when the query
    repeats its WHERE term, and PostgreSQL's generic plans for prepared statements cannot
    prove that a parameter matches it."""
    return Ticket.status != literal_column("'closed'")


class TimelineKind(StrEnum):
    SYSTEM = "system"
    NOTE = "note"


class TimelineEvent(Base):
    """System events and internal notes on a ticket. Never sent to a customer."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))  # escalated, assigned, summary_ready, note, …
    text: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_agent", "agent_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("timeline_events.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SavedReply(Base):
    """A saved reply (canned response) for the whole team: one row per language version;
    ``language`` is empty for the version used when no other fits."""

    __tablename__ = "saved_replies"
    __table_args__ = (UniqueConstraint("shortcut", "language"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), default="", server_default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """The append-only event log. Ids increase in commit order, so a client resumes from
    the last id it saw and misses nothing (see ``events.append``)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(BigId, index=True)
    ticket_id: Mapped[int | None] = mapped_column(BigId)
    agent_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReadMark(Base):
    """How far one teammate has read one conversation (and so its tickets): messages
    after ``last_read_message_id`` are unread for them. See ``core.read_state``."""

    __tablename__ = "read_marks"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(BigId, default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
