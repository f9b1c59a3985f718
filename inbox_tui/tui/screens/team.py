"""The Team screen: every teammate's availability, presence, load and shifts, and a small
form to change your own availability, capacity and shifts.

Reads and writes go through the core (``assignment.team_members``, ``update_agent``,
``set_availability``, ``set_shifts``) in workers; saving hands out the waiting backlog
like any other change that may free you.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from inbox_tui.core.assignment import TeamMember, team_members
from inbox_tui.core.models import Availability
from inbox_tui.core.records import AgentRef
from inbox_tui.core.shifts import describe_shifts, parse_shift_specs
from inbox_tui.core.store import Store, StoreError
from inbox_tui.core.team import set_availability, set_shifts, update_agent
from inbox_tui.settings import AssignmentSettings
from inbox_tui.tui import reads
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.widgets.key_footer import KeyFooter

COLUMNS = ("Teammate", "Name", "Availability", "Online", "Load", "Shift", "Timezone", "Shifts")
SHIFTS_HINT = "mon-fri 09:00-17:00; sat 10:00-14:00  (empty: always on shift)"


def shifts_field(member: TeamMember) -> str:
    """The editable form of a teammate's shifts: specs separated by ';'."""
    return "; ".join(describe_shifts(member.shifts).split(", ")) if member.shifts else ""


def member_cells(member: TeamMember) -> list[Text]:
    status = member.status
    available = status.availability == Availability.AVAILABLE
    return [
        Text(f"@{literal(status.agent.handle, single_line=True)}", style="bold"),
        Text(literal(status.agent.name, single_line=True, limit=30)),
        Text(status.availability, style="green" if available else "yellow"),
        Text("online" if status.online else "offline", style="" if status.online else "dim"),
        Text(f"{status.open_tickets}/{status.capacity}", style="" if status.has_room else "red"),
        Text("on shift" if member.on_shift else "off shift", style="" if member.on_shift else "dim"),
        Text(literal(status.timezone, single_line=True)),
        Text(describe_shifts(member.shifts)),
    ]


class TeamScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="team.close"),
        Binding("ctrl+s", "save", "Save my settings", id="team.save"),
    ]
    DEFAULT_CSS = """
    TeamScreen { layout: vertical; }
    TeamScreen #team-table { height: 1fr; }
    TeamScreen #my-settings { height: auto; border: round $primary; padding: 0 1; }
    TeamScreen #my-settings Horizontal { height: auto; }
    TeamScreen #my-settings Label { width: 14; height: 1; padding: 0; }
    TeamScreen #availability { width: 24; }
    TeamScreen #capacity { width: 12; }
    TeamScreen #shifts { width: 1fr; }
    TeamScreen #team-message { height: auto; padding: 0 1; }
    """

    def __init__(
        self, store: Store, assignment: AssignmentSettings, me: AgentRef | None, *, cursor_blink: bool = True
    ) -> None:
        super().__init__()
        self.store = store
        self.assignment = assignment
        self.me = me
        self.cursor_blink = cursor_blink
        self.members: list[TeamMember] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        if self.me is not None:
            with Vertical(id="my-settings") as box:
                box.border_title = f"Your settings (@{literal(self.me.handle, single_line=True)})"
                with Horizontal():
                    yield Label("Availability")
                    yield Select(
                        [("available", Availability.AVAILABLE), ("away", Availability.AWAY)],
                        allow_blank=False,
                        id="availability",
                        compact=True,
                    )
                    yield Label("  Capacity")
                    yield Input(id="capacity", type="integer", compact=True)
                with Horizontal():
                    yield Label("Shifts")
                    yield Input(id="shifts", placeholder=SHIFTS_HINT, compact=True)
                    yield Button("Save", id="save", variant="primary", compact=True)
        yield Static(id="team-message", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Team"
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for field in self.query(Input):
            field.cursor_blink = self.cursor_blink
        table.focus()
        self.load()

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#team-message", Static)
        message.update(Content.assemble((text, "$error" if error else "$text-muted")))

    @work(group="team-load", exclusive=True)
    async def load(self) -> None:
        # Run to its end even when a newer load cancels this one (see ``reads``).
        self.members = await reads.read(
            self.store, lambda session: team_members(session, self.store.now(), self.assignment)
        )
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for member in self.members:
                table.add_row(*member_cells(member), key=str(member.status.agent.id))
        mine = self.my_member
        if mine is not None:
            self.query_one("#availability", Select).value = mine.status.availability
            self.query_one("#capacity", Input).value = str(mine.status.capacity)
            self.query_one("#shifts", Input).value = shifts_field(mine)
        available = sum(1 for m in self.members if m.eligible)
        self._say(
            f"{len(self.members)} teammates, {available} can take a ticket now "
            "(available, online, on shift, with room)."
        )

    @property
    def my_member(self) -> TeamMember | None:
        if self.me is None:
            return None
        return next((m for m in self.members if m.status.agent.id == self.me.id), None)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.me is None:
            self._say("Not signed in: there is nothing of yours to change.", error=True)
            return
        self.save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted, "#capacity, #shifts")
    def _field_submitted(self) -> None:
        self.action_save()

    @work(group="team-save", exclusive=True)
    async def save(self) -> None:
        assert self.me is not None
        capacity_text = self.query_one("#capacity", Input).value.strip()
        shifts_text = self.query_one("#shifts", Input).value
        availability = self.query_one("#availability", Select).value
        try:
            if not capacity_text.isdigit():
                raise StoreError("capacity is a whole number of open tickets, 0 or more")
            specs = [spec.strip() for spec in shifts_text.split(";") if spec.strip()]
            shifts = parse_shift_specs(specs)  # validate everything before changing anything
            # Availability first: going away must land before more room or a new shift
            # hands out the backlog (each of these hands it out after its commit).
            if isinstance(availability, str):
                await set_availability(self.store, self.me.id, availability, assignment=self.assignment)
            await update_agent(self.store, self.me.handle, capacity=int(capacity_text), assignment=self.assignment)
            await set_shifts(self.store, self.me.handle, shifts, assignment=self.assignment)
        except StoreError as error:
            self._say(str(error), error=True)
            return
        self.load()
        self.app.notify("Your settings are saved.")
