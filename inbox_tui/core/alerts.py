"""When to alert a teammate, decided from the event log the bridge delivers.

Alerts: a ticket lands on me; a customer writes on a ticket I hold; I am @mentioned; a
ticket enters Unassigned (only while I am available and on shift); a snooze of a ticket
I hold has ended; a ticket I hold has waited longer than the threshold (found by
:func:`overdue_tickets`, and written on the ticket's timeline once per wait).

Never an alert for my own doing (the event says who acted, and the inbox tells the rules
which tickets it just took); one ticket alerts at most once per interval; events older
than the interval (a catch-up after a reconnect) update the state but alert nobody; a
burst alerts a few tickets by name and counts the rest in one more alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.assignment import team_shifts
from inbox_tui.core.conversations import lock_conversation_and_ticket
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Author, Conversation, Ticket, TicketStatus, TimelineEvent, ticket_is_open
from inbox_tui.core.shifts import is_on_shift
from inbox_tui.core.store import Store
from inbox_tui.core.timeline import timeline
from inbox_tui.core.views import waiting_for

#: Alerts of one burst shown by name; the rest are counted in one more.
MAX_NAMED_ALERTS = 3
#: The timeline code of a wait past the threshold.
WAITED_CODE = "waited_too_long"


class AlertKind(StrEnum):
    ON_ME = "on_me"
    CUSTOMER_WROTE = "customer_wrote"
    MENTION = "mention"
    UNASSIGNED = "unassigned"
    WAITED = "waited"
    SNOOZE_ENDED = "snooze_ended"
    MORE = "more"  # the rest of a burst, counted


@dataclass(frozen=True)
class Happening:
    """One committed event, as far as the alert rules read it."""

    kind: str
    ticket_id: int | None
    agent_id: int | None = None
    at: datetime | None = None
    author: str = ""  # message events
    by: str = ""  # who acted (a handle), when the event says
    snooze_ended: bool = False  # a ticket update: its snooze's time came


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    ticket_id: int | None
    by: str = ""  # mentions: who mentioned me
    count: int = 0  # MORE: how many more tickets
    waited: timedelta | None = None  # WAITED: for how long

    def text(self, requester: str = "") -> str:
        """What the toast says (plain text: the caller renders it literally)."""
        who = f": {requester}" if requester else ""
        number = f"#{self.ticket_id}"
        if self.kind is AlertKind.ON_ME:
            return f"New ticket {number} on you{who}"
        if self.kind is AlertKind.CUSTOMER_WROTE:
            return f"The customer wrote on ticket {number}{who}"
        if self.kind is AlertKind.MENTION:
            return f"@{self.by} mentioned you on ticket {number}"
        if self.kind is AlertKind.UNASSIGNED:
            return f"Ticket {number} is waiting in Unassigned{who}"
        if self.kind is AlertKind.SNOOZE_ENDED:
            return f"Snooze ended: ticket {number} is back on you{who}"
        if self.kind is AlertKind.WAITED:
            minutes = int((self.waited or timedelta()).total_seconds() // 60)
            return f"The customer on ticket {number} has waited {minutes} min{who}"
        return f"…and {self.count} more ticket(s) need you"


class AlertRules:
    """The rules for one teammate's inbox, with the little state they need."""

    def __init__(
        self,
        me_id: int,
        my_handle: str,
        *,
        interval: timedelta,
        my_tickets: Iterable[int] = (),
    ) -> None:
        self.me_id = me_id
        self.my_handle = my_handle
        self.interval = interval
        self.my_tickets: set[int] = set(my_tickets)
        self.available_on_shift = True
        self._own: set[int] = set()  # tickets I just took myself
        self._last_alert: dict[tuple[int | None, str], datetime] = {}

    def my_own_doing(self, ticket_id: int) -> None:
        """The inbox took this ticket (takeover, claim): its arrival on me is no news."""
        self._own.add(ticket_id)
        self.my_tickets.add(ticket_id)

    def consider(self, happenings: Sequence[Happening], now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        for happening in happenings:
            alert = self._rule(happening)
            self._follow(happening)
            if alert is None:
                continue
            if happening.at is not None and now - happening.at > self.interval:
                continue  # a catch-up: history, not news
            if any(_key(a) == _key(alert) for a in alerts) or not self._due(_key(alert), now):
                continue
            alerts.append(alert)
        return self._fold(alerts)

    def waited(self, ticket_id: int, waited: timedelta, now: datetime) -> Alert | None:
        """A ticket of mine waited past the threshold (at most once per interval)."""
        alert = Alert(AlertKind.WAITED, ticket_id, waited=waited)
        return alert if self._due(_key(alert), now) else None

    # -----------------------------------------------------------------------------------

    def _mine_acting(self, happening: Happening) -> bool:
        return bool(happening.by) and happening.by.lower() == self.my_handle.lower()

    def _rule(self, happening: Happening) -> Alert | None:
        kind, ticket_id = happening.kind, happening.ticket_id
        if ticket_id is None or self._mine_acting(happening):
            return None
        if kind in (EventKind.TICKET_CREATED, EventKind.ASSIGNED):
            if happening.agent_id == self.me_id:
                if ticket_id in self._own or ticket_id in self.my_tickets:
                    return None  # mine already, or my own takeover or claim
                return Alert(AlertKind.ON_ME, ticket_id)
            if happening.agent_id is None and self.available_on_shift:
                return Alert(AlertKind.UNASSIGNED, ticket_id)
            return None
        if kind == EventKind.MESSAGE and happening.author == Author.CUSTOMER and ticket_id in self.my_tickets:
            return Alert(AlertKind.CUSTOMER_WROTE, ticket_id)
        if kind == EventKind.MENTION and happening.agent_id == self.me_id:
            return Alert(AlertKind.MENTION, ticket_id, by=happening.by)
        if kind == EventKind.TICKET_UPDATED and happening.snooze_ended and happening.agent_id == self.me_id:
            return Alert(AlertKind.SNOOZE_ENDED, ticket_id)
        return None

    def _follow(self, happening: Happening) -> None:
        """Keep which tickets I hold up to date from the events themselves."""
        ticket_id = happening.ticket_id
        if ticket_id is None:
            return
        if happening.kind == EventKind.ESCALATED and happening.agent_id == self.me_id:
            self._own.add(ticket_id)  # my takeover (from any of my inboxes)
        elif happening.kind in (EventKind.TICKET_CREATED, EventKind.ASSIGNED):
            if happening.agent_id == self.me_id:
                self.my_tickets.add(ticket_id)
            else:
                self.my_tickets.discard(ticket_id)
                self._own.discard(ticket_id)
        elif happening.kind == EventKind.TICKET_CLOSED:
            self.my_tickets.discard(ticket_id)
            self._own.discard(ticket_id)

    def _due(self, key: tuple[int | None, str], now: datetime) -> bool:
        last = self._last_alert.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._last_alert[key] = now
        return True

    def _fold(self, alerts: list[Alert]) -> list[Alert]:
        if len(alerts) <= MAX_NAMED_ALERTS:
            return alerts
        rest = len(alerts) - MAX_NAMED_ALERTS
        return [*alerts[:MAX_NAMED_ALERTS], Alert(AlertKind.MORE, None, count=rest)]


def _key(alert: Alert) -> tuple[int | None, str]:
    """What the interval counts per: the ticket; a mention (a teammate asking me) apart."""
    return (alert.ticket_id, "mention" if alert.kind is AlertKind.MENTION else "")


async def my_open_tickets(session: AsyncSession, agent_id: int) -> set[int]:
    return set(await session.scalars(select(Ticket.id).where(ticket_is_open(), Ticket.assignee_id == agent_id)))


async def overdue_tickets(
    session: AsyncSession, agent_id: int, threshold: timedelta, now: datetime
) -> list[tuple[int, datetime]]:
    """My open tickets whose customer has waited longer than ``threshold``: (ticket,
    waiting since), longest waiting first."""
    rows = await session.execute(
        select(Ticket.id, Ticket.status, Ticket.created_at, Conversation.waiting_since)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(ticket_is_open(), Ticket.assignee_id == agent_id, Conversation.waiting_since.is_not(None))
    )
    overdue: list[tuple[int, datetime]] = []
    for ticket_id, status, created_at, waiting_since in rows:
        since = waiting_for(waiting_since, status, created_at)
        if since is not None and now - since > threshold:
            overdue.append((ticket_id, since))
    return sorted(overdue, key=lambda pair: pair[1])


async def record_wait(store: Store, ticket_id: int, since: datetime, threshold: timedelta) -> bool:
    """Write the wait past the threshold on the ticket's timeline, once per wait (any
    number of inboxes may find it; the lock makes one of them write). Returns whether
    this call wrote it."""
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            return False
        written = await session.scalar(
            select(TimelineEvent.id).where(
                TimelineEvent.ticket_id == ticket_id,
                TimelineEvent.code == WAITED_CODE,
                TimelineEvent.created_at >= since,
            )
        )
        if written is not None:
            return False
        minutes = int(threshold.total_seconds() // 60)
        text = f"The customer has waited more than {minutes} min without an answer (since {since:%H:%M} UTC)."
        session.add(timeline(ticket.id, now, WAITED_CODE, text, ticket.assignee_id))
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.TICKET_UPDATED, conversation.id, ticket.id, ticket.assignee_id, {"waited": WAITED_CODE}
            ),
        )
        return True


async def on_shift_now(session: AsyncSession, agent_id: int, now: datetime) -> bool:
    """Whether the teammate is on shift now (no shifts: always)."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        return False
    shifts = (await team_shifts(session)).get(agent_id, ())
    return is_on_shift(shifts, agent.timezone, now)
