"""How conversations and tickets look as one line of the list pane.

Every customer-written field goes through ``literal`` and is appended as plain text,
never parsed as markup. Columns shrink away on narrow terminals (80 columns minimum).
"""

from __future__ import annotations

from rich.text import Text

from inbox_tui.core.attention import SortOrder, sort_key
from inbox_tui.core.models import TicketStatus
from inbox_tui.core.records import ConversationRow, TicketRow
from inbox_tui.core.store import Clock
from inbox_tui.tui.formatting import age
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.widgets.row_list import RowSpec


def conversation_key(row: ConversationRow) -> str:
    return f"c{row.id}"


def conversation_key_of(conversation_id: int) -> str:
    return f"c{conversation_id}"


def ticket_key(row: TicketRow | int) -> str:
    return f"t{row if isinstance(row, int) else row.id}"


def _cell(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)


def customer_tags(email: str | None, contact_id: int) -> tuple[str, ...]:
    """What tells two customers of the same name apart, best first: their email's name,
    then their id (short, and always different)."""
    shown = literal(email, single_line=True).split("@", 1)[0]
    return (shown, f"c{contact_id}") if shown else (f"c{contact_id}",)


def customer_look(name: str, contact_id: int) -> tuple[str, int]:
    """Rows of one name and different customers are namesakes (``RowSpec.namesake``)."""
    return " ".join(name.split()).casefold(), contact_id


def _name_cell(line: Text, name: str, tags: tuple[str, ...], width: int, style: str = "bold") -> None:
    """The name, then a tag dimmed (only given while a namesake is in the list), in
    ``width`` cells; the name gives way. A tag is never cut: a cut one might tell no one
    apart, so the first tag that fits is shown."""
    if not tags:
        line.append(_cell(name, width), style)
        return
    room = max(width // 2 - 1, 0)
    tag = next((t for t in tags if len(t) <= room), tags[-1][:room])
    shown = _cell(name, max(width - len(tag) - 1, 1)).rstrip()
    line.append(shown, style)
    line.append(" " + tag, "dim")
    line.append(" " * max(width - len(shown) - 1 - len(tag), 0))


def unread_badge(unread: int) -> str:
    """Three cells: ``●3 `` for three unread messages, blank when all is read."""
    if unread <= 0:
        return "   "
    return f"●{min(unread, 9)}" + ("+" if unread > 9 else " ")


def conversation_spec(clock: Clock) -> RowSpec[ConversationRow]:
    def render(row: ConversationRow, width: int, namesake: bool) -> Text:
        when = age(clock(), row.last_activity_at).rjust(4)
        name = literal(row.customer_name, single_line=True) or "(no name)"
        tags = customer_tags(row.customer_email, row.contact_id) if namesake else ()
        preview = literal(row.preview, single_line=True) or "(no messages yet)"
        line = Text(end="", style="bold" if row.unread else "")
        line.append(unread_badge(row.unread), "bold" if row.unread else "")
        width -= 3
        if width >= 70:
            _name_cell(line, name, tags, 18)
            line.append(" ")
            line.append(_cell(row.channel, 9), "dim")
            line.append(_cell((row.language or "··"), 3), "dim")
            rest = width - 18 - 1 - 9 - 3 - 5
        else:
            name_width = min(14, max(8, width // 3))
            _name_cell(line, name, tags, name_width)
            line.append(" ")
            rest = width - name_width - 1 - 5
        line.append(_cell(preview, max(rest, 0)))
        line.append(" " + when, "dim")
        return line

    return RowSpec(
        key=conversation_key,
        order=lambda r: (-r.last_activity_at.timestamp(), -r.id),
        search_text=lambda r: f"{r.customer_name} {r.customer_email or ''} {r.channel} {r.language or ''} {r.preview}",
        render=render,
        stamp=lambda r: age(clock(), r.last_activity_at),
        namesake=lambda r: customer_look(r.customer_name, r.contact_id),
    )


STATUS_SHORT: dict[str, str] = {
    TicketStatus.ON_YOU: "on you",
    TicketStatus.WAITING_ON_CUSTOMER: "waiting",
    TicketStatus.SNOOZED: "snoozed",
    TicketStatus.CLOSED: "closed",
}


WAITING_STYLE = "bold yellow"
LAST_AUTHOR = {"customer": "", "bot": "bot", "agent": "", "system": "system"}


def latest_line(row: TicketRow) -> str:
    """Who wrote the latest message and what, on one line (``Ana: …``, ``bot: …``)."""
    if not row.last_preview:
        return ""
    who = row.last_name if row.last_author in ("customer", "agent") and row.last_name else ""
    who = who or LAST_AUTHOR.get(row.last_author, row.last_author) or row.requester
    return f"{literal(who, single_line=True, limit=20)}: {literal(row.last_preview, single_line=True)}"


def ticket_spec(clock: Clock, order: SortOrder = SortOrder.NEWEST) -> RowSpec[TicketRow]:
    def render(row: TicketRow, width: int, namesake: bool) -> Text:
        now = clock()
        when = age(now, row.updated_at).rjust(4)
        number = f"#{row.id}".ljust(6)
        subject = literal(row.subject, single_line=True) or "summarizing…"
        latest = latest_line(row)
        requester = literal(row.requester, single_line=True) or "(no name)"
        tags = customer_tags(None, row.contact_id) if namesake else ()
        assignee = f"@{row.assignee.handle}" if row.assignee else "unassigned"
        status = STATUS_SHORT.get(row.status, row.status)
        if row.status == TicketStatus.ON_YOU and row.assignee is None:
            status = "waiting"  # for a teammate: nobody holds it yet
        if row.waiting_since is not None:
            status = f"wait {age(now, row.waiting_since)}"  # how long the customer has waited
        status_style = WAITING_STYLE if row.waiting_since is not None else "dim"
        line = Text(end="", style="bold" if row.unread else "")
        line.append(unread_badge(row.unread), "bold" if row.unread else "")
        width -= 3
        line.append(number, "bold")
        if width >= 80:
            rest = width - 6 - 15 - 9 - 13 - 5
            line.append(_subject_cell(subject, latest, max(rest, 0), bool(row.subject)))
            line.append(" ")
            _name_cell(line, requester, tags, 14, style="")
            line.append(_cell(status, 9), status_style)
            line.append(_cell(assignee, 12), "dim")
            line.append(" ")
        else:
            rest = width - 6 - 1 - 11 - 5
            _name_cell(line, requester, tags, 11, style="")
            line.append(" ")
            line.append(_subject_cell(subject, latest, max(rest, 0), bool(row.subject)))
        if row.waiting_since is not None and width < 80:
            # No status column here: the age cell says how long the customer has waited.
            line.append(" " + age(now, row.waiting_since).rjust(4), WAITING_STYLE)
        else:
            line.append(" " + when, "dim")
        return line

    return RowSpec(
        key=ticket_key,
        order=sort_key(order),
        search_text=lambda r: (
            f"#{r.id} {r.subject} {r.requester} {r.status} {r.assignee.handle if r.assignee else 'unassigned'}"
        ),
        render=render,
        stamp=lambda r: (age(clock(), r.updated_at), age(clock(), r.waiting_since) if r.waiting_since else None),
        namesake=lambda r: customer_look(r.requester, r.contact_id),
    )


def _subject_cell(subject: str, latest: str, width: int, has_subject: bool) -> Text:
    """The subject, then the latest message dimmed, in one cell of ``width``."""
    cell = Text(end="")
    if width <= 0:
        return cell
    cell.append(subject[:width], "" if has_subject else "italic dim")
    room = width - min(len(subject), width)
    if latest and room > 4:
        cell.append(_cell(" · " + latest, room), "dim")
    else:
        cell.append(" " * room)
    if len(subject) > width:
        cell = Text(end="")
        cell.append(_cell(subject, width), "" if has_subject else "italic dim")
    return cell
