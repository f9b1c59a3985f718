"""The lifecycle's pickers: how long to snooze (``z``), and why a ticket is reopened (``o``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

UNTIL_CUSTOMER = "customer"
# (option id, label, how long); None: until the customer writes.
SNOOZE_CHOICES: tuple[tuple[str, str, timedelta | None], ...] = (
    ("1h", "1 hour", timedelta(hours=1)),
    ("4h", "4 hours", timedelta(hours=4)),
    ("1d", "1 day", timedelta(days=1)),
    ("3d", "3 days", timedelta(days=3)),
    ("1w", "1 week", timedelta(weeks=1)),
    (UNTIL_CUSTOMER, "Until the customer writes", None),
)


@dataclass(frozen=True)
class SnoozeChoice:
    duration: timedelta | None  # None: until the customer writes


class SnoozeScreen(ModalScreen[SnoozeChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="snooze.cancel")]
    DEFAULT_CSS = """
    SnoozeScreen, ReopenScreen { align: center middle; }
    SnoozeScreen > Vertical, ReopenScreen > Vertical {
        width: 60; max-width: 95%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    SnoozeScreen OptionList { height: auto; border: none; }
    """

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical() as box:
            box.border_title = f"Snooze ticket #{self.ticket_id}"
            yield Static(Content.assemble(("A message from the customer always wakes it. Esc cancels.", "$text-muted")))
            yield OptionList(*(Option(label, id=key) for key, label, _ in SNOOZE_CHOICES), id="snooze-choices")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        durations = {key: duration for key, _, duration in SNOOZE_CHOICES}
        self.dismiss(SnoozeChoice(durations[event.option.id or UNTIL_CUSTOMER]))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class ReopenChoice:
    reason: str


class ReopenScreen(ModalScreen[ReopenChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="reopen.cancel")]

    def __init__(self, ticket_id: int, *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.cursor_blink = cursor_blink

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical() as box:
            box.border_title = f"Reopen ticket #{self.ticket_id}"
            yield Static(
                Content.assemble(
                    ("It comes back on you and the AI is paused again. ", ""),
                    ("Why? (Enter reopens, Esc cancels)", "$text-muted"),
                )
            )
            reason = Input(placeholder="The reason, for the timeline", id="reopen-reason")
            reason.cursor_blink = self.cursor_blink
            yield reason

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(ReopenChoice(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
