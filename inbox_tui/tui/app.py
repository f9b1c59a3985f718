"""The inbox: views, list, detail, composer, status bar — thin widgets over the core.

Every flow (take over, reply, note, reassign, allow AI replies, availability, AI
compose) runs in a worker against the same database the server uses; the bridge worker
follows the event log and the refresher applies bursts of events in one batch, touching
only what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Input, OptionList, Static
from textual.worker import Worker, WorkerState

from inbox_tui.ai.interface import AIError, AIUnavailable, TranscriptLine
from inbox_tui.core import agents as core_agents
from inbox_tui.core import events as core_events
from inbox_tui.core import team as core_team
from inbox_tui.core import views
from inbox_tui.core.conversations import get_conversation
from inbox_tui.core.escalation import escalate, finish_escalation
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Author, Availability, ConversationStatus, TicketSource, TicketStatus
from inbox_tui.core.records import AgentRef, ConversationRow, TicketDetail, TicketRow
from inbox_tui.core.store import Clock, StoreError, utc_now
from inbox_tui.core.tickets import add_note, allow_ai_replies, mark_mentions_seen, reassign, send_agent_reply
from inbox_tui.core.views import View
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import Settings, secret
from inbox_tui.tui.bridge_client import BridgeClient, BridgeState, BridgeStatus
from inbox_tui.tui.commands import InboxCommands
from inbox_tui.tui.drafts import DraftStore
from inbox_tui.tui.live_updates import EventBatch, merge_events, moved_row
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.screens.help import HelpScreen, help_content
from inbox_tui.tui.screens.reassign import ReassignChoice, ReassignScreen
from inbox_tui.tui.screens.team import TeamScreen
from inbox_tui.tui.themes import all_theme_folders, load_themes
from inbox_tui.tui.widgets.composer import NOTE, REPLY, Composer
from inbox_tui.tui.widgets.detail import ConversationPane, TicketPane
from inbox_tui.tui.widgets.inbox_rows import (
    conversation_key,
    conversation_key_of,
    conversation_spec,
    ticket_key,
    ticket_spec,
)
from inbox_tui.tui.widgets.row_list import RowList
from inbox_tui.tui.widgets.sidebar import VIEW_ORDER, Sidebar, ViewsStrip
from inbox_tui.tui.widgets.status_bar import StatusBar
from inbox_tui.tui.widgets.thread_view import ThreadView

log = logging.getLogger(__name__)

LIST_LIMIT = 10_000
#: On quit: how long cancelled workers may take to unwind, then closing the database.
WORKERS_STOP_SECONDS = 3.0
STORE_CLOSE_SECONDS = 5.0
DEFAULT_THEME = "inbox-dark"
EMPTY_TEXT = {
    View.CONVERSATIONS: "No live conversations.",
    View.ON_YOU: "Nothing on you.",
    View.UNASSIGNED: "No unassigned tickets.",
    View.ALL_OPEN: "No open tickets.",
    View.MENTIONS: "Nobody mentioned you yet.",
    View.CLOSED: "No closed tickets.",
}
def not_signed_in_text(handle: str | None) -> str:
    who = handle or "HANDLE"
    return (f"Not signed in: no valid bridge token. Get one with `inbox-tui agents add {who}` "
            f"(or `inbox-tui agents token {who}` for an existing teammate), then set INBOX_TOKEN "
            "or `token` under [tui] in config.toml. Until then the inbox is read-only.")


class InboxApp(App[None]):
    CSS_PATH = "inbox.tcss"
    TITLE = "inbox-tui"
    COMMANDS = App.COMMANDS | {InboxCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        # 1–6, in the sidebar's order.
        *(Binding(str(number), f"view('{view.value}')", view.label, show=False, id=f"view.{view.value}")
          for number, view in enumerate(VIEW_ORDER, 1)),
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("t", "take_over", "Take over", id="ticket.take_over"),
        Binding("r", "compose('reply')", "Reply", id="composer.reply"),
        Binding("n", "compose('note')", "Note", id="composer.note"),
        Binding("a", "allow_ai", "Allow AI", id="ticket.allow_ai"),
        Binding("R", "reassign", "Reassign", id="ticket.reassign"),
        Binding("p", "previous_tickets", "Previous tickets", show=False, id="ticket.previous"),
        Binding("v", "toggle_availability", "Away/available", show=False, id="me.availability"),
        Binding("T", "team", "Team", show=False, id="app.team"),
        Binding("escape", "back", "Back to the list", show=False, id="app.back"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        agent_handle: str | None = None,
        clock: Clock = utc_now,
        runtime: Runtime | None = None,
        connect_bridge: bool = True,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.agent_handle = agent_handle
        self.clock = clock
        self.runtime: Runtime | None = runtime
        self._owns_runtime = runtime is None
        self.connect_bridge = connect_bridge
        self.cursor_blink = cursor_blink
        self.me: AgentRef | None = None
        self.availability: str | None = None
        self.view: View = View.CONVERSATIONS
        self.detail_target: tuple[str, int] | None = None
        self.ticket_detail: TicketDetail | None = None
        self.bridge_status = BridgeStatus(BridgeState.OFF, "")
        self.last_event_at: datetime | None = None
        self.last_event_id = 0
        self.ready = asyncio.Event()
        self.inbox_theme_names: list[str] = []
        self.keymap_overrides: dict[str, str] = dict(settings.tui.keymap)
        self.handles: list[str] = []
        self.drafts: DraftStore | None = None
        # The benchmark sets a dict here to learn when each message id reached the screen;
        # None otherwise, so a day-long session keeps nothing.
        self.shown_message_ids: dict[int, float] | None = None
        self.arrived_message_ids: dict[int, float] | None = None  # likewise: reached the bridge client
        self._pending_events: list[dict[str, Any]] = []
        self._events_waiting = asyncio.Event()
        self._counts_dirty = False
        self._tickets_dirty = False
        self._my_takeovers: set[int] = set()
        self._announced_tickets: set[int] = set()
        self._pending_select: str | None = None
        self._closing = False
        self._focus_ticket: int | None = None  # focus this ticket's thread once it is shown
        self.worker_errors: list[str] = []

    # ----- layout -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ViewsStrip(id="views-strip")
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar")
            with Vertical(id="list-column"):
                yield Input(placeholder="Filter… (Enter: back to the list, Esc: clear)", id="filter",
                            compact=True)
                yield RowList(conversation_spec(self.clock), empty_text="Loading…", id="rows")
            with ContentSwitcher(id="detail", initial="placeholder"):
                yield Static(id="placeholder")
                yield ConversationPane(id="conversation-pane")
                yield TicketPane(id="ticket-pane", cursor_blink=self.cursor_blink)
        yield StatusBar(id="status")
        yield Footer()

    @property
    def main_screen(self) -> Screen[Any]:
        """The inbox itself, also while a modal (help, reassign, palette) is on top."""
        return self.screen_stack[0]

    @property
    def rows(self) -> RowList:
        return self.main_screen.query_one("#rows", RowList)

    @property
    def ticket_pane(self) -> TicketPane:
        return self.main_screen.query_one(TicketPane)

    @property
    def composer(self) -> Composer:
        return self.main_screen.query_one(Composer)

    def on_mount(self) -> None:
        self._load_themes()
        self._apply_keymap()
        self.on_resize()
        self.main_screen.query_one("#filter", Input).display = False
        self.main_screen.query_one("#filter", Input).cursor_blink = self.cursor_blink
        self.main_screen.query_one("#sidebar").border_title = "Views"
        self._show_placeholder("Loading the inbox…")
        self._update_status()
        self.rows.focus()
        self.set_interval(1.0, self._tick)
        self.set_interval(0.3, self._flush_dirty)
        self.startup()

    def on_resize(self) -> None:
        self.main_screen.set_class(self.size.width < 100, "-narrow")

    def _load_themes(self) -> None:
        themes, problems = load_themes(*all_theme_folders())
        for theme in themes:
            self.register_theme(theme)
        self.inbox_theme_names = sorted(t.name for t in themes)
        for problem in problems:
            self.notify(f"Theme file {problem.path} skipped: {problem.message}", severity="warning",
                        markup=False)
        wanted = self.settings.tui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            if wanted != DEFAULT_THEME:
                self.notify(f"Unknown theme {wanted!r}; using {DEFAULT_THEME}.", severity="warning", markup=False)
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME

    def _apply_keymap(self) -> None:
        if not self.keymap_overrides:
            return
        known = {b.id for b in self.all_bindings() if b.id}
        unknown = sorted(set(self.keymap_overrides) - known)
        if unknown:
            self.notify(f"Unknown key binding ids in [tui.keymap]: {', '.join(unknown)}", severity="warning",
                        markup=False)
        self.set_keymap({k: v for k, v in self.keymap_overrides.items() if k in known})

    def all_bindings(self) -> list[Binding]:
        return [b for _, bindings in self.binding_sections() for b in bindings]

    @staticmethod
    def binding_sections() -> list[tuple[str, list[Binding]]]:
        def only(bindings: list[Any]) -> list[Binding]:
            return [b for b in bindings if isinstance(b, Binding)]

        app = only(InboxApp.BINDINGS)
        return [
            ("Inbox", [b for b in app if b.id and b.id.startswith(("app.", "list.", "me."))]),
            ("Views", [b for b in app if b.id and b.id.startswith("view.")]),
            ("Lists", only(RowList.BINDINGS)),
            ("Ticket", [b for b in app if b.id and b.id.startswith(("ticket.", "composer."))]),
            ("Composer (while typing)", only(Composer.BINDINGS)),
            ("Everywhere", [Binding("tab", "focus_next", "Next pane"),
                            Binding("shift+tab", "focus_previous", "Previous pane"),
                            Binding("ctrl+p", "command_palette", "Command palette: every action, view and theme"),
                            Binding("ctrl+q", "quit", "Quit")]),
        ]

    # ----- startup ----------------------------------------------------------

    @work(exit_on_error=False, group="startup", exclusive=True)
    async def startup(self) -> None:
        try:
            if self.runtime is None:
                self.runtime = await open_runtime(self.settings, clock=self.clock)
            runtime = self.runtime
            self.me = await core_agents.authenticate(runtime.store, secret(self.settings.tui.token))
            async with runtime.store.read() as session:
                # The id first: anything committed after it reaches us through the bridge.
                self.last_event_id = await core_events.last_id(session)
                agent_id = self.me.id if self.me else None
                counts = await views.counts(session, agent_id)
                records = await views.page(session, self.view, agent_id, limit=LIST_LIMIT)
                team = await core_agents.team_status(session, runtime.store.now(), self._presence_timeout)
        except Exception as error:  # noqa: BLE001 - show any failure instead of crashing the terminal
            log.exception("startup failed")
            self._show_placeholder(f"Cannot open the inbox: {error}")
            self.notify(f"Cannot open the database: {error}", severity="error", markup=False, timeout=30)
            return
        self._apply_team(team)
        self.drafts = DraftStore.for_agent(self.me.handle if self.me else None)
        with self.batch_update():
            self._show_counts(counts)
            self._show_view(self.view)
            self._show_records(list(records))
            if self.me is None:
                self._show_placeholder(not_signed_in_text(self.agent_handle))
            elif not records:
                self._show_placeholder("Select a conversation or a ticket. Press ? for every key.")
        if self.me is None:
            self.notify(not_signed_in_text(self.agent_handle), severity="warning", markup=False, timeout=20)
        elif self.agent_handle and self.agent_handle.lstrip("@").lower() != self.me.handle:
            self.notify(f"The token belongs to @{self.me.handle}, not @{self.agent_handle}.",
                        severity="warning", markup=False)
        self.refresher()
        if self.me is not None and self.settings.tui.token and self.connect_bridge:
            self.bridge()
        self._update_status()
        self.ready.set()
        self.call_after_refresh(self._freeze_loaded_objects)

    def _freeze_loaded_objects(self) -> None:
        """Move what startup loaded (thousands of rows) out of the collector's sight, so
        full collections during live updates stay short instead of rescanning them."""
        gc.collect()
        gc.freeze()

    @property
    def _presence_timeout(self) -> timedelta:
        return timedelta(seconds=self.settings.assignment.presence_timeout)

    def _apply_team(self, team: list[core_agents.AgentStatus]) -> None:
        self.team = team
        self.handles = [row.agent.handle for row in team]
        if self.me is not None:
            for row in team:
                if row.agent.id == self.me.id:
                    self.availability = row.availability
        composer = self.composer
        composer.handles = [h for h in self.handles if not self.me or h != self.me.handle]

    # ----- the list ---------------------------------------------------------

    def _show_records(self, records: list[Any], select_key: str | None = None) -> None:
        rows = self.rows
        spec = conversation_spec(self.clock) if self.view is View.CONVERSATIONS else ticket_spec(self.clock)
        rows.set_spec(spec, EMPTY_TEXT[self.view])
        rows.replace_all(records, select_key=select_key or self._pending_select)
        self._pending_select = None
        self._title_list()

    def _title_list(self) -> None:
        title = f"{self.view.label} · {self.rows.row_count}"
        if self.rows.border_title != title:
            self.rows.border_title = title

    def switch_view(self, view: View, select_key: str | None = None) -> None:
        if view is not self.view:
            self.view = view
            self.main_screen.query_one("#filter", Input).value = ""
            self.rows.set_filter("")
        self._pending_select = select_key
        self._show_view(view)
        self.load_view()

    def _show_counts(self, counts: dict[View, int]) -> None:
        self.main_screen.query_one(Sidebar).show_counts(counts)
        self.main_screen.query_one(ViewsStrip).show(self.view, counts)

    def _show_view(self, view: View) -> None:
        sidebar = self.main_screen.query_one(Sidebar)
        sidebar.show_view(view)
        self.main_screen.query_one(ViewsStrip).show(view, sidebar.counts)

    @work(exit_on_error=False, group="list", exclusive=True)
    async def load_view(self) -> None:
        if self.runtime is None:
            return
        view = self.view
        async with self.runtime.store.read() as session:
            records = await views.page(session, view, self.me.id if self.me else None, limit=LIST_LIMIT)
        if view is self.view:
            self._show_records(list(records))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "sidebar" and event.option.id and event.option.id != self.view.value:
            self.switch_view(View(event.option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "sidebar":
            self.rows.focus()
        elif event.option_list.id == "previous-tickets" and event.option.id:
            self.open_ticket(int(event.option.id[1:]))

    @on(RowList.Highlighted, "#rows")
    def _row_highlighted(self, event: RowList.Highlighted) -> None:
        if event.key is None:
            return
        if event.key.startswith("c"):
            self._set_detail(("conversation", int(event.key[1:])))
        else:
            self._set_detail(("ticket", int(event.key[1:])))

    @on(RowList.Chosen, "#rows")
    def _row_chosen(self, event: RowList.Chosen) -> None:
        if event.key and event.key.startswith("t"):
            self.ticket_pane.query_one(ThreadView).focus()

    # ----- the detail pane --------------------------------------------------

    def _show_placeholder(self, text: str) -> None:
        self.main_screen.query_one("#placeholder", Static).update(Content(text))
        self.main_screen.query_one(ContentSwitcher).current = "placeholder"

    def _set_detail(self, target: tuple[str, int]) -> None:
        if target != self.detail_target:
            self._save_draft()
            self.detail_target = target
        self.load_detail()

    def open_ticket(self, ticket_id: int) -> None:
        self._set_detail(("ticket", ticket_id))
        self.rows.select_key(ticket_key(ticket_id))

    @work(exit_on_error=False, group="detail", exclusive=True)
    async def load_detail(self) -> None:
        target = self.detail_target
        if target is None or self.runtime is None:
            return
        kind, ident = target
        try:
            async with self.runtime.store.read() as session:
                if kind == "conversation":
                    conversation = await get_conversation(session, ident)
                    transcript = await views.conversation_transcript(session, ident)
                else:
                    detail = await views.ticket_detail(session, ident)
        except StoreError as error:
            self._show_placeholder(str(error))
            return
        if target != self.detail_target:
            return
        switcher = self.main_screen.query_one(ContentSwitcher)
        if kind == "conversation":
            self.ticket_detail = None
            self.main_screen.query_one(ConversationPane).show(conversation, transcript)
            switcher.current = "conversation-pane"
            self._mark_shown(transcript)
        else:
            first_show = self.ticket_detail is None or self.ticket_detail.ticket.id != ident
            self.ticket_detail = detail
            self.ticket_pane.show(detail)
            switcher.current = "ticket-pane"
            if self._focus_ticket == ident:
                self._focus_ticket = None
                self.ticket_pane.query_one(ThreadView).focus()
            self._mark_shown(detail.transcript)
            if first_show:
                self._restore_draft(ident)
                if self.me and self.view is View.MENTIONS:
                    await mark_mentions_seen(self.runtime.store, self.me.id, ident)

    def _mark_painted(self, message_ids: list[int]) -> None:
        """When each message reached the screen (the benchmark reads this)."""
        now = time.monotonic()
        if self.shown_message_ids is not None:
            for message_id in message_ids:
                self.shown_message_ids.setdefault(message_id, now)

    def _mark_shown(self, transcript: Any) -> None:
        if self.shown_message_ids is not None:
            self._mark_painted([message.id for message in transcript[-20:]])

    # ----- drafts -----------------------------------------------------------

    def _restore_draft(self, ticket_id: int) -> None:
        if self.composer.ticket_id == ticket_id:
            return  # already this ticket's text, maybe typed a moment ago: never overwrite it
        draft = self.drafts.get(ticket_id) if self.drafts else None
        self.composer.load(ticket_id, draft.text if draft else "", draft.mode if draft else REPLY)

    def _save_draft(self) -> None:
        if not self.screen_stack:
            return
        composers = self.main_screen.query(Composer)
        if not composers:
            return  # the screen is already gone (quitting)
        composer = composers.first()
        if self.drafts is not None and composer.ticket_id is not None:
            self.drafts.put(composer.ticket_id, composer.text, composer.mode)

    @on(Composer.DraftChanged)
    def _draft_changed(self, event: Composer.DraftChanged) -> None:
        if self.drafts is not None:
            self.drafts.put(event.ticket_id, event.text, event.mode)

    # ----- actions ----------------------------------------------------------

    def _require_me(self) -> AgentRef | None:
        if self.me is None:
            self.notify(not_signed_in_text(self.agent_handle), severity="warning", markup=False, timeout=10)
        return self.me

    def _open_ticket_detail(self) -> TicketDetail | None:
        detail = self.ticket_detail
        if detail is None or self.detail_target != ("ticket", detail.ticket.id):
            self.notify("Open a ticket first.", severity="warning")
            return None
        return detail

    def action_view(self, name: str) -> None:
        self.switch_view(View(name))
        self.rows.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_content(self.binding_sections(), self.keymap_overrides)))

    def action_filter(self) -> None:
        box = self.main_screen.query_one("#filter", Input)
        box.display = True
        self.main_screen.set_focus(box)  # now: the letters typed next are the filter

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.rows.set_filter(event.value)
        self._title_list()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.rows.focus()

    def action_back(self) -> None:
        box = self.main_screen.query_one("#filter", Input)
        if self.focused is box:
            box.value = ""
            box.display = False
        self.rows.focus()

    def on_descendant_focus(self) -> None:
        focused = self.focused
        in_detail = focused is not None and any(node.id == "detail" for node in focused.ancestors)
        self.main_screen.set_class(in_detail, "-in-detail")

    def action_take_over(self) -> None:
        if self._require_me() is None:
            return
        target = self.detail_target
        if target is None or target[0] != "conversation":
            if target and target[0] == "ticket":
                self.notify("This is a ticket already.", severity="information")
            else:
                self.notify("Select a live conversation to take over.", severity="warning")
            return
        self.take_over(target[1])

    @on(Button.Pressed, "#take-over")
    def _take_over_pressed(self) -> None:
        self.action_take_over()

    @work(exit_on_error=False, group="flow")
    async def take_over(self, conversation_id: int) -> None:
        assert self.runtime is not None and self.me is not None
        try:
            result = await escalate(self.runtime.store, conversation_id, source=TicketSource.TAKEOVER,
                                    actor_id=self.me.id, settings=self.runtime.escalation)
        except StoreError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if result.created:
            self._my_takeovers.add(result.ticket_id)
            self.notify(f"Ticket #{result.ticket_id} is on you. AI replies paused for this conversation.",
                        markup=False)
        else:
            self.notify(literal(result.holder_text, single_line=True) + " Showing it.", severity="warning",
                        markup=False, timeout=8)
        mine = result.assignee is not None and result.assignee.id == self.me.id
        self.switch_view(View.ON_YOU if mine else View.ALL_OPEN, select_key=ticket_key(result.ticket_id))
        self._set_detail(("ticket", result.ticket_id))
        # The ticket is where the work is now (and at 80 columns it gets the whole width).
        self._focus_ticket = result.ticket_id
        self._counts_dirty = True
        if result.created:
            self.finish_takeover(result.ticket_id)

    @work(exit_on_error=False, group="summaries")
    async def finish_takeover(self, ticket_id: int) -> None:
        assert self.runtime is not None
        await finish_escalation(self.runtime.store, self.runtime.ai, ticket_id, self.runtime.escalation)
        if self.detail_target == ("ticket", ticket_id):
            self.load_detail()

    def action_compose(self, mode: str) -> None:
        if self._require_me() is None or self._open_ticket_detail() is None:
            return
        if self.ticket_detail and self.ticket_detail.ticket.status == TicketStatus.CLOSED:
            self.notify("This ticket is closed.", severity="warning")
            return
        self.composer.start(NOTE if mode == NOTE else REPLY)

    @on(Composer.Send)
    def _send(self, event: Composer.Send) -> None:
        if self._require_me() is None:
            return
        if not event.text.strip():
            self.notify("Nothing to send.", severity="warning")
            return
        self.send(event.ticket_id, event.mode, event.text)

    @work(exit_on_error=False, group="flow")
    async def send(self, ticket_id: int, mode: str, text: str) -> None:
        assert self.runtime is not None and self.me is not None
        try:
            if mode == NOTE:
                result = await add_note(self.runtime.store, ticket_id, self.me.id, text)
                mentioned = ", ".join(f"@{a.handle}" for a in result.mentioned)
                self.notify("Internal note added" + (f"; notified {mentioned}." if mentioned else "."),
                            markup=False)
            else:
                await send_agent_reply(self.runtime.store, ticket_id, self.me.id, text,
                                       client_id=f"tui-{uuid.uuid4()}")
                self.notify("Reply sent to the customer.")
        except StoreError as error:
            self.notify(f"Not sent: {error}", severity="error", markup=False)
            return
        if self.composer.ticket_id == ticket_id:
            self.composer.set_text("")
        if self.drafts is not None:
            self.drafts.discard(ticket_id)
        if self.detail_target == ("ticket", ticket_id):
            self.load_detail()
        self._tickets_dirty = True

    def action_allow_ai(self) -> None:
        if self._require_me() is None:
            return
        detail = self._open_ticket_detail()
        if detail is None:
            return
        if detail.ticket.status == TicketStatus.CLOSED:
            self.notify(f"Ticket #{detail.ticket.id} is closed already.", severity="warning")
            return
        self.allow_ai(detail.ticket.id)

    @on(Button.Pressed, "#allow-ai")
    def _allow_ai_pressed(self) -> None:
        self.action_allow_ai()

    @work(exit_on_error=False, group="flow")
    async def allow_ai(self, ticket_id: int) -> None:
        assert self.runtime is not None and self.me is not None
        try:
            await allow_ai_replies(self.runtime.store, ticket_id, self.me.id,
                                   assignment=self.runtime.settings.assignment)
        except StoreError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.notify(f"AI replies allowed again; ticket #{ticket_id} closed.")
        if self.detail_target == ("ticket", ticket_id):
            self.load_detail()
        self._tickets_dirty = self._counts_dirty = True

    def action_reassign(self) -> None:
        detail = self._open_ticket_detail()
        if detail is None:
            return
        if detail.ticket.status == TicketStatus.CLOSED:
            self.notify("A closed ticket cannot be reassigned.", severity="warning")
            return
        self.pick_assignee(detail.ticket.id, detail.ticket.assignee.id if detail.ticket.assignee else None)

    @on(Button.Pressed, "#reassign")
    def _reassign_pressed(self) -> None:
        self.action_reassign()

    @work(exit_on_error=False, group="flow")
    async def pick_assignee(self, ticket_id: int, current: int | None) -> None:
        assert self.runtime is not None
        async with self.runtime.store.read() as session:
            team = await core_agents.team_status(session, self.runtime.store.now(), self._presence_timeout)
        choice: ReassignChoice | None = await self.push_screen_wait(ReassignScreen(ticket_id, team, current))
        if choice is None:
            return
        try:
            target = await reassign(self.runtime.store, ticket_id, choice.agent_id, self.me.id if self.me else None,
                                    assignment=self.runtime.settings.assignment)
        except StoreError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        who = literal(target.label, single_line=True) if target else "Unassigned"
        self.notify(f"Ticket #{ticket_id} → {who}", markup=False)
        if self.detail_target == ("ticket", ticket_id):
            self.load_detail()
        self._tickets_dirty = self._counts_dirty = True

    def action_previous_tickets(self) -> None:
        detail = self._open_ticket_detail()
        if detail is None:
            return
        if not detail.previous_tickets:
            self.notify("This requester has no previous tickets.")
            return
        previous = self.main_screen.query_one("#previous-tickets", OptionList)
        if previous.highlighted is None:
            previous.highlighted = 0
        previous.focus()

    def action_team(self) -> None:
        if self.runtime is not None:
            self.push_screen(TeamScreen(self.runtime.store, self.settings.assignment, self.me,
                                        cursor_blink=self.cursor_blink))

    def action_toggle_availability(self) -> None:
        if self._require_me() is not None:
            self.toggle_availability()

    @work(exit_on_error=False, group="flow")
    async def toggle_availability(self) -> None:
        assert self.runtime is not None and self.me is not None
        new = Availability.AWAY if self.availability != Availability.AWAY else Availability.AVAILABLE
        await core_team.set_availability(self.runtime.store, self.me.id, new,
                                           assignment=self.runtime.settings.assignment)
        self.availability = new
        self.notify(f"You are {new} now.")
        self._update_status()

    @on(Composer.AIRequest)
    def _ai_request(self, event: Composer.AIRequest) -> None:
        self.ai_compose(event.ticket_id, event.kind, event.text)

    def action_ai(self, kind: str) -> None:
        detail = self._open_ticket_detail()
        if detail is not None:
            self.ai_compose(detail.ticket.id, kind, self.composer.text)

    @work(exit_on_error=False, group="ai", exclusive=True)
    async def ai_compose(self, ticket_id: int, kind: str, text: str) -> None:
        assert self.runtime is not None
        ai = self.runtime.ai
        detail = self.ticket_detail
        if detail is None or detail.ticket.id != ticket_id:
            return
        language = detail.language or detail.conversation.language
        if kind in ("polish", "translate") and not text.strip():
            self.notify(f"Write a draft to {kind} first (or ctrl+g for an AI draft).", severity="warning")
            return
        if kind == "translate" and not language:
            self.notify("The customer's language is not known yet; nothing to translate into.", severity="warning")
            return
        labels = {"draft": "Drafting a reply", "polish": "Polishing", "translate": f"Translating into {language}"}
        self.notify(f"{labels[kind]}…", timeout=3)
        try:
            if kind == "draft":
                lines = [TranscriptLine(m.author, m.name, m.text) for m in detail.transcript
                         if m.author != Author.SYSTEM]
                notes = [e.text for e in detail.timeline if e.kind == "note"]
                result = await ai.draft_reply(lines, language, notes)
            elif kind == "polish":
                result = await ai.polish(text, language)
            else:
                result = await ai.translate(text, language or "")
        except AIUnavailable:
            self.notify(f"AI {kind} is not available offline: it needs a model. Set OPENAI_API_KEY "
                        "(and OPENAI_BASE_URL for a compatible server) to draft, polish and translate.",
                        severity="warning", markup=False, timeout=10)
            return
        except (AIError, asyncio.TimeoutError) as error:
            self.notify(f"AI {kind} failed: {error}. Your text is unchanged.", severity="error", markup=False)
            return
        if self.composer.ticket_id == ticket_id:
            self.composer.set_text(result)
            self.composer.input.focus()

    # ----- live updates -----------------------------------------------------

    @work(exit_on_error=False, group="bridge", exclusive=True)
    async def bridge(self) -> None:
        assert self.settings.tui.token
        client = BridgeClient(self.settings.bridge_base_url, secret(self.settings.tui.token) or "", self.last_event_id,
                              self._queue_event, self._bridge_changed)
        await client.run()

    def _bridge_changed(self, status: BridgeStatus) -> None:
        previous = self.bridge_status.state
        self.bridge_status = status
        self._update_status()
        if status.state is BridgeState.RECONNECTING and previous in (BridgeState.CONNECTING, BridgeState.OFF):
            self.notify(f"The server at {self.settings.bridge_base_url} is not reachable ({status.detail}). "
                        "The inbox works on the database meanwhile and keeps retrying.",
                        severity="warning", markup=False, timeout=10)
        elif status.state is BridgeState.UNAUTHORIZED:
            self.notify(f"The server refused the token: {status.detail}", severity="error", markup=False)
        elif status.state is BridgeState.CONNECTED and previous is BridgeState.RECONNECTING:
            self.notify("Reconnected to the server; caught up.")

    def _queue_event(self, event: dict[str, Any]) -> None:
        if self.arrived_message_ids is not None and event.get("kind") == EventKind.MESSAGE:
            message_id = (event.get("payload") or {}).get("message_id")
            if message_id:
                self.arrived_message_ids[int(message_id)] = time.monotonic()
        self._pending_events.append(event)
        self.last_event_id = max(self.last_event_id, int(event.get("id") or 0))
        self.last_event_at = self.clock()
        self._events_waiting.set()

    @work(exit_on_error=False, group="refresher", exclusive=True)
    async def refresher(self) -> None:
        """Applies whatever arrived since the last pass, as one batch (bursts merge)."""
        while True:
            await self._events_waiting.wait()
            self._events_waiting.clear()
            batch, self._pending_events = self._pending_events, []
            try:
                await self.apply_events(batch)
            except Exception:  # noqa: BLE001 - a bad pass must not stop live updates
                log.exception("applying events failed")

    def _merge(self, events: list[dict[str, Any]]) -> EventBatch:
        return merge_events(events, self.me.id if self.me else None, self._my_takeovers)

    async def apply_events(self, events: list[dict[str, Any]]) -> None:
        if not events or self.runtime is None:
            return
        batch = self._merge(events)
        conversations: list[ConversationRow] = []
        toasts: list[str] = []
        team = None
        to_fetch: set[int] = set()
        if self.view is View.CONVERSATIONS:
            to_fetch = set(batch.changed_conversation_ids)
            for conversation_id, (event, count) in batch.latest_messages.items():
                moved = None if conversation_id in to_fetch else self._moved_row(conversation_id, event, count)
                if moved is None:
                    to_fetch.add(conversation_id)  # new to this list, or not a live row
                else:
                    conversations.append(moved)
        needs_database = to_fetch or batch.new_on_me - self._announced_tickets or batch.mentions or batch.team_changed
        async with contextlib.AsyncExitStack() as stack:
            session = await stack.enter_async_context(self.runtime.store.read()) if needs_database else None
            for conversation_id in to_fetch:
                if session is not None:
                    try:
                        conversations.append(await get_conversation(session, conversation_id))
                    except StoreError:
                        continue
            for ticket_id in sorted(batch.new_on_me - self._announced_tickets):
                self._announced_tickets.add(ticket_id)
                detail = await _ticket_row(session, ticket_id)
                who = literal(detail.requester, single_line=True, limit=40) if detail else "a customer"
                toasts.append(f"New ticket #{ticket_id} on you: {who}")
            for ticket_id, by in batch.mentions:
                toasts.append(f"@{literal(by, single_line=True)} mentioned you on ticket #{ticket_id}")
            if batch.team_changed and session is not None:
                team = await core_agents.team_status(session, self.runtime.store.now(), self._presence_timeout)
        with self.batch_update():
            if conversations:
                live = [c for c in conversations if c.status == ConversationStatus.LIVE]
                self.rows.upsert(live)
                gone = [conversation_key(c) for c in conversations if c.status != ConversationStatus.LIVE]
                self.rows.remove(gone)
                self._title_list()
                shown = [int(message_id) for event in events
                         if event.get("kind") == EventKind.MESSAGE
                         and (message_id := (event.get("payload") or {}).get("message_id"))]
                if shown and self.shown_message_ids is not None:
                    self.call_after_refresh(self._mark_painted, shown)
            if team is not None:
                self._apply_team(team)
                self._update_status()  # my availability may have changed elsewhere
            # Otherwise the status bar waits for its one-second tick: repainting it with
            # every event would make each frame span the screen, from the list to the bottom.
        for text in toasts:
            self.notify(text, title="Inbox", markup=False, timeout=8)
        if batch.tickets_changed and self.view is not View.CONVERSATIONS:
            self._tickets_dirty = True
        self._counts_dirty = True
        target = self.detail_target
        if target is not None and (
            (target[0] == "conversation" and target[1] in batch.conversation_ids)
            or (target[0] == "ticket" and (target[1] in batch.ticket_ids or (
                self.ticket_detail is not None and self.ticket_detail.ticket.id == target[1]
                and self.ticket_detail.conversation.id in batch.conversation_ids)))
        ):
            self.load_detail()

    def _moved_row(self, conversation_id: int, event: dict[str, Any], count: int) -> ConversationRow | None:
        current = self.rows.record(conversation_key_of(conversation_id))
        return moved_row(current, event, count) if current is not None else None

    def _flush_dirty(self) -> None:
        """At most a few times a second: counts and ticket lists (cheap, but not per event)."""
        if self.runtime is None or not self.ready.is_set():
            return
        if self._counts_dirty:
            self._counts_dirty = False
            self.refresh_counts()
        if self._tickets_dirty:
            self._tickets_dirty = False
            if self.view is not View.CONVERSATIONS:
                self.load_view()

    @work(exit_on_error=False, group="counts", exclusive=True)
    async def refresh_counts(self) -> None:
        assert self.runtime is not None
        async with self.runtime.store.read() as session:
            counts = await views.counts(session, self.me.id if self.me else None)
        self._show_counts(counts)

    def _tick(self) -> None:
        rows = self.main_screen.query("#rows") if self.screen_stack and not self._closing else None
        if not rows:
            return  # a timer firing while the app shuts down
        self._update_status()
        rows.first().refresh()  # ages move on

    def _update_status(self) -> None:
        bars = self.main_screen.query(StatusBar) if self.screen_stack else None
        if not bars:
            return  # not composed yet, or already torn down
        ai = self.runtime.ai if self.runtime else None
        ai_label = "…" if ai is None else (f"model {self.settings.ai.model}" if ai.has_model else
                                           "offline")
        bars.first().show(self.me, self.availability, self.bridge_status, self.last_event_at,
                          self.clock(), ai_label)

    async def action_quit(self) -> None:
        self._save_draft()
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed flow is said on screen; the inbox keeps running."""
        if event.state is WorkerState.ERROR and self.is_running and not self._closing:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.worker_errors.append(f"{event.worker.name}: {error!r}")
            self.notify(f"{event.worker.name.replace('_', ' ')} failed: {error}", severity="error",
                        markup=False, timeout=10)

    async def on_unmount(self) -> None:
        self._closing = True
        self._save_draft()
        # Let cancelled workers unwind before the engines go: a connection abandoned
        # half-way through a query would otherwise be finalized later, on a dead loop.
        self.workers.cancel_all()
        if not await _within(self.workers.wait_for_complete(), WORKERS_STOP_SECONDS):
            log.warning("workers still running %.0f s after their cancel; quitting anyway", WORKERS_STOP_SECONDS)
        if self._owns_runtime and self.runtime is not None:
            if not await _within(self.runtime.close(), STORE_CLOSE_SECONDS):
                log.warning("closing the store took too long; leaving it to the process exit")


async def _within(work: Coroutine[Any, Any, Any], seconds: float) -> bool:
    """Run ``work`` for at most ``seconds``; False if it had not finished by then.

    Never longer, unlike ``asyncio.wait_for``, which after its timeout waits for the
    cancelled work to end: quitting must not hang on work that is slow to unwind."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task not in done:
        task.cancel()
        return False
    if not task.cancelled() and task.exception() is not None:  # said, not raised: quitting goes on
        log.warning("shutting down: %r", task.exception())
    return True


async def _ticket_row(session: Any, ticket_id: int) -> TicketRow | None:
    try:
        return (await views.ticket_detail(session, ticket_id, transcript_limit=1)).ticket
    except StoreError:
        return None


__all__ = ["InboxApp", "LIST_LIMIT", "not_signed_in_text"]
