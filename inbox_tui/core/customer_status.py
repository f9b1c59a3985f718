"""What the customer is told about who holds their conversation, and only what is true.

A customer hears "Ana has joined the conversation" only when Ana is actually assigned and
online (a takeover, a claim, an assignment to a connected teammate) or when her first
reply arrives. While the ticket waits in Unassigned they hear that they are in the
queue; when the next-shift fallback holds it, when the team is back. The lines are
built in for en, es, de, fr, pt and it; another language gets the English line.

Each line is a system message in the chat (stored, delivered like any other) and a
timeline event whose code records what was said, so a teammate is announced once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.agents import online_agent_ids_query
from inbox_tui.core.assignment import team_members
from inbox_tui.core.conversations import append_message, lock_conversation_and_ticket, message_payload
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Author, Conversation, Ticket, TicketStatus, TimelineEvent
from inbox_tui.core.store import Store
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import AssignmentSettings


class StatusKind:
    QUEUED = "queued"
    JOINED = "joined"
    BACK_AT = "back_at"


#: The timeline code that records a line the customer was told (``joined`` names the teammate).
TOLD_CODE = "customer_told"

STATUS_LINES: dict[str, dict[str, str]] = {
    StatusKind.QUEUED: {
        "en": "You are in the queue; the next available teammate will answer you here.",
        "es": "Estás en la cola; el próximo compañero disponible te responderá aquí.",
        "de": "Sie sind in der Warteschlange; das nächste freie Teammitglied antwortet Ihnen hier.",
        "fr": "Vous êtes dans la file d'attente ; le prochain membre disponible de l'équipe vous répondra ici.",
        "pt": "Você está na fila; o próximo membro da equipe disponível vai responder aqui.",
        "it": "Sei in coda; il prossimo membro del team disponibile ti risponderà qui.",
    },
    StatusKind.JOINED: {
        "en": "{name} has joined the conversation.",
        "es": "{name} se ha unido a la conversación.",
        "de": "{name} ist dem Gespräch beigetreten.",
        "fr": "{name} a rejoint la conversation.",
        "pt": "{name} entrou na conversa.",
        "it": "{name} si è unito alla conversazione.",
    },
    StatusKind.BACK_AT: {
        "en": "Our team is away right now and back at {when}; your message is kept and answered then.",
        "es": (
            "Nuestro equipo no está disponible ahora y vuelve a las {when}; "
            "tu mensaje se guarda y se responderá entonces."
        ),
        "de": (
            "Unser Team ist gerade nicht da und ab {when} zurück; "
            "Ihre Nachricht bleibt erhalten und wird dann beantwortet."
        ),
        "fr": (
            "Notre équipe est absente pour le moment et revient à {when} ; "
            "votre message est gardé et recevra une réponse à ce moment-là."
        ),
        "pt": "Nossa equipe está ausente agora e volta às {when}; sua mensagem fica guardada e será respondida então.",
        "it": (
            "Il nostro team ora non è disponibile e torna alle {when}; "
            "il tuo messaggio è conservato e riceverà risposta allora."
        ),
    },
}


def status_text(kind: str, language: str | None, **values: str) -> str:
    """The line in the customer's language (``pt-BR`` → ``pt``), else in English.
    Values are substituted literally (a name with braces stays as it is)."""
    lines = STATUS_LINES[kind]
    base = (language or "en").split("-")[0].split("_")[0].lower()
    template = lines.get(base, lines["en"])
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def back_at_label(start: datetime) -> str:
    """When the team is back, in UTC (the customer protocol carries no time zone)."""
    return start.strftime("%H:%M UTC")


async def tell(
    session: AsyncSession,
    now: datetime,
    conversation: Conversation,
    ticket: Ticket,
    kind: str,
    *,
    agent: Agent | None = None,
    when: str = "",
) -> PendingEvent:
    """Store the line as a system message and record it on the timeline; the caller
    holds the conversation's lock and appends the returned event."""
    text = status_text(kind, conversation.language or ticket.language, name=agent.name if agent else "", when=when)
    session.add(
        timeline(
            ticket.id,
            now,
            TOLD_CODE,
            f"The customer was told: {text}",
            agent.id if agent else None,
        )
    )
    message = await append_message(session, now, conversation.id, author=Author.SYSTEM, text=text, name="")
    return PendingEvent(EventKind.MESSAGE, conversation.id, ticket.id, payload=message_payload(message))


async def _last_told(session: AsyncSession, ticket_id: int) -> TimelineEvent | None:
    return await session.scalar(
        select(TimelineEvent)
        .where(TimelineEvent.ticket_id == ticket_id, TimelineEvent.code == TOLD_CODE)
        .order_by(TimelineEvent.id.desc())
        .limit(1)
    )


async def joined_already(session: AsyncSession, ticket_id: int, agent_id: int) -> bool:
    """Whether the customer's latest status line announced this teammate (only a
    joined line is recorded with a teammate's id)."""
    told = await _last_told(session, ticket_id)
    return told is not None and told.agent_id == agent_id


async def announce_holder(
    store: Store, ticket_id: int, presence_timeout: timedelta, *, present_agent_id: int | None = None
) -> bool:
    """After an assignment that happened outside the escalation (backlog hand-out,
    reassign, claim): tell the customer who joined, if that teammate is online and was
    not announced already. Its own transaction, in the store's lock order. Returns
    whether a line was sent. ``present_agent_id``: a teammate known to be at the
    keyboard (the one claiming), online whether or not a client of theirs is connected."""
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status == TicketStatus.CLOSED or ticket.assignee_id is None:
            return False
        online = set(await session.scalars(online_agent_ids_query(now, presence_timeout)))
        if present_agent_id is not None:
            online.add(present_agent_id)
        if ticket.assignee_id not in online or await joined_already(session, ticket.id, ticket.assignee_id):
            return False
        agent = await session.get(Agent, ticket.assignee_id)
        if agent is None:
            return False
        await events.append(
            session, now, await tell(session, now, conversation, ticket, StatusKind.JOINED, agent=agent)
        )
        return True


async def tell_holder(
    session: AsyncSession,
    now: datetime,
    conversation: Conversation,
    ticket: Ticket,
    assignment: AssignmentSettings,
) -> PendingEvent:
    """The line for the ticket's holder as it is now: joined (online), back at (the
    next-shift fallback holds it), or queued. The caller holds the conversation's lock."""
    if ticket.assignee_id is not None:
        members = {m.status.agent.id: m for m in await team_members(session, now, assignment)}
        member = members.get(ticket.assignee_id)
        agent = await session.get(Agent, ticket.assignee_id)
        if member is not None and member.status.online and agent is not None:
            return await tell(session, now, conversation, ticket, StatusKind.JOINED, agent=agent)
        if member is not None and member.next_shift_start is not None:
            when = back_at_label(member.next_shift_start)
            return await tell(session, now, conversation, ticket, StatusKind.BACK_AT, when=when)
    return await tell(session, now, conversation, ticket, StatusKind.QUEUED)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(?:name|when)\}", template)
    return re.compile(".+".join(re.escape(part) for part in parts) + r"\Z", re.DOTALL)


_PATTERNS = [_pattern(t) for lines in STATUS_LINES.values() for t in lines.values()]


def is_status_line(text: str) -> bool:
    """Whether ``text`` is one of the built-in status lines (tests, transcripts)."""
    return any(p.match(text) for p in _PATTERNS)
