"""Browser sign-in: one-time sign-in links and web sessions for teammates.

Both are random 256-bit secrets, shown once and stored only as a hash, tied to one
teammate and with an expiry:

- a **sign-in link** (``inbox-tui agents link HANDLE``) is short-lived and spent by
  deleting its row, in the same statement that checks it, so two browsers racing with
  the same link get one session between them;
- a **web session** is what the browser's cookie holds. It is also a bridge credential
  (``core.agents.authenticate`` accepts it), so the inbox a browser tab runs works as
  that teammate and no one else. Its expiry moves forward while the teammate is active.

Rotating or removing a teammate's token (``revoke_credentials``) deletes every link and
session of theirs and appends ``agent_token_revoked``: server nodes close that
teammate's bridges, web servers end their tabs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.conversations import hash_token
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, AgentCredential, Availability
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import NotFound, Store

LINK = "link"
SESSION = "session"


@dataclass(frozen=True)
class SignInLink:
    agent: AgentRef
    secret: str
    expires_at: datetime


@dataclass(frozen=True)
class WebSession:
    id: int
    agent: AgentRef
    secret: str


def _ref(agent: Agent) -> AgentRef:
    return AgentRef(id=agent.id, handle=agent.handle, name=agent.name)


async def _agent_by_handle(session: AsyncSession, handle: str) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.handle == handle.lstrip("@").lower()))
    if agent is None:
        raise NotFound(f"no teammate @{handle.lstrip('@')}")
    return agent


async def create_sign_in_link(store: Store, handle: str, valid_for: timedelta) -> SignInLink:
    """A one-time sign-in link secret for the teammate (shown once, stored hashed)."""
    secret = secrets.token_urlsafe(32)
    now = store.now()
    async with store.write() as session:
        agent = await _agent_by_handle(session, handle)
        if agent.token_hash is None:
            raise NotFound(f"@{agent.handle} was removed; add them again first")
        session.add(
            AgentCredential(
                agent_id=agent.id, kind=LINK, secret_hash=hash_token(secret), created_at=now, expires_at=now + valid_for
            )
        )
        return SignInLink(_ref(agent), secret, now + valid_for)


async def _new_session(session: AsyncSession, agent: Agent, now: datetime, idle: timedelta) -> WebSession:
    secret = secrets.token_urlsafe(32)
    row = AgentCredential(
        agent_id=agent.id, kind=SESSION, secret_hash=hash_token(secret), created_at=now, expires_at=now + idle
    )
    session.add(row)
    await session.flush()
    return WebSession(row.id, _ref(agent), secret)


async def start_session(store: Store, agent_id: int, idle: timedelta) -> WebSession:
    """A web session for a teammate who proved who they are (token, or the demo on loopback)."""
    async with store.write() as session:
        agent = await session.get(Agent, agent_id)
        if agent is None or agent.token_hash is None:
            raise NotFound(f"no teammate {agent_id}")
        return await _new_session(session, agent, store.now(), idle)


async def redeem_sign_in_link(store: Store, secret: str, idle: timedelta) -> WebSession | None:
    """Spend a sign-in link and start a session; None if it is unknown, used or expired."""
    if not secret:
        return None
    now = store.now()
    async with store.write() as session:
        # One statement checks and spends the link: of two racing uses, one gets the row.
        agent_id = await session.scalar(
            delete(AgentCredential)
            .where(
                AgentCredential.secret_hash == hash_token(secret),
                AgentCredential.kind == LINK,
                AgentCredential.expires_at > now,
            )
            .returning(AgentCredential.agent_id)
        )
        if agent_id is None:
            return None
        agent = await session.get(Agent, agent_id)
        if agent is None:
            return None
        return await _new_session(session, agent, now, idle)


async def session_agent(session: AsyncSession, secret: str, now: datetime) -> AgentRef | None:
    """The teammate a live web session belongs to (for the bridge's token check)."""
    row = await session.execute(
        select(Agent)
        .join(AgentCredential, AgentCredential.agent_id == Agent.id)
        .where(
            AgentCredential.secret_hash == hash_token(secret),
            AgentCredential.kind == SESSION,
            AgentCredential.expires_at > now,
        )
    )
    agent = row.scalar_one_or_none()
    return None if agent is None else _ref(agent)


async def find_session(store: Store, secret: str) -> tuple[int, AgentRef] | None:
    """The live session behind a cookie value: its id and teammate."""
    if not secret:
        return None
    async with store.read() as session:
        row = (
            await session.execute(
                select(AgentCredential.id, Agent)
                .join(Agent, AgentCredential.agent_id == Agent.id)
                .where(
                    AgentCredential.secret_hash == hash_token(secret),
                    AgentCredential.kind == SESSION,
                    AgentCredential.expires_at > store.now(),
                )
            )
        ).one_or_none()
    return None if row is None else (row[0], _ref(row[1]))


async def live_sessions(store: Store, session_ids: set[int]) -> set[int]:
    """Which of these sessions still exist and have not expired."""
    if not session_ids:
        return set()
    async with store.read() as session:
        rows = await session.scalars(
            select(AgentCredential.id).where(
                AgentCredential.id.in_(session_ids),
                AgentCredential.kind == SESSION,
                AgentCredential.expires_at > store.now(),
            )
        )
        return set(rows)


async def keep_alive(store: Store, last_activity: dict[int, datetime], idle: timedelta) -> None:
    """Move each session's expiry to its last activity plus the idle time."""
    if not last_activity:
        return
    async with store.write() as session:
        for session_id, at in last_activity.items():
            await session.execute(
                update(AgentCredential)
                .where(
                    AgentCredential.id == session_id,
                    AgentCredential.kind == SESSION,
                    AgentCredential.expires_at > store.now(),
                )
                .values(expires_at=at + idle)
            )


async def end_session(store: Store, session_id: int) -> None:
    """Sign out: the session's secret stops working everywhere."""
    async with store.write() as session:
        await session.execute(delete(AgentCredential).where(AgentCredential.id == session_id))


async def forget_expired(store: Store) -> None:
    async with store.write() as session:
        await session.execute(delete(AgentCredential).where(AgentCredential.expires_at <= store.now()))


async def revoke_credentials(session: AsyncSession, agent_id: int, now: datetime, reason: str) -> None:
    """End every session and spend every link of the teammate, and say so on the event log
    (in the caller's transaction, with the token change itself)."""
    await session.execute(delete(AgentCredential).where(AgentCredential.agent_id == agent_id))
    await events.append(
        session, now, PendingEvent(EventKind.AGENT_TOKEN_REVOKED, agent_id=agent_id, payload={"reason": reason})
    )


async def remove_agent(store: Store, handle: str) -> AgentRef:
    """Take a teammate's access away: their token stops working, their sessions and bridges
    end, and they are marked away so the assignment rules pass them over. Their history
    (messages, notes, tickets) stays, under their name."""
    now = store.now()
    async with store.write() as session:
        agent = await _agent_by_handle(session, handle)
        agent.token_hash = None
        agent.availability = Availability.AWAY
        await revoke_credentials(session, agent.id, now, "removed")
        await events.append(
            session,
            now,
            PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent.id, payload={"availability": Availability.AWAY}),
        )
        return _ref(agent)
