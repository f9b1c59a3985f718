"""The one flow behind **Take over** (a teammate) and **Escalate to a human** (the bot).

``escalate`` is the fast, atomic part: claim the conversation (live → escalated, AI off),
create the ``live_chat`` ticket, assign it, write the timeline and the events — one
transaction. ``finish_escalation`` is the slow part that runs after it, in a worker:
the summary in the customer's language and, where a model must translate it, the
handoff message. A summary whose worker died is picked up again when its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.ai.interface import AIBackend, TicketSummary, TranscriptLine, describe_failure
from inbox_tui.ai.offline import extractive_summary
from inbox_tui.core import customer_status, events
from inbox_tui.core.agents import agent_ref
from inbox_tui.core.assignment import choose_assignee
from inbox_tui.core.conversations import (
    OwedWork,
    append_message,
    lock_conversation_and_ticket,
    message_payload,
    transcript,
)
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import (
    Agent,
    Author,
    Conversation,
    ConversationStatus,
    OwedReply,
    SummaryState,
    Ticket,
    TicketSource,
    TicketStatus,
    ticket_is_open,
)
from inbox_tui.core.records import EscalationResult
from inbox_tui.core.status_lines import StatusKind, status_lines
from inbox_tui.core.store import NotFound, Store, StoreError, teammate_flow
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import DEFAULT_HANDOFF_MESSAGE, AssignmentSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffConfig:
    message: str = DEFAULT_HANDOFF_MESSAGE
    translations: Mapping[str, str] = field(default_factory=dict)

    def configured_for(self, language: str | None) -> str | None:
        """The configured text for ``language``; the default when the language is unknown."""
        if not language:
            return self.message
        return self.translations.get(language)


@dataclass(frozen=True)
class EscalationSettings:
    handoff: HandoffConfig = field(default_factory=HandoffConfig)
    assignment: AssignmentSettings = field(default_factory=AssignmentSettings)
    summary_lease: timedelta = timedelta(seconds=60)
    summary_timeout: float = 15.0


async def _existing(session: AsyncSession, conversation_id: int) -> EscalationResult:
    ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id, ticket_is_open()))
    if ticket is None:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        raise StoreError(f"conversation {conversation_id} is {conversation.status} and cannot be escalated")
    assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    return EscalationResult(ticket.id, False, agent_ref(assignee) if assignee else None, conversation_id, ticket.status)


class StaleEscalation(StoreError):
    """The bot's decision to escalate came from an epoch that has passed (a takeover,
    escalation or hand-back happened since), or its message was answered already."""


@teammate_flow
async def escalate(
    store: Store,
    conversation_id: int,
    *,
    source: str,
    actor_id: int | None = None,
    reason: str | None = None,
    settings: EscalationSettings | None = None,
    answering: OwedWork | None = None,
) -> EscalationResult:
    """Claim the conversation and open its ticket, or return the ticket someone else
    opened. Idempotent; exactly one caller ever gets ``created=True`` per open ticket.
    ``answering``: the bot escalates in answer to this owed message, and only if the
    conversation is still in that message's epoch (else ``StaleEscalation``)."""
    settings = settings or EscalationSettings()
    if source not in (TicketSource.TAKEOVER, TicketSource.ESCALATION):
        raise StoreError(f"unknown escalation source {source!r}")
    if source == TicketSource.TAKEOVER and actor_id is None:
        raise StoreError("a takeover needs the teammate who takes over")
    now = store.now()
    try:
        async with store.write() as session:
            actor = await session.get(Agent, actor_id) if actor_id is not None else None
            if actor_id is not None and actor is None:
                raise NotFound(f"no teammate {actor_id}")
            # The claim: one conditional UPDATE. Under PostgreSQL's row lock the loser
            # re-reads the row, sees it is no longer live, and updates nothing.
            # RETURNING hands back the claimed row, saving a round trip to read it again.
            # The claim also starts a new epoch: any bot answer in flight is stale now.
            claim = (
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.status == ConversationStatus.LIVE)
                .values(
                    status=ConversationStatus.ESCALATED,
                    ai_enabled=False,
                    last_activity_at=now,
                    epoch=Conversation.epoch + 1,
                )
            )
            if answering is not None:
                claim = claim.where(
                    exists().where(OwedReply.message_id == answering.message_id, OwedReply.epoch == Conversation.epoch)
                )
            claimed = (
                await session.scalars(claim.returning(Conversation).execution_options(synchronize_session=False))
            ).first()
            if claimed is not None:
                await session.execute(delete(OwedReply).where(OwedReply.conversation_id == conversation_id))
                return await _open_ticket(session, now, claimed, source, actor, reason, settings)
            if answering is None:
                return await _existing(session, conversation_id)
            # A stale answer: settled (committed) without escalating again.
            await session.execute(delete(OwedReply).where(OwedReply.message_id == answering.message_id))
        raise StaleEscalation("the conversation changed hands since this message")
    except IntegrityError:
        # The partial unique index caught a second open ticket: the other one won.
        async with store.read() as session:
            return await _existing(session, conversation_id)


async def _open_ticket(
    session: AsyncSession,
    now: datetime,
    conversation: Conversation,
    source: str,
    actor: Agent | None,
    reason: str | None,
    settings: EscalationSettings,
) -> EscalationResult:
    back_at: datetime | None = None
    if source == TicketSource.TAKEOVER and actor is not None:
        assignee: Agent | None = actor
        assign_text = f"Assigned to {actor.name} (@{actor.handle}), who took over."
    else:
        decision = await choose_assignee(session, now, settings.assignment)
        assignee = await session.get(Agent, decision.agent.id) if decision.agent else None
        assign_text = decision.reason
        back_at = decision.starts_at if decision.next_shift else None
    handoff_text = settings.handoff.configured_for(conversation.language)
    if status_lines().needs_model(conversation.language):
        # The status line after the handoff waits for the model's translation, so the
        # worker sends both, in order (never a model call while the claim holds locks).
        handoff_text = None
    ticket = Ticket(
        type="live_chat",
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        channel=conversation.channel,
        subject="",
        summary="",
        summary_state=SummaryState.PENDING,
        summary_lease_until=now + settings.summary_lease,
        language=conversation.language,
        status=TicketStatus.ON_YOU,
        assignee_id=assignee.id if assignee else None,
        source=source,
        reason=reason,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
        handoff_pending=handoff_text is None,
    )
    session.add(ticket)
    await session.flush()

    if source == TicketSource.TAKEOVER and actor is not None:
        opened = f"Taken over by {actor.name} (@{actor.handle})."
    else:
        # The model's reason may end with its own full stop: one is enough.
        opened = f"Escalated to a human by the assistant: {(reason or '').rstrip(' .') or 'no reason given'}."
    session.add_all(
        [
            timeline(ticket.id, now, "escalated", opened, actor.id if actor else None),
            timeline(ticket.id, now, "ai_paused", "AI replies paused for this conversation."),
            timeline(
                ticket.id,
                now,
                "ticket_created",
                f"Ticket #{ticket.id} (live_chat) created from the {conversation.channel} conversation.",
            ),
            timeline(
                ticket.id, now, "assigned" if assignee else "unassigned", assign_text, assignee.id if assignee else None
            ),
        ]
    )
    pending = [
        PendingEvent(
            EventKind.ESCALATED,
            conversation.id,
            ticket.id,
            actor.id if actor else None,
            {"source": source, "reason": reason},
        ),
        PendingEvent(EventKind.AI_PAUSED, conversation.id, ticket.id),
        PendingEvent(
            EventKind.TICKET_CREATED,
            conversation.id,
            ticket.id,
            assignee.id if assignee else None,
            {"source": source, "channel": conversation.channel},
        ),
        PendingEvent(
            EventKind.ASSIGNED, conversation.id, ticket.id, assignee.id if assignee else None, {"reason": assign_text}
        ),
    ]
    if handoff_text is not None:
        pending.append(await _send_handoff(session, now, conversation, ticket, handoff_text))
        # Only the truth: a takeover or an assignment to an online teammate is a join; a
        # next-shift holder means "back at"; nobody means the queue. A translated handoff
        # sends this line after itself (``send_translated_handoff``).
        if assignee is None:
            pending.append(await customer_status.tell(session, now, conversation, ticket, StatusKind.QUEUED))
        elif back_at is not None:
            zone = await customer_status.customer_time_zone(session, conversation)
            when = customer_status.back_at_label(back_at, zone, now)
            pending.append(
                await customer_status.tell(session, now, conversation, ticket, StatusKind.BACK_AT, when=when)
            )
        else:
            pending.append(
                await customer_status.tell(session, now, conversation, ticket, StatusKind.JOINED, agent=assignee)
            )
    await events.append(session, now, *pending)
    return EscalationResult(ticket.id, True, agent_ref(assignee) if assignee else None, conversation.id, ticket.status)


async def _send_handoff(
    session: AsyncSession, now: datetime, conversation: Conversation, ticket: Ticket, text: str
) -> PendingEvent:
    session.add(timeline(ticket.id, now, "handoff_sent", f"Handoff message sent to the customer: {text}"))
    message = await append_message(session, now, conversation.id, author=Author.SYSTEM, text=text, name="")
    ticket.handoff_pending = False
    return PendingEvent(EventKind.MESSAGE, conversation.id, ticket.id, payload=message_payload(message))


async def finish_escalation(
    store: Store,
    ai: AIBackend,
    ticket_id: int,
    settings: EscalationSettings | None = None,
) -> None:
    """The slow half, run in a worker after ``escalate``: handoff translation, summary."""
    settings = settings or EscalationSettings()
    async with renewing_summary_lease(store, ticket_id, settings.summary_lease):
        await send_translated_handoff(store, ai, ticket_id, settings)
        await summarize_ticket(store, ai, ticket_id, timeout=settings.summary_timeout)


@contextlib.asynccontextmanager
async def renewing_summary_lease(store: Store, ticket_id: int, lease: timedelta) -> AsyncIterator[None]:
    """Keep this worker's lease on the pending summary while it works, so a slow model
    is not asked a second time by a sweeper that thinks this worker died."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(max(lease.total_seconds() / 3, 0.05))
            try:
                async with store.write() as session:
                    await session.execute(
                        update(Ticket)
                        .where(Ticket.id == ticket_id, Ticket.summary_state == SummaryState.PENDING)
                        .values(summary_lease_until=store.now() + lease)
                    )
            except Exception as error:  # noqa: BLE001 - the next renewal tries again
                log.warning("renewing the summary lease of ticket %s failed: %s", ticket_id, error)

    renewer = asyncio.create_task(renew(), name=f"summary-lease-{ticket_id}")
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer


async def send_translated_handoff(store: Store, ai: AIBackend, ticket_id: int, settings: EscalationSettings) -> None:
    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or not ticket.handoff_pending:
            return
        language = ticket.language
    await status_lines().prepare(language)
    configured = settings.handoff.configured_for(language)
    text = configured or settings.handoff.message
    if configured is None and language and ai.has_model:
        try:
            async with asyncio.timeout(settings.summary_timeout):
                text = await ai.translate(text, language)
        except Exception as error:  # noqa: BLE001 - any model failure falls back to the default
            log.warning(
                "handoff translation failed for ticket %s: %s",
                ticket_id,
                describe_failure(error, settings.summary_timeout),
            )
            text = settings.handoff.message
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if not ticket.handoff_pending:
            return  # another worker sent it
        handoff = await _send_handoff(session, now, conversation, ticket, text)
        status = await customer_status.tell_holder(session, now, conversation, ticket, settings.assignment)
        await events.append(session, now, handoff, status)


async def summarize_ticket(store: Store, ai: AIBackend, ticket_id: int, *, timeout: float) -> str | None:
    """Write the ticket's summary: the model's within ``timeout``, else the local fallback.
    Returns the summary state written, or None if the summary was already there."""
    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.summary_state != SummaryState.PENDING:
            return None
        language = ticket.language
        lines = await transcript(session, ticket.conversation_id, limit=200)
    chat = [TranscriptLine(m.author, m.name, m.text) for m in lines if m.author != Author.SYSTEM]
    state = SummaryState.READY
    try:
        async with asyncio.timeout(timeout):
            result: TicketSummary = await ai.summarize(chat, language)
    except Exception as error:  # noqa: BLE001 - absent, slow or broken model: never leave it pending
        log.warning("summary by %s failed for ticket %s: %s", ai.name, ticket_id, describe_failure(error, timeout))
        result = extractive_summary(chat, language)
        state = SummaryState.FALLBACK
    if not ai.has_model:
        state = SummaryState.FALLBACK  # no model: the extractive summary is the fallback
    now = store.now()
    async with store.write() as session:
        written = await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.summary_state == SummaryState.PENDING)
            .values(
                subject=result.subject[:300],
                summary=result.summary,
                summary_state=state,
                summary_lease_until=None,
                language=language or result.language,
                updated_at=now,
            )
        )
        if cast("CursorResult[Any]", written).rowcount != 1:
            return None
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        label = "AI summary ready" if state == SummaryState.READY else "Fallback summary written (no model answer)"
        session.add(timeline(ticket_id, now, "summary_" + state, f"{label}: {result.subject}"))
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.SUMMARY_READY,
                ticket.conversation_id,
                ticket_id,
                ticket.assignee_id,
                {"state": state, "subject": result.subject},
            ),
        )
    return state


async def claim_stale_summaries(store: Store, lease: timedelta, limit: int = 20) -> list[int]:
    """Take over pending summaries whose worker's lease expired (it died or hung)."""
    now = store.now()
    claimed: list[int] = []
    async with store.write() as session:
        stale = await session.scalars(
            select(Ticket.id)
            .where(
                Ticket.summary_state == SummaryState.PENDING,
                (Ticket.summary_lease_until.is_(None)) | (Ticket.summary_lease_until < now),
            )
            .order_by(Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for ticket_id in stale.all():
            await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(summary_lease_until=now + lease))
            claimed.append(ticket_id)
    return claimed


async def resume_stale_summaries(store: Store, ai: AIBackend, settings: EscalationSettings | None = None) -> list[int]:
    """Finish every ticket whose summary was left pending by a dead worker."""
    settings = settings or EscalationSettings()
    ticket_ids = await claim_stale_summaries(store, settings.summary_lease)
    for ticket_id in ticket_ids:
        await finish_escalation(store, ai, ticket_id, settings)
    return ticket_ids
