"""Rows written in plain SQL, as an older schema had them: for migration tests that fill a
database at an old revision (the flows and models describe the newest schema, so they
cannot write there). Ids come from the database, so its sequences stay right for the
flows that write after the upgrade."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.models import UTCDateTime


def _at(*names: str):  # type: ignore[no-untyped-def]
    return [bindparam(name, type_=UTCDateTime()) for name in names]


async def _insert(session: AsyncSession, statement: str, values: dict[str, object], *times: str) -> int:
    result = await session.execute(text(statement + " RETURNING id").bindparams(*_at(*times)), values)
    return int(result.scalar_one())


async def insert_contact(session: AsyncSession, customer: str, name: str, now: datetime) -> int:
    return await _insert(
        session,
        "INSERT INTO contacts (channel, external_id, name, email, created_at) "
        "VALUES ('web', :external, :name, :email, :now)",
        {"external": customer, "name": name, "email": f"{customer}@example.com", "now": now},
        "now",
    )


async def insert_conversation(session: AsyncSession, contact_id: int, now: datetime, *, status: str = "live") -> int:
    return await _insert(
        session,
        "INSERT INTO conversations (public_id, token_hash, channel, contact_id, status, ai_enabled, "
        "created_at, last_activity_at, last_message_preview, message_count) "
        "VALUES (:public_id, 'x', 'web', :contact, :status, :ai, :now, :now, '', 0)",
        {"public_id": str(uuid.uuid4()), "contact": contact_id, "status": status, "ai": status == "live", "now": now},
        "now",
    )


async def insert_message(
    session: AsyncSession, conversation_id: int, author: str, name: str, body: str, at: datetime
) -> int:
    """A message, and the conversation's list fields as that schema kept them."""
    message_id = await _insert(
        session,
        "INSERT INTO messages (conversation_id, author, name, text, created_at, delivered_at) "
        "VALUES (:conversation, :author, :name, :body, :at, :at)",
        {"conversation": conversation_id, "author": author, "name": name, "body": body, "at": at},
        "at",
    )
    await session.execute(
        text(
            "UPDATE conversations SET last_activity_at = :at, last_message_preview = :body, "
            "message_count = message_count + 1 WHERE id = :conversation"
        ).bindparams(*_at("at")),
        {"conversation": conversation_id, "body": body, "at": at},
    )
    return message_id


async def insert_ticket(
    session: AsyncSession,
    conversation_id: int,
    contact_id: int,
    at: datetime,
    *,
    status: str = "on_you",
    subject: str = "Help",
) -> int:
    return await _insert(
        session,
        "INSERT INTO tickets (type, conversation_id, contact_id, channel, subject, summary, "
        "summary_state, status, source, handoff_pending, created_at, updated_at, closed_at) "
        "VALUES ('live_chat', :conversation, :contact, 'web', :subject, '', 'ready', :status, "
        "'takeover', :no, :at, :at, :closed_at)",
        {
            "conversation": conversation_id,
            "contact": contact_id,
            "subject": subject,
            "status": status,
            "no": False,
            "at": at,
            "closed_at": at if status == "closed" else None,
        },
        "at",
        "closed_at",
    )
