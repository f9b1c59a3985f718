"""The inbox screen: views, list, detail, composer and status bar.

The shared state (who I am, my availability, the bridge, the last event, the current
view and the counts) lives here as reactives bound down to the panes (``data_bind``);
each pane owns its data and loads it itself. Actions that do not apply to what is shown
are hidden from the footer and do nothing (``check_action``). Every flow runs through
:meth:`InboxScreen.run_flow`, which reports a refusal or a database error and refreshes.
Live events arrive as typed messages (``EventArrived``); the refresher merges bursts,
fetches what they touched in one read and posts the result (``LiveBatchLoaded``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Button, OptionList

from inbox_tui import collector
from inbox_tui.core import agents as core_agents
from inbox_tui.core import alerts as core_alerts
from inbox_tui.core import attention, views
from inbox_tui.core import events as core_events
from inbox_tui.core.alerts import Alert, AlertRules, Happening
from inbox_tui.core.assignment_risks import assignment_risk
from inbox_tui.core.attention import SortOrder
from inbox_tui.core.conversations import get_conversations, preview_of
from inbox_tui.core.hand_back import unanswered_message
from inbox_tui.core.models import Availability, ConversationStatus, TicketStatus
from inbox_tui.core.records import AgentRef, ConversationRow, TicketDetail, TicketRow
from inbox_tui.core.store import StoreError
from inbox_tui.core.views import View
from inbox_tui.settings import secret
from inbox_tui.tui import reads
from inbox_tui.tui.alerting import Alerter
from inbox_tui.tui.bridge_status import BridgeState, BridgeStatus
from inbox_tui.tui.drafts import DraftStore
from inbox_tui.tui.live_updates import EventArrived, LiveEvent, merge_events, moved_row
from inbox_tui.tui.live_window import IDLE_SWEEP_SECONDS, active_since
from inbox_tui.tui.messages import (
    BridgeStatusChanged,
    CountsLoaded,
    DetailShown,
    FlowDone,
    InboxCompleted,
    InboxFailed,
    InboxLoaded,
    LiveBatchLoaded,
    MessagesShown,
)
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.targets import ConversationTarget, DetailTarget, TicketTarget, target_of
from inbox_tui.tui.view_orders import ViewOrders
from inbox_tui.tui.widgets.composer import NOTE, REPLY, Composer
from inbox_tui.tui.widgets.detail import DetailPane
from inbox_tui.tui.widgets.inbox_rows import conversation_key, conversation_key_of
from inbox_tui.tui.widgets.key_footer import KeyFooter
from inbox_tui.tui.widgets.list_pane import LIST_LIMIT, ListPane
from inbox_tui.tui.widgets.row_list import RowList
from inbox_tui.tui.widgets.sidebar import VIEW_ORDER, Sidebar, ViewsStrip
from inbox_tui.tui.widgets.status_bar import StatusBar
from inbox_tui.tui.widgets.thread_view import ThreadView

# The flows and the screens pushed over this one are imported where they are used: the
# first screen is painted without them (``flows`` alone pulls in the escalation and the AI).
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from inbox_tui.tui.app import InboxApp
    from inbox_tui.tui.screens.lifecycle import ReopenChoice, SnoozeChoice
    from inbox_tui.tui.screens.reassign import ReassignChoice
    from inbox_tui.tui.screens.search import SearchChoice, SearchScreen

log = logging.getLogger(__name__)

#: Counts and ticket lists are refreshed at most this often (cheap, but not per event).
DIRTY_FLUSH_SECONDS = 0.3
#: The unread counts beside the views are counted at most this often.
UNREAD_COUNTS_SECONDS = 2.0
#: How often the inbox looks for my tickets whose customer waited past the threshold.
WAIT_CHECK_SECONDS = 15.0
#: Below these sizes the layout folds (views strip, detail over the list, short panes).
NARROW_WIDTH = 100
SHORT_HEIGHT = 30


def claimable(ticket: TicketDetail | None, me: AgentRef | None) -> bool:
    """``t`` on an open ticket that is not on me: claim it (asked first if someone holds it)."""
    if ticket is None:
        return False
    assignee = ticket.ticket.assignee
    return assignee is None or me is None or assignee.id != me.id


def not_signed_in_text(handle: str | None) -> str:
    who = handle or "HANDLE"
    return (
        f"Not signed in: no valid bridge token. Get one with `inbox-tui agents add {who}` "
        f"(or `inbox-tui agents token {who}` for an existing teammate), then set INBOX_TOKEN "
        "or `token` under [tui] in config.toml. Until then the inbox is read-only."
    )


# Actions that need a teammate signed in, and what they need shown in the detail pane.
LIFECYCLE_ACTIONS = frozenset({"pending", "snooze", "close_paused"})
NEEDS_ME = frozenset(
    {"take_over", "claim", "compose", "allow_ai", "reassign", "toggle_availability", "ai"}
    | LIFECYCLE_ACTIONS
    | {"reopen"}
)
NEEDS_LIVE_CONVERSATION = frozenset({"take_over"})
NEEDS_OPEN_TICKET = frozenset({"compose", "allow_ai", "reassign", "ai"} | LIFECYCLE_ACTIONS)
NEEDS_CLOSED_TICKET = frozenset({"reopen"})
NEEDS_PREVIOUS_TICKETS = frozenset({"previous_tickets"})
# The actions whose footer entry depends on what is shown (``check_action``).
VARYING_ACTIONS = tuple(
    sorted(
        NEEDS_ME
        | NEEDS_LIVE_CONVERSATION
        | NEEDS_OPEN_TICKET
        | NEEDS_CLOSED_TICKET
        | NEEDS_PREVIOUS_TICKETS
        | {"claim", "sort_waiting"}
    )
)


class InboxScreen(Screen[None]):
    """State only in ``var``s: a change must never repaint the whole screen (the live
    stream sets ``last_event_at`` with every event); the widgets bound to them repaint
    themselves when what they show changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # 1–8, in the sidebar's order.
        *(
            Binding(str(number), f"view('{view.value}')", view.label, show=False, id=f"view.{view.value}")
            for number, view in enumerate(VIEW_ORDER, 1)
        ),
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("s", "search", "Search", show=False, id="list.search"),
        Binding("w", "sort_waiting", "Longest waiting first", show=False, id="list.sort_waiting"),
        Binding("t", "take_over", "Take over", id="ticket.take_over"),
        # The same key on a ticket: only one of the two ever applies (check_action).
        Binding("t", "claim", "Claim", id="ticket.claim"),
        Binding("r", "compose('reply')", "Reply", id="composer.reply"),
        Binding("n", "compose('note')", "Note", id="composer.note"),
        Binding("a", "allow_ai", "Allow AI", id="ticket.allow_ai"),
        Binding("R", "reassign", "Reassign", id="ticket.reassign"),
        Binding("P", "pending", "Pending", show=False, id="ticket.pending"),
        Binding("z", "snooze", "Snooze", show=False, id="ticket.snooze"),
        Binding("C", "close_paused", "Close, AI paused", show=False, id="ticket.close_paused"),
        Binding("o", "reopen", "Reopen", id="ticket.reopen"),
        Binding("p", "previous_tickets", "Previous tickets", show=False, id="ticket.previous"),
        Binding("v", "toggle_availability", "Away/available", show=False, id="me.availability"),
        Binding("escape", "back_to_list", "Back to the list", show=False, id="app.back"),
    ]

    loaded: var[bool] = var(False, init=False)
    me: var[AgentRef | None] = var(None, init=False)
    availability: var[str | None] = var(None, init=False)
    bridge_status: var[BridgeStatus] = var(BridgeStatus(BridgeState.OFF), init=False)
    last_event_at: var[datetime | None] = var(None, init=False)
    ai_label: var[str] = var("…", init=False)
    view: var[View] = var(View.CONVERSATIONS, init=False)
    counts: var[dict[View, int]] = var(dict, init=False)
    unread: var[dict[View, int]] = var(dict, init=False)

    def __init__(self) -> None:
        super().__init__(id="inbox")
        self.last_event_id = 0
        self.handles: list[str] = []
        self.team: list[core_agents.AgentStatus] = []
        self._pending_events: list[LiveEvent] = []
        self._events_waiting = asyncio.Event()
        # Counts are refreshed when something changed them: each change bumps a
        # generation, a refresh that finished records the one it counted. A refresh
        # that was dropped half-way leaves its generation to the next one.
        self._totals_changes = self._totals_counted = 0
        self._unread_changes = self._unread_counted = 0
        self._counting = False
        self._tickets_dirty = False
        self._my_takeovers: set[int] = set()
        self._focus_ticket: int | None = None  # focus this ticket's thread once it is shown
        self.alert_rules: AlertRules | None = None
        self._on_shift = True
        self._unread_counted_at = float("-inf")
        self._search_screen: SearchScreen | None = None  # while open: live events refresh it
        self._bindings_applied: tuple[bool | None, ...] = ()

    @property
    def inbox_app(self) -> InboxApp:
        return self.app  # type: ignore[return-value]

    # ----- layout -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.inbox_app
        yield ViewsStrip(id="views-strip").data_bind(InboxScreen.view, InboxScreen.counts, InboxScreen.unread)
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar").data_bind(InboxScreen.view, InboxScreen.counts, InboxScreen.unread)
            yield ListPane(id="list-column", clock=app.clock, cursor_blink=app.cursor_blink).data_bind(
                InboxScreen.view, InboxScreen.me
            )
            yield DetailPane(id="detail", cursor_blink=app.cursor_blink).data_bind(InboxScreen.me)
        yield StatusBar(id="status", clock=app.clock).data_bind(
            InboxScreen.loaded,
            InboxScreen.me,
            InboxScreen.availability,
            InboxScreen.bridge_status,
            InboxScreen.last_event_at,
            InboxScreen.ai_label,
        )
        yield KeyFooter()

    @property
    def list_pane(self) -> ListPane:
        return self.query_one(ListPane)

    @property
    def rows(self) -> RowList:
        return self.list_pane.rows

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def composer(self) -> Composer:
        return self.detail.composer

    def on_mount(self) -> None:
        self.alerter = Alerter(self.app, self.inbox_app.settings.alerts)
        self.query_one(Sidebar).border_title = "Views"
        self.detail.show_placeholder("Loading the inbox…")
        self.rows.focus()
        self.set_interval(DIRTY_FLUSH_SECONDS, self._flush_dirty)
        self.set_interval(IDLE_SWEEP_SECONDS, self._drop_idle)
        self._fold(self.app.size.width, self.app.size.height)
        self.startup()

    def on_resize(self) -> None:
        self._fold(self.app.size.width, self.app.size.height)

    def _fold(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(height < SHORT_HEIGHT, "-short")

    def on_descendant_focus(self) -> None:
        focused = self.focused
        in_detail = focused is not None and any(node.id == "detail" for node in focused.ancestors)
        self.set_class(in_detail, "-in-detail")

    # ----- startup ----------------------------------------------------------

    # Startup comes in two steps: what the first screen shows (who I am and the rows of
    # the view), painted as soon as it is read; then the rest (counts, the team, my
    # tickets for the alerts, the AI backend), after which the bridge starts.

    @work(exit_on_error=False, group="startup", exclusive=True)
    async def startup(self) -> None:
        app = self.inbox_app
        try:
            runtime = await app.open_store()
            me = await reads.whole(core_agents.authenticate(runtime.store, secret(app.settings.tui.token)))
            agent_id = me.id if me else None
            since = active_since(app.settings, app.clock)
            view = self.view

            async def first_screen(session: AsyncSession) -> tuple[int, Sequence[Any]]:
                # The id first: anything committed after it reaches us through the bridge.
                last_event_id = await core_events.last_id(session)
                return last_event_id, await attention.page(
                    session, view, agent_id, limit=LIST_LIMIT, active_since=since
                )

            last_event_id, records = await reads.read(runtime.store, first_screen)
        except Exception as error:
            log.exception("startup failed")
            self.post_message(InboxFailed(str(error)))
            return
        self.post_message(InboxLoaded(me, last_event_id, view, list(records)))

    @work(exit_on_error=False, group="startup", exclusive=True)
    async def _finish_startup(self) -> None:
        app = self.inbox_app
        me = self.me
        try:
            runtime = await app.open_store()
            agent_id = me.id if me else None
            since = active_since(app.settings, app.clock)
            counts_seen, unread_seen = self._totals_changes, self._unread_changes

            async def the_rest(session: AsyncSession) -> tuple[Any, ...]:
                now = runtime.store.now()
                return (
                    await views.counts(session, agent_id, active_since=since),
                    await attention.unread_view_counts(session, agent_id),
                    await core_alerts.my_open_tickets(session, agent_id) if agent_id else set(),
                    await core_alerts.on_shift_now(session, agent_id, now) if agent_id else True,
                    await core_agents.team_status(session, now, self.presence_timeout),
                )

            counts, unread, my_tickets, on_shift, team = await reads.read(runtime.store, the_rest)
            runtime.load_ai()  # flows may need it from now on (and the bar names it)
        except Exception as error:
            log.exception("startup failed")
            self.post_message(InboxFailed(str(error)))
            return
        self.post_message(
            InboxCompleted(counts, team, unread, my_tickets, on_shift, counts_seen=counts_seen, unread_seen=unread_seen)
        )

    @on(InboxFailed)
    def _inbox_failed(self, message: InboxFailed) -> None:
        collector.resume(collect=False)  # the inbox stays up, showing what went wrong
        self.detail.show_placeholder(f"Cannot open the inbox: {message.error}")
        self.notify(f"Cannot open the database: {message.error}", severity="error", markup=False, timeout=30)

    @on(InboxLoaded)
    def _inbox_loaded(self, message: InboxLoaded) -> None:
        app = self.inbox_app
        me = message.me
        self.last_event_id = message.last_event_id
        self.composer.drafts = DraftStore.for_agent(me.handle if me else None)
        self.list_pane.orders = ViewOrders.for_agent(me.handle if me else None)
        with app.batch_update():
            self.me = me
            self.list_pane.show_records(message.view, message.records)
            if me is None:
                self.detail.show_placeholder(not_signed_in_text(app.agent_handle))
            elif not message.records:
                self.detail.show_placeholder("Select a conversation or a ticket. Press ? for every key.")
            if me is not None and app.settings.tui.token and app.connect_bridge:
                # Said before the first paint, so the bar never flashes "bridge: off".
                self.bridge_status = BridgeStatus(BridgeState.CONNECTING, app.settings.bridge_base_url)
            self.loaded = True
        if me is None:
            self.notify(not_signed_in_text(app.agent_handle), severity="warning", markup=False, timeout=20)
        elif app.agent_handle and app.agent_handle.lstrip("@").lower() != me.handle:
            self.notify(
                f"The token belongs to @{literal(me.handle, single_line=True)}, "
                f"not @{literal(app.agent_handle, single_line=True)}.",
                severity="warning",
                markup=False,
            )
        self.refresher()
        self.refresh_bindings()
        app.ready.set()
        self.call_after_refresh(self._finish_startup)

    @on(InboxCompleted)
    def _inbox_completed(self, message: InboxCompleted) -> None:
        app = self.inbox_app
        me = self.me
        ai = app.runtime.ai if app.runtime else None
        with app.batch_update():
            self._apply_team(message.team)
            self.counts = message.counts
            self.unread = message.unread
            self.ai_label = "…" if ai is None else (f"model {app.settings.ai.model}" if ai.has_model else "offline")
        # Counted after every change made before the read began; later ones are counted next.
        self._totals_counted, self._unread_counted = message.counts_seen, message.unread_seen
        self._unread_counted_at = asyncio.get_running_loop().time()
        if me is not None:
            self.alert_rules = AlertRules(
                me.id,
                me.handle,
                interval=timedelta(seconds=app.settings.alerts.interval_seconds),
                my_tickets=message.my_tickets,
            )
            self._on_shift = message.on_shift
            self._update_alert_presence()
            self.set_interval(WAIT_CHECK_SECONDS, self._check_waits)
        self.alerter.unread(self._unread_total())
        if me is not None and app.settings.tui.token and app.connect_bridge:
            app.start_bridge(self.last_event_id)
        self.refresh_bindings()
        app.started_up.set()
        # Off the first paint: the start's garbage collected, what lives on frozen.
        self.call_after_refresh(collector.resume)

    @property
    def presence_timeout(self) -> timedelta:
        return timedelta(seconds=self.inbox_app.settings.assignment.presence_timeout)

    def _apply_team(self, team: list[core_agents.AgentStatus]) -> None:
        self.team = team
        self.handles = [row.agent.handle for row in team]
        me = self.me
        if me is not None:
            for row in team:
                if row.agent.id == me.id:
                    self.availability = row.availability
        self.composer.handles = [h for h in self.handles if not me or h != me.handle]
        self.composer.agent_name = me.name if me else ""  # fills {agent.name} in saved replies

    # ----- the list and the detail --------------------------------------------

    def watch_view(self) -> None:
        self.refresh_bindings()

    # ----- alerts -------------------------------------------------------------

    def watch_availability(self) -> None:
        self._update_alert_presence()

    def watch_unread(self) -> None:
        if self.loaded:
            self.alerter.unread(self._unread_total())

    def _unread_total(self) -> int:
        """What the window title counts: my tickets and mentions with news."""
        return self.unread.get(View.ON_YOU, 0) + self.unread.get(View.MENTIONS, 0)

    def _update_alert_presence(self) -> None:
        """Tickets entering Unassigned alert only a teammate available and on shift."""
        if self.alert_rules is not None:
            self.alert_rules.available_on_shift = self.availability != Availability.AWAY and self._on_shift

    @work(exit_on_error=False, group="waits", exclusive=True)
    async def _check_waits(self) -> None:
        """My tickets whose customer waited past the threshold: an alert, and the
        timeline says so (once per wait, whichever inbox finds it first)."""
        runtime = self.inbox_app.runtime
        rules, me = self.alert_rules, self.me
        if runtime is None or rules is None or me is None:
            return
        threshold = timedelta(seconds=self.inbox_app.settings.alerts.wait_threshold_seconds)
        now = runtime.store.now()

        async def overdue_and_shift(session: AsyncSession) -> tuple[list[tuple[int, datetime]], bool]:
            return (
                await core_alerts.overdue_tickets(session, me.id, threshold, now),
                await core_alerts.on_shift_now(session, me.id, now),
            )

        overdue, self._on_shift = await reads.read(runtime.store, overdue_and_shift)
        alerts = [
            (ticket_id, alert) for ticket_id, since in overdue if (alert := rules.waited(ticket_id, now - since, now))
        ]

        async def requesters(session: AsyncSession) -> list[str]:
            rows = [await _ticket_row(session, ticket_id) for ticket_id, _ in alerts]
            return [literal(row.requester, single_line=True, limit=40) if row else "" for row in rows]

        names = await reads.read(runtime.store, requesters) if alerts else []
        texts = [literal(alert.text(name), single_line=True) for (_, alert), name in zip(alerts, names, strict=True)]
        self._update_alert_presence()
        for ticket_id, since in overdue:
            try:
                await reads.whole(core_alerts.record_wait(runtime.store, ticket_id, since, threshold))
            except StoreError:
                continue
        if texts:
            self.post_message(LiveBatchLoaded(alerts=texts, refresh_tickets=True))

    def switch_view(self, view: View, select: DetailTarget | None = None) -> None:
        if view is self.view:
            self.list_pane.load(select)
        else:
            self.list_pane.select_when_loaded(select)
            self.view = view  # bound down: the list pane reloads on the change

    @on(OptionList.OptionHighlighted, "#sidebar")
    def _sidebar_moved(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.view.value:
            self.switch_view(View(event.option.id))

    @on(OptionList.OptionSelected, "#sidebar")
    def _sidebar_chosen(self) -> None:
        self.rows.focus()

    @on(OptionList.OptionSelected, "#previous-tickets")
    def _previous_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.detail.target = TicketTarget(int(event.option.id))
            self.list_pane.select(TicketTarget(int(event.option.id)))

    @on(RowList.Highlighted, "#rows")
    def _row_highlighted(self, event: RowList.Highlighted) -> None:
        target = target_of(event.record)
        if target is None:
            # An empty view: nothing selected, so no ticket and no composer either.
            self.detail.target = None
            empty = self.rows.empty_text if self.rows.row_count == 0 else ""
            self.detail.show_placeholder(empty or "Nothing selected.")
        elif target == self.detail.target:
            self.detail.reload()
        else:
            self.detail.target = target
        self._refresh_bindings_if_changed()

    @on(RowList.Chosen, "#rows")
    def _row_chosen(self, event: RowList.Chosen) -> None:
        if isinstance(target_of(event.record), TicketTarget):
            self.detail.query_one("#ticket-thread", ThreadView).focus()

    @on(DetailShown)
    def _detail_shown(self, message: DetailShown) -> None:
        from inbox_tui.tui import flows

        self._refresh_bindings_if_changed()
        if message.message_ids:
            self.post_message(MessagesShown(message.message_ids))
        target = message.target
        self._mark_read(target, max(message.message_ids, default=None))
        if not isinstance(target, TicketTarget):
            return
        if self._focus_ticket == target.ticket_id:
            self._focus_ticket = None
            self.detail.query_one("#ticket-thread", ThreadView).focus()
        runtime = self.inbox_app.runtime
        if message.first_show and self.me is not None and runtime is not None and self.view is View.MENTIONS:
            self.run_flow(
                "Marking the mention seen", flows.mark_seen(runtime, self.me, target.ticket_id), refresh=False
            )

    def _mark_read(self, target: DetailTarget, up_to_message_id: int | None) -> None:
        """Shown is read: the row loses its mark now, the store keeps it for every screen."""
        from inbox_tui.tui import flows

        runtime = self.inbox_app.runtime
        if self.me is None or runtime is None:
            return
        self.list_pane.mark_row_read(target)
        self.run_flow("Marking it read", flows.mark_read(runtime, self.me, target, up_to_message_id), refresh=False)

    # ----- what applies -------------------------------------------------------

    def _applies(self) -> tuple[bool | None, ...]:
        return tuple(self.check_action(action, ()) for action in VARYING_ACTIONS)

    def refresh_bindings(self) -> None:
        self._bindings_applied = self._applies()  # what the footer is rebuilt for
        super().refresh_bindings()

    def _refresh_bindings_if_changed(self) -> None:
        """Textual's footer rebuilds itself on every ``refresh_bindings``: asked only when
        what applies changed (a live conversation on screen reloads with each message)."""
        if self._applies() != self._bindings_applied:
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Leave out what does not apply to what is shown (False: not in the footer, the
        key does nothing); grey out what applies but needs a sign-in (None)."""
        detail = self.detail if self.is_mounted else None
        if action in NEEDS_LIVE_CONVERSATION:
            conversation = detail.shown_conversation if detail else None
            if conversation is None or conversation.status != ConversationStatus.LIVE:
                return False
        if action in NEEDS_OPEN_TICKET and (detail is None or detail.open_ticket is None):
            return False
        if action in NEEDS_CLOSED_TICKET:
            shown = detail.shown_ticket if detail else None
            if shown is None or shown.ticket.status != TicketStatus.CLOSED:
                return False
        if action == "claim" and not claimable(detail.open_ticket if detail else None, self.me):
            return False
        if action == "sort_waiting" and self.view is View.CONVERSATIONS:
            return False
        if action in NEEDS_PREVIOUS_TICKETS:
            ticket = detail.shown_ticket if detail else None
            if ticket is None or not ticket.previous_tickets:
                return False
        if action in NEEDS_ME and self.me is None:
            return None if self.loaded else False
        return True

    # ----- flows --------------------------------------------------------------

    def run_flow(self, what: str, flow: Awaitable[FlowDone | None], *, refresh: bool = True) -> None:
        """Run a flow in a worker; a refusal or a database error is said, then what it
        touched is refreshed."""
        self._run_flow(what, flow, refresh)

    @work(exit_on_error=False, group="flow")
    async def _run_flow(self, what: str, flow: Awaitable[FlowDone | None], refresh: bool) -> None:
        try:
            done = await reads.whole(flow)  # a teammate's action is never cut off half-way (quitting)
        except StoreError as error:
            done = FlowDone(f"{what}: {error}", "error", reload_detail=refresh, tickets_changed=refresh)
        except SQLAlchemyError as error:
            log.exception("%s failed", what)
            done = FlowDone(
                f"{what} failed: database error: {error}", "error", reload_detail=refresh, tickets_changed=refresh
            )
        if done is not None:
            self.post_message(done)

    @on(FlowDone)
    def _flow_done(self, message: FlowDone) -> None:
        if message.toast:
            self.notify(
                message.toast,
                severity=message.severity,
                markup=False,
                timeout=10 if message.severity == "error" else 8,
            )
        if message.availability is not None:
            self.availability = message.availability
        if message.clear_draft is not None:
            self.composer.discard_draft(message.clear_draft)
        if message.open_ticket is not None:
            target = TicketTarget(message.open_ticket)
            # The ticket is where the work is now (and at 80 columns it gets the whole width).
            self._focus_ticket = message.open_ticket
            self.switch_view(message.open_in or self.view, select=target)
            self.detail.target = target
        shown = self.detail.target
        if message.reload_detail or (message.ticket_id is not None and shown == TicketTarget(message.ticket_id)):
            self.detail.reload()
        if message.tickets_changed:
            self._tickets_dirty = True
            self._counts_changed()
        if message.counts_changed:
            self._counts_changed()

    # ----- actions ------------------------------------------------------------

    def action_view(self, name: str) -> None:
        self.switch_view(View(name))
        self.rows.focus()

    def action_sort_waiting(self) -> None:
        order = self.list_pane.toggle_sort()
        self.notify(
            "Longest waiting first." if order is SortOrder.LONGEST_WAITING else "Newest activity first.", timeout=3
        )

    def action_filter(self) -> None:
        self.list_pane.open_filter()

    def action_search(self) -> None:
        self._search()

    @work(exit_on_error=False, group="search-screen", exclusive=True)
    async def _search(self) -> None:
        from inbox_tui.tui.screens.search import SearchScreen

        app = self.inbox_app
        runtime = await app.open_runtime()
        screen = SearchScreen(runtime.store, self.team, app.clock, cursor_blink=app.cursor_blink)
        self._search_screen = screen
        try:
            choice: SearchChoice | None = await app.push_screen_wait(screen)
        finally:
            self._search_screen = None
        if choice is None:
            return
        # Shown in the detail pane, at the matching message; the list stays as it was.
        if choice.ticket_id is not None:
            self._focus_ticket = choice.ticket_id
            self.detail.show_at_message(TicketTarget(choice.ticket_id), choice.message_id)
        else:
            self.detail.show_at_message(ConversationTarget(choice.conversation_id), choice.message_id)
            self.detail.query_one("#conversation-thread", ThreadView).focus()
        self.refresh_bindings()

    def action_back_to_list(self) -> None:
        """Esc: back to the list; from the list with a filter open, close the filter."""
        if self.focused is self.rows and self.list_pane.filter_open:
            self.list_pane.close_filter()
        self.rows.focus()

    def action_take_over(self) -> None:
        conversation = self.detail.shown_conversation
        if conversation is not None and self.me is not None:
            self.run_flow("Take over", self._take_over(self.me, conversation.id))

    def action_claim(self) -> None:
        ticket = self.detail.open_ticket
        if ticket is not None and self.me is not None:
            self._claim(self.me, ticket)

    @work(exit_on_error=False, group="flow")
    async def _claim(self, me: AgentRef, ticket: TicketDetail) -> None:
        from inbox_tui.tui import flows
        from inbox_tui.tui.screens.confirm import ConfirmScreen

        runtime = await self.inbox_app.open_runtime()
        if self.alert_rules is not None:
            self.alert_rules.my_own_doing(ticket.ticket.id)  # if it becomes mine, it is my doing
        holder = ticket.ticket.assignee
        risk = await self._risk_for(runtime, me.id, present=True)
        if holder is None:
            if risk is not None:
                question = f"{risk}. Claim ticket #{ticket.ticket.id} anyway?"
                if not await self.app.push_screen_wait(ConfirmScreen("Claim this ticket?", question)):
                    return
            self.run_flow("Claim", flows.claim(runtime, me, ticket.ticket.id))
            return
        question = f"Ticket #{ticket.ticket.id} is on {holder.label}. Take it over?"
        if risk is not None:
            question += f" ({risk}.)"
        if await self.app.push_screen_wait(ConfirmScreen("Take this ticket?", question)):
            self.run_flow("Take the ticket", flows.take_from(runtime, me, ticket.ticket.id))

    async def _team(self, runtime: Any) -> list[core_agents.AgentStatus]:
        return await reads.read(
            runtime.store, lambda session: core_agents.team_status(session, runtime.store.now(), self.presence_timeout)
        )

    async def _risk_for(self, runtime: Any, agent_id: int, *, present: bool) -> str | None:
        team = await self._team(runtime)
        status = next((row for row in team if row.agent.id == agent_id), None)
        return assignment_risk(status, present=present) if status is not None else None

    @on(Button.Pressed, "#take-over")
    async def _take_over_pressed(self) -> None:
        await self.run_action("take_over")  # through check_action, like the key

    async def _take_over(self, me: AgentRef, conversation_id: int) -> FlowDone:
        from inbox_tui.tui import flows

        result, done = await flows.take_over(await self.inbox_app.open_runtime(), me, conversation_id)
        if result.created:
            self._my_takeovers.add(result.ticket_id)  # my own doing: no "new ticket on you" toast
            if self.alert_rules is not None:
                self.alert_rules.my_own_doing(result.ticket_id)
            self._finish_takeover(result.ticket_id)
        return done

    @work(exit_on_error=False, group="summaries")
    async def _finish_takeover(self, ticket_id: int) -> None:
        from inbox_tui.core.escalation import finish_escalation

        runtime = await self.inbox_app.open_runtime()
        await finish_escalation(runtime.store, runtime.ai, ticket_id, runtime.escalation)
        self.post_message(FlowDone(ticket_id=ticket_id, tickets_changed=True))

    def action_compose(self, mode: str) -> None:
        self.composer.start(NOTE if mode == NOTE else REPLY)

    @on(Composer.Send)
    async def _send(self, event: Composer.Send) -> None:
        from inbox_tui.tui import flows

        if self.me is None:
            return
        if not event.text.strip():
            self.notify("Nothing to send.", severity="warning")
            return
        what = "Note not added" if event.mode == NOTE else "Not sent"
        runtime = await self.inbox_app.open_runtime()
        shown = self.detail.open_ticket
        if (
            event.mode != NOTE
            and shown is not None
            and shown.ticket.id == event.ticket_id
            and not shown.ticket.assignee
        ):
            self._reply_to_unassigned(self.me, event.ticket_id, event.text)
            return
        self.run_flow(what, flows.send(runtime, self.me, event.ticket_id, event.mode, event.text))

    @work(exit_on_error=False, group="flow")
    async def _reply_to_unassigned(self, me: AgentRef, ticket_id: int, text: str) -> None:
        """A reply on an unassigned ticket offers to claim it first (the reply goes either way)."""
        from inbox_tui.tui import flows
        from inbox_tui.tui.screens.confirm import ConfirmScreen

        runtime = await self.inbox_app.open_runtime()
        question = f"Ticket #{ticket_id} is unassigned. Claim it as you reply?"
        if await self.app.push_screen_wait(ConfirmScreen("Claim this ticket?", question)):
            if self.alert_rules is not None:
                self.alert_rules.my_own_doing(ticket_id)
            try:  # the claim first, then the reply: the customer hears who joined before the words
                self.post_message(await reads.whole(flows.claim(runtime, me, ticket_id)))
            except StoreError as error:
                self.post_message(FlowDone(f"Claim: {error}", "error"))
        self.run_flow("Not sent", flows.send(runtime, me, ticket_id, REPLY, text))

    def action_allow_ai(self) -> None:
        ticket = self.detail.open_ticket
        if ticket is not None and self.me is not None:
            self._allow_ai(self.me, ticket.ticket.id)

    @work(exit_on_error=False, group="flow")
    async def _allow_ai(self, me: AgentRef, ticket_id: int) -> None:
        """Hand back to the bot; with the customer's last message unanswered, ask first
        (the bot will answer it)."""
        from inbox_tui.tui import flows
        from inbox_tui.tui.screens.confirm import ConfirmScreen

        runtime = await self.inbox_app.open_runtime()
        open_question = await reads.read(runtime.store, lambda session: unanswered_message(session, ticket_id))
        if open_question is not None:
            quoted = preview_of(open_question.text)
            question = (
                f"The customer's last message has no answer yet: “{quoted}”. "
                "The bot will answer it. Allow AI replies and close the ticket?"
            )
            if not await self.app.push_screen_wait(ConfirmScreen("Hand back to the bot?", question)):
                return
        self.run_flow("Allow AI replies", flows.allow_ai(runtime, me, ticket_id))

    @on(Button.Pressed, "#allow-ai")
    async def _allow_ai_pressed(self) -> None:
        await self.run_action("allow_ai")  # through check_action, like the key

    def action_reassign(self) -> None:
        ticket = self.detail.open_ticket
        if ticket is not None:
            assignee = ticket.ticket.assignee
            self._pick_assignee(ticket.ticket.id, assignee.id if assignee else None)

    @on(Button.Pressed, "#reassign")
    async def _reassign_pressed(self) -> None:
        await self.run_action("reassign")  # through check_action, like the key

    @work(exit_on_error=False, group="flow")
    async def _pick_assignee(self, ticket_id: int, current: int | None) -> None:
        from inbox_tui.tui import flows
        from inbox_tui.tui.screens.confirm import ConfirmScreen
        from inbox_tui.tui.screens.reassign import ReassignScreen

        runtime = await self.inbox_app.open_runtime()
        team = await self._team(runtime)
        choice: ReassignChoice | None = await self.app.push_screen_wait(ReassignScreen(ticket_id, team, current))
        if choice is not None and choice.agent_id is not None and choice.agent_id != current:
            status = next((row for row in team if row.agent.id == choice.agent_id), None)
            mine = self.me is not None and choice.agent_id == self.me.id
            risk = assignment_risk(status, present=mine) if status is not None else None
            if risk is not None:
                question = f"{risk}. Give them ticket #{ticket_id} anyway?"
                if not await self.app.push_screen_wait(ConfirmScreen("Reassign anyway?", question)):
                    return
        if choice is not None:
            self.run_flow("Reassign", flows.reassign_ticket(runtime, self.me, ticket_id, choice.agent_id))

    # ----- the lifecycle: pending, snooze, close keeping the AI paused, reopen -------

    async def action_pending(self) -> None:
        from inbox_tui.tui import lifecycle_flows

        ticket = self.detail.open_ticket
        if ticket is not None and self.me is not None:
            runtime = await self.inbox_app.open_runtime()
            self.run_flow("Pending", lifecycle_flows.set_pending(runtime, self.me, ticket.ticket.id))

    async def action_close_paused(self) -> None:
        from inbox_tui.tui import lifecycle_flows

        ticket = self.detail.open_ticket
        if ticket is not None and self.me is not None:
            runtime = await self.inbox_app.open_runtime()
            self.run_flow("Close", lifecycle_flows.close_keeping_ai_paused(runtime, self.me, ticket.ticket.id))

    def action_snooze(self) -> None:
        ticket = self.detail.open_ticket
        if ticket is not None:
            self._pick_snooze(ticket.ticket.id)

    @work(exit_on_error=False, group="flow")
    async def _pick_snooze(self, ticket_id: int) -> None:
        from inbox_tui.tui import lifecycle_flows
        from inbox_tui.tui.screens.lifecycle import SnoozeScreen

        choice: SnoozeChoice | None = await self.app.push_screen_wait(SnoozeScreen(ticket_id))
        if choice is not None and self.me is not None:
            runtime = await self.inbox_app.open_runtime()
            until = runtime.store.now() + choice.duration if choice.duration is not None else None
            self.run_flow("Snooze", lifecycle_flows.snooze(runtime, self.me, ticket_id, until))

    def action_reopen(self) -> None:
        ticket = self.detail.shown_ticket
        if ticket is not None and ticket.ticket.status == TicketStatus.CLOSED:
            self._ask_reopen(ticket.ticket.id)

    @work(exit_on_error=False, group="flow")
    async def _ask_reopen(self, ticket_id: int) -> None:
        from inbox_tui.tui import lifecycle_flows
        from inbox_tui.tui.screens.lifecycle import ReopenScreen

        screen = ReopenScreen(ticket_id, cursor_blink=self.inbox_app.cursor_blink)
        choice: ReopenChoice | None = await self.app.push_screen_wait(screen)
        if choice is not None and self.me is not None:
            runtime = await self.inbox_app.open_runtime()
            self._my_takeovers.add(ticket_id)  # my own doing: no "new ticket on you" toast
            self.run_flow("Reopen", lifecycle_flows.reopen(runtime, self.me, ticket_id, choice.reason))

    def action_previous_tickets(self) -> None:
        previous = self.detail.query_one("#previous-tickets", OptionList)
        if previous.highlighted is None:
            previous.highlighted = 0
        previous.focus()

    async def action_toggle_availability(self) -> None:
        from inbox_tui.tui import flows

        if self.me is not None:
            new = Availability.AWAY if self.availability != Availability.AWAY else Availability.AVAILABLE
            runtime = await self.inbox_app.open_runtime()
            self.run_flow("Availability", flows.set_availability(runtime, self.me, new), refresh=False)

    # ----- live updates -------------------------------------------------------

    @on(BridgeStatusChanged)
    def _bridge_changed(self, message: BridgeStatusChanged) -> None:
        status = message.status
        previous = self.bridge_status.state
        self.bridge_status = status
        url = self.inbox_app.settings.bridge_base_url
        if status.state is BridgeState.RECONNECTING and previous in (BridgeState.CONNECTING, BridgeState.OFF):
            self.notify(
                f"The server at {url} is not reachable ({status.detail}). "
                "The inbox works on the database meanwhile and keeps retrying.",
                severity="warning",
                markup=False,
                timeout=10,
            )
        elif status.state is BridgeState.UNAUTHORIZED:
            self.notify(f"The server refused the token: {status.detail}", severity="error", markup=False)
        elif status.state is BridgeState.CONNECTED and previous is BridgeState.RECONNECTING:
            self.notify("Reconnected to the server; caught up.")

    @on(EventArrived)
    def _event_arrived(self, message: EventArrived) -> None:
        event = message.event
        self._pending_events.append(event)
        self.last_event_id = max(self.last_event_id, event.id)
        self._events_waiting.set()
        if self._search_screen is not None:
            self._search_screen.something_changed(event.kind)

    @work(exit_on_error=False, group="refresher", exclusive=True)
    async def refresher(self) -> None:
        """Fetches what each burst of events touched, as one batch (bursts merge)."""
        while True:
            await self._events_waiting.wait()
            self._events_waiting.clear()
            batch, self._pending_events = self._pending_events, []
            # Once per burst, not per event: the bar is bound to it (each set is a reactive update).
            self.last_event_at = self.inbox_app.clock()
            try:
                loaded = await reads.whole(self._load_batch(batch))  # not cut off at quit (see ``reads``)
            except Exception:
                log.exception("applying events failed")
                continue
            if loaded is not None:
                self.post_message(loaded)

    async def _load_batch(self, events: list[LiveEvent]) -> LiveBatchLoaded | None:
        runtime = self.inbox_app.runtime
        if not events or runtime is None:
            return None
        me = self.me
        batch = merge_events(events, me.id if me else None, self._my_takeovers)
        loaded = LiveBatchLoaded(message_ids=batch.message_ids)
        to_fetch: set[int] = set()
        if self.view is View.CONVERSATIONS:
            to_fetch = set(batch.changed_conversation_ids)
            for conversation_id, (event, count) in batch.latest_messages.items():
                moved = None if conversation_id in to_fetch else self._moved_row(conversation_id, event, count)
                if moved is None:
                    to_fetch.add(conversation_id)  # new to this list, or not a live row
                else:
                    loaded.conversations.append(moved)
        alerts = self._alerts_for(events, runtime.store.now())
        needs_database = to_fetch or alerts or batch.team_changed
        async with contextlib.AsyncExitStack() as stack:
            session = await stack.enter_async_context(runtime.store.read()) if needs_database else None
            if session is not None and to_fetch:  # one read for the burst, not one per conversation
                loaded.conversations.extend(await get_conversations(session, to_fetch))
            for alert in alerts:
                row = (
                    await _ticket_row(session, alert.ticket_id)
                    if session is not None and alert.ticket_id is not None
                    else None
                )
                requester = literal(row.requester, single_line=True, limit=40) if row else ""
                loaded.alerts.append(literal(alert.text(requester), single_line=True))
            if batch.team_changed and session is not None:
                loaded.team = await core_agents.team_status(session, runtime.store.now(), self.presence_timeout)
        loaded.refresh_tickets = batch.tickets_changed
        # Rows came or changed state, or (another view) a conversation may have come back.
        loaded.totals_changed = bool(to_fetch or batch.changed_conversation_ids or batch.tickets_changed) or (
            self.view is not View.CONVERSATIONS and bool(batch.latest_messages)
        )
        target = self.detail.target
        shown_ticket = self.detail.ticket
        loaded.reload_detail = target is not None and (
            (isinstance(target, ConversationTarget) and target.conversation_id in batch.conversation_ids)
            or (
                isinstance(target, TicketTarget)
                and (
                    target.ticket_id in batch.ticket_ids
                    or (
                        shown_ticket is not None
                        and shown_ticket.ticket.id == target.ticket_id
                        and shown_ticket.conversation.id in batch.conversation_ids
                    )
                )
            )
        )
        return loaded

    def _alerts_for(self, events: list[LiveEvent], now: datetime) -> list[Alert]:
        rules = self.alert_rules
        if rules is None:
            return []
        happenings = [
            Happening(e.kind, e.ticket_id, e.agent_id, e.at, author=e.author, by=e.by, snooze_ended=e.snooze_ended)
            for e in events
            if e.ticket_id is not None
        ]
        return rules.consider(happenings, now)

    def _moved_row(self, conversation_id: int, event: LiveEvent, count: int) -> ConversationRow | None:
        current = self.rows.record(conversation_key_of(conversation_id))
        return moved_row(current, event, count) if current is not None else None

    @on(LiveBatchLoaded)
    def _apply_batch(self, loaded: LiveBatchLoaded) -> None:
        with self.app.batch_update():
            if loaded.conversations and self.view is View.CONVERSATIONS:
                rows = self.rows
                rows.upsert([c for c in loaded.conversations if c.status == ConversationStatus.LIVE])
                rows.remove_rows(
                    [conversation_key(c) for c in loaded.conversations if c.status != ConversationStatus.LIVE]
                )
                self.list_pane.show_title()
                if loaded.message_ids:
                    self.call_after_refresh(self.post_message, MessagesShown(loaded.message_ids))
            if loaded.team is not None:
                self._apply_team(loaded.team)  # my availability may have changed elsewhere
        for text in loaded.toasts:
            self.notify(text, title="Inbox", markup=False, timeout=8)
        self.alerter.alert(loaded.alerts)
        if loaded.refresh_tickets and self.view is not View.CONVERSATIONS:
            self._tickets_dirty = True
        if loaded.totals_changed:
            self._counts_changed()
        elif loaded.message_ids:
            self._unread_changes += 1  # messages alone change what is unread, not the totals
        if loaded.reload_detail:
            self.detail.reload()

    def _drop_idle(self) -> None:
        """Conversations that went idle leave the list (their next message brings them back)."""
        if self.loaded and self.view is View.CONVERSATIONS:
            self.list_pane.load()
            self._counts_changed()

    def _counts_changed(self) -> None:
        self._totals_changes += 1
        self._unread_changes += 1

    def _flush_dirty(self) -> None:
        """At most a few times a second: counts and ticket lists (cheap, but not per event)."""
        if not self.inbox_app.started_up.is_set():
            return  # the first counts are still being read (changes meanwhile are counted next)
        totals = self._totals_changes != self._totals_counted
        unread = self._unread_changes != self._unread_counted
        # The unread counts cost more than the totals (they look at messages): at most
        # every few seconds, whatever the live load; the totals follow every change.
        due = asyncio.get_running_loop().time() - self._unread_counted_at >= UNREAD_COUNTS_SECONDS
        if not self._counting and (totals or (unread and due)):
            self._counting = True
            self._refresh_counts(totals, unread and due)
        if self._tickets_dirty:
            self._tickets_dirty = False
            if self.view is not View.CONVERSATIONS:
                self.list_pane.load()

    @work(exit_on_error=False, group="counts", exclusive=True)
    async def _refresh_counts(self, totals: bool = True, unread: bool = True) -> None:
        """One refresh at a time (``_counting``): a slow one under load is not restarted."""
        try:
            runtime = self.inbox_app.runtime
            if runtime is None:
                return
            me_id = self.me.id if self.me else None
            since = active_since(self.inbox_app.settings, self.inbox_app.clock)
            now = asyncio.get_running_loop().time()
            totals_seen, unread_seen = self._totals_changes, self._unread_changes

            async def count(session: Any) -> tuple[Any, Any]:
                counts = await views.counts(session, me_id, active_since=since) if totals else None
                unread_counts = await attention.unread_view_counts(session, me_id) if unread else None
                return counts, unread_counts

            # Run to its end even when the worker is cancelled (see ``reads``).
            counts, unread_counts = await reads.read(runtime.store, count)
            if totals:
                self._totals_counted = totals_seen
            if unread:
                self._unread_counted = unread_seen
                self._unread_counted_at = now
            self.post_message(CountsLoaded(counts, unread_counts))
        finally:
            self._counting = False

    @on(CountsLoaded)
    def _counts_loaded(self, message: CountsLoaded) -> None:
        if message.counts is not None:
            self.counts = message.counts
        if message.unread is not None:
            self.unread = message.unread

    @property
    def _counts_dirty(self) -> bool:
        """A change since the last counts that were loaded (tests wait for it to clear)."""
        return self._totals_changes != self._totals_counted or self._unread_changes != self._unread_counted


async def _ticket_row(session: Any, ticket_id: int) -> TicketRow | None:
    try:
        return (await views.ticket_detail(session, ticket_id, transcript_limit=1)).ticket
    except StoreError:
        return None


__all__ = ["InboxScreen", "not_signed_in_text"]
