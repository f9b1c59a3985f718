"""Teammates: creation, bridge tokens, lookup and the team's status as the rules see it.

The flows that change a teammate and may hand out the backlog (availability, presence,
edits, shifts) live in :mod:`inbox_tui.core.team`, above the assignment rules."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.conversations import hash_token
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Availability, Presence, Ticket, ticket_is_open
from inbox_tui.core.records import AgentRef
from inbox_tui.core.sign_in import revoke_credentials, session_agent
from inbox_tui.core.store import NotFound, Store, StoreError

HANDLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


def agent_ref(agent: Agent) -> AgentRef:
    return AgentRef(id=agent.id, handle=agent.handle, name=agent.name)


@dataclass(frozen=True)
class AgentStatus:
    """A teammate as the reassign picker and the assignment rules see them."""

    agent: AgentRef
    availability: str
    online: bool
    open_tickets: int
    capacity: int
    timezone: str

    @property
    def has_room(self) -> bool:
        return self.open_tickets < self.capacity


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreError(f"unknown timezone {name!r}") from None
    return name


async def add_agent(
    store: Store, handle: str, name: str, *, capacity: int = 5, timezone: str = "UTC"
) -> tuple[AgentRef, str]:
    """Create a teammate; returns them and their bridge token (shown once, stored hashed)."""
    handle = handle.strip().lstrip("@").lower()
    if not HANDLE.match(handle):
        raise StoreError("a handle is 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if capacity < 0:
        raise StoreError("capacity cannot be negative")
    validate_timezone(timezone)
    token = secrets.token_urlsafe(32)
    now = store.now()
    try:
        async with store.write() as session:
            agent = Agent(
                handle=handle,
                name=name.strip() or handle,
                capacity=capacity,
                timezone=timezone,
                availability=Availability.AVAILABLE,
                token_hash=hash_token(token),
                created_at=now,
            )
            session.add(agent)
            await session.flush()
            await events.append(
                session, now, PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent.id, payload={"handle": handle})
            )
            return agent_ref(agent), token
    except IntegrityError:
        raise StoreError(f"a teammate @{handle} exists already") from None


async def rotate_token(store: Store, handle: str) -> str:
    token = secrets.token_urlsafe(32)
    async with store.write() as session:
        agent = await _by_handle(session, handle)
        agent.token_hash = hash_token(token)
        # The old token's bridges close and its web sessions end, on every node.
        await revoke_credentials(session, agent.id, store.now(), "rotated")
    return token


async def _by_handle(session: AsyncSession, handle: str) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.handle == handle.lstrip("@").lower()))
    if agent is None:
        raise NotFound(f"no teammate @{handle.lstrip('@')}")
    return agent


async def get_agent(store: Store, handle: str) -> AgentRef:
    async with store.read() as session:
        return agent_ref(await _by_handle(session, handle))


async def authenticate(store: Store, token: str | None) -> AgentRef | None:
    if not token:
        return None
    digest = hash_token(token)
    async with store.read() as session:
        agent = await session.scalar(select(Agent).where(Agent.token_hash == digest))
        if agent is None:
            # A browser tab's inbox signs in with its web session (core.sign_in).
            return await session_agent(session, token, store.now())
    if not hmac.compare_digest(agent.token_hash or "", digest):
        return None
    return agent_ref(agent)


def online_agent_ids_query(now: datetime, timeout: timedelta):  # type: ignore[no-untyped-def]
    return select(Presence.agent_id).where(Presence.heartbeat_at >= now - timeout).distinct()


async def team_status(session: AsyncSession, now: datetime, presence_timeout: timedelta) -> list[AgentStatus]:
    """Every teammate with availability, presence and open-ticket load, by handle."""
    load = (
        select(Ticket.assignee_id, func.count().label("open"))
        .where(ticket_is_open(), Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id)
        .subquery()
    )
    # Presence as a column of the same query: one round trip inside the escalation.
    online = (
        select(Presence.id)
        .where(Presence.agent_id == Agent.id, Presence.heartbeat_at >= now - presence_timeout)
        .exists()
    )
    rows = await session.execute(
        select(Agent, func.coalesce(load.c.open, 0), online)
        .outerjoin(load, load.c.assignee_id == Agent.id)
        .order_by(Agent.handle)
    )
    return [
        AgentStatus(
            agent_ref(agent), agent.availability, bool(is_online), int(open_count), agent.capacity, agent.timezone
        )
        for agent, open_count, is_online in rows
    ]
