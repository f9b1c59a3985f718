"""A yes/no question before something a teammate might not mean (taking a ticket over)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """``question`` is plain text (it may name a customer): shown literally."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(Content(self.question), id="question")
            yield Static(Content.assemble(("y / Enter: yes · n / Esc: no", "$text-muted")))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
