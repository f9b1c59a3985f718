"""The list column: the rows of the current view and the filter bar above them.

It owns its rows: it loads the current view's page in a worker, applies live rows the
screen hands it, keeps its border title (view · count) and opens and closes the filter.
The filter sits inside the list's border, so the list keeps its title and its width.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import var
from textual.widgets import Input

from inbox_tui.core import attention
from inbox_tui.core.attention import SortOrder
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import Clock, utc_now
from inbox_tui.core.views import View
from inbox_tui.tui import reads
from inbox_tui.tui.live_window import active_since
from inbox_tui.tui.messages import RecordsLoaded
from inbox_tui.tui.targets import ConversationTarget, DetailTarget
from inbox_tui.tui.view_orders import ViewOrders
from inbox_tui.tui.widgets.inbox_rows import conversation_key_of, conversation_spec, ticket_key, ticket_spec
from inbox_tui.tui.widgets.row_list import RowList

LIST_LIMIT = 10_000
EMPTY_TEXT = {
    View.CONVERSATIONS: "No live conversations.",
    View.ON_YOU: "Nothing on you.",
    View.UNASSIGNED: "No unassigned tickets.",
    View.ALL_OPEN: "No open tickets.",
    View.MENTIONS: "Nobody mentioned you yet.",
    View.CLOSED: "No closed tickets.",
    View.PENDING: "No ticket waits on a customer.",
    View.SNOOZED: "No snoozed tickets.",
}
FILTER_PLACEHOLDER = "Filter · Enter: list · Esc: clear"


def row_key(target: DetailTarget) -> str:
    if isinstance(target, ConversationTarget):
        return conversation_key_of(target.conversation_id)
    return ticket_key(target.ticket_id)


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Clear the filter", show=False, id="list.close_filter")
    ]

    def action_close(self) -> None:
        pane = self.parent
        if isinstance(pane, ListPane):
            pane.close_filter()


class ListPane(Vertical):
    view: var[View] = var(View.CONVERSATIONS, init=False)
    me: var[AgentRef | None] = var(None, init=False)

    def __init__(self, *, clock: Clock = utc_now, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.cursor_blink = cursor_blink
        self._select: DetailTarget | None = None
        # Per view, kept per teammate once signed in (the inbox hands over their file).
        self.orders = ViewOrders(None)

    def compose(self):  # type: ignore[no-untyped-def]
        box = FilterInput(placeholder=FILTER_PLACEHOLDER, id="filter", compact=True)
        box.cursor_blink = self.cursor_blink
        box.display = False
        yield box
        yield RowList(conversation_spec(self.clock), empty_text="Loading…", id="rows")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.rows.refresh)  # ages move on

    @property
    def rows(self) -> RowList:
        return self.query_one(RowList)

    @property
    def filter_box(self) -> Input:
        return self.query_one(FilterInput)

    # ----- rows -------------------------------------------------------------

    def show_records(self, view: View, records: list[Any], select: DetailTarget | None = None) -> None:
        if view is not self.view:
            return  # an answer for a view we already left
        rows = self.rows
        spec = conversation_spec(self.clock) if view is View.CONVERSATIONS else ticket_spec(self.clock, self.list_order)
        rows.set_spec(spec, EMPTY_TEXT[view])
        wanted = select or self._select
        self._select = None
        rows.replace_all(records, select_key=row_key(wanted) if wanted else None)
        self.show_title()

    def show_title(self) -> None:
        title = f"{self.view.label} · {self.rows.row_count}"
        if self.list_order is SortOrder.LONGEST_WAITING and self.view is not View.CONVERSATIONS:
            title += " · longest waiting first"
        if self.border_title != title:
            self.border_title = title

    def watch_view(self) -> None:
        self.close_filter(focus=False)
        self.load()

    def load(self, select: DetailTarget | None = None) -> None:
        if select is not None:
            self._select = select
        self._load(self.view)

    @work(exit_on_error=False, group="list", exclusive=True)
    async def _load(self, view: View) -> None:
        runtime = getattr(self.app, "runtime", None)
        if runtime is None:
            return
        agent_id = self.me.id if self.me else None
        since = active_since(self.app.settings, self.app.clock)  # type: ignore[attr-defined]
        # Run to its end even when a newer load cancels this one (see ``reads``).
        records = await reads.read(
            runtime.store,
            lambda session: attention.page(session, view, agent_id, limit=LIST_LIMIT, active_since=since),
        )
        self.post_message(RecordsLoaded(view, list(records)))

    @on(RecordsLoaded)
    def _records_loaded(self, message: RecordsLoaded) -> None:
        self.show_records(message.view, message.records, message.select)

    @property
    def list_order(self) -> SortOrder:
        return self.orders.get(self.view)

    def toggle_sort(self) -> SortOrder:
        """Ticket lists: newest activity first, or the longest waiting customer first;
        this view remembers it."""
        order = SortOrder.NEWEST if self.list_order is SortOrder.LONGEST_WAITING else SortOrder.LONGEST_WAITING
        self.orders.set(self.view, order)
        if self.view is not View.CONVERSATIONS:
            self.rows.set_spec(ticket_spec(self.clock, self.list_order), EMPTY_TEXT[self.view])
            self.rows.resort()
            self.show_title()
        return self.list_order

    def mark_row_read(self, target: DetailTarget) -> None:
        """The teammate has seen this row: its unread mark goes (the store has it too)."""
        record = self.rows.record(row_key(target))
        if record is not None and record.unread:
            self.rows.upsert([replace(record, unread=0)])

    def select_when_loaded(self, target: DetailTarget | None) -> None:
        self._select = target

    def select(self, target: DetailTarget) -> None:
        """Put the cursor on ``target`` now, or once the rows that hold it are loaded."""
        if not self.rows.select_key(row_key(target)):
            self._select = target

    # ----- filter -----------------------------------------------------------

    @property
    def filter_open(self) -> bool:
        return bool(self.filter_box.display)

    def open_filter(self) -> None:
        box = self.filter_box
        box.display = True
        self.screen.set_focus(box)  # now: the letters typed next are the filter

    def close_filter(self, *, focus: bool = True) -> None:
        box = self.filter_box
        box.value = ""
        box.display = False
        self.rows.set_filter("")
        self.show_title()
        if focus:
            self.rows.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.rows.set_filter(event.value)
        self.show_title()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.rows.focus()
