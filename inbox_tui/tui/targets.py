"""What the detail pane shows: a live conversation or a ticket, as a typed value.

Rows of the list are records (``ConversationRow`` / ``TicketRow``); :func:`target_of`
turns the selected record into the target the detail pane loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox_tui.core.records import ConversationRow, TicketRow


@dataclass(frozen=True)
class ConversationTarget:
    conversation_id: int


@dataclass(frozen=True)
class TicketTarget:
    ticket_id: int


DetailTarget = ConversationTarget | TicketTarget


def target_of(record: object) -> DetailTarget | None:
    if isinstance(record, ConversationRow):
        return ConversationTarget(record.id)
    if isinstance(record, TicketRow):
        return TicketTarget(record.id)
    return None


__all__ = ["ConversationTarget", "DetailTarget", "TicketTarget", "target_of"]
