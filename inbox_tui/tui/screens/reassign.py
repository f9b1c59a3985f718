"""The reassign picker: teammates with their load and availability, or Unassigned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from inbox_tui.core.agents import AgentStatus
from inbox_tui.core.models import Availability
from inbox_tui.tui.safe_text import literal

UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class ReassignChoice:
    agent_id: int | None  # None: back to Unassigned


def teammate_prompt(row: AgentStatus, current_assignee_id: int | None) -> Content:
    available = row.availability == Availability.AVAILABLE
    load_style = "$error" if not row.has_room else ""
    return Content.assemble(
        (f"@{literal(row.agent.handle, single_line=True):<14}", "bold"),
        (f"{literal(row.agent.name, single_line=True)[:20]:<21}", ""),
        ("available " if available else "away      ", "$success" if available else "$warning"),
        ("online  " if row.online else "offline ", "" if row.online else "$text-muted"),
        (f"{row.open_tickets}/{row.capacity} open", load_style),
        ("  (current)" if row.agent.id == current_assignee_id else "", "$text-muted"),
    )


class ReassignScreen(ModalScreen[ReassignChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="reassign.cancel")]
    DEFAULT_CSS = """
    ReassignScreen { align: center middle; }
    ReassignScreen > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 80%; border: thick $primary; background: $surface;
    }
    ReassignScreen OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, ticket_id: int, team: list[AgentStatus], current_assignee_id: int | None) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.team = team
        self.current_assignee_id = current_assignee_id

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical() as box:
            box.border_title = f"Reassign ticket #{self.ticket_id}"
            yield Static(Content.assemble(("Enter picks, Esc cancels", "$text-muted")))
            options = [
                Option(teammate_prompt(row, self.current_assignee_id), id=str(row.agent.id)) for row in self.team
            ]
            options.append(Option(Content.assemble(("Unassigned", "italic")), id=UNASSIGNED))
            yield OptionList(*options, id="teammates")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id
        self.dismiss(ReassignChoice(None if option_id == UNASSIGNED else int(option_id or 0)))

    def action_cancel(self) -> None:
        self.dismiss(None)
