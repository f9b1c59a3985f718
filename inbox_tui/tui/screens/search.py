"""``s``: search everything, with filters; Enter opens the hit at its message.

The screen only shows state and runs :func:`inbox_tui.core.search.search` in a worker.
While it is open, live events from the bridge run the query again (a burst once, a
moment later), with the cursor kept on the hit it was on.
Each result is built from literal spans (the snippet's match is a styled span of the
customer's own text), so nothing a customer wrote is ever parsed as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from inbox_tui.core import search as core_search
from inbox_tui.core.agents import AgentStatus
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import TicketStatus
from inbox_tui.core.search import HitKind, SearchFilters, SearchHit, StatusFilter
from inbox_tui.core.store import Store
from inbox_tui.tui import reads
from inbox_tui.tui.formatting import age, status_label
from inbox_tui.tui.safe_text import literal

#: Typing settles this long before a search runs (Enter searches at once).
TYPING_PAUSE_SECONDS = 0.15
#: Live events gather this long before the open query runs again: a burst is one search,
#: and a steady stream still refreshes the results this often.
LIVE_REFRESH_SECONDS = 1.0
#: Events that can change what a search finds or how a hit reads (its status, assignee).
SEARCHED_EVENTS = frozenset(
    {
        EventKind.CONVERSATION_CREATED,
        EventKind.MESSAGE,
        EventKind.NOTE,
        EventKind.ESCALATED,
        EventKind.TICKET_CREATED,
        EventKind.TICKET_UPDATED,
        EventKind.SUMMARY_READY,
        EventKind.ASSIGNED,
        EventKind.TICKET_CLOSED,
    }
)

KIND_LABEL = {
    HitKind.MESSAGE: "message",
    HitKind.NOTE: "note",
    HitKind.CUSTOMER: "customer",
    HitKind.TICKET: "ticket",
}
STATUS_CHOICES: list[tuple[str, str]] = [
    ("Open tickets", StatusFilter.OPEN.value),
    ("Needs a reply", TicketStatus.ON_YOU.value),
    ("Waiting on customer", TicketStatus.WAITING_ON_CUSTOMER.value),
    ("Snoozed", TicketStatus.SNOOZED.value),
    ("Closed", TicketStatus.CLOSED.value),
    ("No ticket (bot)", StatusFilter.NO_TICKET.value),
]
DATE_CHOICES: list[tuple[str, str]] = [("Last 24 hours", "1"), ("Last 7 days", "7"), ("Last 30 days", "30")]


@dataclass(frozen=True)
class SearchChoice:
    """The hit to open: its ticket if it has one, else its conversation, at its message."""

    conversation_id: int
    ticket_id: int | None
    ticket_status: str | None
    message_id: int | None


class SearchResults(Message):
    def __init__(
        self,
        query: str,
        filters: SearchFilters,
        hits: list[SearchHit],
        error: str | None = None,
        *,
        live: bool = False,
    ) -> None:
        super().__init__()
        self.query = query
        self.filters = filters
        self.hits = hits
        self.error = error
        self.live = live  # a refresh after live events: the cursor stays on its hit


def hit_key(hit: SearchHit) -> tuple[HitKind, int]:
    return (hit.kind, hit.ref_id)


def hit_prompt(hit: SearchHit, now: datetime) -> Content:
    """Two lines: who and where, then the snippet with the match highlighted."""
    name = literal(hit.customer_name, single_line=True) or "(no name)"
    email = literal(hit.customer_email, single_line=True) if hit.customer_email else ""
    if hit.ticket_id is None:
        where = "bot conversation"
    else:
        where = f"#{hit.ticket_id} {status_label(hit.ticket_status or '', hit.assignee is not None)}"
        if hit.assignee:
            where += f" · {literal(hit.assignee, single_line=True)}"
    snippet: list[tuple[str, str]] = [("  ", "")]
    for text, is_match in hit.spans:  # one line already; its spaces at the edges matter
        snippet.append((literal(text), "bold reverse $accent" if is_match else ""))
    return Content.assemble(
        (f"{KIND_LABEL[hit.kind]:<9}", "$text-muted"),
        (name, "bold"),
        (f" <{email}>" if email else "", "$text-muted"),
        (f" · {hit.channel} · {where} · {age(now, hit.created_at)}", "$text-muted"),
        "\n",
        *snippet,
    )


class SearchScreen(ModalScreen[SearchChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="search.cancel"),
        Binding("down", "results", "Results", show=False, id="search.results"),
        Binding("ctrl+f", "query", "Edit the query", show=False, id="search.query"),
    ]
    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    SearchScreen > Vertical {
        width: 96%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    SearchScreen #search-filters { height: auto; }
    SearchScreen #search-filters Select { width: 1fr; }
    SearchScreen #search-results { height: 1fr; border: none; }
    SearchScreen #search-status { color: $text-muted; height: 1; }
    """

    def __init__(
        self,
        store: Store,
        team: Sequence[AgentStatus],
        clock: Callable[[], datetime],
        *,
        cursor_blink: bool = True,
        query: str = "",
    ) -> None:
        super().__init__()
        self.store = store
        self.team = list(team)
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.initial_query = query
        self.hits: list[SearchHit] = []
        self._live_refresh: Timer | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical() as box:
            box.border_title = "Search messages, notes, customers and tickets"
            box.border_subtitle = "Enter opens · ↓ results · Tab filters · Esc closes"
            search_input = Input(
                value=self.initial_query, placeholder="Words to find (every word must match)", id="search-query"
            )
            search_input.cursor_blink = self.cursor_blink
            yield search_input
            with Horizontal(id="search-filters"):
                yield Select(STATUS_CHOICES, prompt="Any status", id="filter-status", compact=True)
                yield Select(
                    [(literal(row.agent.name, single_line=True), row.agent.id) for row in self.team],
                    prompt="Anyone",
                    id="filter-assignee",
                    compact=True,
                )
                yield Select([], prompt="Any channel", id="filter-channel", compact=True)
                yield Select(DATE_CHOICES, prompt="Any time", id="filter-date", compact=True)
            yield Static("Type to search.", id="search-status", markup=False)
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        self.query_one("#search-query", Input).focus()
        self._load_channels()
        if self.initial_query:
            self.run_search()

    @work(exit_on_error=False, group="search-channels")
    async def _load_channels(self) -> None:
        found = await reads.read(self.store, core_search.channels)
        self.query_one("#filter-channel", Select).set_options([(literal(c, single_line=True), c) for c in found])

    # ----- searching -------------------------------------------------------------

    @property
    def filters(self) -> SearchFilters:
        def chosen(select_id: str) -> object:
            value = self.query_one(select_id, Select).value
            return None if value is Select.NULL else value

        days = chosen("#filter-date")
        assignee = chosen("#filter-assignee")
        status, channel = chosen("#filter-status"), chosen("#filter-channel")
        return SearchFilters(
            status=str(status) if status is not None else None,
            assignee_id=int(str(assignee)) if assignee is not None else None,
            channel=str(channel) if channel is not None else None,
            since=self.clock() - timedelta(days=int(str(days))) if days is not None else None,
        )

    def run_search(self, *, pause: float = 0.0, live: bool = False) -> None:
        self._search(self.query_one("#search-query", Input).value, self.filters, pause, live)

    def something_changed(self, kind: str) -> None:
        """A live event arrived: the open query runs again shortly (once per burst)."""
        if kind not in SEARCHED_EVENTS or self._live_refresh is not None:
            return
        if not self.query_one("#search-query", Input).value.split():
            return
        self._live_refresh = self.set_timer(LIVE_REFRESH_SECONDS, self._refresh_live)

    def _refresh_live(self) -> None:
        self._live_refresh = None
        self.run_search(live=True)

    @work(exit_on_error=False, group="search", exclusive=True)
    async def _search(self, query: str, filters: SearchFilters, pause: float, live: bool = False) -> None:
        if pause:
            await asyncio.sleep(pause)  # a newer keystroke cancels this worker first
        try:
            # A newer keystroke cancels this worker: the read still ends cleanly (``reads``).
            hits = await reads.read(self.store, lambda session: core_search.search(session, query, filters))
        except Exception as error:  # noqa: BLE001 - said on screen; the screen stays usable
            self.post_message(SearchResults(query, filters, [], str(error)))
            return
        self.post_message(SearchResults(query, filters, hits, live=live))

    @on(Input.Changed, "#search-query")
    def _typed(self) -> None:
        self.run_search(pause=TYPING_PAUSE_SECONDS)

    @on(Input.Submitted, "#search-query")
    def _submitted(self) -> None:
        if self.hits:
            self.action_results()
        self.run_search()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.run_search()

    @on(SearchResults)
    def _results(self, message: SearchResults) -> None:
        results = self.query_one("#search-results", OptionList)
        status = self.query_one("#search-status", Static)
        if message.error is not None:
            status.update(f"Search failed: {message.error}")
            return
        was_on = self._highlighted_key() if message.live else None
        self.hits = message.hits
        now = self.clock()
        results.set_options([Option(hit_prompt(hit, now), id=str(i)) for i, hit in enumerate(message.hits)])
        if not message.query.split():
            status.update("Type to search.")
        elif not message.hits:
            status.update("Nothing found.")
        else:
            more = " (the best 50)" if len(message.hits) >= core_search.LIMIT else ""
            status.update(f"{len(message.hits)} found{more}, best first. Enter opens one.")
        if message.hits:
            keys = [hit_key(hit) for hit in message.hits]
            results.highlighted = keys.index(was_on) if was_on in keys else 0

    def _highlighted_key(self) -> tuple[HitKind, int] | None:
        index = self.query_one("#search-results", OptionList).highlighted
        if index is None or not 0 <= index < len(self.hits):
            return None
        return hit_key(self.hits[index])

    # ----- choosing ----------------------------------------------------------------

    @on(OptionList.OptionSelected, "#search-results")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        hit = self.hits[int(event.option.id or 0)]
        self.dismiss(SearchChoice(hit.conversation_id, hit.ticket_id, hit.ticket_status, hit.message_id))

    def action_results(self) -> None:
        results = self.query_one("#search-results", OptionList)
        if results.option_count and not results.has_focus:
            results.focus()

    def action_query(self) -> None:
        self.query_one("#search-query", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
